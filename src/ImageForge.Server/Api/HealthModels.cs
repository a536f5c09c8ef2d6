using ImageForge.Core.Providers;

namespace ImageForge.Server.Api;

/// <summary>GET /health: ok when Packer and every tool are available, degraded otherwise.</summary>
internal sealed record HealthReport(
    string Status,
    PackerHealth Packer,
    IReadOnlyDictionary<string, ToolHealth> Tools,
    IReadOnlyDictionary<string, ProviderHealth> Providers
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
