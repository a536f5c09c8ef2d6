using ImageForge.Application.Access;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ImageForge.Server.Api;

/// <summary>
/// Makes /openapi/v1.json say what a client needs: the title, the bearer scheme, and on each operation that needs a
/// token the security requirement and the lowest role admitted. No servers: the document must not depend on the
/// address it was fetched from (it is compared with a snapshot).
/// </summary>
internal static class ApiOpenApi
{
    /// <summary>The security scheme's id in components.securitySchemes.</summary>
    public const string SchemeId = "bearer";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer(
            (document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "ImageForge worker API",
                    Version = "v1",
                    Description =
                        "Builds, images, versions, evidence and the audit trail of an ImageForge worker. Send "
                        + "'Authorization: Bearer <secret>' (imageforge tokens create); roles are ordered viewer < "
                        + "builder < release-manager < admin. Errors are RFC 7807 problem details.",
                };
                document.Servers = [];
                AddScheme(document);
                return Task.CompletedTask;
            }
        );
        options.AddOperationTransformer(
            (operation, context, _) =>
            {
                var authorize = context
                    .Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>()
                    .ToList();
                var anonymous = context
                    .Description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>()
                    .Any();
                if (authorize.Count == 0 || anonymous || context.Document is not { } document)
                {
                    return Task.CompletedTask;
                }

                var role =
                    authorize.Select(a => a.Policy).Where(ApiRoles.IsKnown).MaxBy(ApiRoles.Rank)
                    ?? ApiRoles.Viewer;
                AddScheme(document);
                operation.Security =
                [
                    new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(SchemeId, document)] = [],
                    },
                ];
                operation.Description = string.IsNullOrEmpty(operation.Description)
                    ? $"Role: {role} or higher."
                    : $"{operation.Description} Role: {role} or higher.";
                return Task.CompletedTask;
            }
        );
    }

    private static void AddScheme(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(
            StringComparer.Ordinal
        );
        document.Components.SecuritySchemes.TryAdd(
            SchemeId,
            new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description =
                    "An API token secret (ifg_...), created with 'imageforge tokens create --name NAME --role ROLE'.",
            }
        );
    }
}
