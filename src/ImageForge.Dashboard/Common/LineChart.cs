using System.Globalization;

namespace ImageForge.Dashboard.Common;

/// <summary>One version's value on a chart; null when its facts do not have it (a gap in the line).</summary>
public sealed record ChartPoint(string Version, double? Value);

/// <summary>
/// A line chart drawn as SVG on the server: the points oldest to newest, left to right, evenly spaced, the value axis
/// from the smallest to the largest value. Geometry only; the page writes the elements and the text alternative.
/// </summary>
/// <param name="Id">The element id prefix.</param>
/// <param name="Title">What it shows, with its unit.</param>
/// <param name="Format">How a value reads, e.g. <c>0.0</c>.</param>
/// <param name="Points">Oldest first.</param>
public sealed record LineChart(
    string Id,
    string Title,
    string Format,
    IReadOnlyList<ChartPoint> Points
)
{
    /// <summary>The drawing's width, in SVG user units.</summary>
    public const int Width = 560;

    /// <summary>The drawing's height.</summary>
    public const int Height = 180;

    private const int Left = 64;
    private const int Right = 16;
    private const int Top = 14;
    private const int Bottom = 30;

    /// <summary>The points that have a value.</summary>
    public IEnumerable<(ChartPoint Point, double X, double Y)> Plotted =>
        Points
            .Select((p, i) => (p, i))
            .Where(x => x.p.Value is not null)
            .Select(x => (x.p, XOf(x.i), YOf(x.p.Value!.Value)));

    /// <summary>The line's runs between gaps, each as an SVG <c>points</c> list.</summary>
    public IEnumerable<string> Runs
    {
        get
        {
            var run = new List<string>();
            for (var i = 0; i < Points.Count; i++)
            {
                if (Points[i].Value is { } value)
                {
                    run.Add(Text(XOf(i)) + "," + Text(YOf(value)));
                    continue;
                }

                if (run.Count > 0)
                {
                    yield return string.Join(' ', run);
                    run.Clear();
                }
            }

            if (run.Count > 0)
            {
                yield return string.Join(' ', run);
            }
        }
    }

    /// <summary>Whether any version has a value.</summary>
    public bool HasValues => Points.Any(p => p.Value is not null);

    /// <summary>The smallest value (the bottom of the axis).</summary>
    public double Min => Values.DefaultIfEmpty(0).Min();

    /// <summary>The largest value (the top of the axis).</summary>
    public double Max => Values.DefaultIfEmpty(0).Max();

    /// <summary>The left and right end of the plot area, the top and the bottom.</summary>
    public static (int Left, int Right, int Top, int Bottom) Area =>
        (Left, Width - Right, Top, Height - Bottom);

    /// <summary>A value as the chart writes it.</summary>
    public string Show(double? value) =>
        value is { } v ? v.ToString(Format, CultureInfo.InvariantCulture) : "not recorded";

    /// <summary>A coordinate as SVG reads it.</summary>
    public static string Text(double coordinate) =>
        coordinate.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>One sentence with every value: the chart's description.</summary>
    public string Describe() =>
        $"{Title}, {Points.Count} versions oldest first: "
        + string.Join("; ", Points.Select(p => $"{p.Version} {Show(p.Value)}"));

    private IEnumerable<double> Values =>
        Points.Where(p => p.Value is not null).Select(p => p.Value!.Value);

    private double XOf(int index) =>
        Points.Count == 1
            ? (Left + Width - Right) / 2.0
            : Left + index * (double)(Width - Left - Right) / (Points.Count - 1);

    private double YOf(double value)
    {
        var span = Max - Min;
        var share = span == 0 ? 0.5 : (value - Min) / span;
        return Height - Bottom - share * (Height - Top - Bottom);
    }
}
