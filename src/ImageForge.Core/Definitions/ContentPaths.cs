namespace ImageForge.Core.Definitions;

/// <summary>
/// Where the content users edit lives: image definitions, baselines, hardening scripts and Packer templates.
/// A clone of the repository is a content root; the packaged tool carries one beside its binaries.
/// </summary>
public sealed record ContentPaths(
    string Definitions,
    string Baselines,
    string Hardening,
    string PackerTemplates
)
{
    /// <summary>Where the SCAP datastreams installed on this machine live (Debian: ssg-debian, ssg-debderived).</summary>
    public string ScapContent { get; init; } = "/usr/share/xml/scap/ssg/content";

    /// <summary>
    /// Profile lists shipped for datastreams that may be absent here (<c>&lt;datastream&gt;.txt</c>, one profile id a
    /// line); null when the content has none.
    /// </summary>
    public string? ScapProfileLists { get; init; }

    /// <summary>
    /// Deploy-time policy: rules over Terraform plans (<c>policies/*.yaml</c>), their bindings to channels and their
    /// fixtures (<c>policies/tests/</c>); null when the content has none.
    /// </summary>
    public string? Policies { get; init; }

    /// <summary>The standard layout below one root: templates/images, baselines, hardening, templates/packer.</summary>
    public static ContentPaths UnderRoot(string root) =>
        new(
            Path.Combine(root, "templates", "images"),
            Path.Combine(root, "baselines"),
            Path.Combine(root, "hardening"),
            Path.Combine(root, "templates", "packer")
        )
        {
            ScapProfileLists = Path.Combine(root, "baselines", "scap-profiles"),
            Policies = Path.Combine(root, "policies"),
        };

    /// <summary>Same content, image definitions taken from another directory (<c>--definitions DIR</c>).</summary>
    public ContentPaths WithDefinitions(string definitions) =>
        this with
        {
            Definitions = definitions,
        };
}
