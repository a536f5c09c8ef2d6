using ImageForge.Core.Definitions;

namespace ImageForge.Core.Providers;

/// <summary>
/// One place a provider acts in (an AWS region with a role, an Azure gallery, a GCP project) and whether it answered
/// with the host's credentials: <c>GET /health</c> lists them per provider. Nothing secret and no account identity is
/// in it: the scope is what the definitions name, the detail an error code or "reachable".
/// </summary>
/// <param name="Scope">What was asked, as the definitions name it ("eu-west-1", "gallery rg/imageforge").</param>
/// <param name="Ok">Whether the provider answered and accepted the credentials.</param>
/// <param name="Detail">"reachable", or what went wrong (unreachable, no credentials, an error code).</param>
public sealed record AccessCheck(string Scope, bool Ok, string Detail);

/// <summary>Asks a provider whether it can act where the definitions' targets say (port; each module implements it).</summary>
public interface IAccessProbe
{
    /// <summary>
    /// One check per distinct place among <paramref name="targets"/> (all of this provider), in the targets' order.
    /// Failures are answers, not exceptions.
    /// </summary>
    Task<IReadOnlyList<AccessCheck>> CheckAsync(
        IReadOnlyList<TargetSpec> targets,
        CancellationToken cancellationToken = default
    );
}
