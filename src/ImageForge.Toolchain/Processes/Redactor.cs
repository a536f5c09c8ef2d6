using System.Text.RegularExpressions;

namespace ImageForge.Toolchain.Processes;

/// <summary>
/// Masks secret values in text before it is shown, logged or stored. Each non-empty secret is replaced by
/// <c>&lt;redacted&gt;</c>, together with the forms Packer's machine-readable output writes it in: commas as
/// <c>%!(PACKER_COMMA)</c> and line breaks as the two characters <c>\n</c> / <c>\r</c>.
/// </summary>
public sealed class Redactor
{
    /// <summary>What every secret is replaced with.</summary>
    public const string Mask = "<redacted>";

    private const string PackerComma = "%!(PACKER_COMMA)";

    // A multi-line secret printed by a tool reaches us one line at a time, so its lines are secrets too; lines this
    // short (a lone "}" or "--") would mask harmless text everywhere and give away little on their own.
    private const int MinimumLineLength = 4;

    private readonly string[] _secrets;
    private readonly Regex? _pattern;

    /// <summary>Creates a redactor for the given secret values; empty values are ignored.</summary>
    public Redactor(IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _secrets = secrets
            .Where(s => !string.IsNullOrEmpty(s))
            .Distinct(StringComparer.Ordinal)
            .ToArray();

        var forms = _secrets
            .SelectMany(FormsOf)
            .Distinct(StringComparer.Ordinal)
            // Longest first: the regex takes the first alternative that matches at a position, so a secret that
            // contains another one is masked whole.
            .OrderByDescending(f => f.Length)
            .ThenBy(f => f, StringComparer.Ordinal)
            .Select(Regex.Escape)
            .ToArray();

        // One pass over the text: replacing secret by secret could match a later secret inside an earlier mask.
        _pattern =
            forms.Length == 0
                ? null
                : new Regex(string.Join('|', forms), RegexOptions.CultureInvariant);
    }

    /// <summary>A redactor that masks nothing.</summary>
    public static Redactor None { get; } = new([]);

    /// <summary>A new redactor that masks these secrets as well as the current ones.</summary>
    public Redactor With(IEnumerable<string> more) => new(_secrets.Concat(more));

    /// <summary>The text with every occurrence of every secret replaced by <see cref="Mask"/>.</summary>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _pattern is null ? text : _pattern.Replace(text, Mask);
    }

    private static IEnumerable<string> FormsOf(string secret)
    {
        yield return secret;

        var escaped = secret.Replace(",", PackerComma).Replace("\r", "\\r").Replace("\n", "\\n");
        yield return escaped;
        yield return secret.Replace(",", PackerComma);
        yield return secret.Replace("\r", "\\r").Replace("\n", "\\n");

        if (secret.Contains('\n') || secret.Contains('\r'))
        {
            foreach (var line in secret.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.Trim().Length >= MinimumLineLength)
                {
                    yield return line;
                    yield return line.Replace(",", PackerComma);
                }
            }
        }
    }
}
