using ImageForge.Core.Providers;

namespace ImageForge.Server.Api;

/// <summary>GET /health: ok when Packer, every tool, every cloud and the catalog are available, degraded otherwise.</summary>
internal sealed record HealthReport(
    string Status,
    PackerHealth Packer,
    IReadOnlyDictionary<string, ToolHealth> Tools,
    IReadOnlyDictionary<string, ProviderHealth> Providers,
    CatalogHealth Catalog
);

/// <summary>
/// The worker's last write to its catalog (its heartbeat, every third of its lease): available unless it failed or
/// waited longer than 30 s for the writer lock. Before the first, available with no write.
/// </summary>
/// <param name="Available">The last write succeeded within 30 s.</param>
/// <param name="Location">The catalog, never with a password.</param>
/// <param name="LastWriteAt">When the last write ended.</param>
/// <param name="LastWriteSeconds">How long it took, waiting for the writer lock included.</param>
/// <param name="Problem">Why it is not available.</param>
internal sealed record CatalogHealth(
    bool Available,
    string? Location,
    DateTimeOffset? LastWriteAt,
    double? LastWriteSeconds,
    string? Problem
);

/// <summary>
/// Whether a cloud provider can act where the valid definitions' targets say: one check per region and role,
/// gallery or project (<see cref="AccessCheck"/>: the scope, whether it answered and took the credentials, why not).
/// </summary>
internal sealed record ProviderHealth(bool Available, IReadOnlyList<AccessCheck> Checks);

/// <summary>Whether <c>packer version</c> works, and the version it printed.</summary>
internal sealed record PackerHealth(bool Available, string? Version);

/// <summary>Whether a tool was found on PATH, and where.</summary>
internal sealed record ToolHealth(bool Available, string? Path);
