using ImageForge.Dashboard.Common;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ImageForge.Dashboard;

/// <summary>
/// Registers, uses and maps the dashboard. A host that has the API (<c>AddImageForgeApi</c>) calls
/// <see cref="AddImageForgeDashboard"/>, then <see cref="UseImageForgeDashboard"/> after <c>UseImageForgeApi</c>, and
/// <see cref="MapImageForgeDashboard"/>.
/// </summary>
public static class DashboardServices
{
    /// <summary>Where the pages live.</summary>
    public const string BasePath = "/ui";

    /// <summary>
    /// The sign-in cookie (HttpOnly, SameSite=Strict, Secure over https, path <c>/ui</c>) protected with data protection
    /// keys kept in <c>&lt;data-dir&gt;/dashboard-keys</c>, antiforgery, and the Razor component renderer.
    /// </summary>
    public static IServiceCollection AddImageForgeDashboard(
        this IServiceCollection services,
        string dataDirectory
    )
    {
        ArgumentNullException.ThrowIfNull(services);
        services
            .AddDataProtection()
            .SetApplicationName("imageforge-dashboard")
            .PersistKeysToFileSystem(
                new DirectoryInfo(Path.Combine(dataDirectory, "dashboard-keys"))
            );
        services
            .AddAuthentication()
            .AddCookie(
                DashboardSession.SchemeName,
                options =>
                {
                    options.Cookie.Name = "imageforge-ui";
                    options.Cookie.Path = BasePath;
                    options.Cookie.HttpOnly = true;
                    options.Cookie.SameSite = SameSiteMode.Strict;
                    options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                    options.LoginPath = BasePath + "/signin";
                    options.LogoutPath = BasePath + "/signout";
                    options.ExpireTimeSpan = TimeSpan.FromHours(8);
                    options.SlidingExpiration = true;
                    options.Events = new CookieAuthenticationEvents
                    {
                        OnValidatePrincipal = DashboardSession.ValidateAsync,
                    };
                }
            );
        services
            .AddAuthorizationBuilder()
            .AddPolicy(
                DashboardSession.PolicyName,
                policy =>
                    policy
                        .AddAuthenticationSchemes(DashboardSession.SchemeName)
                        .RequireAuthenticatedUser()
            );
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "imageforge-ui-af";
            options.Cookie.Path = BasePath;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddRazorComponents();
        services.AddSingleton<ChannelBadges>();
        return services;
    }

    /// <summary>Antiforgery on every form, and problems on <c>/ui</c> as HTML pages rather than JSON.</summary>
    public static IApplicationBuilder UseImageForgeDashboard(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments(BasePath),
            ui => ui.UseMiddleware<ProblemPages>()
        );
        app.UseAntiforgery();
        return app;
    }

    /// <summary>Maps the pages, the assets and the actions under <c>/ui</c>.</summary>
    public static IEndpointRouteBuilder MapImageForgeDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var ui = endpoints.MapGroup(BasePath).ExcludeFromDescription();
        Assets.Map(ui);
        DashboardSession.Map(ui);
        var pages = ui.MapGroup("").RequireAuthorization(DashboardSession.PolicyName);
        ReadPages.Map(pages);
        ActionPages.Map(pages);
        ApprovalPages.Map(pages);
        SchedulePages.Map(pages);
        LineagePages.Map(pages);
        ImagePages.Map(pages);
        return endpoints;
    }
}
