using System.Collections.Concurrent;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Facts;
using ImageForge.Core.Gates;
using ImageForge.Core.Promotion;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Dashboard.Common;

/// <summary>One badge of a channel on the overview: what it says, and why (shown beside it).</summary>
public sealed record ChannelBadge(string Text, string Why);

/// <summary>
/// The overview's badges of a channel and the version it points at: revoked (the channel was moved off a revoked
/// version; revocation moves every channel off the version in the same transaction, so none points at one); gate failed (rejected when built, or its newest
/// gate decision, e.g. after a re-scan, is fail); outdated parent (its base is not the one the image's newest version
/// was built on, <see cref="VersionBase.OutdatedAgainst"/>); new findings since promotion (findings of a scan recorded
/// after the channel moved that the scan current when it moved did not have).
/// </summary>
/// <remarks>
/// Evidence files are written once, so what a document says is read once per location and digest and kept for the
/// worker's life (at most <see cref="MaxDocuments"/> documents; the memory starts over past that). A document that
/// cannot be read is not remembered, and its badge says so.
/// </remarks>
public sealed class ChannelBadges
{
    /// <summary>The evidence the badges read: the overview asks the catalog for these kinds only.</summary>
    public static readonly IReadOnlyList<string> EvidenceKinds =
    [
        EvidenceFiles.VulnerabilityFindings,
        GateDecision.Kind,
    ];

    private const int MaxDocuments = 10_000;

    private readonly ConcurrentDictionary<(string Location, string Sha256), object> _read = new();

    /// <summary>
    /// The badges of <paramref name="channel"/>, pointing at <paramref name="version"/> (with the evidence of
    /// <see cref="EvidenceKinds"/>; null when empty), built on <paramref name="itsBase"/>, against
    /// <paramref name="newest"/>, the base of the image's newest version.
    /// </summary>
    public IReadOnlyList<ChannelBadge> Of(
        ChannelState channel,
        ImageVersion? version,
        VersionBase? itsBase,
        VersionBase? newest
    )
    {
        ArgumentNullException.ThrowIfNull(channel);
        var badges = new List<ChannelBadge>();
        if (channel.Action == AssignmentActions.Revoke)
        {
            badges.Add(
                new(
                    "revoked",
                    $"{channel.PreviousVersion} was revoked {channel.Since:u}"
                        + (channel.Reason is { } reason ? $" ({reason})" : "")
                        + (
                            channel.Version is { } now
                                ? $"; the channel moved back to {now}"
                                : "; the channel is empty"
                        )
                )
            );
        }
        if (version is null)
        {
            return badges;
        }
        if (GateFailed(version) is { } gate)
        {
            badges.Add(gate);
        }
        if (itsBase is not null && newest is not null && itsBase.OutdatedAgainst(newest) is { } why)
        {
            badges.Add(new("outdated parent", why));
        }
        if (NewFindings(version, channel.Since) is { } findings)
        {
            badges.Add(findings);
        }
        return badges;
    }

    private ChannelBadge? GateFailed(ImageVersion version)
    {
        if (version.Status == VersionStatus.Rejected)
        {
            return new("gate failed", $"the gate rejected {version.Version} when it was built");
        }
        if (version.Evidence.LastOrDefault(e => e.Kind == GateDecision.Kind) is not { } newest)
        {
            return null;
        }
        var (decision, problem) = Remembered(newest, path => GateDecision.Read(path).Decision);
        return problem is not null ? new("gate decision unreadable", problem)
            : decision == GateOutcome.Fail
                ? new(
                    "gate failed",
                    $"its newest gate decision ({newest.RecordedAt:u}) is fail; see the version page for the reasons"
                )
            : null;
    }

    // The newest findings document against the one current when the channel moved, if a scan came after.
    private ChannelBadge? NewFindings(ImageVersion version, DateTimeOffset? since)
    {
        var scans = version
            .Evidence.Where(e => e.Kind == EvidenceFiles.VulnerabilityFindings)
            .ToList();
        if (since is null || scans.Count == 0 || scans[^1].RecordedAt <= since)
        {
            return null;
        }
        var (now, nowProblem) = Remembered(scans[^1], FindingKeys);
        var (then, thenProblem) = scans.LastOrDefault(e => e.RecordedAt <= since) is { } earlier
            ? Remembered(earlier, FindingKeys)
            : (new HashSet<string>(), null);
        if ((nowProblem ?? thenProblem) is { } problem)
        {
            return new("findings unreadable", problem);
        }
        var added = now!.Count(k => !then!.Contains(k));
        return added == 0
            ? null
            : new(
                "new findings since promotion",
                $"{added} finding{(added == 1 ? "" : "s")} in the scan of {scans[^1].RecordedAt:u} that the scan "
                    + $"current at the promotion ({since:u}) did not have"
            );
    }

    private static IReadOnlySet<string> FindingKeys(string path) =>
        FindingsDocument.Read(path).Findings.Select(f => f.Key).ToHashSet(StringComparer.Ordinal);

    // What read says of the document: remembered by location and digest; a problem is returned, not remembered.
    private (T? Value, string? Problem) Remembered<T>(
        EvidenceDocument document,
        Func<string, T> read
    )
    {
        var key = (document.Location, document.Sha256);
        if (_read.TryGetValue(key, out var known))
        {
            return ((T)known, null);
        }
        T value;
        try
        {
            value = read(document.Location);
        }
        catch (InvalidInputException e)
        {
            return (default, e.Message);
        }
        if (_read.Count >= MaxDocuments)
        {
            _read.Clear();
        }
        _read[key] = value!;
        return (value, null);
    }
}
