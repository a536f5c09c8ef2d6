using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
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
                return await response.Content.ReadFromJsonAsync<T>(
                    ImageForgeJson.Compact,
                    cancellationToken
                );
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
        var detail = text;
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            var parts = new List<string>();
            if (root.TryGetProperty("detail", out var d) && d.GetString() is { Length: > 0 } dd)
            {
                parts.Add(dd);
            }
            else if (root.TryGetProperty("title", out var t) && t.GetString() is { } tt)
            {
                parts.Add(tt);
            }

            if (
                root.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Object
            )
            {
                foreach (var field in errors.EnumerateObject())
                {
                    parts.AddRange(
                        field.Value.EnumerateArray().Select(m => $"{field.Name}: {m.GetString()}")
                    );
                }
            }

            detail = string.Join(Environment.NewLine, parts);
        }
        catch (JsonException)
        {
            // Not a problem document: its text says what happened.
        }

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
