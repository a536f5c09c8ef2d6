using System.Text.Json;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

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
/// <see cref="PromotionConflictException"/> and <see cref="BuildNotRunningException"/> 409, a request the endpoint
/// could not bind (<see cref="BadHttpRequestException"/>: a body of the wrong shape 400 naming the JSON path, a body
/// over the limit 413), <see cref="EvidenceUnreadableException"/> 500 naming the version and the stored file (the
/// worker's problem, logged as an error). Anything else is left to the default handler (500 without details).
/// </summary>
internal sealed partial class ApiExceptionHandler(
    IProblemDetailsService problems,
    ILogger<ApiExceptionHandler> logger
) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(
        HttpContext httpContext,
        Exception exception,
        CancellationToken cancellationToken
    )
    {
        var problem = ProblemFor(exception, ApiLimits.BodyLimitOf(httpContext));
        if (problem is null)
        {
            return false;
        }

        if (exception is EvidenceUnreadableException unreadable)
        {
            LogUnreadable(httpContext.Request.Path, unreadable.Message);
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

    internal static ProblemDetails? ProblemFor(
        Exception exception,
        long bodyLimit = ApiLimits.MaxRequestBodyBytes
    ) =>
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
            EvidenceUnreadableException e => Problem(
                StatusCodes.Status500InternalServerError,
                e.Message
            ),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => Problem(
                StatusCodes.Status413PayloadTooLarge,
                $"the request body is larger than {bodyLimit} bytes (docs/worker.md, request limits); nothing was changed"
            ),
            BadHttpRequestException { InnerException: JsonException json } => Problem(
                StatusCodes.Status400BadRequest,
                $"the request body is not the JSON object this endpoint takes (see /openapi/v1.json): {Describe(json)}; nothing was changed"
            ),
            BadHttpRequestException e => Problem(e.StatusCode, e.Message),
            _ => null,
        };

    // "$.resume has the wrong type (line 1, byte 31)": the path and the place, without the .NET type names of the
    // serializer's own message.
    private static string Describe(JsonException e)
    {
        var reason = e.Message.StartsWith(
            "The JSON value could not be converted",
            StringComparison.Ordinal
        )
            ? "has the wrong type"
            : e.Message.Split(" Path: ", 2)[0].Split(" LineNumber: ", 2)[0].TrimEnd(' ', '|');
        var place = e.LineNumber is { } line
            ? $" (line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1})"
            : "";
        return $"{e.Path ?? "$"}: {reason}{place}";
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Path}: stored evidence: {Problem}")]
    private partial void LogUnreadable(string path, string problem);

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
