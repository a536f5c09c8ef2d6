using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Google.Apis.Http;
using ImageForge.Core.Errors;

namespace ImageForge.Providers.Gcp.Compute;

/// <summary>
/// The Compute Engine methods ImageForge calls (images and global operations), as a small typed client over
/// Google.Apis' own HTTP client: no Compute client library is served here, so requests are ours but the transport,
/// the bearer token (and its refresh on 401) and the back-off on 429/5xx are the library's.
/// Every mutating call takes a requestId, which GCE uses to answer a repeat with the first operation.
/// </summary>
internal sealed class ComputeClient(HttpClient http) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The scope the product asks for Compute Engine.</summary>
    public const string Scope = "https://www.googleapis.com/auth/compute";

    /// <summary>A client with <paramref name="initializers"/> (credential, back-off) based at <paramref name="baseUri"/>.</summary>
    public static ComputeClient Create(
        Uri baseUri,
        params IConfigurableHttpClientInitializer[] initializers
    )
    {
        var args = new CreateHttpClientArgs { ApplicationName = "imageforge" };
        foreach (var initializer in initializers)
        {
            args.Initializers.Add(initializer);
        }

        var client = new HttpClientFactory().CreateHttpClient(args);
        client.BaseAddress = baseUri;
        return new ComputeClient(client);
    }

    public Task<ComputeOperation> InsertImageAsync(
        string project,
        JsonObject image,
        string requestId,
        CancellationToken cancellationToken
    ) =>
        SendAsync<ComputeOperation>(
            HttpMethod.Post,
            $"projects/{project}/global/images?requestId={requestId}",
            image,
            cancellationToken
        )!;

    /// <summary>The image, or null when there is none of that name.</summary>
    public Task<ComputeImage?> GetImageAsync(
        string project,
        string name,
        CancellationToken cancellationToken
    ) =>
        SendAsync<ComputeImage>(
            HttpMethod.Get,
            $"projects/{project}/global/images/{name}",
            null,
            cancellationToken,
            allowNotFound: true
        );

    /// <summary>What the family serves now (newest READY, not deprecated), or null when it serves nothing.</summary>
    public Task<ComputeImage?> GetFromFamilyAsync(
        string project,
        string family,
        CancellationToken cancellationToken
    ) =>
        SendAsync<ComputeImage>(
            HttpMethod.Get,
            $"projects/{project}/global/images/family/{family}",
            null,
            cancellationToken,
            allowNotFound: true
        );

    /// <summary>Every image matching the filter (all pages).</summary>
    public async Task<IReadOnlyList<ComputeImage>> ListImagesAsync(
        string project,
        string filter,
        CancellationToken cancellationToken
    )
    {
        var images = new List<ComputeImage>();
        string? page = null;
        do
        {
            var path =
                $"projects/{project}/global/images?filter={Uri.EscapeDataString(filter)}&maxResults=500"
                + (page is null ? "" : $"&pageToken={Uri.EscapeDataString(page)}");
            var list = await SendAsync<ComputeImageList>(
                HttpMethod.Get,
                path,
                null,
                cancellationToken
            );
            images.AddRange(list!.Items ?? []);
            page = list.NextPageToken;
        } while (page is not null);

        return images;
    }

    /// <summary>images.patch: only family, description and deprecated may change.</summary>
    public Task<ComputeOperation> PatchImageAsync(
        string project,
        string name,
        JsonObject changes,
        string requestId,
        CancellationToken cancellationToken
    ) =>
        SendAsync<ComputeOperation>(
            HttpMethod.Patch,
            $"projects/{project}/global/images/{name}?requestId={requestId}",
            changes,
            cancellationToken
        )!;

    public Task<ComputeOperation> DeprecateAsync(
        string project,
        string name,
        DeprecationStatus status,
        string requestId,
        CancellationToken cancellationToken
    ) =>
        SendAsync<ComputeOperation>(
            HttpMethod.Post,
            $"projects/{project}/global/images/{name}/deprecate?requestId={requestId}",
            JsonSerializer.SerializeToNode(status, Json),
            cancellationToken
        )!;

    /// <summary>
    /// images.setLabels: it takes no requestId; the label fingerprint makes a repeat fail (412) instead of undoing a
    /// change made meanwhile.
    /// </summary>
    public Task<ComputeOperation> SetLabelsAsync(
        string project,
        string name,
        IReadOnlyDictionary<string, string> labels,
        string fingerprint,
        CancellationToken cancellationToken
    ) =>
        SendAsync<ComputeOperation>(
            HttpMethod.Post,
            $"projects/{project}/global/images/{name}/setLabels",
            new JsonObject
            {
                ["labels"] = new JsonObject(
                    labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))
                ),
                ["labelFingerprint"] = fingerprint,
            },
            cancellationToken
        )!;

    /// <summary>images.delete; null when the image is gone already.</summary>
    public Task<ComputeOperation?> DeleteImageAsync(
        string project,
        string name,
        string requestId,
        CancellationToken cancellationToken
    ) =>
        SendAsync<ComputeOperation>(
            HttpMethod.Delete,
            $"projects/{project}/global/images/{name}?requestId={requestId}",
            null,
            cancellationToken,
            allowNotFound: true
        );

    /// <summary>
    /// Waits for a global operation through globalOperations.wait (which answers when it is DONE or after a while),
    /// reporting its progress; throws <see cref="ComputeOperationException"/> when it ends in error.
    /// </summary>
    public async Task<ComputeOperation> WaitAsync(
        string project,
        ComputeOperation operation,
        Action<ComputeOperation> progress,
        CancellationToken cancellationToken
    )
    {
        while (operation.Status != "DONE")
        {
            progress(operation);
            operation = (
                await SendAsync<ComputeOperation>(
                    HttpMethod.Post,
                    $"projects/{project}/global/operations/{operation.Name}/wait",
                    null,
                    cancellationToken
                )
            )!;
        }

        progress(operation);
        if (operation.Error?.Errors is { Count: > 0 } errors)
        {
            throw new ComputeOperationException(
                operation,
                string.Join("; ", errors.Select(e => $"{e.Code}: {e.Message}"))
            );
        }

        return operation;
    }

    public void Dispose() => http.Dispose();

    private async Task<T?> SendAsync<T>(
        HttpMethod method,
        string path,
        JsonNode? body,
        CancellationToken cancellationToken,
        bool allowNotFound = false
    )
        where T : class
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw ComputeException.From(method, path, response.StatusCode, text);
        }

        return JsonSerializer.Deserialize<T>(text, Json)
            ?? throw new ComputeException(
                response.StatusCode,
                null,
                $"{method} {path}: empty answer"
            );
    }
}

/// <summary>A Compute Engine image as ImageForge reads it.</summary>
internal sealed record ComputeImage
{
    public required string Name { get; init; }
    public string? Id { get; init; }
    public string? SelfLink { get; init; }
    public string? Status { get; init; }
    public string? Family { get; init; }
    public string? CreationTimestamp { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
    public string? LabelFingerprint { get; init; }
    public DeprecationStatus? Deprecated { get; init; }
    public List<string>? StorageLocations { get; init; }
    public List<GuestOsFeature>? GuestOsFeatures { get; init; }
    public string? DiskSizeGb { get; init; }
}

internal sealed record GuestOsFeature(string Type);

/// <summary>An image's deprecation status (images.deprecate's body).</summary>
internal sealed record DeprecationStatus
{
    public string? State { get; init; }
    public string? Replacement { get; init; }
    public string? Deprecated { get; init; }
    public string? Obsolete { get; init; }
    public string? Deleted { get; init; }
}

internal sealed record ComputeImageList(List<ComputeImage>? Items, string? NextPageToken);

/// <summary>A global operation.</summary>
internal sealed record ComputeOperation
{
    public required string Name { get; init; }
    public string? Status { get; init; }
    public int? Progress { get; init; }
    public string? TargetLink { get; init; }
    public string? OperationType { get; init; }
    public OperationError? Error { get; init; }
    public int? HttpErrorStatusCode { get; init; }
}

internal sealed record OperationError(List<OperationErrorItem>? Errors);

internal sealed record OperationErrorItem(string? Code, string? Message);

/// <summary>Compute Engine refused a request (its status, Google's reason and message).</summary>
internal sealed class ComputeException(HttpStatusCode status, string? reason, string message)
    : ImageForgeException(message)
{
    public HttpStatusCode Status { get; } = status;

    public string? Reason { get; } = reason;

    public override int ExitCode => 3;

    public static ComputeException From(
        HttpMethod method,
        string path,
        HttpStatusCode status,
        string body
    )
    {
        string? reason = null;
        var message = body;
        try
        {
            var error = JsonNode.Parse(body)?["error"];
            reason = (string?)error?["errors"]?[0]?["reason"];
            message = (string?)error?["message"] ?? body;
        }
        catch (JsonException)
        {
            // Not Google's error shape: the text is the message.
        }

        var route = path.Split('?')[0];
        return new ComputeException(
            status,
            reason,
            $"{method} {route}: {(int)status} {reason ?? status.ToString()}: {message}"
        );
    }
}

/// <summary>A Compute Engine operation ended DONE with an error.</summary>
internal sealed class ComputeOperationException(ComputeOperation operation, string message)
    : ImageForgeException(
        $"operation {operation.Name} ({operation.OperationType}) failed: {message}"
    )
{
    public ComputeOperation Operation { get; } = operation;

    public override int ExitCode => 3;
}
