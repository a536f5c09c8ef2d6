using Amazon.Runtime;
using Amazon.SecurityToken.Model;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;

namespace ImageForge.Providers.Aws.Connection;

/// <summary>
/// AWS's part of <c>GET /health</c>: for each home region and role the targets name, STS GetCallerIdentity with the
/// credentials builds would use (the role assumed when one is named). It proves the endpoint answers and the
/// credentials (and the AssumeRole) are accepted; the identity it returns is not shown.
/// </summary>
internal sealed class AwsAccess(AwsClients clients) : IAccessProbe
{
    public async Task<IReadOnlyList<AccessCheck>> CheckAsync(
        IReadOnlyList<TargetSpec> targets,
        CancellationToken cancellationToken = default
    )
    {
        var places = targets
            .Select(AwsTarget.Of)
            .Select(t => (t.HomeRegion, t.RoleArn))
            .Distinct()
            .ToList();
        var checks = await Task.WhenAll(
            places.Select(p => CheckAsync(p.HomeRegion, p.RoleArn, cancellationToken))
        );
        return checks;
    }

    private async Task<AccessCheck> CheckAsync(
        string region,
        string? roleArn,
        CancellationToken cancellationToken
    )
    {
        // The role's name, not its ARN: /health needs no token, and an ARN carries the account id.
        var scope = roleArn is null
            ? region
            : $"{region} as role {roleArn[(roleArn.LastIndexOf('/') + 1)..]}";
        try
        {
            await clients
                .Sts(region, roleArn)
                .GetCallerIdentityAsync(new GetCallerIdentityRequest(), cancellationToken);
            return new AccessCheck(scope, true, "reachable");
        }
        catch (AmazonServiceException e) when (e.StatusCode != 0)
        {
            return new AccessCheck(scope, false, $"{(int)e.StatusCode} {e.ErrorCode}");
        }
        catch (AmazonServiceException e) when (e.InnerException is HttpRequestException)
        {
            return new AccessCheck(scope, false, "unreachable");
        }
        catch (AmazonClientException)
        {
            // No credentials in the chain, or the role could not be assumed: never the SDK's text, which may quote
            // a profile's contents.
            return new AccessCheck(scope, false, "no usable credentials");
        }
        catch (HttpRequestException)
        {
            return new AccessCheck(scope, false, "unreachable");
        }
    }
}
