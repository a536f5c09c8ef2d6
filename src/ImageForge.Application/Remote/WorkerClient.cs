using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using ImageForge.Core.Promotion;

namespace ImageForge.Application.Remote;

/// <summary>
/// The catalog of a worker, read and driven through its HTTP API (<c>--server URL</c>, the token from
/// IMAGEFORGE_TOKEN): what <c>builds</c>, <c>images</c> and <c>build</c> need, with the API's problems turned into
/// the command line's errors (400/404: exit 2; 401/403/409: exit 1; 5xx or no answer: exit 3).
/// </summary>
public sealed class WorkerClient : ICatalogReader, IAsyncDisposable
{
    /// <summary>The environment variable holding the API token.</summary>
    public const string TokenVariable = "IMAGEFORGE_TOKEN";

    // Answers are read strictly: a null where the shape has none, or a member left out, is not a worker's answer
    // (the worker and this client are one version, so every member is there).
    private static readonly JsonSerializerOptions Reading = new(
        JsonInput.Strict(ImageForgeJson.Compact)
    )
    {
        RespectRequiredConstructorParameters = true,
    };

    private readonly HttpClient _http;

    public WorkerClient(Uri server, string? token, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = server;
        _http.Timeout = TimeSpan.FromMinutes(2);
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
                "Bearer",
                token
            );
        }
    }

    public Uri Server => _http.BaseAddress!;

    public async Task<BuildRecord?> GetBuildAsync(
        string buildId,
        CancellationToken cancellationToken = default
    ) =>
        (
            await GetAsync<BuildView>($"/api/builds/{Escape(buildId)}", cancellationToken, true)
        )?.ToRecord();

    public async Task<IReadOnlyList<BuildRecord>> ListBuildsAsync(
        string? image = null,
        int limit = 50,
        CancellationToken cancellationToken = default
    )
    {
        var query = image is null ? $"?limit={limit}" : $"?image={Escape(image)}&limit={limit}";
        var builds = await GetAsync<List<BuildView>>($"/api/builds{query}", cancellationToken);
        return [.. builds!.Select(b => b.ToRecord())];
    }

    public async Task<IReadOnlyList<LogLine>> ReadLogAsync(
        string buildId,
        long afterSequence = 0,
        int limit = 10_000,
        CancellationToken cancellationToken = default
    )
    {
        var lines = await GetAsync<List<LogLineView>>(
            $"/api/builds/{Escape(buildId)}/logs?after={afterSequence}",
            cancellationToken
        );
        return [.. lines!.Take(limit).Select(l => new LogLine(l.Seq, l.Time, l.Stream, l.Text))];
    }

    public async Task<IReadOnlyList<ImageSummary>> ListImagesAsync(
        CancellationToken cancellationToken = default
    )
    {
        var images = await GetAsync<List<ImageView>>("/api/images", cancellationToken);
        return
        [
            .. images!.Select(i => new ImageSummary(
                i.Image,
                i.Versions,
                i.LatestVersion,
                i.LatestCreatedAt
            )),
        ];
    }

    public async Task<IReadOnlyList<ImageVersion>> ListVersionsAsync(
        string image,
        int limit = 50,
        CancellationToken cancellationToken = default
    )
    {
        var versions = await GetAsync<ImageVersionsView>(
            $"/api/images/{Escape(image)}/versions?limit={limit}",
            cancellationToken,
            notFoundIsNull: true
        );
        return versions is null ? [] : [.. versions.Versions.Select(ToVersion)];
    }

    public async Task<ImageVersion?> GetVersionAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    )
    {
        var found = await GetAsync<VersionView>(
            $"/api/images/{Escape(image)}/versions/{Escape(version)}",
            cancellationToken,
            notFoundIsNull: true
        );
        return found is null ? null : ToVersion(found);
    }

    /// <summary>Queues a build on the worker; returns it and whether it joined one already queued.</summary>
    public async Task<(BuildRecord Build, bool Joined)> QueueBuildAsync(
        string image,
        string? target,
        string? reason,
        string? idempotencyKey,
        CancellationToken cancellationToken
    )
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/builds")
        {
            Content = JsonContent.Create(
                new
                {
                    image,
                    target,
                    reason,
                },
                options: ImageForgeJson.Compact
            ),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        var queued = await SendAsync<QueuedBuildView>(request, false, cancellationToken);
        return (queued!.Build.ToRecord(), queued.Joined);
    }

    /// <summary>Cancels a queued build or asks a running one to stop.</summary>
    public async Task<BuildRecord> CancelBuildAsync(
        string buildId,
        CancellationToken cancellationToken
    )
    {
        using var request = new HttpRequestMessage(
            HttpMethod.Post,
            $"/api/builds/{Escape(buildId)}/cancel"
        );
        return (await SendAsync<BuildView>(request, false, cancellationToken))!.ToRecord();
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<T?> GetAsync<T>(
        string path,
        CancellationToken cancellationToken,
        bool notFoundIsNull = false
    )
        where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await SendAsync<T>(request, notFoundIsNull, cancellationToken);
    }

    private async Task<T?> SendAsync<T>(
        HttpRequestMessage request,
        bool notFoundIsNull,
        CancellationToken cancellationToken
    )
        where T : class
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ToolFailedException(
                "worker",
                $"no answer from the worker at {Server}: {e.Message}. Check --server (or IMAGEFORGE_SERVER) and that 'imageforge worker' runs there.",
                []
            );
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                T? value;
                try
                {
                    value = await response.Content.ReadFromJsonAsync<T>(Reading, cancellationToken);
                }
                catch (Exception e) when (e is JsonException or NotSupportedException)
                {
                    throw NotAnAnswer(request, response, e.Message);
                }

                return value ?? throw NotAnAnswer(request, response, "the body is JSON null");
            }

            if (response.StatusCode == HttpStatusCode.NotFound && notFoundIsNull)
            {
                return null;
            }

            throw await ProblemAsync(request, response, cancellationToken);
        }
    }

    private async Task<ImageForgeException> ProblemAsync(
        HttpRequestMessage request,
        HttpResponseMessage response,
        CancellationToken cancellationToken
    )
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var detail = ProblemText(text) ?? text;
        var what = $"{request.Method} {request.RequestUri} on {Server}: {(int)response.StatusCode}";
        return (int)response.StatusCode switch
        {
            400 or 404 => new InvalidInputException($"{what}: {detail}"),
            401 => new RefusedException(
                $"{what}: {detail}. Set {TokenVariable} to a token from 'imageforge tokens create' on the worker."
            ),
            403 or 409 => new RefusedException($"{what}: {detail}"),
            _ => new ToolFailedException("worker", $"{what}: {detail}", []),
        };
    }

    // A problem document's detail (or title) and its validation errors; null when the text is not one, so the text
    // itself is shown.
    private static string? ProblemText(string text)
    {
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var parts = new List<string>();
            if (Text(root, "detail") is { Length: > 0 } detail)
            {
                parts.Add(detail);
            }
            else if (Text(root, "title") is { } title)
            {
                parts.Add(title);
            }

            if (
                root.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Object
            )
            {
                foreach (var field in errors.EnumerateObject())
                {
                    if (field.Value.ValueKind == JsonValueKind.Array)
                    {
                        parts.AddRange(
                            field
                                .Value.EnumerateArray()
                                .Where(m => m.ValueKind == JsonValueKind.String)
                                .Select(m => $"{field.Name}: {m.GetString()}")
                        );
                    }
                }
            }

            return parts.Count > 0 ? string.Join(Environment.NewLine, parts) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    // A success status with a body that is not what an ImageForge worker sends: the URL names something else.
    private ToolFailedException NotAnAnswer(
        HttpRequestMessage request,
        HttpResponseMessage response,
        string problem
    ) =>
        new(
            "worker",
            $"{request.Method} {request.RequestUri} on {Server}: {(int)response.StatusCode}, but the answer is not an ImageForge worker's JSON ({problem}). Check that --server (or IMAGEFORGE_SERVER) names an 'imageforge worker'.",
            []
        );

    private static string Escape(string value) => Uri.EscapeDataString(value);

    private static ImageVersion ToVersion(VersionView v) =>
        new()
        {
            Image = v.Image,
            Version = v.Version,
            BuildId = v.BuildId,
            CreatedAt = v.CreatedAt,
            Status = v.Status,
            Fingerprint = v.Fingerprint,
            Artifacts =
            [
                .. v.Artifacts.Select(a => new Artifact
                {
                    Target = a.Target,
                    Region = a.Region,
                    Kind = a.Kind,
                    Location = a.Path,
                    Sha256 = a.Sha256,
                    SizeBytes = a.SizeBytes,
                }),
            ],
            Evidence =
            [
                .. v.Evidence.Select(e => new EvidenceDocument
                {
                    Kind = e.Kind,
                    Location = e.Path,
                    Sha256 = e.Sha256,
                    SizeBytes = e.SizeBytes,
                    MediaType = e.MediaType,
                    RecordedAt = e.RecordedAt,
                }),
            ],
        };
}
