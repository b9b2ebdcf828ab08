using Xunit;

// TorchSharp's seed and thread pool are process-wide, and the machine has two cores: tests that
// train run one at a time so that seeded runs reproduce and timings stay sane.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
