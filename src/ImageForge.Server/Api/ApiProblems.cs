using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace ImageForge.Server.Api;

/// <summary>An unknown build, image, version or evidence kind named in the request's path: 404.</summary>
internal sealed class NotFoundException(string message) : ImageForgeException(message)
{
    public override int ExitCode => 2;
}

/// <summary>
/// Turns the exceptions endpoints let through into RFC 7807 problems, so endpoints stay thin:
/// <see cref="InvalidInputException"/> 400 (a validation problem with <c>errors</c> per field when it carries
/// problems), <see cref="NotFoundException"/> 404, <see cref="RefusedException"/> 409 with <c>reasons</c>,
/// <see cref="PromotionConflictException"/> and <see cref="BuildNotRunningException"/> 409. Anything else is left to
/// the default handler (500 without details).
/// </summary>
internal sealed class ApiExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(
        HttpContext httpContext,
        Exception exception,
        CancellationToken cancellationToken
    )
    {
        var problem = ProblemFor(exception);
        if (problem is null)
        {
            return false;
        }

        httpContext.Response.StatusCode =
            problem.Status ?? StatusCodes.Status500InternalServerError;
        return await problems.TryWriteAsync(
            new ProblemDetailsContext
            {
                HttpContext = httpContext,
                ProblemDetails = problem,
                Exception = exception,
            }
        );
    }

    internal static ProblemDetails? ProblemFor(Exception exception) =>
        exception switch
        {
            InvalidInputException { Problems.Count: > 0 } e => new HttpValidationProblemDetails(
                Errors(e.Problems)
            )
            {
                Status = StatusCodes.Status400BadRequest,
                Detail = $"{e.Problems.Count} problem(s) in the input; nothing was changed",
            },
            InvalidInputException e => Problem(StatusCodes.Status400BadRequest, e.Message),
            NotFoundException e => Problem(StatusCodes.Status404NotFound, e.Message),
            RefusedException e => WithReasons(
                Problem(StatusCodes.Status409Conflict, e.Message),
                e.Reasons
            ),
            PromotionConflictException e => Problem(StatusCodes.Status409Conflict, e.Message),
            BuildNotRunningException e => Problem(StatusCodes.Status409Conflict, e.Message),
            _ => null,
        };

    private static ProblemDetails Problem(int status, string detail) =>
        new() { Status = status, Detail = detail };

    private static ProblemDetails WithReasons(ProblemDetails problem, IReadOnlyList<string> reasons)
    {
        problem.Extensions["reasons"] = reasons;
        return problem;
    }

    private static Dictionary<string, string[]> Errors(IReadOnlyList<InputProblem> problems) =>
        problems
            .GroupBy(p => p.Field, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g =>
                    g.Select(p =>
                            string.IsNullOrEmpty(p.File)
                                ? p.Message
                                : $"{p.File}:{p.Line}: {p.Message}"
                        )
                        .ToArray(),
                StringComparer.Ordinal
            );
}
