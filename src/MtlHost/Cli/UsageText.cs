using System.Text;

namespace MtlHost.Cli;

/// <summary>
/// Writes the usage lines of the command line from its <see cref="CommandSpec"/>s, so that <c>mtlhost --help</c>,
/// <c>mtlhost VERB --help</c> and the command-line block of docs/command-line.md cannot drift from what the parser accepts.
/// </summary>
public static class UsageText
{
    /// <summary>Columns a usage line wraps at.</summary>
    public const int Width = 118;

    private const string Prefix = "mtlhost ";

    // Width of the verb column: "predict", the longest one-word verb.
    private const int VerbColumn = 7;

    /// <summary>The usage lines of every command, as docs/command-line.md shows them.</summary>
    /// <param name="commands">The commands.</param>
    /// <returns>The lines, '\n'-separated, without a final newline.</returns>
    public static string Synopsis(IEnumerable<CommandSpec> commands)
    {
        var lines = new List<string>();
        // Continuation lines line up under the options of the usual one-word verbs; a longer verb just runs on.
        var indent = new string(' ', Prefix.Length + VerbColumn + 1);
        foreach (var command in commands)
        {
            var head = Prefix + command.Verb.PadRight(VerbColumn) + " ";
            var words = new List<string>();
            words.AddRange(command.Options.Except(command.NotListed).Select(o => Word(o, command.Required.Contains(o.Name))));
            if (command.SharedOptionsNote is { } note)
            {
                words.Insert(0, $"[{note}]");
            }
            if (command.Arguments is { } arguments)
            {
                words.Add(arguments);
            }
            lines.AddRange(Wrap(head, indent, words));
            lines.Add(indent + "# " + command.Summary);
        }
        return string.Join('\n', lines);
    }

    /// <summary>One command's options with their help, for <c>mtlhost VERB --help</c>.</summary>
    /// <param name="command">The command.</param>
    /// <returns>The text.</returns>
    public static string Help(CommandSpec command)
    {
        var text = new StringBuilder();
        var head = Prefix + command.Verb + " ";
        text.Append(string.Join('\n', Wrap(head, new string(' ', head.Length),
            command.Options.Except(command.NotListed).Select(o => Word(o, command.Required.Contains(o.Name))).Concat(command.Arguments is null ? [] : [command.Arguments]))));
        text.Append("\n\n").Append(command.Summary).Append("\n\noptions:\n");
        var width = command.Options.Max(o => Signature(o).Length);
        foreach (var option in command.Options)
        {
            text.Append("  ").Append(Signature(option).PadRight(width)).Append("  ").Append(option.Help);
            if (option.ConfigurationKey is { } key)
            {
                text.Append(" [").Append(key).Append(']');
            }
            text.Append('\n');
        }
        return text.ToString().TrimEnd('\n');
    }

    // "--steps N" for the help list.
    private static string Signature(OptionSpec option) => option.Kind == OptionKind.Flag ? "--" + option.Name : $"--{option.Name} {Placeholder(option)}";

    // "[--steps N]", or "--text TEXT" when required.
    private static string Word(OptionSpec option, bool required) => required ? Signature(option) : $"[{Signature(option)}]";

    private static string Placeholder(OptionSpec option) => option.Placeholder ?? option.Kind switch
    {
        OptionKind.Choice => string.Join('|', option.Allowed!),
        OptionKind.Count or OptionKind.Integer => "N",
        OptionKind.Number => "X",
        _ => "TEXT",
    };

    private static IEnumerable<string> Wrap(string head, string indent, IEnumerable<string> words)
    {
        var line = new StringBuilder(head);
        var empty = true;
        foreach (var word in words)
        {
            if (!empty && line.Length + 1 + word.Length > Width)
            {
                yield return line.ToString();
                line.Clear().Append(indent);
                empty = true;
            }
            if (!empty)
            {
                line.Append(' ');
            }
            line.Append(word);
            empty = false;
        }
        yield return line.ToString().TrimEnd();
    }
}
