using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageForge.TestUtils;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ImageForge.CloudFakes.Gcp;

/// <summary>Settings of a <see cref="GcpFake"/>.</summary>
public sealed class GcpFakeOptions
{
    /// <summary>The fake's clock (token lifetimes, timestamps).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Polls (<c>globalOperations.get</c>, or steps of <c>wait</c>) an operation takes from PENDING to DONE.</summary>
    public int OperationPolls { get; init; } = 2;

    /// <summary>How long <c>globalOperations.wait</c> blocks at most before it answers an operation not yet DONE.</summary>
    public TimeSpan OperationWaitTimeout { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The base of Compute Engine's resource URLs (<c>selfLink</c>, <c>targetLink</c>); GCE's own by default, so a
    /// client that follows a link instead of its configured endpoint fails loudly.
    /// </summary>
    public string ComputeLinkBase { get; init; } = "https://www.googleapis.com/compute/v1/";
}

/// <summary>
/// Google Cloud on 127.0.0.1 for the tests: the OAuth token endpoint (service-account JWT grant), Cloud Storage's JSON
/// API (objects: media, multipart and resumable uploads, get, delete) and Compute Engine's global images and
/// operations. Every request is checked against the discovery documents in <c>tests/specs</c>; what breaks them is
/// answered with Google's 400 and recorded in <see cref="Problems"/>. Paths: <c>/token</c>,
/// <c>/storage/v1/</c>, <c>/upload/storage/v1/</c>, <c>/download/storage/v1/</c>, <c>/compute/v1/</c>.
/// </summary>
public sealed class GcpFake : IAsyncDisposable
{
    /// <summary>The method name faults and counters use for the PUTs of a resumable upload session.</summary>
    public const string ResumableChunk = "storage.objects.insert#chunk";

    /// <summary>The method name faults and counters use for the token endpoint.</summary>
    public const string TokenMethod = "oauth2.token";

    private static readonly Lazy<DiscoveryDocument> StorageDocument = new(() =>
        DiscoveryDocument.Load(
            Path.Combine(RepoPaths.Specs, "gcp-storage", "storage.v1.json"),
            gceLabels: false
        )
    );
    private static readonly Lazy<DiscoveryDocument> ComputeDocument = new(() =>
        DiscoveryDocument.Load(
            Path.Combine(RepoPaths.Specs, "gcp-compute", "compute.v1.images-only.json"),
            gceLabels: true
        )
    );

    // An RSA-2048 key takes up to a second to generate: each test process makes two and every fake trusts the first.
    private static readonly Lazy<RSA> SharedKey = new(() => RSA.Create(2048));
    private static readonly Lazy<RSA> UntrustedKey = new(() => RSA.Create(2048));

    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private LoopbackService? _service;
    private GcpOAuth? _oauth;

    private GcpFake(GcpFakeOptions options)
    {
        Options = options;
        Storage = new GcpStorageState(this);
        Compute = new GcpComputeState(this);
    }

    internal GcpFakeOptions Options { get; }

    /// <summary>The fake's root, ending in '/'.</summary>
    public Uri Url => _service!.Url;

    /// <summary>The token endpoint (a service-account key's <c>token_uri</c>).</summary>
    public Uri TokenUri => _oauth!.TokenUri;

    /// <summary>Cloud Storage's JSON API root (<c>StorageClientBuilder.BaseUri</c>).</summary>
    public Uri StorageBaseUri => new(Url, "storage/v1/");

    /// <summary>Compute Engine's API root.</summary>
    public Uri ComputeBaseUri => new(Url, "compute/v1/");

    /// <summary>Every way a request broke the discovery documents or the APIs' rules.</summary>
    public ModelProblems Problems { get; } = new();

    /// <summary>Buckets, objects and the log of resumable-upload chunks.</summary>
    public GcpStorageState Storage { get; }

    /// <summary>Images and global operations.</summary>
    public GcpComputeState Compute { get; }

    /// <summary>Failures to inject.</summary>
    public GcpFaults Faults { get; } = new();

    /// <summary>Calls received per method (discovery id, <see cref="ResumableChunk"/>, <see cref="TokenMethod"/>).</summary>
    public IReadOnlyDictionary<string, int> Calls =>
        new Dictionary<string, int>(_calls, StringComparer.Ordinal);

    /// <summary>Calls of one method so far.</summary>
    public int CallsOf(string methodId) => _calls.TryGetValue(methodId, out var n) ? n : 0;

    /// <summary>Starts the fake on a free loopback port.</summary>
    public static async Task<GcpFake> StartAsync(
        GcpFakeOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        var fake = new GcpFake(options ?? new GcpFakeOptions());
        _ = StorageDocument.Value;
        _ = ComputeDocument.Value;
        fake._service = await LoopbackService.StartAsync(
            fake.HandleAsync,
            cancellationToken: cancellationToken
        );
        fake._oauth = new GcpOAuth(fake.Options.Time, new Uri(fake._service.Url, "token"));
        return fake;
    }

    /// <summary>
    /// A new service account whose key the token endpoint trusts: its key file (JSON, as the Cloud console writes
    /// it, <c>token_uri</c> = this fake).
    /// </summary>
    public string CreateServiceAccountKey(string clientEmail, string projectId)
    {
        var key = SharedKey.Value;
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var publicKey = RSA.Create();
        publicKey.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        _oauth!.Register(clientEmail, keyId, publicKey);
        return GcpOAuth.KeyFile(key, keyId, clientEmail, projectId, TokenUri);
    }

    /// <summary>
    /// A key file for <paramref name="clientEmail"/> with a private key the fake has never seen, under the key id of
    /// the account's trusted key (key ids are public): only the signature tells it apart.
    /// </summary>
    public string CreateUntrustedServiceAccountKey(string clientEmail, string projectId) =>
        GcpOAuth.KeyFile(
            UntrustedKey.Value,
            _oauth!.KeyIdOf(clientEmail) ?? "unknown",
            clientEmail,
            projectId,
            TokenUri
        );

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var rawPath = raw.Split('?', 2)[0];
        var segments = rawPath
            .Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(Uri.UnescapeDataString)
            .ToArray();
        var label = $"{context.Request.Method} {rawPath}";
        try
        {
            if (segments is ["token"] && HttpMethods.IsPost(context.Request.Method))
            {
                Count(TokenMethod);
                if (await _oauth!.HandleAsync(context) is { } problem)
                {
                    Problems.Add($"{TokenMethod}: {problem}");
                }
                return;
            }
            if (GcpStorageApi.IsSessionRequest(context, segments))
            {
                Count(ResumableChunk);
                if (Faults.TakeCallFailure(ResumableChunk) is { } status)
                {
                    throw Throttled(status);
                }
                await GcpStorageApi.HandleSessionAsync(this, context);
                return;
            }
            var document = segments switch
            {
                ["storage", ..] or ["upload", "storage", ..] or ["download", "storage", ..] =>
                    StorageDocument.Value,
                ["resumable", "upload", "storage", ..] => StorageDocument.Value,
                ["compute", ..] => ComputeDocument.Value,
                _ => null,
            };
            var route = document?.Route(context.Request.Method, segments);
            if (document is null || route is null)
            {
                throw new GcpException(
                    404,
                    "notFound",
                    $"No method of {document?.Name ?? "storage.v1 or compute.v1"} answers {label}."
                )
                {
                    ModelProblem = true,
                };
            }
            label = route.Method.Id;
            Count(route.Method.Id);
            var grant = Authorize(context, route.Method);
            if (Faults.TakeCallFailure(route.Method.Id) is { } injected)
            {
                throw Throttled(injected);
            }
            var call = new GcpCall(context, route, document, grant);
            ThrowIfInvalid(document.CheckParameters(route, context.Request.Query));
            if (route.Kind == RouteKind.Plain && route.Method.RequestSchema is not null)
            {
                call = call with { Body = await ReadJsonAsync(context) };
                ThrowIfInvalid(call.CheckBody(call.Body));
            }
            else if (
                route.Kind == RouteKind.Plain
                && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true
                && (await ReadBodyAsync(context)).Length > 0
            )
            {
                ThrowIfInvalid([Violation.Invalid($"{route.Method.Id} takes no request body.")]);
            }
            await (
                document == ComputeDocument.Value
                    ? GcpComputeApi.HandleAsync(this, call)
                    : GcpStorageApi.HandleAsync(this, call)
            );
        }
        catch (GcpException e)
        {
            if (e.Status == 400 || e.ModelProblem)
            {
                Problems.Add($"{label}: {string.Join("; ", e.Errors.Select(x => x.Message))}");
            }
            if (!context.Response.HasStarted)
            {
                await WriteErrorAsync(context, e);
            }
        }
    }

    private void Count(string methodId) => _calls.AddOrUpdate(methodId, 1, (_, n) => n + 1);

    private static GcpException Throttled(HttpStatusCode status) =>
        status == HttpStatusCode.TooManyRequests
            ? new GcpException(429, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits")
            : new GcpException(503, "backendError", "Backend Error");

    private AccessGrant Authorize(HttpContext context, DiscoveryMethod method)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token =
            header.StartsWith("Bearer ", StringComparison.Ordinal)
                ? header["Bearer ".Length..].Trim()
            : context.Request.Query["access_token"].ToString() is { Length: > 0 } query ? query
            : context.Request.Query["oauth_token"].ToString();
        var grant = token.Length == 0 ? null : _oauth!.Grant(token, Url);
        if (grant is null)
        {
            context.Response.Headers.WWWAuthenticate =
                "Bearer realm=\"https://accounts.google.com/\"";
            throw new GcpException(
                401,
                "authError",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
            );
        }
        if (!method.Scopes.Overlaps(grant.Scopes))
        {
            throw new GcpException(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes."
            );
        }
        return grant;
    }

    internal static void ThrowIfInvalid(List<Violation> violations)
    {
        if (violations.Count > 0)
        {
            throw new GcpException(400, violations);
        }
    }

    /// <summary>The request body as JSON (gzip decoded), or null when there is none.</summary>
    internal static async Task<JsonNode?> ReadJsonAsync(HttpContext context)
    {
        var bytes = await ReadBodyAsync(context);
        if (bytes.Length == 0)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new GcpException(
                400,
                "parseError",
                $"Invalid JSON payload received. {e.Message}"
            );
        }
    }

    internal static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        var body = context.Request.Body;
        if (
            string.Equals(
                context.Request.Headers.ContentEncoding,
                "gzip",
                StringComparison.OrdinalIgnoreCase
            )
        )
        {
            body = new GZipStream(body, CompressionMode.Decompress);
        }
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.ToArray();
    }

    internal static Task WriteJsonAsync(HttpContext context, JsonNode body, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static Task WriteErrorAsync(HttpContext context, GcpException e)
    {
        var errors = new JsonArray();
        foreach (var (reason, message) in e.Errors)
        {
            errors.Add(
                new JsonObject
                {
                    ["message"] = message,
                    ["domain"] = e.Domain,
                    ["reason"] = reason,
                }
            );
        }
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = e.Status,
                ["message"] = e.Errors[0].Message,
                ["errors"] = errors,
            },
        };
        return WriteJsonAsync(context, body, e.Status);
    }
}

/// <summary>One request routed to a method, with what the router already checked.</summary>
internal sealed record GcpCall(
    HttpContext Http,
    DiscoveryRoute Route,
    DiscoveryDocument Document,
    AccessGrant Grant
)
{
    public JsonNode? Body { get; init; }

    public string Path(string name) => Route.PathValues[name];

    public string? Query(string name) =>
        Http.Request.Query.TryGetValue(name, out var value) ? value.ToString() : null;

    public List<Violation> CheckBody(JsonNode? body) =>
        Document.CheckBody(Route.Method, body, [.. Http.Request.Query.Keys]);
}

/// <summary>An answer in Google's JSON error format, thrown by a handler.</summary>
internal sealed class GcpException : Exception
{
    public GcpException(int status, string reason, string message, string domain = "global")
        : this(status, [new Violation(reason, message)], domain) { }

    public GcpException(int status, List<Violation> errors, string domain = "global")
        : base(errors[0].Message)
    {
        Status = status;
        Errors = errors;
        Domain = domain;
    }

    public int Status { get; }

    public IReadOnlyList<Violation> Errors { get; }

    public string Domain { get; }

    /// <summary>A 501 for a method or feature the fake does not model, recorded so a new call gets noticed.</summary>
    public static GcpException NotModeled(string what) =>
        new(501, "notImplemented", $"The fake does not model {what}.") { ModelProblem = true };

    /// <summary>Record the request in <see cref="GcpFake.Problems"/> even though the status is not 400.</summary>
    public bool ModelProblem { get; init; }
}
