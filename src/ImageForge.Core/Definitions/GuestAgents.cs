using ImageForge.Core.Providers;

namespace ImageForge.Core.Definitions;

/// <summary>
/// The clouds' guest agents a definition may add to one cloud's disk (<c>targets[].guest_agent: true</c>,
/// docs/definitions.md): each provider's rules name the Debian package of its agent per release, or why there is none
/// (<see cref="ProviderRules.GuestAgent"/>), from what the Debian archive ships.
/// </summary>
public static class GuestAgents
{
    /// <summary>
    /// The agent package of the provider on <paramref name="os"/>, or why the definition cannot have one (a message
    /// naming what to do instead).
    /// </summary>
    public static (string? Package, string? Refusal) For(ProviderRules rules, OsSpec? os)
    {
        if (rules.GuestAgent is not { } agent)
        {
            return (
                null,
                $"the {rules.Name} target has no guest agent to add; guest_agent belongs on a cloud target that "
                    + "imports the disk (docs/definitions.md#guest_agent-flavours-of-the-one-disk); remove it"
            );
        }

        return os?.DebianSuite is { } suite
            ? agent(os, suite)
            : (
                null,
                $"guest agents are known for Debian only, and the image is {os?.ToString() ?? "of no valid os"}; remove guest_agent"
            );
    }

    /// <summary>
    /// A provider's agent from a table of Debian suites to packages; a suite not in it is refused with
    /// <paramref name="missing"/>'s message (given the os and its suite).
    /// </summary>
    public static Func<OsSpec, string, (string? Package, string? Refusal)> Debian(
        IReadOnlyDictionary<string, string> packages,
        Func<OsSpec, string, string> missing
    ) =>
        (os, suite) =>
            packages.TryGetValue(suite, out var package)
                ? (package, null)
                : (null, missing(os, suite));
}
