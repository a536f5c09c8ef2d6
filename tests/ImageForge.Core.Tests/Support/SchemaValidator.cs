using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Core.Tests.Support;

/// <summary>
/// Validates JSON documents against the official schemas in tests/specs with ajv (eng/schema-validation, installed
/// by eng/prereqs.sh): no .NET JSON Schema library is available here, and a hand-written one would prove less.
/// </summary>
internal static class SchemaValidator
{
    public static string CycloneDx16 =>
        Path.Combine(RepoPaths.Specs, "cyclonedx", "bom-1.6.schema.json");

    public static string[] CycloneDxRefs =>
        [
            Path.Combine(RepoPaths.Specs, "cyclonedx", "spdx.schema.json"),
            Path.Combine(RepoPaths.Specs, "cyclonedx", "jsf-0.82.schema.json"),
        ];

    public static string Spdx23 => Path.Combine(RepoPaths.Specs, "spdx", "spdx-schema-2.3.json");

    public static string Osv => Path.Combine(RepoPaths.Specs, "osv", "osv-schema.json");

    /// <summary>Per document: null when valid, else ajv's errors.</summary>
    public static async Task<Dictionary<string, string?>> ValidateAsync(
        string schema,
        IEnumerable<string> refs,
        params string[] documents
    )
    {
        var script = Path.Combine(RepoPaths.Root, "eng", "schema-validation", "validate.js");
        if (
            !File.Exists(
                Path.Combine(
                    RepoPaths.Root,
                    "eng",
                    "schema-validation",
                    "node_modules",
                    "ajv",
                    "package.json"
                )
            )
        )
        {
            throw new InvalidOperationException(
                "ajv is not installed: run eng/prereqs.sh (or ./build.sh)"
            );
        }
        var args = new List<string> { script, schema };
        foreach (var r in refs)
        {
            args.Add("--ref");
            args.Add(r);
        }
        args.AddRange(documents);
        var result = new Dictionary<string, string?>();
        var errors = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var exit = -1;
        await foreach (
            var e in new ProcessRunner(TimeProvider.System).StreamAsync(
                new ProcessSpec("node").WithArguments(args),
                timeout.Token
            )
        )
        {
            switch (e)
            {
                case OutputLine { Text: var text }
                    when text.StartsWith("ok ", StringComparison.Ordinal):
                    result[text[3..]] = null;
                    break;
                case OutputLine { Text: var text }
                    when text.StartsWith("invalid ", StringComparison.Ordinal):
                    var rest = text[8..];
                    var file = documents.First(d =>
                        rest.StartsWith(d + " ", StringComparison.Ordinal)
                    );
                    result[file] = rest[(file.Length + 1)..];
                    break;
                case ErrorLine line:
                    errors.Add(line.Text);
                    break;
                case ProcessExited exited:
                    exit = exited.ExitCode;
                    break;
            }
        }
        return exit is 0 or 1 && result.Count == documents.Length
            ? result
            : throw new InvalidOperationException(
                $"validate.js exited {exit}: {string.Join('\n', errors)}"
            );
    }
}
