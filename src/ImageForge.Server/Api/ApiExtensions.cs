using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Application.Views;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageForge.Server.Api;

/// <summary>
/// The worker's HTTP API: <c>/health</c>, <c>/openapi/v1.json</c> and everything under <c>/api</c>. A host calls
/// <see cref="AddImageForgeApi"/>, then <see cref="UseImageForgeApi"/> and <see cref="MapImageForgeApi"/>; it
/// registers the services the API reads: <see cref="Catalog"/>, <see cref="HostPaths"/>,
/// <see cref="TimeProvider"/>, <see cref="IBuildRequests"/> and <see cref="IWorkerEvents"/>.
/// </summary>
public static class ApiExtensions
{
    /// <summary>
    /// Registers bearer-token authentication, the role policies (<see cref="ApiRoles"/>), problem details for every
    /// error, snake_case JSON (like the CLI's <c>--output json</c>) and the OpenAPI document.
    /// </summary>
    public static IServiceCollection AddImageForgeApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRouting();
        // Numbers are numbers, in and out (the web default also reads "42"), as the document then says.
        services.ConfigureHttpJsonOptions(options =>
            ImageForgeJson.Apply(options.SerializerOptions)
        );
        services.AddProblemDetails(options =>
            options.CustomizeProblemDetails = context =>
            {
                var problem = context.ProblemDetails;
                problem.Instance ??= context.HttpContext.Request.Path;
                // The rest of the API is snake_case; so is this extension.
                if (problem.Extensions.Remove("traceId", out var traceId))
                {
                    problem.Extensions["trace_id"] = traceId;
                }
            }
        );
        services.AddExceptionHandler<ApiExceptionHandler>();
        // A body the endpoint cannot bind is thrown to ApiExceptionHandler, which says what was wrong with it (the
        // default answers a bare 400).
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<KestrelServerOptions>(options =>
            options.Limits.MaxRequestBodySize = ApiLimits.MaxRequestBodyBytes
        );

        services
            .AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(
                BearerTokenHandler.SchemeName,
                null
            );
        var authorization = services.AddAuthorizationBuilder();
        foreach (var role in ApiRoles.All)
        {
            authorization.AddPolicy(
                role,
                policy =>
                    policy
                        .AddAuthenticationSchemes(BearerTokenHandler.SchemeName)
                        .RequireAuthenticatedUser()
                        .AddRequirements(new RoleRequirement(role))
            );
        }

        services.AddSingleton<IAuthorizationHandler, RoleRequirementHandler>();
        services.AddSingleton<
            IAuthorizationMiddlewareResultHandler,
            ProblemAuthorizationResultHandler
        >();

        services.AddOpenApi(ApiOpenApi.Configure);
        services.AddOptions<ApiHealthOptions>();
        services.TryAddSingleton<HealthProbe>();

        // The endpoints read ports; the host's one catalog implements them all.
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ICatalog>(sp => sp.GetRequiredService<Catalog>());
        services.TryAddSingleton<IAuditLog>(sp => sp.GetRequiredService<Catalog>());
        services.TryAddSingleton<ITokenStore>(sp => sp.GetRequiredService<Catalog>());
        services.TryAddSingleton<IScheduleLedger>(sp => sp.GetRequiredService<Catalog>());
        services.TryAddSingleton<IWebhookLog>(sp => sp.GetRequiredService<Catalog>());
        return services;
    }

    /// <summary>
    /// The middleware the API needs, in order: exceptions and bare status codes as problem details, routing, the request
    /// body limit (<see cref="ApiLimits"/>, per endpoint), authentication, authorization. Call before mapping the endpoints (<see cref="MapImageForgeApi"/>, inside
    /// <c>UseEndpoints</c> or on a <c>WebApplication</c>).
    /// </summary>
    public static IApplicationBuilder UseImageForgeApi(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseRequestBodyLimit();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>Maps <c>/health</c>, <c>/openapi/v1.json</c> and the <c>/api</c> group (every endpoint needs a token).</summary>
    public static IEndpointRouteBuilder MapImageForgeApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapOpenApi();
        HealthEndpoints.Map(endpoints);
        var api = endpoints
            .MapGroup("/api")
            .RequireAuthorization(ApiRoles.Viewer)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        BuildEndpoints.Map(api);
        ImageEndpoints.Map(api);
        AnomalyEndpoints.Map(api);
        AuditEndpoints.Map(api);
        WorkerEndpoints.Map(api);
        PromotionEndpoints.Map(api);
        PolicyEndpoints.Map(api);
        return endpoints;
    }
}
