using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>The output layer every SDK head ends with, initialised as BERT initialises its heads.</summary>
internal static class BertLinear
{
    /// <summary>A linear layer with weights drawn from N(0, 0.02²) and a constant bias.</summary>
    /// <param name="inputs">Input width.</param>
    /// <param name="outputs">Output width.</param>
    /// <param name="bias">Initial bias (0 for logits; a starting prediction for regression).</param>
    /// <returns>The layer.</returns>
    public static Linear Create(int inputs, int outputs, double bias = 0.0)
    {
        var layer = nn.Linear(inputs, outputs);
        using (no_grad())
        {
            nn.init.normal_(layer.weight!, 0.0, 0.02);
            nn.init.constant_(layer.bias!, bias);
        }
        return layer;
    }
}
