using MtlHost;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C finishes the current step, evaluates and saves; a second one ends the process.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        cancellation.Cancel();
    }
};
return MtlHostApplication.Run(args, Console.Out, Console.Error, cancellation.Token);
