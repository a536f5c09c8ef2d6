using Azure;
using Azure.Identity;
using Azure.ResourceManager.Compute;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;

namespace ImageForge.Providers.Azure;

/// <summary>
/// Azure's part of <c>GET /health</c>: for each gallery the targets name, a GET of the gallery with the credential
/// builds would use (the target's client secret when it names one). It proves ARM answers, the credential gets a
/// token and may read the gallery.
/// </summary>
internal sealed class AzureAccess(AzureClients clients, Func<string, string?> variable)
    : IAccessProbe
{
    public async Task<IReadOnlyList<AccessCheck>> CheckAsync(
        IReadOnlyList<TargetSpec> targets,
        CancellationToken cancellationToken = default
    )
    {
        var galleries = targets
            .Select(t => (Spec: t, Target: AzureTarget.Read(t).Target))
            .Where(t => t.Target is not null)
            .DistinctBy(t => t.Target!.GalleryId.ToString())
            .ToList();
        return await Task.WhenAll(
            galleries.Select(t => CheckAsync(t.Spec, t.Target!, cancellationToken))
        );
    }

    private async Task<AccessCheck> CheckAsync(
        TargetSpec spec,
        AzureTarget target,
        CancellationToken cancellationToken
    )
    {
        var scope = $"gallery {target.ResourceGroup}/{target.Gallery}";
        var secrets = spec
            .Secrets.Select(s => (s.Key, Value: variable(s.Value)))
            .Where(s => s.Value is { Length: > 0 })
            .ToDictionary(s => s.Key, s => s.Value!, StringComparer.Ordinal);
        try
        {
            await clients
                .Arm(clients.Credential(spec, secrets), target.SubscriptionId)
                .GetGalleryResource(target.GalleryId)
                .GetAsync(cancellationToken: cancellationToken);
            return new AccessCheck(scope, true, "reachable");
        }
        catch (RequestFailedException e) when (e.Status != 0)
        {
            return new AccessCheck(scope, false, $"{e.Status} {e.ErrorCode}");
        }
        catch (RequestFailedException)
        {
            return new AccessCheck(scope, false, "unreachable");
        }
        catch (AuthenticationFailedException)
        {
            // Also when no source has a credential (CredentialUnavailableException). Not the SDK's text: it lists
            // every credential source it tried, with their settings.
            return new AccessCheck(scope, false, "no usable credentials");
        }
    }
}
