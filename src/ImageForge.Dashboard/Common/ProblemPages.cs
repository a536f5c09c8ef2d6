using ImageForge.Application.Operations;
using ImageForge.Dashboard.Pages;
using ImageForge.Server.Api;
using Microsoft.AspNetCore.Http;

namespace ImageForge.Dashboard.Common;

/// <summary>
/// Under <c>/ui</c>, what the API answers as a problem (unknown image or version 404, bad input 400, a rule's refusal
/// 409, a role's 403) is a page saying the same, with the same status; anything else stays a 500.
/// </summary>
internal sealed class ProblemPages(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.Response.HasStarted && Describe(e) is { } problem)
        {
            http.Response.Clear();
            await Problem(http, problem.Status, problem.Detail).ExecuteAsync(http);
        }
    }

    public static IResult Problem(HttpContext http, int status, string detail) =>
        Render.Page<ErrorPage>(
            http,
            new Dictionary<string, object?> { ["Status"] = status, ["Detail"] = detail },
            status
        );

    private static (int Status, string Detail)? Describe(Exception e) =>
        e is ActionForbiddenException forbidden
            ? (StatusCodes.Status403Forbidden, forbidden.Message)
        : ApiExceptionHandler.ProblemFor(e) is { } p
            ? (p.Status ?? StatusCodes.Status400BadRequest, p.Detail ?? e.Message)
        : null;
}
