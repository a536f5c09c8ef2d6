using System.Xml;
using ImageForge.Core.Definitions;

namespace ImageForge.Core.Compliance;

/// <summary>
/// Writes an XCCDF 1.2 tailoring file from a baseline's <c>tailoring</c> section: one profile that extends the
/// baseline's profile and deselects each tailored rule. oscap evaluates it with
/// <c>--tailoring-file &lt;file&gt; --profile &lt;TailoredProfileId&gt;</c>.
/// </summary>
public static class TailoringWriter
{
    private const string Ns = "http://checklists.nist.gov/xccdf/1.2";

    /// <summary>The id of the tailored profile for a baseline.</summary>
    public static string TailoredProfileId(Baseline baseline) =>
        $"xccdf_dev.imageforge_profile_{baseline.Name}";

    /// <summary>Writes the tailoring file; the justifications go into the profile's description.</summary>
    public static void Write(
        string path,
        Baseline baseline,
        string datastreamPath,
        DateTimeOffset at
    )
    {
        var settings = new XmlWriterSettings
        {
            Indent = true,
            Encoding = new System.Text.UTF8Encoding(false),
        };
        using var writer = XmlWriter.Create(path, settings);
        writer.WriteStartDocument();
        writer.WriteStartElement("xccdf", "Tailoring", Ns);
        writer.WriteAttributeString("id", $"xccdf_dev.imageforge_tailoring_{baseline.Name}");
        writer.WriteStartElement("benchmark", Ns);
        writer.WriteAttributeString("href", datastreamPath);
        writer.WriteEndElement();
        writer.WriteStartElement("version", Ns);
        writer.WriteAttributeString(
            "time",
            at.UtcDateTime.ToString(
                "yyyy-MM-ddTHH:mm:ss",
                System.Globalization.CultureInfo.InvariantCulture
            )
        );
        writer.WriteString("1");
        writer.WriteEndElement();
        writer.WriteStartElement("Profile", Ns);
        writer.WriteAttributeString("id", TailoredProfileId(baseline));
        writer.WriteAttributeString("extends", baseline.Scap.Profile);
        writer.WriteStartElement("title", Ns);
        writer.WriteString(
            $"{baseline.Scap.Profile} tailored by ImageForge baseline {baseline.Name}"
        );
        writer.WriteEndElement();
        writer.WriteStartElement("description", Ns);
        writer.WriteString(
            "Rules turned off: "
                + string.Join("; ", baseline.Tailoring.Select(t => $"{t.Rule}: {t.Justification}"))
        );
        writer.WriteEndElement();
        foreach (var rule in baseline.Tailoring)
        {
            writer.WriteStartElement("select", Ns);
            writer.WriteAttributeString("idref", rule.Rule);
            writer.WriteAttributeString("selected", "false");
            writer.WriteEndElement();
        }
        writer.WriteEndElement();
        writer.WriteEndElement();
        writer.WriteEndDocument();
    }
}
