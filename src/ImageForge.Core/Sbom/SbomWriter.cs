using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImageForge.Core.Definitions;
using ImageForge.Core.Inventory;

namespace ImageForge.Core.Sbom;

/// <summary>The image version an SBOM describes: its subject.</summary>
/// <param name="Image">Image definition name.</param>
/// <param name="Version">Image version, YYYY.MM.DD.N.</param>
/// <param name="BuildId">Build that produced it.</param>
/// <param name="Description">The definition's description.</param>
/// <param name="Os">Operating system family and release (purl distro qualifier).</param>
public sealed record SbomSubject(
    string Image,
    string Version,
    string BuildId,
    string Description,
    OsSpec Os
);

/// <summary>
/// Writes CycloneDX 1.6 and SPDX 2.3 JSON documents from a package inventory. The output is deterministic: the same
/// inventory and subject give the same bytes, apart from the timestamp and the serial number (CycloneDX) or the
/// document namespace (SPDX), which the caller passes in. Components are sorted by name and architecture.
/// </summary>
public static class SbomWriter
{
    /// <summary>The tool named as the documents' creator.</summary>
    public const string ToolName = "imageforge";

    /// <summary>Media types of the two documents.</summary>
    public const string CycloneDxMediaType = "application/vnd.cyclonedx+json";

    /// <inheritdoc cref="CycloneDxMediaType"/>
    public const string SpdxMediaType = "application/spdx+json";

    /// <summary>Property names carried on each CycloneDX component, so a stored SBOM can be scanned again.</summary>
    public const string SourceNameProperty = "imageforge:package:source_name";

    /// <inheritdoc cref="SourceNameProperty"/>
    public const string SourceVersionProperty = "imageforge:package:source_version";

    /// <inheritdoc cref="SourceNameProperty"/>
    public const string TypeProperty = "imageforge:package:type";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string ToolVersion =>
        typeof(SbomWriter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The CycloneDX 1.6 JSON document.</summary>
    public static byte[] CycloneDx(
        PackageInventory inventory,
        SbomSubject subject,
        DateTimeOffset timestamp,
        Guid serial
    )
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            var subjectRef = SubjectRef(subject);
            w.WriteStartObject();
            w.WriteString("$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
            w.WriteString("bomFormat", "CycloneDX");
            w.WriteString("specVersion", "1.6");
            w.WriteString("serialNumber", "urn:uuid:" + serial.ToString("D"));
            w.WriteNumber("version", 1);
            w.WriteStartObject("metadata");
            w.WriteString("timestamp", Timestamp(timestamp));
            w.WriteStartObject("tools");
            w.WriteStartArray("components");
            w.WriteStartObject();
            w.WriteString("type", "application");
            w.WriteString("name", ToolName);
            w.WriteString("version", ToolVersion);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("component");
            w.WriteString("type", "operating-system");
            w.WriteString("bom-ref", subjectRef);
            w.WriteString("name", subject.Image);
            w.WriteString("version", subject.Version);
            w.WriteString("description", subject.Description);
            w.WriteStartArray("properties");
            Property(w, "imageforge:build_id", subject.BuildId);
            Property(w, "imageforge:os", $"{subject.Os.Family} {subject.Os.Release}");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();

            var refs = new List<string>();
            w.WriteStartArray("components");
            foreach (var p in Sorted(inventory))
            {
                var purl = Purl.For(p, subject.Os);
                refs.Add(purl);
                w.WriteStartObject();
                w.WriteString("type", "library");
                w.WriteString("bom-ref", purl);
                if (p.Maintainer.Length > 0)
                {
                    w.WriteStartObject("supplier");
                    w.WriteString("name", p.Maintainer);
                    w.WriteEndObject();
                }
                w.WriteString("name", p.Name);
                w.WriteString("version", p.Version);
                if (p.License is { } license)
                {
                    w.WriteStartArray("licenses");
                    w.WriteStartObject();
                    var expression = Licenses.ToSpdxExpression(license);
                    if (expression is null)
                    {
                        w.WriteStartObject("license");
                        w.WriteString("name", license);
                        w.WriteEndObject();
                    }
                    else if (Licenses.IsSingleId(expression))
                    {
                        w.WriteStartObject("license");
                        w.WriteString("id", expression);
                        w.WriteEndObject();
                    }
                    else
                    {
                        w.WriteString("expression", expression);
                    }
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                w.WriteString("purl", purl);
                w.WriteStartArray("properties");
                Property(w, TypeProperty, p.Type == PackageType.Rpm ? "rpm" : "deb");
                Property(w, "imageforge:package:architecture", p.Architecture);
                Property(w, SourceNameProperty, p.SourceName);
                Property(w, SourceVersionProperty, p.SourceVersion);
                if (p.InstalledSizeKiB is { } kib)
                {
                    Property(
                        w,
                        "imageforge:package:installed_size_kib",
                        kib.ToString(CultureInfo.InvariantCulture)
                    );
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("dependencies");
            w.WriteStartObject();
            w.WriteString("ref", subjectRef);
            w.WriteStartArray("dependsOn");
            foreach (var r in refs.Distinct(StringComparer.Ordinal))
            {
                w.WriteStringValue(r);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The SPDX 2.3 JSON document; <paramref name="documentNamespace"/> must be a unique URI.</summary>
    public static byte[] Spdx(
        PackageInventory inventory,
        SbomSubject subject,
        DateTimeOffset timestamp,
        string documentNamespace
    )
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            const string ImageId = "SPDXRef-Image";
            var ids = new HashSet<string>(StringComparer.Ordinal) { ImageId };
            var extracted = new SortedDictionary<string, string>(StringComparer.Ordinal);
            w.WriteStartObject();
            w.WriteString("spdxVersion", "SPDX-2.3");
            w.WriteString("dataLicense", "CC0-1.0");
            w.WriteString("SPDXID", "SPDXRef-DOCUMENT");
            w.WriteString("name", $"{subject.Image}@{subject.Version}");
            w.WriteString("documentNamespace", documentNamespace);
            w.WriteStartObject("creationInfo");
            w.WriteString("created", Timestamp(timestamp));
            w.WriteStartArray("creators");
            w.WriteStringValue($"Tool: {ToolName}-{ToolVersion}");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("documentDescribes");
            w.WriteStringValue(ImageId);
            w.WriteEndArray();

            var packageIds = new List<string>();
            w.WriteStartArray("packages");
            w.WriteStartObject();
            w.WriteString("SPDXID", ImageId);
            w.WriteString("name", subject.Image);
            w.WriteString("versionInfo", subject.Version);
            w.WriteString("downloadLocation", "NOASSERTION");
            w.WriteBoolean("filesAnalyzed", false);
            w.WriteString("primaryPackagePurpose", "OPERATING_SYSTEM");
            w.WriteString("licenseConcluded", "NOASSERTION");
            w.WriteString("licenseDeclared", "NOASSERTION");
            w.WriteString("copyrightText", "NOASSERTION");
            w.WriteString("description", subject.Description);
            w.WriteString(
                "comment",
                $"ImageForge image version {subject.Image}@{subject.Version}, build {subject.BuildId}, {subject.Os}"
            );
            w.WriteEndObject();
            foreach (var p in Sorted(inventory))
            {
                var id = UniqueId(ids, $"SPDXRef-Package-{TypeName(p)}-{p.Name}-{p.Architecture}");
                packageIds.Add(id);
                w.WriteStartObject();
                w.WriteString("SPDXID", id);
                w.WriteString("name", p.Name);
                w.WriteString("versionInfo", p.Version);
                if (p.Maintainer.Length > 0)
                {
                    w.WriteString("supplier", Supplier(p.Maintainer));
                }
                w.WriteString("downloadLocation", "NOASSERTION");
                w.WriteBoolean("filesAnalyzed", false);
                w.WriteString("primaryPackagePurpose", "LIBRARY");
                w.WriteString(
                    "sourceInfo",
                    $"built from source package {p.SourceName} {p.SourceVersion}"
                );
                w.WriteString("licenseConcluded", "NOASSERTION");
                w.WriteString("licenseDeclared", DeclaredLicense(p.License, extracted));
                w.WriteString("copyrightText", "NOASSERTION");
                w.WriteStartArray("externalRefs");
                w.WriteStartObject();
                w.WriteString("referenceCategory", "PACKAGE-MANAGER");
                w.WriteString("referenceType", "purl");
                w.WriteString("referenceLocator", Purl.For(p, subject.Os));
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();

            if (extracted.Count > 0)
            {
                w.WriteStartArray("hasExtractedLicensingInfos");
                foreach (var (licenseId, name) in extracted)
                {
                    w.WriteStartObject();
                    w.WriteString("licenseId", licenseId);
                    w.WriteString("name", name);
                    w.WriteString(
                        "extractedText",
                        $"License '{name}' as declared in the package's machine-readable copyright file"
                    );
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }

            w.WriteStartArray("relationships");
            Relationship(w, "SPDXRef-DOCUMENT", "DESCRIBES", ImageId);
            foreach (var id in packageIds)
            {
                Relationship(w, ImageId, "CONTAINS", id);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>A namespace URI unique to one SPDX document of one version.</summary>
    public static string SpdxNamespace(SbomSubject subject, Guid unique) =>
        $"https://imageforge.invalid/spdx/{Uri.EscapeDataString(subject.Image)}/{Uri.EscapeDataString(subject.Version)}/{unique:D}";

    private static IEnumerable<InstalledPackage> Sorted(PackageInventory inventory) =>
        inventory
            .Packages.OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Architecture, StringComparer.Ordinal)
            .ThenBy(p => p.Version, StringComparer.Ordinal);

    private static string SubjectRef(SbomSubject s) => $"imageforge:image:{s.Image}@{s.Version}";

    private static string TypeName(InstalledPackage p) => p.Type == PackageType.Rpm ? "rpm" : "deb";

    private static string Timestamp(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void Property(Utf8JsonWriter w, string name, string value)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("value", value);
        w.WriteEndObject();
    }

    private static void Relationship(Utf8JsonWriter w, string from, string type, string to)
    {
        w.WriteStartObject();
        w.WriteString("spdxElementId", from);
        w.WriteString("relationshipType", type);
        w.WriteString("relatedSpdxElement", to);
        w.WriteEndObject();
    }

    private static string UniqueId(HashSet<string> ids, string wanted)
    {
        var sb = new StringBuilder(wanted.Length);
        foreach (var c in wanted)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-');
        }
        var id = sb.ToString();
        var candidate = id;
        for (var n = 2; !ids.Add(candidate); n++)
        {
            candidate = $"{id}-{n}";
        }
        return candidate;
    }

    // SPDX: "Organization: name (email)".
    private static string Supplier(string maintainer)
    {
        var lt = maintainer.IndexOf('<', StringComparison.Ordinal);
        var gt = maintainer.LastIndexOf('>');
        return lt >= 0 && gt > lt
            ? $"Organization: {maintainer[..lt].Trim()} ({maintainer[(lt + 1)..gt].Trim()})"
            : $"Organization: {maintainer.Trim()}";
    }

    private static string DeclaredLicense(
        string? license,
        SortedDictionary<string, string> extracted
    )
    {
        if (license is null)
        {
            return "NOASSERTION";
        }
        if (Licenses.ToSpdxExpression(license) is { } expression)
        {
            return expression;
        }
        var id = Licenses.LicenseRef(license);
        if (id == "LicenseRef-")
        {
            return "NOASSERTION";
        }
        extracted.TryAdd(id, license);
        return id;
    }
}
