using MtlHost.Core.Encoders.Onnx;
using MtlHost.Core.Export.Onnx;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Export;

/// <summary>
/// Initializers under one name: the same contents are one initializer (every adapters branch runs the shared encoder's
/// weights), other contents are a clash.
/// </summary>
public sealed class OnnxGraphBuilderTests
{
    [Fact]
    public void The_same_weights_under_the_same_name_are_one_initializer()
    {
        var graph = new OnnxGraphBuilder();

        graph.Floats("encoder.layer.0.w", [1f, 2f, 3f], 3).ShouldBe("encoder.layer.0.w");
        graph.Floats("encoder.layer.0.w", [1f, 2f, 3f], 3).ShouldBe("encoder.layer.0.w");

        graph.InitializerBytes.ShouldBe(3 * sizeof(float));
    }

    [Fact]
    public void Other_contents_under_a_taken_name_are_refused()
    {
        var graph = new OnnxGraphBuilder();
        graph.Floats("w", [1f, 2f, 3f], 3);
        var input = graph.Input("x", OnnxDataType.Float, "n");
        var output = graph.Node("Relu", [input]);

        Should.Throw<InvalidOperationException>(() => graph.Floats("w", [1f, 2f, 4f], 3)).Message.ShouldContain("'w'");
        Should.Throw<InvalidOperationException>(() => graph.Floats("w", [1f, 2f, 3f], 1, 3)).Message.ShouldContain("'w'");
        Should.Throw<InvalidOperationException>(() => graph.Floats(output, [1f], 1)).Message.ShouldContain(output);
        Should.Throw<InvalidOperationException>(() => graph.Floats("x", [1f], 1)).Message.ShouldContain("'x'");
    }
}
