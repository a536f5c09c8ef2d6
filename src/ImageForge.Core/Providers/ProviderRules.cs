using System.Text.RegularExpressions;
using ImageForge.Core.Definitions;

namespace ImageForge.Core.Providers;

/// <summary>The outcome of checking one option value: the normalized value, or why it is refused.</summary>
public readonly record struct OptionValue(string? Value, string? Error)
{
    public static OptionValue Ok(string value) => new(value, null);

    public static OptionValue Refused(string error) => new(null, error);
}

/// <summary>One provider option: its key, how its value is checked and normalized, and its default (if any).</summary>
public sealed record OptionRule(
    string Key,
    Func<string, OptionValue> Check,
    Func<OsSpec?, string?>? Default = null
)
{
    public static OptionRule Matching(
        string key,
        Regex pattern,
        string expectation,
        Func<OsSpec?, string?>? byDefault = null
    ) =>
        new(
            key,
            value =>
                pattern.IsMatch(value)
                    ? OptionValue.Ok(value)
                    : OptionValue.Refused($"expected {expectation}, found '{value}'"),
            byDefault
        );

    public static OptionRule OneOf(
        string key,
        IReadOnlyList<string> values,
        string? byDefault = null
    ) =>
        new(
            key,
            value =>
                values.Contains(value, StringComparer.Ordinal)
                    ? OptionValue.Ok(value)
                    : OptionValue.Refused(MappingReader.UnknownMessage("value", value, values)),
            byDefault is null ? null : _ => byDefault
        );

    public static OptionRule Boolean(string key, bool byDefault) =>
        new(
            key,
            value =>
                value.ToLowerInvariant() switch
                {
                    "true" => OptionValue.Ok("true"),
                    "false" => OptionValue.Ok("false"),
                    _ => OptionValue.Refused($"expected true or false, found '{value}'"),
                },
            _ => byDefault ? "true" : "false"
        );

    /// <summary>An http or https URL without credentials (those belong in a secret).</summary>
    public static OptionRule Url(string key, string byDefault) =>
        new(
            key,
            value =>
            {
                if (
                    !Uri.TryCreate(value, UriKind.Absolute, out var uri)
                    || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    || string.IsNullOrEmpty(uri.Host)
                )
                {
                    return OptionValue.Refused(
                        "expected an http:// or https:// URL, e.g. http://deb.debian.org/debian"
                    );
                }
                // The value is not echoed: a URL with credentials in it is exactly what must not be printed.
                return uri.UserInfo.Length > 0
                    ? OptionValue.Refused(
                        "expected a URL without credentials; remove 'user:password@' and give them in secrets.mirror_auth"
                    )
                    : OptionValue.Ok(value);
            },
            _ => byDefault
        );

    public static OptionRule Uuid(string key) =>
        new(
            key,
            value =>
                System.Guid.TryParseExact(value, "D", out _)
                    ? OptionValue.Ok(value.ToLowerInvariant())
                    : OptionValue.Refused(
                        $"expected a GUID such as 00000000-0000-0000-0000-000000000000, found '{value}'"
                    )
        );
}

/// <summary>What one provider accepts in a target: base image shape, regions, options and secret variables.</summary>
public sealed class ProviderRules
{
    public required string Name { get; init; }

    /// <summary>Cloud providers publish to regions (required); the local provider takes none.</summary>
    public required bool HasRegions { get; init; }

    public Regex? RegionPattern { get; init; }

    public string RegionExample { get; init; } = "";

    public required string BaseImageExpectation { get; init; }

    /// <summary>Returns why <c>base_image</c> is refused for the given os, or null when it is fine.</summary>
    public required Func<string, OsSpec?, string?> CheckBaseImage { get; init; }

    public required IReadOnlyList<OptionRule> Options { get; init; }

    /// <summary>Checks across fields once options are known: returns (field below the target, message) pairs.</summary>
    public Func<
        string,
        IReadOnlyDictionary<string, string>,
        IEnumerable<(string Field, string Message)>
    > CrossCheck { get; init; } = (_, _) => [];

    /// <summary>
    /// Checks across the whole target once it is read (regions, options, channel options): returns (field below the
    /// target, message) pairs, reported at that field's line.
    /// </summary>
    public Func<
        TargetSpec,
        IEnumerable<(string Field, string Message)>
    > TargetCheck { get; init; } = _ => [];

    /// <summary>
    /// The build modes a target may choose with <c>build:</c>, the default first; empty when the provider has one way
    /// only (<see cref="BuildMode.Own"/>).
    /// </summary>
    public IReadOnlyList<BuildMode> BuildModes { get; init; } = [];

    /// <summary>
    /// The provider's guest agent for <c>guest_agent: true</c>: given the image's os and its Debian suite, the package,
    /// or why that release has none (what to do instead). Null when the provider has no agent to add.
    /// </summary>
    public Func<OsSpec, string, (string? Package, string? Refusal)>? GuestAgent { get; init; }

    /// <summary>Whether this provider's builder makes the disk that import targets of the same definition import.</summary>
    public bool BuildsDisks { get; init; }

    /// <summary>The options a target may set per channel (<c>targets[].channels.&lt;channel&gt;</c>); empty for none.</summary>
    public IReadOnlyList<OptionRule> ChannelOptions { get; init; } = [];

    /// <summary>Packer sensitive variables this provider's template declares.</summary>
    public required IReadOnlyList<string> SecretVariables { get; init; }

    /// <summary>Said when a secret is given to a provider that declares none.</summary>
    public string NoSecretsNote { get; init; } = "";

    public IReadOnlyList<string> OptionKeys => Options.Select(o => o.Key).ToList();

    /// <summary>The message for a value outside a known list, worded as every other definition problem is.</summary>
    public static string UnknownMessage(string what, string given, IReadOnlyList<string> known) =>
        MappingReader.UnknownMessage(what, given, known);
}
