using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// The tests that start ranks with mpirun run one at a time, so that two launches never compete for 2 cores: on a loaded
/// CI run Open MPI's launcher once failed to print its abort report (ORTE_ERROR_LOG in show_help.c) though its ranks
/// ended as they should.
/// </summary>
[CollectionDefinition(Name)]
public sealed class MpiRunCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "mpirun";
}
