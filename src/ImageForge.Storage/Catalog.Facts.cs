using ImageForge.Core.Facts;
using ImageForge.Storage.Sql;

namespace ImageForge.Storage;

/// <summary>Versions' facts (anomaly detection) in the same catalog.</summary>
public sealed partial class Catalog : IFactsStore
{
    private SqlFactsStore? _facts;

    // Stateless over the pooled connections, so a second instance made by a racing thread is harmless.
    private SqlFactsStore Facts => _facts ??= new SqlFactsStore(_dialect, ConnectAsync);

    /// <inheritdoc />
    public Task RecordFactsAsync(
        string image,
        string target,
        FactSnapshot facts,
        CancellationToken cancellationToken = default
    ) => Guard(Facts.RecordFactsAsync(image, target, facts, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<FactSnapshot>> HistoryAsync(
        string image,
        string target,
        string? exceptVersion,
        int limit,
        CancellationToken cancellationToken = default
    ) => Guard(Facts.HistoryAsync(image, target, exceptVersion, limit, cancellationToken));

    /// <inheritdoc />
    public Task<FactSnapshot?> GetFactsAsync(
        string image,
        string version,
        string target,
        CancellationToken cancellationToken = default
    ) => Guard(Facts.GetFactsAsync(image, version, target, cancellationToken));
}
