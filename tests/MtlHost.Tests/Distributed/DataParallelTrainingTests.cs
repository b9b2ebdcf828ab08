using System.Text.Json;
using MtlHost.Core.Checkpoints;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 mtlhost train</c>, the real host on two processes, against one process: the two processes train on
/// halves of the batch one process trains on whole, so with dropout off and the gradient clipped after averaging they
/// must end with the same weights.
/// </summary>
[Collection(MpiRunCollection.Name)]
public sealed class DataParallelTrainingTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(6);
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _runs = new();

    public DataParallelTrainingTests()
    {
        // Sequence classification: the loss is a mean over the batch's examples, so the mean of two halves' losses is the whole's.
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));
    }

    public void Dispose()
    {
        _plugins.Dispose();
        _runs.Dispose();
    }

    // ew: the losses' sum; uw: learns from the averaged losses; pcgrad: averages each task's gradient before its algebra
    // (and needs every task each step).
    [Theory]
    [InlineData("ew")]
    [InlineData("uw")]
    [InlineData("pcgrad")]
    public void Two_processes_with_half_batches_train_as_one_process_with_whole_batches(string weighting)
    {
        string[] Args(string run, int batchSize) =>
        [
            .. Train(_runs.Combine(run), batchSize), "--weighting", weighting,
            .. weighting == "pcgrad" ? new[] { "--sampler", "all-tasks" } : [],
        ];
        var two = MpiRun.Run(2, Args("two", batchSize: 4), Limit);
        two.ExitCode.ShouldBe(0, two.Output);
        using var one = HostProcess.Start(Args("one", batchSize: 8).Skip(2).ToArray());
        one.WaitForExit().ShouldBe(0, one.Error);

        var oneWeights = Weights(_runs.Combine("one", "checkpoint"));
        var twoWeights = Weights(_runs.Combine("two", "checkpoint"));
        twoWeights.Keys.ShouldBe(oneWeights.Keys, ignoreOrder: true);
        foreach (var (name, values) in oneWeights)
        {
            var largest = values.Zip(twoWeights[name], (a, b) => Math.Abs(a - b)).Max();
            largest.ShouldBeLessThan(1e-5, $"{name} differs by {largest}");
        }
        // Not the starting weights: the steps did move them.
        TrainLosses(_runs.Combine("two")).ShouldBe(TrainLosses(_runs.Combine("one")), 1e-5);
    }

    [Fact]
    public void Rank_0_alone_reports_and_a_two_process_checkpoint_resumes_in_one_process()
    {
        var run = _runs.Combine("resumed");
        var two = MpiRun.Run(2, Train(run, batchSize: 4, steps: 4), Limit);

        two.ExitCode.ShouldBe(0, two.Output);
        // mpirun gives the ranks a terminal, whose set-up codes may precede the line.
        two.Output.Split('\n').Count(line => line.Contains("{\"encoder\"", StringComparison.Ordinal)).ShouldBe(1, two.Output);
        two.Output.ShouldContain("Training on 2 processes");
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("steps").GetInt32().ShouldBe(4);

        using var one = HostProcess.Start(Train(run, batchSize: 8, steps: 6).Skip(2).ToArray());
        one.WaitForExit().ShouldBe(0, one.Error);
        one.Error.ShouldContain("Resuming from");
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("steps").GetInt32().ShouldBe(6);
    }

    [Fact]
    public void A_task_that_fails_on_one_process_only_is_quarantined_on_every_process_and_the_others_train_on()
    {
        PluginCompiler.Build(_plugins.Path, "Flaky", new PluginCompiler.Variant("flaky", TrainingFailsOnRank1: true));
        var run = _runs.Combine("flaky");
        var two = MpiRun.Run(2, [.. Train(run, batchSize: 4), "--sampler", "all-tasks"], Limit);

        // Rank 1 alone would have quarantined it and left rank 0 waiting for its loss: both quarantine it, with rank 1's reason.
        two.ExitCode.ShouldBe(0, two.Output);
        var tasks = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("tasks").EnumerateArray()
            .ToDictionary(t => t.GetProperty("id").GetString()!, t => t);
        tasks["flaky"].GetProperty("state").GetString().ShouldBe("Quarantined");
        tasks["flaky"].GetProperty("quarantineReason").GetString()!.ShouldContain("the head failed on rank 1");
        tasks["spam"].GetProperty("steps").GetInt32().ShouldBe(6);
        tasks["wordclass"].GetProperty("steps").GetInt32().ShouldBe(6);
    }

    // dotnet mtlhost.dll train …: the first two items are the program, for mpirun; a HostProcess takes the rest.
    private string[] Train(string outDirectory, int batchSize, int steps = 6) =>
    [
        DotnetCli.Executable, HostProcess.HostAssembly,
        "train", "--plugins", _plugins.Path, "--encoder", "tiny", "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--batch-size", batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "--max-length", "32",
        "--attention-dropout", "0", "--dropout", "0", "--clipping", "global", "--threads", "1", "--seed", "5",
        "--out", outDirectory, "--json",
    ];

    private static Dictionary<string, double[]> Weights(string checkpoint) =>
        new[] { "encoder.bin" }.Concat(Directory.GetFiles(Path.Combine(checkpoint, "heads")).Select(f => Path.Combine("heads", Path.GetFileName(f))))
            .SelectMany(file => CheckpointReader.ReadWeights(Path.Combine(checkpoint, file)).Select(t => ($"{file}:{t.Name}", t.ToDoubles())))
            .ToDictionary(e => e.Item1, e => e.Item2);

    private static double[] TrainLosses(string run) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("tasks").EnumerateArray()
            .OrderBy(t => t.GetProperty("id").GetString()).Select(t => t.GetProperty("trainLoss").GetDouble()).ToArray();
}
