using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Serve;

/// <summary>
/// The dashboard in a real headless browser (Debian's Chromium over the DevTools Protocol): the page loads, each task's
/// curves render with data, and a plugin dropped into the folder appears on the page with its curve.
/// </summary>
public sealed class DashboardBrowserTests
{
    private const string Describe =
        "JSON.stringify({ updates: document.body.dataset.updates, step: document.body.dataset.step, " +
        "loss: [...document.querySelectorAll('#loss-plot path[data-task]')].map(p => p.dataset.task + ':' + p.dataset.points), " +
        "metric: [...document.querySelectorAll('#metric-plot path[data-task]')].map(p => p.dataset.task + ':' + p.dataset.points), " +
        "plugins: [...document.querySelectorAll('#plugins tbody tr')].map(r => r.dataset.plugin + ':' + r.dataset.state) })";

    [Fact]
    public async Task The_page_plots_each_tasks_curves_and_shows_a_plugin_dropped_into_the_folder()
    {
        // Fails, not skips, without Chromium: ./test.sh (the README's test command, which CI runs) installs it, and a
        // person who ran dotnet test directly learns from the message how to get it.
        HeadlessChromium.Executable.ShouldNotBeNull(HeadlessChromium.InstallHint);
        await using var serve = await ServeRun.StartAsync(["Spam", "WordClass"]);
        await using var browser = await HeadlessChromium.OpenAsync(serve.Url);

        await browser.WaitForAsync("document.readyState === 'complete' && document.title === 'MtlHost dashboard'",
            "JSON.stringify({ url: location.href, state: document.readyState, title: document.title })", "the dashboard page loaded");
        await browser.WaitForAsync(
            "['spam', 'wordclass'].every(t => +(document.querySelector(`#loss-plot path[data-task=\"${t}\"]`)?.dataset.points ?? 0) >= 2)",
            Describe, "a loss curve with at least 2 points for spam and wordclass");
        await browser.WaitForAsync(
            "['spam', 'wordclass'].every(t => +(document.querySelector(`#metric-plot path[data-task=\"${t}\"]`)?.dataset.points ?? 0) >= 2)",
            Describe, "a validation score curve with at least 2 points for spam and wordclass");
        // A real plot: a path that draws a line, axis labels, a legend entry per task.
        (await browser.EvaluateAsync("document.querySelector('#loss-plot path[data-task=\"spam\"]').getAttribute('d').split('L').length >= 2"))
            .GetBoolean().ShouldBeTrue();
        (await browser.EvaluateAsync("[...document.querySelectorAll('#loss-plot .legend li')].map(l => l.dataset.task).join(',')")).GetString()
            .ShouldBe("spam,wordclass");
        (await browser.EvaluateAsync("document.querySelectorAll('#loss-plot .axis text').length > 4")).GetBoolean().ShouldBeTrue();
        (await browser.EvaluateAsync("document.querySelectorAll('#plugins tbody tr[data-state=\"Training\"]').length")).GetInt32().ShouldBe(2);

        serve.Plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Syllables"));

        await browser.WaitForAsync("document.querySelector('#plugins tr[data-plugin=\"Syllables\"][data-state=\"Training\"]') !== null",
            Describe, "the Syllables plugin training");
        await browser.WaitForAsync("+(document.querySelector('#loss-plot path[data-task=\"syllables\"]')?.dataset.points ?? 0) >= 2",
            Describe, "a loss curve for the syllables task");
        (await browser.EvaluateAsync("[...document.querySelectorAll('#events li')].some(e => e.dataset.kind === 'Added' && e.dataset.plugin === 'Syllables')"))
            .GetBoolean().ShouldBeTrue();
    }
}
