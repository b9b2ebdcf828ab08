using MtlHost.Core.Distributed;
using MtlHost.Worker;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// The dashboard's controls across processes without mpirun: rank 0's side is recorded (every broadcast's bytes) and
/// replayed on a rank 1 in the same process, which must receive the same decisions and run the same loop.
/// </summary>
public sealed class ControlExchangeTests
{
    [Fact]
    public void Rank_1_receives_rank_0s_decision_with_its_requests_in_order()
    {
        var root = new RecordingRoot();
        var sent = new ControlDecision(true, [new TaskRemovalAction("spam"), new CheckpointAction(), new TaskRemovalAction("wordclass")]);

        new ControlExchange(root).Exchange(sent).ShouldBeSameAs(sent);
        var received = new ControlExchange(new ReplayingRank1(root.Broadcasts)).Exchange(null);

        received.Paused.ShouldBeTrue();
        received.Actions.ShouldBe(sent.Actions);
    }

    [Fact]
    public void Rank_1_follows_a_pause_poll_for_poll_and_leaves_it_when_rank_0_resumes()
    {
        var root = new RecordingRoot();
        var decisions = new Queue<ControlDecision>([
            new ControlDecision(true, [new CheckpointAction()]),
            new ControlDecision(true, []),
            new ControlDecision(false, [new TaskRemovalAction("spam")]),
        ]);
        var rootWaits = 0;
        new ControlBoundary(root).Cross(null, decisions.Dequeue, _ => { }, () => false, () => rootWaits++);

        var carriedOut = new List<ControlDecision>();
        var waits = 0;
        var rank1 = new ReplayingRank1(root.Broadcasts);
        new ControlBoundary(rank1)
            .Cross(null, () => throw new InvalidOperationException("rank 1 decided"), carriedOut.Add, () => false, () => waits++);

        rank1.Unread.ShouldBe(0);
        rootWaits.ShouldBe(2);
        waits.ShouldBe(2);
        carriedOut.Select(d => d.Paused).ShouldBe([true, true, false]);
        carriedOut.SelectMany(d => d.Actions).ShouldBe([new CheckpointAction(), new TaskRemovalAction("spam")]);
    }

    [Fact]
    public void A_stop_asked_of_any_rank_ends_the_pause()
    {
        // Rank 1 was asked to stop: the all-reduce of the stop flags says so on rank 0, which would otherwise stay paused.
        var root = new RecordingRoot { OtherRankStops = true };
        var exchanges = 0;
        new ControlBoundary(root).Cross(null, () => ++exchanges < 3
            ? new ControlDecision(true, [])
            : throw new ShouldAssertException("the pause went on though rank 1 was asked to stop"), _ => { }, () => false, () => { });

        exchanges.ShouldBe(1);
    }

    // Rank 0 of 2: records what it broadcasts; the other rank's share of an all-reduce is a stop flag.
    private sealed class RecordingRoot : IProcessGroup
    {
        public List<byte[]> Broadcasts { get; } = [];

        public bool OtherRankStops { get; init; }

        public int Rank => 0;

        public int Size => 2;

        public bool IsRoot => true;

        public void AllReduceSum(Span<float> values) => throw new NotSupportedException();

        public void AllReduceSum(Span<double> values) => values[0] += OtherRankStops ? 1 : 0;

        public void Broadcast(Span<byte> data, int root = 0) => Broadcasts.Add(data.ToArray());

        public void Barrier()
        {
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        public void Abort(int code) => throw new InvalidOperationException($"abort {code}");

        public void Dispose()
        {
        }
    }

    // Rank 1 of 2: receives what rank 0 recorded, broadcast by broadcast; rank 0 was not asked to stop.
    private sealed class ReplayingRank1(IReadOnlyList<byte[]> broadcasts) : IProcessGroup
    {
        private int _next;

        public int Unread => broadcasts.Count - _next;

        public int Rank => 1;

        public int Size => 2;

        public bool IsRoot => false;

        public void AllReduceSum(Span<float> values) => throw new NotSupportedException();

        public void AllReduceSum(Span<double> values)
        {
        }

        public void Broadcast(Span<byte> data, int root = 0)
        {
            var sent = broadcasts[_next++];
            sent.Length.ShouldBe(data.Length, "rank 1 expected another broadcast than rank 0 made");
            sent.CopyTo(data);
        }

        public void Barrier()
        {
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        public void Abort(int code) => throw new InvalidOperationException($"abort {code}");

        public void Dispose()
        {
        }
    }
}
