using Microsoft.Extensions.Logging;
using MtlHost.Abstractions.Messages;
using MtlHost.Runs;

namespace MtlHost.Worker;

/// <summary>
/// The dashboard's controls on a process other than rank 0 of <c>mpirun … serve</c>: at every step boundary it takes rank
/// 0's decision (<see cref="ControlBoundary"/>) and carries it out here — pauses with rank 0, writes its part of a
/// checkpoint (none: rank 0 writes the files), takes the same task out — so that every process trains the same tasks.
/// </summary>
public sealed class ControlFollower
{
    private readonly TimeSpan _pausedPoll;
    private readonly ILogger _logger;
    private TrainingRunContext? _run;
    private ControlBoundary? _boundary;

    /// <summary>Creates the follower.</summary>
    /// <param name="pausedPoll">
    /// How long to wait between two exchanges of a pause: the pause poll of rank 0's <see cref="TrainingControl"/>, so that
    /// neither process spins long in the broadcast (Open MPI polls while it waits).
    /// </param>
    /// <param name="logger">Warns when a request that worked on rank 0 fails here.</param>
    public ControlFollower(TimeSpan pausedPoll, ILogger logger)
    {
        _pausedPoll = pausedPoll;
        _logger = logger;
    }

    /// <summary>Joins the follower to this process's run, before it starts.</summary>
    /// <param name="run">The run.</param>
    /// <param name="stopping">This process's stop (SIGTERM, Ctrl-C): it ends a pause of every process.</param>
    public void Attach(TrainingRun run, CancellationToken stopping)
    {
        run.Started += context =>
        {
            _run = context;
            _boundary = new ControlBoundary(context.Group);
        };
        run.BetweenSteps += () =>
        {
            if (_run is { } current && _boundary is { } boundary)
            {
                boundary.Cross(current.HotReload, () => throw new InvalidOperationException("Only rank 0 decides."), decision => CarryOut(current, decision),
                    () => stopping.IsCancellationRequested, () => stopping.WaitHandle.WaitOne(_pausedPoll));
            }
        };
    }

    private void CarryOut(TrainingRunContext run, ControlDecision decision)
    {
        foreach (var action in decision.Actions)
        {
            try
            {
                action.Follow(run);
            }
            catch (Exception e)
            {
                // As on rank 0, a request that fails fails alone and training goes on; the processes' runs are alike, so it
                // fails there too (and if not, the weights compared at the end tell).
                _logger.LogWarning("Rank 0's request {Action} failed here: {Reason}", action, ExceptionChain.Describe(e));
            }
        }
    }
}
