using ImageForge.Core.Scheduling;

namespace ImageForge.Core.Definitions;

/// <summary>
/// One image definition (<c>templates/images/&lt;name&gt;.yaml</c>): what to build, on which base, with which baseline,
/// for which targets, on which schedule and along which channel path. Only valid definitions are built into this type.
/// </summary>
public sealed record ImageDefinition
{
    /// <summary>Unique image name: lowercase letters, digits and '-', 2 to 63 characters, starting with a letter or digit.</summary>
    public required string Name { get; init; }

    /// <summary>What the image is for, in a sentence.</summary>
    public required string Description { get; init; }

    /// <summary>Operating system family and release of the image.</summary>
    public required OsSpec Os { get; init; }

    /// <summary>Name of the baseline (<c>baselines/&lt;name&gt;.yaml</c>) the image must satisfy.</summary>
    public required string Baseline { get; init; }

    /// <summary>Packages added to and removed from the base system; empty lists when the definition has none.</summary>
    public required PackageSpec Packages { get; init; }

    /// <summary>Where the image is built and published; at least one, each provider at most once, in file order.</summary>
    public required IReadOnlyList<TargetSpec> Targets { get; init; }

    /// <summary>When scheduled builds run; null when the image is built on demand only.</summary>
    public ScheduleSpec? Schedule { get; init; }

    /// <summary>The promotion path, first channel first (default dev, staging, prod).</summary>
    public required IReadOnlyList<string> Channels { get; init; }

    /// <summary>The file the definition was read from, as it was given to the loader (relative stays relative).</summary>
    public required string SourceFile { get; init; }

    /// <summary>The image's tests (<c>tests:</c>): checks the boot test runs inside the booted guest; empty for none.</summary>
    public IReadOnlyList<ImageTest> Tests { get; init; } = [];

    /// <summary>The target for <paramref name="provider"/> (local, aws, azure, gcp), or null when the image has none.</summary>
    public TargetSpec? FindTarget(string provider) =>
        Targets.FirstOrDefault(t => string.Equals(t.Provider, provider, StringComparison.Ordinal));
}

/// <summary>Operating system of an image or baseline: family (debian, ubuntu, rhel) and release ("11", "22.04", "9").</summary>
public sealed record OsSpec(string Family, string Release)
{
    /// <summary>The Debian suite code name for Debian releases (11: bullseye, 12: bookworm); null for anything else.</summary>
    public string? DebianSuite => Family == "debian" ? OsCatalog.DebianSuiteOf(Release) : null;

    /// <summary>"debian 11".</summary>
    public override string ToString() => $"{Family} {Release}";
}

/// <summary>Packages to install on top of the base system and packages to purge from it.</summary>
public sealed record PackageSpec(IReadOnlyList<string> Add, IReadOnlyList<string> Remove)
{
    /// <summary>No additions, no removals.</summary>
    public static PackageSpec None { get; } = new([], []);
}

/// <summary>One build target of an image: a provider with its base image, regions, options and secret references.</summary>
public sealed record TargetSpec
{
    /// <summary>local, aws, azure or gcp.</summary>
    public required string Provider { get; init; }

    /// <summary>
    /// What the build starts from: a Debian suite (local), an AMI id or AMI name filter (aws), a
    /// publisher:offer:sku:version URN (azure), an image family or image name (gcp).
    /// </summary>
    public required string BaseImage { get; init; }

    /// <summary>Regions the image is published to (cloud providers); empty for local.</summary>
    public required IReadOnlyList<string> Regions { get; init; }

    /// <summary>
    /// Provider options with every default filled in, keys ordered ordinally. Booleans are "true" or "false".
    /// </summary>
    public required IReadOnlyDictionary<string, string> Options { get; init; }

    /// <summary>
    /// Packer sensitive variable name to the NAME of the environment variable that holds its value at build time.
    /// Values of secrets are never part of a definition. Keys ordered ordinally.
    /// </summary>
    public required IReadOnlyDictionary<string, string> Secrets { get; init; }

    /// <summary>The option's value (defaults included), or null when the provider has no such option set.</summary>
    public string? Option(string key) => Options.TryGetValue(key, out var value) ? value : null;

    /// <summary>
    /// How the target is built (<c>build:</c>, for providers that offer a choice): imported from the disk the
    /// definition's disk-building target makes, or built natively by the provider's own Packer builder.
    /// </summary>
    public BuildMode Build { get; init; } = BuildMode.Own;

    /// <summary>
    /// Per channel of the image's path, the provider's channel options (<c>targets[].channels</c>: who an image is
    /// shared with there, which family serves it...), defaults filled in for the channels given.
    /// </summary>
    public IReadOnlyDictionary<
        string,
        IReadOnlyDictionary<string, string>
    > Channels { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>
    /// The Debian package of the cloud's guest agent this target's disk adds (<c>guest_agent: true</c>: waagent on
    /// azure), or null: the target imports the base disk every cloud shares. A target with an agent imports a flavour
    /// of that disk, made from the same hardened tree with this package installed.
    /// </summary>
    public string? GuestAgent { get; init; }

    /// <summary>The channel option's value, or null when the target sets none for that channel.</summary>
    public string? ChannelOption(string channel, string key) =>
        Channels.TryGetValue(channel, out var options) && options.TryGetValue(key, out var value)
            ? value
            : null;
}

/// <summary>How a target gets its image.</summary>
public enum BuildMode
{
    /// <summary>The provider's builder makes it (the local target: the disk itself).</summary>
    Own,

    /// <summary>The disk of this build is imported into the provider (<c>build: import</c>).</summary>
    Import,

    /// <summary>The provider's own Packer builder runs the same scripts in a VM there (<c>build: native</c>).</summary>
    Native,
}

/// <summary>When scheduled builds of an image run: a cron expression read in a time zone.</summary>
public sealed record ScheduleSpec(CronExpression Cron, string TimeZone)
{
    /// <summary>The next time the schedule fires strictly after <paramref name="after"/>, or null if it never does.</summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after) =>
        Cron.GetNextOccurrence(after, TimeZoneInfo.FindSystemTimeZoneById(TimeZone));
}
