namespace ImageForge.Server.Api;

/// <summary>GET /health: ok when Packer and every tool are available, degraded otherwise.</summary>
internal sealed record HealthReport(
    string Status,
    PackerHealth Packer,
    IReadOnlyDictionary<string, ToolHealth> Tools
);

/// <summary>Whether <c>packer version</c> works, and the version it printed.</summary>
internal sealed record PackerHealth(bool Available, string? Version);

/// <summary>Whether a tool was found on PATH, and where.</summary>
internal sealed record ToolHealth(bool Available, string? Path);
