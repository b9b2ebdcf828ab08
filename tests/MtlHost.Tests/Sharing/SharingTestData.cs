using MtlHost.Core.Encoders;
using static TorchSharp.torch;

namespace MtlHost.Tests.Sharing;

/// <summary>Encoders and batches shared by the sharing-strategy tests.</summary>
internal static class SharingTestData
{
    private static readonly long[][] Sentences =
    [
        [101, 7592, 1010, 2088, 999, 102],
        [101, 1037, 2936, 6251, 2007, 2062, 19204, 2015, 1012, 102],
        [101, 102],
    ];

    public static BertEncoder TinyEncoder(int seed)
    {
        manual_seed(seed);
        return new BertEncoder(BertConfig.Tiny);
    }

    public static (Tensor Ids, Tensor Types, Tensor Mask) Batch()
    {
        var length = Sentences.Max(s => s.Length);
        var ids = new long[Sentences.Length * length];
        var mask = new long[Sentences.Length * length];
        for (var i = 0; i < Sentences.Length; i++)
        {
            Sentences[i].CopyTo(ids, i * length);
            Array.Fill(mask, 1L, i * length, Sentences[i].Length);
        }

        var shape = new long[] { Sentences.Length, length };
        return (tensor(ids, shape), zeros(shape, ScalarType.Int64), tensor(mask, shape));
    }

    public static float MaxAbsDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    // Values, not handles: a snapshot that later in-place changes cannot reach.
    public static Dictionary<string, Tensor> Snapshot(TorchSharp.torch.nn.Module module) =>
        module.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().clone());

    public static bool SameValues(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) =>
        a.Count == b.Count && a.All(e => b.TryGetValue(e.Key, out var other) && e.Value.shape.SequenceEqual(other.shape) && e.Value.eq(other).all().item<bool>());
}
