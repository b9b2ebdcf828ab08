using static TorchSharp.torch;

namespace MtlHost.Core.Weighting;

/// <summary>
/// PCGrad: projecting conflicting gradients (Yu et al., "Gradient Surgery for Multi-Task Learning",
/// NeurIPS 2020). Each task gradient g_i is projected, against the other tasks in a random order,
/// onto the normal plane of every g_j it conflicts with (g_i·g_j &lt; 0):
/// g_i ← g_i − (g_i·g_j / ‖g_j‖²)·g_j; the shared gradient is the sum of the projected gradients.
/// One backward pass per task.
/// </summary>
/// <remarks>
/// Each projected gradient is a combination of the original ones, so the projections are done on
/// the K×K Gram matrix in doubles and the result is applied as one weighted sum Σ_j β_j·g_j (β is
/// what <see cref="Backward"/> returns, as LibMTL's batch weights). Follows the paper in skipping
/// j = i (LibMTL's loop also projects g_i against itself, which only matters once g_i has turned
/// against its own original); as in both, every task draws its own random order, here from
/// <see cref="WeightingStep.Random"/>. Heads get their own gradients. Nothing is learned.
/// </remarks>
public sealed class PCGradWeighting : ILossWeighting
{
    /// <inheritdoc />
    public string Name => "pcgrad";

    /// <inheritdoc />
    public bool NeedsEveryTask => true;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        using var scope = NewDisposeScope();
        var gradients = step.SharedGradients();
        var gram = GradientAlgebra.Gram(gradients);
        var weights = Weights(gram, step.Random);
        step.SetSharedCombination(gradients, weights);
        return weights;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => TaskStateTable.Empty;

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => TaskStateTable.RequireEmpty(Name, state);

    private static double[] Weights(double[,] gram, Random random)
    {
        var k = gram.GetLength(0);
        // Row i holds the coefficients of the projected g_i over the original gradients.
        var coefficients = new double[k][];
        for (var i = 0; i < k; i++)
        {
            coefficients[i] = new double[k];
            coefficients[i][i] = 1;
            var order = Enumerable.Range(0, k).Where(j => j != i).ToArray();
            random.Shuffle(order);
            foreach (var j in order)
            {
                var dot = GradientAlgebra.RowDot(gram, j, coefficients[i]);
                if (dot < 0 && gram[j, j] > 0)
                {
                    coefficients[i][j] -= dot / gram[j, j];
                }
            }
        }
        return Enumerable.Range(0, k).Select(j => coefficients.Sum(row => row[j])).ToArray();
    }
}
