using MtlHost.Core.Checkpoints;

namespace MtlHost.Core.Export.Onnx;

/// <summary>The tensors of one weights file of a checkpoint by name, as floats, for writing them into an ONNX graph.</summary>
/// <param name="Source">What the tensors are (for messages): "the encoder", "branch 'spam'", …</param>
/// <param name="Tensors">The tensors by name.</param>
internal sealed record WeightSet(string Source, IReadOnlyDictionary<string, StoredTensor> Tensors)
{
    /// <summary>Reads a checkpoint weights file.</summary>
    public static WeightSet Read(string source, string path) =>
        new(source, CheckpointReader.ReadWeights(path).ToDictionary(t => t.Name, StringComparer.Ordinal));

    /// <summary>Whether a tensor is there.</summary>
    public bool Has(string name) => Tensors.ContainsKey(name);

    /// <summary>A tensor's values as floats and its shape.</summary>
    /// <exception cref="Checkpoints.CheckpointException">The tensor is missing or of another rank.</exception>
    public (float[] Values, long[] Shape) Get(string name, int rank)
    {
        if (!Tensors.TryGetValue(name, out var tensor))
        {
            throw new CheckpointException($"The weights of {Source} have no tensor '{name}'; the checkpoint is damaged or of another encoder structure.");
        }
        if (tensor.Shape.Count != rank)
        {
            throw new CheckpointException($"Tensor '{name}' of {Source} has shape [{string.Join(", ", tensor.Shape)}], not of rank {rank}; the checkpoint is damaged.");
        }
        var values = tensor.DType == "F32"
            ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.Data).ToArray()
            : tensor.ToDoubles().Select(v => (float)v).ToArray();
        return (values, tensor.Shape.ToArray());
    }
}
