namespace ImageForge.Core.Definitions;

/// <summary>
/// The clouds' guest agents a definition may add to one cloud's disk (<c>targets[].guest_agent: true</c>,
/// docs/definitions.md): per provider and Debian release, the Debian package that is the agent, or why there is none.
/// The table is what the Debian archive ships (checked on the build machines' mirror): <c>waagent</c> is in bullseye
/// and bookworm main; <c>google-guest-agent</c> only from bookworm (not in bullseye nor bullseye-backports); Debian
/// packages no AWS agent.
/// </summary>
public static class GuestAgents
{
    private static readonly Dictionary<(string Provider, string Suite), string> Packages = new()
    {
        [("azure", "bullseye")] = "waagent",
        [("azure", "bookworm")] = "waagent",
        [("gcp", "bookworm")] = "google-guest-agent",
    };

    /// <summary>
    /// The agent package of <paramref name="provider"/> on <paramref name="os"/>, or why the definition cannot have one
    /// (a message naming what to do instead).
    /// </summary>
    public static (string? Package, string? Refusal) For(string provider, OsSpec? os)
    {
        if (provider == "aws")
        {
            return (
                null,
                "Debian packages no AWS guest agent (amazon-ssm-agent is not in the Debian archive); remove "
                    + "guest_agent: cloud-init provisions EC2 instances from the disk's Ec2 datasource"
            );
        }

        if (provider is not ("azure" or "gcp"))
        {
            return (
                null,
                $"the {provider} target has no guest agent to add; guest_agent belongs on a cloud target that imports "
                    + "the disk (azure: waagent; gcp: google-guest-agent from Debian 12); remove it"
            );
        }

        var suite = os?.DebianSuite;
        if (suite is null)
        {
            return (
                null,
                $"guest agents are known for Debian only, and the image is {os?.ToString() ?? "of no valid os"}; remove guest_agent"
            );
        }

        if (Packages.TryGetValue((provider, suite), out var package))
        {
            return (package, null);
        }

        // Only gcp on bullseye is left.
        return (
            null,
            $"google-guest-agent is not in Debian {os!.Release} ({suite} main or {suite}-backports; Debian ships it "
                + "from 12, bookworm): build the image on Debian 12 (os.release \"12\", the local target's base_image "
                + "bookworm), or remove guest_agent (cloud-init provisions GCE instances from the disk's GCE datasource; "
                + $"OS Login's google-compute-engine-oslogin is only in {suite}-backports, which the build does not use)"
        );
    }
}
