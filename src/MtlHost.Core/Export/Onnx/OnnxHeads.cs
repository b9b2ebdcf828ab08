using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders.Onnx;
using MtlHost.Predictions;
using MtlHost.Predictions.Onnx;

namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// Writes a task's head as outputs of the graph when it is one of the SDK's standard heads, known by its tensors:
/// <c>ClassificationHead</c> (sequence, pair, multi-label) and <c>TokenClassificationHead</c> (<c>classifier.weight</c>
/// [labels, hidden] and <c>classifier.bias</c>), <c>RegressionHead</c> (<c>regressor.weight</c> [1, hidden] and
/// <c>regressor.bias</c>). A plugin's own head is not in the model: its forward is plugin code the export does not run.
/// </summary>
internal static class OnnxHeads
{
    /// <summary>Why a head cannot be exported, or <see langword="null"/> when it is a standard head of its task's kind.</summary>
    /// <param name="task">The task.</param>
    /// <param name="head">The head's weights.</param>
    /// <param name="hiddenSize">The encoder's width.</param>
    public static string? NotStandardReason(CheckpointManifest.TaskEntry task, WeightSet head, int hiddenSize)
    {
        var (layer, outputs) = task.Kind == TaskKindNames.Regression ? ("regressor", 1) : ("classifier", task.Labels.Count);
        var names = head.Tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        var fits = names.SequenceEqual([layer + ".bias", layer + ".weight"], StringComparer.Ordinal)
                   && head.Tensors[layer + ".weight"].Shape.SequenceEqual([outputs, (long)hiddenSize])
                   && head.Tensors[layer + ".bias"].Shape.SequenceEqual([(long)outputs]);
        return fits
            ? null
            : $"its head (tensors {string.Join(", ", names)}) is not the SDK's standard head of a {task.Kind} task ({layer}.weight [{outputs}, {hiddenSize}], " +
              $"{layer}.bias), so its forward is plugin code the export cannot write as ONNX; predict it with 'mtlhost predict --checkpoint', " +
              "or give the task the SDK's head";
    }

    /// <summary>Adds the head's nodes and its named output.</summary>
    /// <param name="bert">The graph.</param>
    /// <param name="task">The task.</param>
    /// <param name="head">The head's weights (checked by <see cref="NotStandardReason"/>).</param>
    /// <param name="hidden">The hidden states the head reads, [batch, tokens, hidden].</param>
    /// <param name="branch">The encoder branch those come from, or <see langword="null"/>.</param>
    /// <returns>The task's entry in the description.</returns>
    public static OnnxTaskOutput Add(BertOnnxGraph bert, CheckpointManifest.TaskEntry task, WeightSet head, string hidden, string? branch)
    {
        var graph = bert.Graph;
        var labels = task.Labels.Count;
        string Cls() => graph.Node("Gather", [hidden, graph.Int64s(scalar: true, 0)], attributes: NodeAttribute.Int("axis", 1));
        var entry = new OnnxTaskOutput
        {
            Id = task.Id, Kind = task.Kind, Labels = task.Labels.ToArray(), State = task.State, Branch = branch,
            Output = "", Shape = "", Input = "", Decoding = "",
        };
        switch (task.Kind)
        {
            case TaskKindNames.Regression:
            {
                var value = graph.Node("Squeeze", [bert.Linear(Cls(), head, "regressor", quantizable: false), graph.Int64s(scalar: false, 1)]);
                var output = graph.Node("Identity", [value], $"{task.Id}_value");
                graph.Output(output, OnnxDataType.Float, "batch");
                return entry with { Output = output, Shape = "[batch]", Input = TextInput, Decoding = "the value itself: h[:, 0] · regressor.weightᵀ + regressor.bias" };
            }
            case TaskKindNames.TokenClassification:
            {
                var output = graph.Node("Identity", [bert.Linear(hidden, head, "classifier", quantizable: false)], $"{task.Id}_token_logits");
                graph.Output(output, OnnxDataType.Float, "batch", "tokens", (long)labels);
                return entry with
                {
                    Output = output, Shape = "[batch, tokens, labels]",
                    Input = "[CLS] words [SEP]: each whitespace-separated word tokenized on its own, token_type_ids 0",
                    Decoding = "a word's label = labels[argmax(softmax(logits))] at its first sub-token, with that probability",
                };
            }
            default:
            {
                var output = graph.Node("Identity", [bert.Linear(Cls(), head, "classifier", quantizable: false)], $"{task.Id}_logits");
                graph.Output(output, OnnxDataType.Float, "batch", (long)labels);
                return entry with
                {
                    Output = output, Shape = "[batch, labels]",
                    Input = task.Kind == TaskKindNames.PairClassification
                        ? "[CLS] text [SEP] pair [SEP], token_type_ids 0 up to the first [SEP] and 1 after it"
                        : TextInput,
                    Decoding = task.Kind == TaskKindNames.MultiLabelClassification
                        ? "labels: every label with sigmoid(logit) >= 0.5, most probable first; scores: the sigmoids of the top 5"
                        : "label = labels[argmax(softmax(logits))]; scores: the softmax of the top 5",
                };
            }
        }
    }

    private const string TextInput = "[CLS] text [SEP], token_type_ids 0";
}
