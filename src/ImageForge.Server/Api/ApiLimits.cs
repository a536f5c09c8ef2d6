namespace ImageForge.Server.Api;

/// <summary>The API's request limits (docs/worker.md, request limits).</summary>
internal static class ApiLimits
{
    /// <summary>The largest request body read: 1 MiB (every body is a few small fields).</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;
}
