using System.Globalization;
using System.Text.Json;

namespace ImageForge.Core.Gates;

/// <summary>What the boot_test gate reads of a boot test: whether it passed, what it saw, how long the boot took.</summary>
/// <param name="Passed">The marker came, systemd was running with no failed unit and the layout's filesystems mounted.</param>
/// <param name="Summary">One line for people, e.g. "boot test passed: marker after 31.2 s (kernel ...)".</param>
/// <param name="SecondsToMarker">Seconds from starting the guest to the marker; null when it never came.</param>
public sealed record BootTestFacts(bool Passed, string Summary, double? SecondsToMarker);

/// <summary>
/// The boot test's evidence: <c>boot-test</c> (boot-test.json, written by the local target's boot test stage) and
/// its serial console transcript, <c>boot-test-transcript</c>.
/// </summary>
public static class BootTestEvidence
{
    /// <summary>Evidence kind of boot-test.json.</summary>
    public const string Kind = "boot-test";

    /// <summary>Evidence kind of the serial console transcript of the boot.</summary>
    public const string TranscriptKind = "boot-test-transcript";

    /// <summary>Reads boot-test.json.</summary>
    /// <exception cref="FormatException">The file is not a boot test result (no boolean <c>passed</c>).</exception>
    public static BootTestFacts Read(string path) =>
        ReadPassFail(
            path,
            "boot test",
            (passed, summary, root) =>
                new BootTestFacts(
                    passed,
                    summary,
                    root.TryGetProperty("seconds_to_marker", out var s)
                    && s.ValueKind == JsonValueKind.Number
                        ? s.GetDouble()
                        : null
                )
        );

    /// <summary>
    /// Reads a result document with a boolean <c>passed</c> and a <c>summary</c> (the boot test's and the image
    /// tests'), handing both and the document to <paramref name="make"/>.
    /// </summary>
    internal static T ReadPassFail<T>(
        string path,
        string what,
        Func<bool, string, JsonElement, T> make
    )
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (
                root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("passed", out var passed)
                || passed.ValueKind is not (JsonValueKind.True or JsonValueKind.False)
            )
            {
                throw new FormatException($"{path}: not a {what} result (no boolean 'passed')");
            }
            var summary =
                root.TryGetProperty("summary", out var text)
                && text.ValueKind == JsonValueKind.String
                    ? text.GetString()!
                : passed.GetBoolean() ? what + " passed"
                : what + " failed";
            return make(passed.GetBoolean(), summary, root);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: not JSON: {e.Message}", e);
        }
    }

    /// <summary>"passed after 31.2 s" or the failure summary: what a gate reason shows as found.</summary>
    public static string Describe(BootTestFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        return facts.Passed && facts.SecondsToMarker is { } seconds
            ? "passed, marker after " + seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
            : facts.Summary;
    }
}

/// <summary>What the image_tests gate reads of the image tests: whether every check passed, and how many ran.</summary>
/// <param name="Passed">Every check of the definition's tests passed in the booted guest.</param>
/// <param name="Summary">One line for people, e.g. "image tests: 12 of 12 passed".</param>
public sealed record ImageTestFacts(bool Passed, string Summary);

/// <summary>
/// The image tests' evidence, <c>image-tests</c> (image-tests.json, written by the local target's boot test from the
/// checks of the definition's <c>tests:</c> section, run inside the booted guest).
/// </summary>
public static class ImageTestsEvidence
{
    /// <summary>Evidence kind of image-tests.json.</summary>
    public const string Kind = "image-tests";

    /// <summary>Reads image-tests.json.</summary>
    /// <exception cref="FormatException">The file is not an image test result (no boolean <c>passed</c>).</exception>
    public static ImageTestFacts Read(string path) =>
        BootTestEvidence.ReadPassFail(
            path,
            "image tests",
            (passed, summary, _) => new ImageTestFacts(passed, summary)
        );
}
