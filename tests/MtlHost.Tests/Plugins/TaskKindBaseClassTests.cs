using MtlHost.Abstractions;
using MtlHost.Plugins;
using Shouldly;
using TorchSharp;
using Xunit;

namespace MtlHost.Tests.Plugins;

/// <summary>Each kind's SDK base class gives a head, loss and metric that pass the host's checks.</summary>
public sealed class TaskKindBaseClassTests
{
    private static readonly HeadOptions Head = new(HiddenSize: 16, Dropout: 0.1);

    public static TheoryData<string> Kinds => ["pair", "multi", "token", "regression"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_minimal_task_of_each_kind_passes_validation(string kind)
    {
        var task = Create(kind);

        TaskValidator.Validate(task, Head).ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_head_returns_the_documented_shape_and_the_loss_trains_it(string kind)
    {
        var task = Create(kind);
        using var head = task.CreateHead(Head);
        using var hidden = torch.randn(3, 7, Head.HiddenSize);
        using var mask = torch.ones(3, 7, torch.ScalarType.Int64);

        using var outputs = head.forward(hidden, mask);
        outputs.shape.ShouldBe(TaskValidator.ExpectedOutputShape(task.Descriptor, 3, 7));

        using var targets = task.Descriptor.Kind switch
        {
            TaskKind.TokenClassification => torch.ones(3, 7, torch.ScalarType.Int64),
            TaskKind.MultiLabelClassification => torch.ones(3, task.Descriptor.OutputSize),
            TaskKind.Regression => torch.full(3, 2.0f),
            _ => torch.ones(3, torch.ScalarType.Int64),
        };
        using var loss = task.CreateLoss().Compute(outputs, targets);
        loss.backward();
        foreach (var (name, parameter) in head.named_parameters())
        {
            parameter.grad.ShouldNotBeNull(name);
            parameter.grad.abs().sum().item<float>().ShouldBeGreaterThan(0, name);
        }
    }

    [Fact]
    public void Bio_labels_put_O_first_then_B_and_I_per_type()
    {
        new Token().Labels.ShouldBe(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]);
    }

    [Fact]
    public void Regression_can_select_Huber_and_start_from_a_given_output()
    {
        var task = new HuberRegression();
        ((RegressionLoss)task.CreateLoss()).Function.ShouldBe(RegressionLossFunction.Huber);
        using var head = task.CreateHead(Head);
        head.eval();
        using var zeros = torch.zeros(2, 3, Head.HiddenSize);

        using var outputs = head.forward(zeros, torch.ones(2, 3, torch.ScalarType.Int64));

        outputs.data<float>().ToArray().ShouldBe([2.5f, 2.5f]);
    }

    // 100 examples: label a on 4 (w = √24), b on 50 (w = 1), c on none (half an example, w = 1). The best constant logit
    // of a weighted binary cross-entropy is log(w·n / (N − n)); a head starting at 0 would predict every label at ½.
    [Fact]
    public void A_multi_label_head_starts_its_bias_at_each_labels_best_constant_logit()
    {
        var task = new Multi();
        using var head = (ClassificationHead)task.CreateHead(Head);
        head.Prepare(new TrainingSplitSummary(100, [4, 50, 0]));

        var bias = head.named_parameters().Single(p => p.name == "classifier.bias").parameter.detach().data<float>().ToArray();
        bias.Select(b => (double)b).ShouldBe([Math.Log(Math.Sqrt(24) * 4 / 96), 0.0, Math.Log(0.5 / 99.5)], 1e-5);
    }

    private static IMtlTask Create(string kind) => kind switch
    {
        "pair" => new Pair(),
        "multi" => new Multi(),
        "token" => new Token(),
        _ => new Regression(),
    };

    private sealed class Pair : PairClassificationTask
    {
        public override string Id => "pair";
        public override IReadOnlyList<string> Labels => ["different", "same"];
    }

    private sealed class Multi : MultiLabelClassificationTask
    {
        public override string Id => "multi";
        public override IReadOnlyList<string> Labels => ["a", "b", "c"];
    }

    private sealed class Token : TokenClassificationTask
    {
        public override string Id => "token";
        public override IReadOnlyList<string> Labels { get; } = BioLabels(["PER", "LOC"]);
    }

    private sealed class Regression : RegressionTask
    {
        public override string Id => "regression";
    }

    private sealed class HuberRegression : RegressionTask
    {
        public override string Id => "huber";
        protected override RegressionLossFunction LossFunction => RegressionLossFunction.Huber;
        protected override double InitialOutput => 2.5;
    }
}
