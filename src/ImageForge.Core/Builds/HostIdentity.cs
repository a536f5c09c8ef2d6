namespace ImageForge.Core.Builds;

/// <summary>Where the owner of a running build ran, as seen from this machine (<see cref="HostIdentity"/>).</summary>
public enum OwnerPlace
{
    /// <summary>This machine since its last boot: its process id means something here.</summary>
    ThisBoot,

    /// <summary>This machine before it last booted: the owner is certainly gone.</summary>
    EarlierBoot,

    /// <summary>Another machine sharing the catalog: nothing here can tell whether it lives, nor may signal it.</summary>
    OtherMachine,
}

/// <summary>
/// This machine as a build's owner is recorded: <c>&lt;host name&gt;/&lt;boot id&gt;</c>. With a catalog shared by several
/// machines (docs/cluster.md) a process id alone names nothing: only the machine that recorded it may judge it, and
/// only during the same boot.
/// </summary>
public static class HostIdentity
{
    private static readonly Lazy<string> ThisMachine = new(() =>
        $"{Environment.MachineName}/{BootId()}"
    );

    /// <summary>This machine and boot, e.g. <c>build-01/8c2e5d0a-2f6e-4c1b-9a1d-3f0e8e3b7c11</c>.</summary>
    public static string Current => ThisMachine.Value;

    /// <summary>
    /// Where an owner recorded as <paramref name="ownerHost"/> ran. A build recorded before owners had a host (null)
    /// counts as this machine's, as it was when the catalog was one machine's file.
    /// </summary>
    public static OwnerPlace Locate(string? ownerHost) => Locate(ownerHost, Current);

    /// <summary><see cref="Locate(string?)"/> as seen from <paramref name="here"/>.</summary>
    public static OwnerPlace Locate(string? ownerHost, string here)
    {
        ArgumentNullException.ThrowIfNull(here);
        if (ownerHost is null || ownerHost == here)
        {
            return OwnerPlace.ThisBoot;
        }

        return HostOf(ownerHost) == HostOf(here) ? OwnerPlace.EarlierBoot : OwnerPlace.OtherMachine;
    }

    /// <summary>The host name of a recorded identity (<c>build-01/8c2e...</c> is <c>build-01</c>).</summary>
    public static string HostOf(string identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return identity.LastIndexOf('/') is var slash and >= 0 ? identity[..slash] : identity;
    }

    private static string BootId()
    {
        const string File = "/proc/sys/kernel/random/boot_id";
        return System.IO.File.Exists(File)
            ? System.IO.File.ReadAllText(File).Trim()
            : "unknown-boot";
    }
}
