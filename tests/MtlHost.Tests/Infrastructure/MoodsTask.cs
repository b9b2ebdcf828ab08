using System.Text.Json;
using MtlHost.Abstractions;
using MtlHost.Core.Training;

namespace MtlHost.Tests.Infrastructure;

/// <summary>A small in-process sentence task (up or down mood) with its data written to a folder, for trainer tests.</summary>
public sealed class MoodsTask : SequenceClassificationTask
{
    /// <inheritdoc />
    public override string Id => "moods";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => ["down", "up"];

    /// <summary>Writes the task's data into <paramref name="plugin"/> and prepares it as the host would, for the tiny encoder.</summary>
    /// <param name="plugin">The folder that plays the plugin's.</param>
    /// <param name="options">Run options.</param>
    /// <returns>The task, ready to train.</returns>
    public static TaskRuntime Prepare(TemporaryDirectory plugin, TrainingOptions options)
    {
        Directory.CreateDirectory(plugin.Combine("data", "moods"));
        string[] words = ["sunny", "happy", "bright", "gloomy", "sad", "dark"];
        File.WriteAllLines(plugin.Combine("data", "moods", "train.jsonl"), Enumerable.Range(0, 64).Select(i =>
            JsonSerializer.Serialize(new { text = $"a {words[i % 6]} day number {i}", label = i % 6 < 3 ? "up" : "down" })));
        File.WriteAllLines(plugin.Combine("data", "moods", "validation.jsonl"), words.Select((w, i) =>
            JsonSerializer.Serialize(new { text = $"a {w} day", label = i < 3 ? "up" : "down" })));
        return TinyRuntimes.Factory(options).Create(new MoodsTask(), new TaskSource("Moods", plugin.Path, "Moods.dll", new string('0', 64)));
    }
}
