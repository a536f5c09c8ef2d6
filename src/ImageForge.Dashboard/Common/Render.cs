using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImageForge.Dashboard.Common;

/// <summary>Pages as results: a component rendered on the server (static, no circuit) with the request's <see cref="Ui"/>.</summary>
internal static class Render
{
    public static RazorComponentResult Page<TPage>(
        HttpContext http,
        Dictionary<string, object?>? parameters = null,
        int status = StatusCodes.Status200OK
    )
        where TPage : IComponent
    {
        var values = parameters ?? [];
        values["Ui"] = Ui.Of(http);
        return new RazorComponentResult<TPage>(values!)
        {
            StatusCode = status,
            PreventStreamingRendering = true,
        };
    }
}
