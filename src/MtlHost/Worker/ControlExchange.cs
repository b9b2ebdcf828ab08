using MtlHost.Core.Distributed;

namespace MtlHost.Worker;

/// <summary>
/// The dashboard's controls across processes (<c>mpirun … serve</c>): rank 0 alone takes the operator's requests; at every
/// step boundary it sends every process its decision (paused or not, and the requests to carry out), so that every process
/// pauses, writes its part of a checkpoint and takes a task out at the same boundary.
/// </summary>
/// <remarks>
/// <see cref="Exchange"/> is a collective that every process calls once at every step boundary, and once more per pause
/// poll while the decision is "paused", whatever was asked (a decision without requests is a few bytes): a process that
/// skipped it would leave the others waiting.
/// </remarks>
public sealed class ControlExchange
{
    private const byte Checkpoint = 1, RemoveTask = 2;
    private readonly IProcessGroup _group;

    /// <summary>Creates the exchange.</summary>
    /// <param name="group">The processes.</param>
    public ControlExchange(IProcessGroup group)
    {
        _group = group;
    }

    /// <summary>Rank 0's decision, on every process. A collective.</summary>
    /// <param name="decision">Rank 0's decision; ignored (may be <see langword="null"/>) on the other processes.</param>
    /// <returns>Rank 0's decision.</returns>
    public ControlDecision Exchange(ControlDecision? decision)
    {
        if (_group.IsRoot)
        {
            ArgumentNullException.ThrowIfNull(decision);
        }
        var payload = _group.BroadcastBytes(_group.IsRoot ? Serialize(decision!) : null);
        return _group.IsRoot ? decision! : Deserialize(payload);
    }

    private static byte[] Serialize(ControlDecision decision)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(decision.Paused);
            writer.Write(decision.Actions.Count);
            foreach (var action in decision.Actions)
            {
                switch (action)
                {
                    case CheckpointAction:
                        writer.Write(Checkpoint);
                        break;
                    case TaskRemovalAction removal:
                        writer.Write(RemoveTask);
                        writer.Write(removal.TaskId);
                        break;
                    default:
                        throw new ArgumentException($"No wire format for the control action {action}.", nameof(decision));
                }
            }
        }
        return stream.ToArray();
    }

    private static ControlDecision Deserialize(byte[] payload)
    {
        using var reader = new BinaryReader(new MemoryStream(payload));
        var paused = reader.ReadBoolean();
        var count = reader.ReadInt32();
        var actions = new List<ControlAction>(count);
        for (var i = 0; i < count; i++)
        {
            var kind = reader.ReadByte();
            actions.Add(kind switch
            {
                Checkpoint => new CheckpointAction(),
                RemoveTask => new TaskRemovalAction(reader.ReadString()),
                _ => throw new InvalidDataException($"Unknown control action {kind} from rank 0: every rank must run the same mtlhost build."),
            });
        }
        return new ControlDecision(paused, actions);
    }
}
