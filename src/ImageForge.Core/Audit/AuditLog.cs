using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace ImageForge.Core.Audit;

/// <summary>
/// One action as it is written to the audit trail: what was done (build, gate, sign, promote, approve, rollback,
/// revoke, waiver, gc, ...), by whom in which role, when, on what, and why. <see cref="Details"/> is a small JSON
/// object with what the action alone knows (the steps, the channels moved).
/// </summary>
public sealed record AuditEntry
{
    public required string Action { get; init; }
    public required string Actor { get; init; }
    public required string Role { get; init; }
    public required DateTimeOffset Time { get; init; }
    public string? Image { get; init; }
    public string? Version { get; init; }
    public string? Channel { get; init; }
    public string? Reason { get; init; }

    /// <summary>A JSON object, or null.</summary>
    public string? Details { get; init; }
}

/// <summary>One recorded event: its place in the chain, the entry, and the hashes that link it to the one before.</summary>
public sealed record AuditEvent(long Sequence, AuditEntry Entry, string PreviousHash, string Hash);

/// <summary>The outcome of checking the chain: the first bad event's sequence number and why, when there is one.</summary>
public sealed record AuditVerification(long Checked, long? FirstBadSequence, string? Problem)
{
    public bool Ok => FirstBadSequence is null;
}

/// <summary>
/// The append-only audit trail (port; ImageForge.Storage implements it). Stores that change state append their
/// event in the same transaction as the change; this port is for actions with no state of their own (build, sign,
/// gate).
/// </summary>
public interface IAuditLog
{
    Task<AuditEvent> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Events in chain order after <paramref name="afterSequence"/>, optionally about one image.</summary>
    Task<IReadOnlyList<AuditEvent>> ReadAuditAsync(
        string? image = null,
        long afterSequence = 0,
        int limit = 1000,
        CancellationToken cancellationToken = default
    );

    /// <summary>Recomputes the whole chain and names the first event that does not hold.</summary>
    Task<AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The hash chain: each event's hash is sha256 over a canonical serialization of its sequence number, its fields and
/// the previous event's hash, so an edited, deleted or reordered event breaks the chain at that event.
/// </summary>
public static class AuditChain
{
    /// <summary>The previous hash of the first event.</summary>
    public static readonly string Genesis = new('0', 64);

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>The time as stored and hashed: UTC, milliseconds.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>
    /// A JSON array of the fields in a fixed order with no whitespace: [version of this format, sequence, time,
    /// action, actor, role, image, version, channel, reason, details, previous hash].
    /// </summary>
    public static byte[] Canonical(long sequence, AuditEntry entry, string previousHash)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            json.WriteNumberValue(1);
            json.WriteNumberValue(sequence);
            json.WriteStringValue(FormatTime(entry.Time));
            foreach (
                var field in new[]
                {
                    entry.Action,
                    entry.Actor,
                    entry.Role,
                    entry.Image,
                    entry.Version,
                    entry.Channel,
                    entry.Reason,
                    entry.Details,
                    previousHash,
                }
            )
            {
                if (field is null)
                {
                    json.WriteNullValue();
                }
                else
                {
                    json.WriteStringValue(field);
                }
            }

            json.WriteEndArray();
        }

        return buffer.ToArray();
    }

    public static string Hash(long sequence, AuditEntry entry, string previousHash) =>
        Convert.ToHexStringLower(SHA256.HashData(Canonical(sequence, entry, previousHash)));

    /// <summary>
    /// Checks events read in sequence order. <paramref name="headSequence"/> is the last sequence the store recorded
    /// writing (its head row), which reveals events deleted from the end.
    /// </summary>
    public static AuditVerification Verify(IEnumerable<AuditEvent> events, long? headSequence)
    {
        var previous = Genesis;
        long expected = 1;
        long checkedCount = 0;
        foreach (var e in events)
        {
            if (e.Sequence != expected)
            {
                return new(
                    checkedCount,
                    expected,
                    e.Sequence > expected
                        ? $"event {expected} is missing: deleted (the chain resumes at event {e.Sequence})"
                        : $"event {e.Sequence} appears out of order after event {expected - 1}"
                );
            }

            if (!string.Equals(e.PreviousHash, previous, StringComparison.Ordinal))
            {
                return new(
                    checkedCount,
                    e.Sequence,
                    $"event {e.Sequence} does not follow event {e.Sequence - 1}: events were reordered or replaced"
                );
            }

            if (
                !string.Equals(
                    Hash(e.Sequence, e.Entry, e.PreviousHash),
                    e.Hash,
                    StringComparison.Ordinal
                )
            )
            {
                return new(
                    checkedCount,
                    e.Sequence,
                    $"event {e.Sequence} ({e.Entry.Action} by {e.Entry.Actor}) was edited: its content does not match its hash"
                );
            }

            previous = e.Hash;
            expected++;
            checkedCount++;
        }

        if (headSequence is { } head && head >= expected)
        {
            return new(
                checkedCount,
                expected,
                $"events {expected} to {head} are missing: deleted from the end of the trail"
            );
        }

        return new(checkedCount, null, null);
    }

    /// <summary>A JSON object from name/value pairs, for <see cref="AuditEntry.Details"/>.</summary>
    public static string Details(params (string Name, object? Value)[] fields)
    {
        var map = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            map[name] = value;
        }

        return JsonSerializer.Serialize(map);
    }
}
