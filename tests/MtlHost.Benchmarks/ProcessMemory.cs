namespace MtlHost.Benchmarks;

/// <summary>Resident set size of this process (managed and native memory alike).</summary>
public static class ProcessMemory
{
    /// <summary>Current RSS in MiB, read from /proc/self/status on Linux.</summary>
    /// <returns>MiB.</returns>
    public static double ResidentMiB()
    {
        if (File.Exists("/proc/self/status"))
        {
            var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.WorkingSet64 / (1024.0 * 1024.0);
    }
}
