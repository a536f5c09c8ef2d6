using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ImageForge.TestUtils;

namespace ImageForge.Benchmarks;

/// <summary>One benchmark: runs, measures, and returns its report as Markdown.</summary>
internal interface IBenchmark
{
    /// <summary>The name given on the command line and used for benchmarks/results/&lt;name&gt;.md.</summary>
    string Name { get; }

    string Description { get; }

    Task<string> RunAsync();
}

/// <summary>
/// The executables the benchmarks run, as built (the project reference builds them). Not the copy of imageforge in
/// this benchmark's own output: that copy resolves its dependencies through this project's deps file, which takes
/// the ASP.NET framework's assemblies from the framework and so leaves them out for imageforge.
/// </summary>
internal static class BuiltTools
{
    public static string Imageforge { get; } =
        Path.Combine(RepoPaths.Root, "src/ImageForge.Cli/bin/Release/net10.0/imageforge");

    public static string FakePacker { get; } =
        Path.Combine(RepoPaths.Root, "tests/ImageForge.FakeTools/bin/Release/net10.0/fakepacker");
}

/// <summary>Builds the Markdown report every benchmark writes: what ran where, a table, and the verdicts.</summary>
internal sealed class Report
{
    private readonly StringBuilder _text = new();

    public Report(string title, string command)
    {
        _text.AppendLine(CultureInfo.InvariantCulture, $"# {title}");
        _text.AppendLine();
        _text.AppendLine(
            CultureInfo.InvariantCulture,
            $"Measured {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm}Z on {Environment.ProcessorCount} cores "
                + $"(load average {LoadAverage()} over 1, 5 and 15 minutes at that time), "
                + $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}. Rerun: `{command}`."
        );
        _text.AppendLine();
    }

    /// <summary>The machine's load average over 1, 5 and 15 minutes ("unknown" without /proc/loadavg).</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg")
            ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
            : "unknown";

    public Report Line(string text)
    {
        _text.AppendLine(text);
        return this;
    }

    public Report Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        _text.AppendLine("| " + string.Join(" | ", header) + " |");
        _text.AppendLine("|" + string.Concat(header.Select(_ => " --- |")));
        foreach (var row in rows)
        {
            _text.AppendLine("| " + string.Join(" | ", row) + " |");
        }

        _text.AppendLine();
        return this;
    }

    public override string ToString() => _text.ToString();

    public static string Seconds(TimeSpan t) =>
        t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    public static string Number(double value, string format = "0.000") =>
        value.ToString(format, CultureInfo.InvariantCulture);
}
