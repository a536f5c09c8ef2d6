using ImageForge.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ImageForge.Dashboard;

/// <summary>
/// The dashboard as a part of <c>imageforge worker</c>: server-rendered pages under <c>/ui/</c> over the same
/// operations, tokens and roles as the API (<see cref="DashboardServices"/>).
/// </summary>
public sealed class DashboardExtension : IWorkerExtension
{
    /// <inheritdoc />
    public void AddServices(IServiceCollection services, WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddImageForgeDashboard(options.Pipeline.Paths.Data.Root);
    }

    /// <inheritdoc />
    public void Use(IApplicationBuilder app) => app.UseImageForgeDashboard();

    /// <inheritdoc />
    public void Map(IEndpointRouteBuilder endpoints) => endpoints.MapImageForgeDashboard();
}
