using Google.Apis.Auth.OAuth2.Responses;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Providers.Gcp.Compute;

namespace ImageForge.Providers.Gcp;

/// <summary>
/// GCP's part of <c>GET /health</c>: for each project (and credentials variable) the targets name, Compute Engine's
/// images.get of a name no image has, with the credentials builds would use. A 404 proves the endpoint answers and
/// the service account may read the project's images; a 403 or 401 says it may not.
/// </summary>
internal sealed class GcpAccess(GcpClients clients) : IAccessProbe
{
    private const string Probe = "imageforge-access-check";

    public async Task<IReadOnlyList<AccessCheck>> CheckAsync(
        IReadOnlyList<TargetSpec> targets,
        CancellationToken cancellationToken = default
    )
    {
        var projects = targets
            .Where(t => t.Option("project_id") is not null)
            .DistinctBy(t => (t.Option("project_id"), GcpClients.CredentialsVariable(t)))
            .ToList();
        return await Task.WhenAll(projects.Select(t => CheckAsync(t, cancellationToken)));
    }

    private async Task<AccessCheck> CheckAsync(
        TargetSpec target,
        CancellationToken cancellationToken
    )
    {
        var project = target.Option("project_id")!;
        var scope = $"project {project}";
        try
        {
            var account = await clients.ForAsync(target, cancellationToken);
            await account.Compute.GetImageAsync(project, Probe, cancellationToken);
            return new AccessCheck(scope, true, "reachable");
        }
        catch (ComputeException e)
        {
            return new AccessCheck(
                scope,
                false,
                $"{(int)e.Status} {e.Reason ?? e.Status.ToString()}"
            );
        }
        catch (InvalidInputException)
        {
            // The key file named by the variable is missing or unreadable (the message names the file).
            return new AccessCheck(scope, false, "no usable credentials");
        }
        catch (HttpRequestException)
        {
            return new AccessCheck(scope, false, "unreachable");
        }
        catch (TokenResponseException e)
        {
            // The token endpoint refused the key: its error code, never the key.
            return new AccessCheck(scope, false, $"token refused: {e.Error?.Error}");
        }
        catch (InvalidOperationException)
        {
            // Application Default Credentials found nothing.
            return new AccessCheck(scope, false, "no usable credentials");
        }
    }
}
