using MtlHost.Worker;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Serve;

/// <summary>The dashboard's curves stay bounded in a long run and keep its whole history at a coarser resolution.</summary>
public sealed class CurveTests
{
    [Fact]
    public void A_short_curve_keeps_every_value()
    {
        var curve = new Curve(maxPoints: 8);
        curve.Add(1, 0.5);
        curve.Add(2, double.NaN);
        curve.Add(3, 0.25);

        curve.Points().Select(p => (p[0], p[1])).ShouldBe([(1.0, 0.5), (3.0, 0.25)]);
        curve.Last.ShouldBe(0.25);
        curve.Points(since: 1).Count.ShouldBe(1);
    }

    [Fact]
    public void A_long_curve_merges_pairs_so_it_never_holds_more_than_its_maximum_and_keeps_the_mean()
    {
        var curve = new Curve(maxPoints: 100);
        for (var step = 1; step <= 100_000; step++)
        {
            curve.Add(step, step % 2 == 0 ? 1.0 : 3.0);
            curve.Count.ShouldBeLessThan(100);
        }

        var points = curve.Points();
        points.Count.ShouldBeGreaterThanOrEqualTo(50);
        curve.ValuesPerPoint.ShouldBeGreaterThan(1000);
        points.Select(p => p[0]).ShouldBeInOrder(SortDirection.Ascending);
        points.ShouldAllBe(p => Math.Abs(p[1] - 2.0) < 1e-9);
        points[^1][0].ShouldBeGreaterThan(100_000 - curve.ValuesPerPoint, "the newest point covers the latest steps");
        points[0][0].ShouldBeLessThanOrEqualTo(curve.ValuesPerPoint, "the oldest point still covers the first steps");
    }
}
