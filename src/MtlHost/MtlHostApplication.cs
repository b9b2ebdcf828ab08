using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MtlHost.Abstractions.Messages;
using MtlHost.Cli;
using MtlHost.Commands;
using MtlHost.Core.Distributed;
using MtlHost.Deployment;
using MtlHost.Hosting;
using MtlHost.Worker;

namespace MtlHost;

/// <summary>The program: parses the command line, builds the generic host and runs the command.</summary>
public static class MtlHostApplication
{
    /// <summary>Exit code of success.</summary>
    public const int Success = 0;

    /// <summary>Exit code of a run that failed.</summary>
    public const int RunFailed = 1;

    /// <summary>Exit code of bad usage or bad input.</summary>
    public const int BadInput = 2;

    /// <summary>Runs a command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Standard output: results.</param>
    /// <param name="error">Standard error: the reason of a failure.</param>
    /// <param name="cancellationToken">Ends training early (Ctrl-C); results are still saved.</param>
    /// <returns>The exit code.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        // Before anything is parsed or printed: the host's output never depends on the user's locale.
        HostCulture.UseInvariant();
        try
        {
            var command = CommandLine.Parse(args);
            if (command.Verb == "compare")
            {
                // compare only reads files: no configuration, logging or services to build.
                return CompareCommand.Run(command, output);
            }
            if (command.Verb == "export")
            {
                // export reads the checkpoint's files, no configuration or services; an int8 export calibrated with --plugins
                // also runs the plugins' datasets, ONNX Runtime and torch (GPTQ), with --threads threads.
                return ExportCommand.Run(command, output, TorchThreads.Parse(command.Get("threads")));
            }
            if (command.Verb == "serve" && command.Has("onnx"))
            {
                // Predictions of an ONNX export only: no training, plugins or torch (so no libtorch is loaded).
                return ServeOnnx(command, cancellationToken);
            }
            if (command.Verb == "serve")
            {
                return Serve(command, output, error, cancellationToken);
            }
            using var host = HostFactory.Build(command);
            // predict --onnx runs ONNX Runtime with the thread count (PredictCommand), and never loads libtorch.
            if (command.Specs.Any(s => s.Name == "threads") && !(command.Verb == "predict" && command.Get("onnx") is not null))
            {
                // Before any torch work: threads that start it afterwards take this count.
                TorchThreads.Apply(TorchThreads.Read(host.Services.GetRequiredService<IConfiguration>()),
                    host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MtlHost.Threads"));
            }
            return command.Verb switch
            {
                "train" => host.Services.GetRequiredService<TrainCommand>().Run(output, cancellationToken),
                "predict" => host.Services.GetRequiredService<PredictCommand>().Run(output),
                "eval" => host.Services.GetRequiredService<EvalCommand>().Run(output),
                _ => host.Services.GetRequiredService<PluginsCommand>().Run(output),
            };
        }
        catch (HelpRequestedException e)
        {
            output.WriteLine(e.Message);
            return Success;
        }
        catch (UsageException e)
        {
            error.WriteLine($"mtlhost: {e.Message}");
            return BadInput;
        }
        catch (Exception e)
        {
            error.WriteLine($"mtlhost: the run failed: {ExceptionChain.Describe(e)}");
            error.WriteLine(e.StackTrace);
            return RunFailed;
        }
    }

    private static int ServeOnnx(ParsedCommand command, CancellationToken cancellationToken)
    {
        var serve = OnnxServeHost.Create(command);
        try
        {
            return serve.Run(cancellationToken);
        }
        finally
        {
            serve.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    // The web host handles SIGTERM and Ctrl-C itself (and systemd's stop); the token stops it too. Under mpirun rank 0
    // alone serves and the other processes train as its workers; without it nothing native is loaded.
    private static int Serve(ParsedCommand command, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var group = ProcessGroups.Detect();
        if (group.Size == 1)
        {
            return RunService(command, output, error, group, cancellationToken);
        }
        try
        {
            return group.IsRoot
                ? RunService(command, output, error, group, cancellationToken)
                : ServeWorkerRank.Run(command, group, output, cancellationToken);
        }
        catch (Exception e) when (e is not HelpRequestedException)
        {
            // Before or after the run (a bad setting, an address in use): the other processes would wait for this one.
            var code = e is UsageException ? BadInput : RunFailed;
            error.WriteLine($"mtlhost (rank {group.Rank} of {group.Size}): {(e is UsageException ? e.Message : ExceptionChain.Describe(e))}");
            group.Abort(code);
            throw;
        }
    }

    private static int RunService(ParsedCommand command, TextWriter output, TextWriter error, IProcessGroup group, CancellationToken cancellationToken)
    {
        var serve = ServeHost.Create(command, output, error, group);
        try
        {
            return serve.Run(cancellationToken);
        }
        finally
        {
            serve.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
