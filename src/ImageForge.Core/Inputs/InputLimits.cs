using System.Globalization;

namespace ImageForge.Core.Inputs;

/// <summary>
/// How long the texts people give ImageForge may be where they are stored (the catalog, the audit trail, webhook
/// bodies): the same on the command line (exit 2 naming the option) and in the API (a 400 validation problem naming
/// the field). docs/worker.md lists them.
/// </summary>
public static class InputLimits
{
    /// <summary>A reason (build, approve, revoke, rollback, a skipped channel): 1,000 characters.</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>A target (provider) or region name: 63 characters, like image and channel names.</summary>
    public const int MaxNameLength = 63;

    /// <summary>A version number or an ISO-8601 time: 64 characters.</summary>
    public const int MaxShortTextLength = 64;

    /// <summary>An image id given to admit (a file path, a cloud id): 4,096 characters, the longest Linux path.</summary>
    public const int MaxImageIdLength = 4096;

    /// <summary>Null when <paramref name="value"/> is at most <paramref name="max"/> characters; otherwise why not.</summary>
    public static string? TooLong(string? value, int max) =>
        value is { Length: var length } && length > max
            ? string.Create(
                CultureInfo.InvariantCulture,
                $"at most {max} characters; this one has {length}"
            )
            : null;
}
