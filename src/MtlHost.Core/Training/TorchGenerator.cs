namespace MtlHost.Core.Training;

/// <summary>
/// libtorch has one default random generator per process. A training step reseeds it and draws its dropout masks from it;
/// other threads that draw from it — building a module initialises its weights — must hold <see cref="Lock"/>, or they
/// shift the masks of the step in flight and the run is no longer a function of its seed (nor does a resumed run match).
/// </summary>
public static class TorchGenerator
{
    /// <summary>Held by a training step from its reseed to its end, and by any other thread while it draws from the generator.</summary>
    public static object Lock { get; } = new();
}
