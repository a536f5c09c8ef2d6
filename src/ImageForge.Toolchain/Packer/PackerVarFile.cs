using System.Globalization;
using System.Text;

namespace ImageForge.Toolchain.Packer;

/// <summary>A Packer var file (<c>*.pkrvars.hcl</c>) of string variables.</summary>
public static class PackerVarFile
{
    /// <summary>One <c>name = "value"</c> line per variable, in the dictionary's order, values escaped for HCL.</summary>
    public static string Write(IEnumerable<KeyValuePair<string, string>> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var text = new StringBuilder();
        foreach (var (name, value) in variables)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name} = \"{Escape(value)}\"\n");
        }

        return text.ToString();
    }

    // HCL string literals: backslash, quote and the template sequences ${ and %{ must be escaped.
    private static string Escape(string value) =>
        value
            .Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal)
            .Replace("${", "$${", StringComparison.Ordinal)
            .Replace("%{", "%%{", StringComparison.Ordinal);
}
