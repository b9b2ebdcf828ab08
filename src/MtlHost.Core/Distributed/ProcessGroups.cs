using System.Globalization;

namespace MtlHost.Core.Distributed;

/// <summary>Finds the process group this process was started in.</summary>
public static class ProcessGroups
{
    /// <summary>Environment variable naming another Open MPI C library (a path or soname) than <c>libmpi.so.40</c>.</summary>
    public const string LibraryVariable = "MTLHOST_MPI_LIBRARY";

    /// <summary>What installs Open MPI on Debian and Ubuntu.</summary>
    public const string InstallHint = "apt-get install openmpi-bin libopenmpi-dev";

    /// <summary>
    /// The group of this process: an <see cref="MpiProcessGroup"/> when it was started by Open MPI's launcher for more
    /// than one process, otherwise a <see cref="SingleProcessGroup"/> — and then no native library is loaded, so a
    /// machine without Open MPI is never touched by any of this.
    /// </summary>
    /// <returns>The group; dispose it at the end of the process's work.</returns>
    /// <exception cref="DllNotFoundException">Started by mpirun, but Open MPI's library cannot be loaded; the message says what to install.</exception>
    public static IProcessGroup Detect() => Detect(Environment.GetEnvironmentVariable);

    /// <summary><see cref="Detect()"/> with another environment (tests).</summary>
    /// <param name="environment">Reads an environment variable; <see langword="null"/> when unset.</param>
    /// <returns>The group.</returns>
    /// <exception cref="DllNotFoundException">Started by mpirun, but Open MPI's library cannot be loaded.</exception>
    public static IProcessGroup Detect(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var size = LauncherWorldSize(environment);
        if (size is null or 1)
        {
            // Not started by a launcher, or by one for a single process: nothing to talk to, so nothing to load.
            return new SingleProcessGroup();
        }
        var library = environment(LibraryVariable) is { Length: > 0 } named ? named : OpenMpi.DefaultLibraryName;
        return MpiProcessGroup.Initialize(library);
    }

    /// <summary>
    /// How many processes the MPI launcher says it started, from the variables it sets in each process: Open MPI's
    /// mpirun sets <c>OMPI_COMM_WORLD_SIZE</c>; a PMIx launcher (Slurm's <c>srun --mpi=pmix</c>, prterun) sets
    /// <c>PMIX_RANK</c>, and Slurm <c>SLURM_NTASKS</c>.
    /// </summary>
    /// <param name="environment">Reads an environment variable; <see langword="null"/> when unset.</param>
    /// <returns>
    /// <see langword="null"/> when no launcher started this process; the number of processes; or 0 when a launcher
    /// started it without saying how many (MPI tells once initialized).
    /// </returns>
    public static int? LauncherWorldSize(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment("OMPI_COMM_WORLD_SIZE") is { } ompiSize)
        {
            return Parse(ompiSize);
        }
        if (environment("PMIX_RANK") is not null)
        {
            return environment("SLURM_NTASKS") is { } tasks ? Parse(tasks) : 0;
        }
        return null;
    }

    private static int Parse(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0 ? size : 0;
}
