using TorchSharp;

namespace MtlHost.Core.Devices;

/// <summary>Turns the <c>--device</c> option into a TorchSharp device, or says why it cannot.</summary>
public static class DeviceSelector
{
    /// <summary>Names accepted by <see cref="Resolve"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["cpu", "cuda"];

    /// <summary>Resolves a device name.</summary>
    /// <param name="name"><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive).</param>
    /// <returns>The device.</returns>
    /// <exception cref="ArgumentException">The name is unknown, or CUDA was asked for and is not available.</exception>
    public static torch.Device Resolve(string name)
    {
        var normalized = name.Trim().ToLowerInvariant();
        if (normalized == "cpu")
        {
            return torch.CPU;
        }
        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
            {
                throw new ArgumentException(
                    $"--device {name}: CUDA is not available here (no CUDA-capable GPU was found, or this build uses the CPU-only " +
                    "libtorch of TorchSharp-cpu). Use --device cpu, or on a machine with an NVIDIA GPU reference TorchSharp-cuda-linux " +
                    "instead of TorchSharp-cpu in src/MtlHost.Core.");
            }
            var index = normalized == "cuda" ? 0 : int.Parse(normalized[5..], System.Globalization.CultureInfo.InvariantCulture);
            if (index >= torch.cuda.device_count())
            {
                throw new ArgumentException($"--device {name}: only {torch.cuda.device_count()} CUDA device(s) are present.");
            }
            return torch.device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"--device {name}: unknown device; use one of {string.Join(", ", Names)}.");
    }
}
