using System.Diagnostics.CodeAnalysis;

namespace MtlHost.Core.Distributed;

/// <summary>
/// <c>MPI_COMM_WORLD</c> of Open MPI, through <see cref="OpenMpi"/>: the group of a process started by
/// <c>mpirun -np N</c>. Made by <see cref="ProcessGroups.Detect()"/>, or <see cref="Initialize"/>.
/// </summary>
/// <remarks>
/// <para>
/// MPI is initialized with <c>MPI_THREAD_SERIALIZED</c>: any thread may call MPI, one at a time. <c>FUNNELED</c> would
/// tie every call to the thread that initialized MPI, which .NET does not keep: the training loop may run on another
/// thread than <c>Main</c> (a hosted service, a thread-pool continuation after an <c>await</c>). <c>MULTIPLE</c> is not
/// needed (the calls are serialized here by a lock) and makes Open MPI take locks on every call.
/// </para>
/// <para>
/// A rank that fails must not finalize: <c>MPI_Finalize</c> waits for the other ranks, which wait in their next collective
/// for this one, and the run hangs (measured: a rank whose unhandled exception disposed the group through a
/// <c>using</c> hung with the others for good). So a rank that stops early calls <see cref="Abort"/>, and an unhandled
/// exception aborts the run by itself: the group handles <see cref="AppDomain.UnhandledException"/>, which .NET raises
/// before any <c>finally</c> block (and so any <c>Dispose</c>) runs. <see cref="Dispose"/> is for the normal end only.
/// </para>
/// <para>
/// MPI can be initialized and finalized once per process: there is one instance per process, and after
/// <see cref="Dispose"/> (<c>MPI_Finalize</c>) none can be made again.
/// </para>
/// </remarks>
public sealed unsafe class MpiProcessGroup : IProcessGroup
{
    /// <summary>The exit code of a run that a rank's unhandled exception aborted (<c>EX_SOFTWARE</c>).</summary>
    public const int UnhandledExceptionExitCode = 70;

    private static readonly Lock InstanceGate = new();
    private static MpiProcessGroup? _instance;

    private readonly OpenMpi _mpi;
    private readonly Lock _gate = new();
    private readonly bool _ownsInitialization;
    private bool _finalized;

    private MpiProcessGroup(OpenMpi mpi, bool ownsInitialization, int threadLevel)
    {
        _mpi = mpi;
        _ownsInitialization = ownsInitialization;
        ThreadLevel = threadLevel;
        Rank = mpi.WorldRank();
        Size = mpi.WorldSize();
        ProcessorName = mpi.ProcessorName();
        AppDomain.CurrentDomain.UnhandledException += AbortOnUnhandledException;
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int Size { get; }

    /// <inheritdoc />
    public bool IsRoot => Rank == 0;

    /// <summary>The host this rank runs on, as MPI names it (<c>MPI_Get_processor_name</c>): for log lines.</summary>
    public string ProcessorName { get; }

    /// <summary>
    /// The thread level MPI provides: 2 (<c>MPI_THREAD_SERIALIZED</c>) or 3 (<c>MULTIPLE</c>); lower levels are refused
    /// by <see cref="Initialize"/>.
    /// </summary>
    public int ThreadLevel { get; }

    /// <summary>
    /// Loads Open MPI and initializes MPI (once per process; later calls return the same group), or joins an MPI that
    /// someone else in the process initialized, leaving finalizing it to them.
    /// </summary>
    /// <param name="libraryName">Open MPI's C library: a soname or a path.</param>
    /// <returns>The group of <c>MPI_COMM_WORLD</c>.</returns>
    /// <exception cref="DllNotFoundException">The library is missing or not Open MPI's; the message names the package to install.</exception>
    /// <exception cref="InvalidOperationException">MPI was finalized already in this process.</exception>
    /// <exception cref="MpiException">MPI provides less than <c>MPI_THREAD_SERIALIZED</c>, or a call failed.</exception>
    public static MpiProcessGroup Initialize(string libraryName = OpenMpi.DefaultLibraryName)
    {
        lock (InstanceGate)
        {
            if (_instance is { _finalized: false })
            {
                return _instance;
            }
            // Before MPI allocates anything: its per-call temporary buffers come from the heap and are reused.
            GlibcHeap.KeepLargeBuffers();
            var mpi = OpenMpi.Load(libraryName);
            if (_instance is not null || mpi.Finalized())
            {
                throw new InvalidOperationException("MPI was finalized in this process already; it cannot be initialized twice.");
            }
            // Someone else may have initialized MPI in this process: then it is theirs to finalize.
            var owns = !mpi.Initialized();
            var provided = owns ? mpi.InitThread(OpenMpi.ThreadSerialized) : mpi.QueryThread();
            if (provided < OpenMpi.ThreadSerialized)
            {
                // Every rank gets the same level, so every rank finalizes here alike and none waits for another.
                if (owns)
                {
                    mpi.FinalizeMpi();
                }
                throw new MpiException(
                    $"{mpi.LibraryName} provides MPI thread level {provided}, below MPI_THREAD_SERIALIZED (2), which the host needs because " +
                    "its training loop may run on any thread. Use an Open MPI built with thread support (Debian's is).");
            }
            _instance = new MpiProcessGroup(mpi, owns, provided);
            return _instance;
        }
    }

    /// <inheritdoc />
    public void AllReduceSum(Span<float> values)
    {
        if (values.IsEmpty)
        {
            // Every rank passes the same length, so every rank skips alike.
            return;
        }
        lock (_gate)
        {
            ThrowIfFinalized();
            fixed (float* buffer = values)
            {
                _mpi.AllreduceInPlace(buffer, values.Length, _mpi.Float, _mpi.Sum);
            }
        }
    }

    /// <inheritdoc />
    public void AllReduceSum(Span<double> values)
    {
        if (values.IsEmpty)
        {
            return;
        }
        lock (_gate)
        {
            ThrowIfFinalized();
            fixed (double* buffer = values)
            {
                _mpi.AllreduceInPlace(buffer, values.Length, _mpi.Double, _mpi.Sum);
            }
        }
    }

    /// <inheritdoc />
    public void Broadcast(Span<byte> data, int root = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        if (data.IsEmpty)
        {
            return;
        }
        lock (_gate)
        {
            ThrowIfFinalized();
            fixed (byte* buffer = data)
            {
                _mpi.Bcast(buffer, data.Length, _mpi.Byte, root);
            }
        }
    }

    /// <inheritdoc />
    public void Barrier()
    {
        lock (_gate)
        {
            ThrowIfFinalized();
            _mpi.Barrier();
        }
    }

    /// <summary>
    /// <c>MPI_Abort</c> on <c>MPI_COMM_WORLD</c>: mpirun kills every rank and exits with <paramref name="code"/>.
    /// Not under the lock that serializes the collectives: the thread that aborts must not wait for one that is stuck
    /// in a collective whose peers are gone.
    /// </summary>
    /// <param name="code">The exit code; non-zero.</param>
    [DoesNotReturn]
    public void Abort(int code)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        _mpi.Abort(code);
        // MPI_Abort does not return in Open MPI; should it, the process still must not go on.
        Environment.Exit(code == 0 ? 1 : code);
        throw new InvalidOperationException("Environment.Exit returned.");
    }

    /// <summary><c>MPI_Finalize</c>, if this group initialized MPI; a collective, so every rank disposes its group.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_finalized)
            {
                return;
            }
            _finalized = true;
            AppDomain.CurrentDomain.UnhandledException -= AbortOnUnhandledException;
            if (_ownsInitialization && !_mpi.Finalized())
            {
                _mpi.FinalizeMpi();
            }
        }
    }

    private void AbortOnUnhandledException(object sender, UnhandledExceptionEventArgs e)
    {
        // No lock: the thread holding it may be the one stuck in a collective.
        if (Volatile.Read(ref _finalized))
        {
            return;
        }
        // .NET would print the exception after this handler; MPI_Abort ends the process before that, so print it here.
        Console.Error.WriteLine($"Rank {Rank} of {Size}: unhandled exception; aborting every rank of the run (exit code {UnhandledExceptionExitCode}).");
        Console.Error.WriteLine(e.ExceptionObject);
        Abort(UnhandledExceptionExitCode);
    }

    private void ThrowIfFinalized()
    {
        ObjectDisposedException.ThrowIf(_finalized, this);
    }
}
