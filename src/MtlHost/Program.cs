using System.Runtime.InteropServices;
using MtlHost;

using var cancellation = new CancellationTokenSource();

// The first Ctrl-C or SIGTERM (docker stop, systemd, kill) finishes the current step, evaluates and saves;
// for train a second one ends the process at once (serve's host lifetime takes every signal as a graceful
// stop, bounded by Serve:ShutdownTimeoutSeconds).
void Stop(PosixSignalContext context)
{
    if (!cancellation.IsCancellationRequested)
    {
        context.Cancel = true;
        cancellation.Cancel();
    }
}
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
return MtlHostApplication.Run(args, Console.Out, Console.Error, cancellation.Token);
