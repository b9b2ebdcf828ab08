using MtlHost.Core.Distributed;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// Which group a process gets: MPI only when Open MPI's launcher started it for several processes. These run in the
/// test process, so they never initialize MPI: the MPI cases name a library that does not exist.
/// </summary>
public sealed class ProcessGroupsTests
{
    private const string MissingLibrary = "libmpi-mtlhost-test-missing.so.40";

    [Fact]
    public void Without_a_launcher_it_is_a_single_process_and_loads_nothing()
    {
        // A library name that cannot load: it is never asked for.
        using var group = ProcessGroups.Detect(Environment(("MTLHOST_MPI_LIBRARY", MissingLibrary)));

        group.ShouldBeOfType<SingleProcessGroup>();
    }

    [Fact]
    public void Mpirun_with_one_process_is_a_single_process_too()
    {
        using var group = ProcessGroups.Detect(Environment(("OMPI_COMM_WORLD_SIZE", "1"), ("MTLHOST_MPI_LIBRARY", MissingLibrary)));

        group.ShouldBeOfType<SingleProcessGroup>();
    }

    [Fact]
    public void Mpirun_without_Open_MPI_s_library_says_what_to_install()
    {
        var error = Should.Throw<DllNotFoundException>(() =>
            ProcessGroups.Detect(Environment(("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "1"), ("MTLHOST_MPI_LIBRARY", MissingLibrary))));

        error.Message.ShouldContain("mpirun");
        error.Message.ShouldContain(MissingLibrary);
        error.Message.ShouldContain("apt-get install openmpi-bin libopenmpi-dev");
    }

    [Fact]
    public void The_launcher_s_world_size_comes_from_Open_MPI_or_PMIx_variables()
    {
        ProcessGroups.LauncherWorldSize(Environment()).ShouldBeNull();
        ProcessGroups.LauncherWorldSize(Environment(("OMPI_COMM_WORLD_SIZE", "4"))).ShouldBe(4);
        ProcessGroups.LauncherWorldSize(Environment(("OMPI_COMM_WORLD_SIZE", "two"))).ShouldBe(0);
        ProcessGroups.LauncherWorldSize(Environment(("PMIX_RANK", "0"), ("SLURM_NTASKS", "8"))).ShouldBe(8);
        ProcessGroups.LauncherWorldSize(Environment(("PMIX_RANK", "0"))).ShouldBe(0);
    }

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}
