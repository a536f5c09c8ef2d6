namespace ImageForge.TestUtils;

/// <summary>
/// A loopback address nothing listens on (port 9, discard, is never served on a test machine): a client sent there
/// is refused at once, so a spec whose code would ask a Debian archive asks nothing outside this machine
/// (docs/testing.md, "No network in unit suites").
/// </summary>
public static class ClosedLoopback
{
    /// <summary>The address's root, without a trailing slash.</summary>
    public const string Root = "http://127.0.0.1:9";

    /// <summary>A Debian security archive that refuses every connection (the scan records its source as failed).</summary>
    public const string DebianSecurityMirror = Root + "/debian-security";

    /// <summary>
    /// A definition's YAML with every deb.debian.org URL (<c>mirror</c>, <c>security_mirror</c>) moved to
    /// <see cref="Root"/>; throws when there was none to move (the shipped content moved on).
    /// </summary>
    public static string WithClosedMirrors(string definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        const string Debian = "http://deb.debian.org/";
        if (!definition.Contains(Debian, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the definition names no {Debian} URL to move");
        }

        return definition.Replace(Debian, Root + "/", StringComparison.Ordinal);
    }
}
