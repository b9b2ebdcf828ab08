using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Docs;

/// <summary>
/// The README and the pages under docs/ link to each other and into the repository. Every relative link must
/// reach an existing file, and a link with a <c>#fragment</c> a heading of that file as GitHub names it.
/// </summary>
public sealed partial class DocumentationLinksTests
{
    /// <summary>README.md and every page under docs/, relative to the repository root.</summary>
    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string> { "README.md" };
        foreach (var page in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            pages.Add(Path.GetRelativePath(RepositoryPaths.Root, page).Replace('\\', '/'));
        }
        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_relative_link_resolves_to_a_file_and_heading(string page)
    {
        var path = Path.Combine(RepositoryPaths.Root, page);
        var broken = new List<string>();
        foreach (var target in Links(File.ReadAllText(path)))
        {
            if (LinkScheme().IsMatch(target) || target.StartsWith('/'))
            {
                continue;
            }
            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var file = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
            var fragment = hash < 0 ? null : target[(hash + 1)..];
            var resolved = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, file));
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add($"{target}: {file} does not exist");
                continue;
            }
            if (fragment is not null && !Anchors(File.ReadAllText(resolved)).Contains(Uri.UnescapeDataString(fragment)))
            {
                broken.Add($"{target}: no heading '#{fragment}' in {Path.GetRelativePath(RepositoryPaths.Root, resolved)}");
            }
        }

        broken.ShouldBeEmpty($"broken links in {page}");
    }

    [Fact]
    public void The_README_links_to_every_page_under_docs()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var linked = Links(readme).Select(l => l.Split('#')[0]).ToHashSet(StringComparer.Ordinal);

        foreach (var page in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "docs"), "*.md"))
        {
            linked.ShouldContain("docs/" + Path.GetFileName(page));
        }
    }

    [Fact]
    public void Source_files_cite_documentation_that_exists()
    {
        var extensions = new[] { ".cs", ".csproj", ".targets", ".props", ".sh", ".py", ".json", ".md" };
        var missing = new List<string>();
        foreach (var folder in new[] { "src", "tests", "samples", "plugins" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, folder), "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(RepositoryPaths.Root, file).Replace('\\', '/');
                if (!extensions.Contains(Path.GetExtension(file)) || relative.Contains("/bin/", StringComparison.Ordinal) ||
                    relative.Contains("/obj/", StringComparison.Ordinal) || file == typeof(DocumentationLinksTests).Assembly.Location)
                {
                    continue;
                }
                var text = File.ReadAllText(file);
                if (text.Contains("DESIGN.md", StringComparison.Ordinal) && !relative.EndsWith("DocumentationLinksTests.cs", StringComparison.Ordinal))
                {
                    missing.Add($"{relative}: cites DESIGN.md, which is docs/design.md");
                }
                foreach (Match match in DocsReference().Matches(text))
                {
                    if (!File.Exists(Path.Combine(RepositoryPaths.Root, match.Value)))
                    {
                        missing.Add($"{relative}: cites {match.Value}, which does not exist");
                    }
                }
            }
        }

        missing.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("Comparing runs: Δm%", "comparing-runs-δm")]
    [InlineData("Data-parallel training (Open MPI)", "data-parallel-training-open-mpi")]
    [InlineData("Watching a run: progress bar and TensorBoard", "watching-a-run-progress-bar-and-tensorboard")]
    [InlineData("Where multi-task learning pays off: a low-resource task with related tasks", "where-multi-task-learning-pays-off-a-low-resource-task-with-related-tasks")]
    [InlineData("`plugins list` and  `check`", "plugins-list-and--check")]
    public void Slugs_follow_GitHubs_rules(string heading, string slug) => Slug(heading).ShouldBe(slug);

    /// <summary>The targets of the inline links and images of a Markdown text, outside code blocks and code spans.</summary>
    private static IEnumerable<string> Links(string markdown)
    {
        foreach (var line in Prose(markdown))
        {
            foreach (Match match in InlineLink().Matches(CodeSpan().Replace(line, "")))
            {
                yield return match.Groups["target"].Value;
            }
        }
    }

    /// <summary>The anchors GitHub gives the headings of a Markdown text, with -1, -2, … for repeated ones.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in Prose(markdown))
        {
            var heading = Heading().Match(line);
            if (!heading.Success)
            {
                continue;
            }
            var slug = Slug(heading.Groups["text"].Value);
            var count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }
        return anchors;
    }

    /// <summary>GitHub's heading anchor: lowercase, punctuation but '-' and '_' dropped, each space a '-'.</summary>
    private static string Slug(string heading)
    {
        var text = MarkdownLink().Replace(heading.Trim(), "${text}");
        var slug = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            var category = char.GetUnicodeCategory(c);
            if (char.IsLetterOrDigit(c) || c is '-' or '_' || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.ConnectorPunctuation)
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }
        return slug.ToString();
    }

    /// <summary>The lines of a Markdown text outside fenced code blocks.</summary>
    private static IEnumerable<string> Prose(string markdown)
    {
        var fenced = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }
            if (!fenced)
            {
                yield return line;
            }
        }
    }

    [GeneratedRegex(@"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\((?<target><[^>]*>|[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"(`+).*?\1")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^ {0,3}#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex LinkScheme();

    [GeneratedRegex(@"\bdocs/[a-z0-9-]+\.md\b")]
    private static partial Regex DocsReference();
}
