using System.Runtime.InteropServices;
using System.Text;

namespace MtlHost.Core.Distributed;

/// <summary>
/// The few MPI calls the process groups need, bound at run time to Open MPI's <c>libmpi.so.40</c>.
/// </summary>
/// <remarks>
/// <para>
/// Bound by <see cref="NativeLibrary"/> and function pointers rather than <c>[DllImport]</c> because Open MPI's
/// handles are not values but the addresses of exported globals (<c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>,
/// <c>MPI_FLOAT</c> is <c>&amp;ompi_mpi_float</c>, …), which only <see cref="NativeLibrary.GetExport"/> can give; and so that
/// nothing is loaded until a process group is actually wanted: a process that is not started by <c>mpirun</c> never
/// touches libmpi, and a machine without Open MPI runs everything else.
/// </para>
/// <para>
/// This ties the binding to Open MPI's ABI (MPICH, Intel MPI and MS-MPI use integer handles and other libraries).
/// NuGet's MPI.NET would hide that, but its native part is Windows-only.
/// </para>
/// </remarks>
internal sealed unsafe class OpenMpi
{
    /// <summary>The soname of Open MPI 4.x and 5.x's C library.</summary>
    public const string DefaultLibraryName = "libmpi.so.40";

    /// <summary><c>MPI_SUCCESS</c>.</summary>
    public const int Success = 0;

    /// <summary><c>MPI_THREAD_SINGLE</c>, <c>_FUNNELED</c>, <c>_SERIALIZED</c>, <c>_MULTIPLE</c> (the standard fixes their order, Open MPI their values).</summary>
    public const int ThreadSingle = 0, ThreadFunneled = 1, ThreadSerialized = 2, ThreadMultiple = 3;

    /// <summary><c>MPI_MAX_PROCESSOR_NAME</c> in Open MPI's mpi.h.</summary>
    private const int MaxProcessorName = 256;

    /// <summary><c>MPI_MAX_ERROR_STRING</c> in Open MPI's mpi.h.</summary>
    private const int MaxErrorString = 256;

    private static readonly Lock LoadGate = new();
    private static readonly Dictionary<string, OpenMpi> Loaded = new(StringComparer.Ordinal);

    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, byte***, int, int*, int> _initThread;
    private readonly delegate* unmanaged<int*, int> _queryThread;
    private readonly delegate* unmanaged<nint, int*, int> _commRank;
    private readonly delegate* unmanaged<nint, int*, int> _commSize;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<byte*, int*, int> _processorName;
    private readonly delegate* unmanaged<int, byte*, int*, int> _errorString;

    private OpenMpi(string libraryName, nint library)
    {
        LibraryName = libraryName;
        _initialized = (delegate* unmanaged<int*, int>)Export(library, "MPI_Initialized");
        _initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export(library, "MPI_Init_thread");
        _queryThread = (delegate* unmanaged<int*, int>)Export(library, "MPI_Query_thread");
        _commRank = (delegate* unmanaged<nint, int*, int>)Export(library, "MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Export(library, "MPI_Comm_size");
        _allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export(library, "MPI_Allreduce");
        _bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export(library, "MPI_Bcast");
        _barrier = (delegate* unmanaged<nint, int>)Export(library, "MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Export(library, "MPI_Abort");
        _finalize = (delegate* unmanaged<int>)Export(library, "MPI_Finalize");
        _finalized = (delegate* unmanaged<int*, int>)Export(library, "MPI_Finalized");
        _processorName = (delegate* unmanaged<byte*, int*, int>)Export(library, "MPI_Get_processor_name");
        _errorString = (delegate* unmanaged<int, byte*, int*, int>)Export(library, "MPI_Error_string");
        CommWorld = Export(library, "ompi_mpi_comm_world");
        Float = Export(library, "ompi_mpi_float");
        Double = Export(library, "ompi_mpi_double");
        Byte = Export(library, "ompi_mpi_byte");
        Sum = Export(library, "ompi_mpi_op_sum");
    }

    /// <summary>The library this binding was loaded from.</summary>
    public string LibraryName { get; }

    /// <summary><c>MPI_COMM_WORLD</c>.</summary>
    public nint CommWorld { get; }

    /// <summary><c>MPI_FLOAT</c>.</summary>
    public nint Float { get; }

    /// <summary><c>MPI_DOUBLE</c>.</summary>
    public nint Double { get; }

    /// <summary><c>MPI_BYTE</c>.</summary>
    public nint Byte { get; }

    /// <summary><c>MPI_SUM</c>.</summary>
    public nint Sum { get; }

    /// <summary><c>MPI_IN_PLACE</c>: Open MPI defines it as <c>(void *) 1</c>.</summary>
    public static void* InPlace => (void*)1;

    /// <summary>Loads <paramref name="libraryName"/> once per process and binds the calls.</summary>
    /// <param name="libraryName">A soname or path; <see cref="DefaultLibraryName"/> normally.</param>
    /// <returns>The binding.</returns>
    /// <exception cref="DllNotFoundException">The library is missing or is not Open MPI; the message names the fix.</exception>
    public static OpenMpi Load(string libraryName)
    {
        lock (LoadGate)
        {
            if (Loaded.TryGetValue(libraryName, out var loaded))
            {
                return loaded;
            }
            if (!NativeLibrary.TryLoad(libraryName, out var library))
            {
                throw new DllNotFoundException(
                    $"This process was started by mpirun, but Open MPI's library {libraryName} could not be loaded. " +
                    $"Install Open MPI: apt-get install openmpi-bin libopenmpi-dev (Debian/Ubuntu; {ProcessGroups.LibraryVariable} names another libmpi.so.40).");
            }
            try
            {
                loaded = new OpenMpi(libraryName, library);
            }
            catch (EntryPointNotFoundException e)
            {
                // A libmpi.so.40 without ompi_mpi_comm_world is not Open MPI's; its handles would be integers.
                NativeLibrary.Free(library);
                throw new DllNotFoundException(
                    $"{libraryName} loaded but is not Open MPI's C library ({e.Message}). Only Open MPI is supported: " +
                    "apt-get install openmpi-bin libopenmpi-dev, and start the processes with its mpirun.", e);
            }
            Loaded[libraryName] = loaded;
            return loaded;
        }
    }

    /// <summary><c>MPI_Initialized</c>.</summary>
    public bool Initialized()
    {
        int flag;
        Check(_initialized(&flag), "MPI_Initialized");
        return flag != 0;
    }

    /// <summary><c>MPI_Finalized</c>.</summary>
    public bool Finalized()
    {
        int flag;
        Check(_finalized(&flag), "MPI_Finalized");
        return flag != 0;
    }

    /// <summary><c>MPI_Init_thread(NULL, NULL, required, &amp;provided)</c>.</summary>
    /// <param name="required">The thread level asked for.</param>
    /// <returns>The thread level provided.</returns>
    public int InitThread(int required)
    {
        int provided;
        Check(_initThread(null, null, required, &provided), "MPI_Init_thread");
        return provided;
    }

    /// <summary><c>MPI_Query_thread</c>: the thread level of an MPI initialized already.</summary>
    public int QueryThread()
    {
        int provided;
        Check(_queryThread(&provided), "MPI_Query_thread");
        return provided;
    }

    /// <summary><c>MPI_Comm_rank(MPI_COMM_WORLD)</c>.</summary>
    public int WorldRank()
    {
        int rank;
        Check(_commRank(CommWorld, &rank), "MPI_Comm_rank");
        return rank;
    }

    /// <summary><c>MPI_Comm_size(MPI_COMM_WORLD)</c>.</summary>
    public int WorldSize()
    {
        int size;
        Check(_commSize(CommWorld, &size), "MPI_Comm_size");
        return size;
    }

    /// <summary><c>MPI_Allreduce(MPI_IN_PLACE, buffer, count, datatype, op, MPI_COMM_WORLD)</c>.</summary>
    public void AllreduceInPlace(void* buffer, int count, nint datatype, nint op) =>
        Check(_allreduce(InPlace, buffer, count, datatype, op, CommWorld), "MPI_Allreduce");

    /// <summary><c>MPI_Bcast(buffer, count, datatype, root, MPI_COMM_WORLD)</c>.</summary>
    public void Bcast(void* buffer, int count, nint datatype, int root) =>
        Check(_bcast(buffer, count, datatype, root, CommWorld), "MPI_Bcast");

    /// <summary><c>MPI_Barrier(MPI_COMM_WORLD)</c>.</summary>
    public void Barrier() => Check(_barrier(CommWorld), "MPI_Barrier");

    /// <summary><c>MPI_Abort(MPI_COMM_WORLD, code)</c>: asks mpirun to kill every rank; normally does not return.</summary>
    public int Abort(int code) => _abort(CommWorld, code);

    /// <summary><c>MPI_Finalize</c>.</summary>
    public void FinalizeMpi() => Check(_finalize(), "MPI_Finalize");

    /// <summary><c>MPI_Get_processor_name</c>.</summary>
    public string ProcessorName()
    {
        var name = stackalloc byte[MaxProcessorName];
        int length;
        Check(_processorName(name, &length), "MPI_Get_processor_name");
        return Encoding.UTF8.GetString(name, Math.Clamp(length, 0, MaxProcessorName));
    }

    private void Check(int code, string call)
    {
        // Open MPI's default error handler on MPI_COMM_WORLD (MPI_ERRORS_ARE_FATAL) aborts the job before a call
        // returns an error; this is for a handler someone else set, and for the calls made before MPI_Init.
        if (code != Success)
        {
            throw new MpiException(call, code, ErrorString(code));
        }
    }

    private string ErrorString(int code)
    {
        var text = stackalloc byte[MaxErrorString];
        int length;
        return _errorString(code, text, &length) == Success
            ? Encoding.UTF8.GetString(text, Math.Clamp(length, 0, MaxErrorString))
            : $"error {code}";
    }

    private static nint Export(nint library, string name) => NativeLibrary.GetExport(library, name);
}
