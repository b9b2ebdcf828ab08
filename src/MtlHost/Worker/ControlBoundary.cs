using MtlHost.Core.Distributed;
using MtlHost.HotReload;

namespace MtlHost.Worker;

/// <summary>
/// The operator's part of a step boundary in <c>mpirun … serve</c>, one loop for every process: rank 0 sends its decision
/// (<see cref="ControlExchange"/>), every process carries out the requests in it, and while it says "paused" every process
/// applies the plugin changes rank 0 sends, waits a poll and exchanges again. Rank 0 and the others run this same loop, so
/// each enters the same collectives in the same order whatever was asked.
/// </summary>
public sealed class ControlBoundary
{
    private readonly IProcessGroup _group;
    private readonly ControlExchange _exchange;

    /// <summary>Creates the boundary of a run across processes.</summary>
    /// <param name="group">The processes.</param>
    public ControlBoundary(IProcessGroup group)
    {
        _group = group;
        _exchange = new ControlExchange(group);
    }

    /// <summary>
    /// Runs the control part of one step boundary on this process; returns when rank 0 says "not paused", or when any
    /// process was asked to stop (the run's stop agreement follows). A collective: every process calls it at every boundary.
    /// </summary>
    /// <param name="hotReload">This process's plugin changes (rank 0 sends them while paused too), or <see langword="null"/>.</param>
    /// <param name="decide">Rank 0's decision now: called on rank 0 only, once per exchange.</param>
    /// <param name="carryOut">Carries out the decision's requests on this process.</param>
    /// <param name="stopAsked">Whether this process was asked to stop (Ctrl-C, SIGTERM, the service stopping).</param>
    /// <param name="waitWhilePaused">Waits between two exchanges of a pause, so that no process spins in a collective.</param>
    public void Cross(HotReloadCoordinator? hotReload, Func<ControlDecision> decide, Action<ControlDecision> carryOut, Func<bool> stopAsked,
        Action waitWhilePaused)
    {
        while (true)
        {
            var decision = _exchange.Exchange(_group.IsRoot ? decide() : null);
            carryOut(decision);
            // A stop reaches the processes at different moments; one that is asked ends the pause of all of them.
            if (!decision.Paused || _group.AnyRank(stopAsked()))
            {
                return;
            }
            // A plugin dropped in while paused joins now, on every process (rank 0 sends it: a collective too).
            hotReload?.ApplyPendingChanges();
            waitWhilePaused();
        }
    }
}
