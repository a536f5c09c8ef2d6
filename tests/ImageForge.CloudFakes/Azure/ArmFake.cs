using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core.Pipeline;
using Azure.ResourceManager;
using ImageForge.TestUtils;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;

namespace ImageForge.CloudFakes.Azure;

/// <summary>
/// An in-process Azure Resource Manager for Compute Gallery on https://127.0.0.1 (test certificate): galleries,
/// image definitions and image versions with long-running operations and per-region replication. Every request is
/// checked against the Compute Gallery REST spec (tests/specs/azure-compute-gallery, api-version 2024-03-03; the SDK's
/// 2022-03-03 is accepted too); a request the model refuses is answered with ARM's error body and recorded in
/// <see cref="Problems"/>, which must be empty (or taken with <see cref="TakeProblems"/>) when the fake is disposed.
/// See Azure/README.md.
/// </summary>
public sealed partial class ArmFake : IAsyncDisposable
{
    /// <summary>The subscription clients get by default.</summary>
    public const string DefaultSubscriptionId = "5f1c2e7a-0d3b-4c59-9a6e-1f0e2d3c4b5a";

    /// <summary>The tenant of that subscription.</summary>
    public const string TenantId = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

    /// <summary>The api-versions of Compute Gallery the fake accepts: the spec's, and the one the SDK sends.</summary>
    public static readonly IReadOnlyList<string> GalleryApiVersions = ["2022-03-03", "2024-03-03"];

    private static readonly Lazy<SwaggerModel> LazyModel = new(() =>
        SwaggerModel.Load(
            Path.Combine(
                RepoPaths.Specs,
                "azure-compute-gallery",
                "Microsoft.Compute",
                "GalleryRP",
                "stable",
                "2024-03-03",
                "gallery.json"
            )
        )
    );

    private readonly ArmFakeOptions _options;
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ArmRequest> _requests = new();
    private readonly List<IDisposable> _handlers = [];
    private LoopbackService? _service;
    private int _acknowledged;

    private ArmFake(ArmFakeOptions options)
    {
        _options = options;
        State = new GalleryState(options);
        State.AddResourceGroup(DefaultSubscriptionId, "imageforge-images", "westeurope");
    }

    private static SwaggerModel Model => LazyModel.Value;

    /// <summary>The fake's root (https, ends in '/').</summary>
    public Uri Url => _service!.Url;

    /// <summary>The certificate the fake serves; clients trust exactly this one.</summary>
    public X509Certificate2 Certificate => _service!.Certificate!;

    /// <summary>The resources the fake holds.</summary>
    public GalleryState State { get; }

    /// <summary>Faults to inject.</summary>
    public ArmFaults Faults { get; } = new();

    /// <summary>Every request the model refused (and every answer of the fake's own that broke it).</summary>
    public ModelProblems Problems { get; } = new();

    /// <summary>Requests received per operation (swagger operationId, or ARM's own for subscriptions, resource groups, providers and operation status).</summary>
    public IReadOnlyDictionary<string, int> Calls =>
        new Dictionary<string, int>(_calls, StringComparer.Ordinal);

    /// <summary>Every request received, in order, with the status it was answered.</summary>
    public IReadOnlyList<ArmRequest> Requests => [.. _requests];

    /// <summary>All requests received.</summary>
    public int TotalCalls => _calls.Values.Sum();

    /// <summary>Starts the fake on a free loopback port with a fresh test certificate.</summary>
    public static async Task<ArmFake> StartAsync(
        ArmFakeOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        var fake = new ArmFake(options ?? new ArmFakeOptions());
        fake._service = await LoopbackService.StartAsync(
            fake.HandleAsync,
            TestCertificates.Loopback(),
            cancellationToken
        );
        return fake;
    }

    /// <summary>
    /// An ArmClient wired to the fake: its endpoint, a transport trusting only the fake's certificate, a credential
    /// handing out the fake's token, and <see cref="DefaultSubscriptionId"/>.
    /// </summary>
    public ArmClient CreateClient(Action<ArmClientOptions>? configure = null) =>
        new(
            new TestTokenCredential(_options.Token),
            DefaultSubscriptionId,
            CreateClientOptions(configure)
        );

    /// <summary>Client options pointing at the fake (for a client the code under test builds itself).</summary>
    public ArmClientOptions CreateClientOptions(Action<ArmClientOptions>? configure = null)
    {
        var handler = TestCertificates.TrustingOnly(Certificate);
        lock (_handlers)
        {
            _handlers.Add(handler);
        }

        var options = new ArmClientOptions
        {
            Environment = new ArmEnvironment(
                Url,
                ArmEnvironment.AzurePublicCloud.Audience.TrimEnd('/')
            ),
            Transport = new HttpClientTransport(handler),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A raw HTTPS client for the fake (trusting its certificate, sending its token), for requests the SDK cannot make.</summary>
    public HttpClient CreateHttpClient()
    {
        var client = new HttpClient(TestCertificates.TrustingOnly(Certificate))
        {
            BaseAddress = Url,
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer",
            _options.Token
        );
        return client;
    }

    /// <summary>The problems recorded since the last call; a spec that provokes refusals takes them so dispose passes.</summary>
    public IReadOnlyList<string> TakeProblems()
    {
        var all = Problems.All;
        var fresh = all.Skip(_acknowledged).ToList();
        _acknowledged = all.Count;
        return fresh;
    }

    /// <summary>Stops the fake; throws when requests broke the model and no spec took those problems.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
            _service.Certificate?.Dispose();
        }

        lock (_handlers)
        {
            _handlers.ForEach(h => h.Dispose());
        }

        var left = Problems.All.Skip(_acknowledged).ToList();
        if (left.Count > 0)
        {
            throw new InvalidOperationException(
                "The Azure fake got requests its model refuses:\n" + string.Join('\n', left)
            );
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var match = Model.Match(request.Method, path);
        var own = match is null ? MatchArmOwn(request.Method, path) : null;
        var name = match?.Operation.OperationId ?? own?.Name ?? "Unmodelled";
        _calls.AddOrUpdate(name, 1, (_, n) => n + 1);
        var at = _options.Time.GetUtcNow();
        context.Response.Headers["x-ms-request-id"] = Guid.NewGuid().ToString("D");
        if (request.Headers.TryGetValue("x-ms-client-request-id", out var clientRequestId))
        {
            context.Response.Headers["x-ms-client-request-id"] = clientRequestId;
        }

        var answer = await AnswerAsync(context, match, own);
        if (answer.Problem is { } problem)
        {
            Problems.Add($"{request.Method} {path}{request.QueryString}: {problem}");
        }

        await WriteAsync(context, answer.Status, answer.Body, match?.Operation);
        _requests.Enqueue(
            new ArmRequest(at, name, request.Method, path + request.QueryString, answer.Status)
        );
    }

    private async Task<Answer> AnswerAsync(HttpContext context, SwaggerMatch? match, OwnMatch? own)
    {
        var request = context.Request;
        if (request.Headers.Authorization.ToString() != "Bearer " + _options.Token)
        {
            // ARM's answer; not a model problem (the SDK always authenticates: this is a spec's deliberate call).
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            return new Answer(
                401,
                Error(
                    new ArmError(
                        "AuthenticationFailed",
                        "Authentication failed. The 'Authorization' header is missing or its bearer token is not valid."
                    )
                )
            );
        }

        if (Faults.TakeThrottle() is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Seconds(retryAfter);
            return new Answer(
                429,
                Error(new ArmError("TooManyRequests", "The request is being throttled."))
            );
        }

        return match is not null ? await GalleryAsync(context, match)
            : own is not null ? ArmOwn(context, own)
            : Refuse(
                404,
                new ArmError(
                    "InvalidResourceType",
                    $"No operation of the Compute Gallery model matches {request.Method} {request.Path}."
                )
            );
    }

    private sealed record Answer(int Status, JsonNode? Body, string? Problem = null);

    private sealed record OwnMatch(string Name, string[] Segments);

    /// <summary>An ARM error answer that is also recorded as a model problem.</summary>
    private static Answer Refuse(
        int status,
        ArmError error,
        IEnumerable<Violation>? violations = null
    ) =>
        new(
            status,
            Error(error),
            $"{status} {error.Code}: "
                + (
                    violations is null
                        ? error.Message
                        : string.Join(
                            "; ",
                            violations.Select(v => $"{v.Kind} '{v.Path}': {v.Message}")
                        )
                )
        );

    private static JsonObject Error(ArmError error) => new() { ["error"] = error.ToJson() };

    private async Task<Answer> GalleryAsync(HttpContext context, SwaggerMatch match)
    {
        var request = context.Request;
        var operation = match.Operation;
        var apiVersion = request.Query["api-version"].ToString();
        if (apiVersion.Length == 0)
        {
            return Refuse(
                400,
                new ArmError(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests."
                )
            );
        }

        if (!GalleryApiVersions.Contains(apiVersion))
        {
            return Refuse(
                400,
                new ArmError(
                    "NoRegisteredProviderFound",
                    $"No registered resource provider found for API version '{apiVersion}' of {operation.OperationId}. The supported api-versions are '{string.Join(", ", GalleryApiVersions)}'."
                )
            );
        }

        var queryProblems = Model
            .CheckQuery(
                operation,
                n => request.Query.TryGetValue(n, out var v) ? v.ToString() : null
            )
            .ToList();
        if (queryProblems.Count > 0)
        {
            return Refuse(
                400,
                new ArmError("InvalidParameter", queryProblems[0].Message, queryProblems[0].Path),
                queryProblems
            );
        }

        JsonObject? body = null;
        if (operation.Body is { } schema)
        {
            if (
                !(request.ContentType ?? "").StartsWith(
                    "application/json",
                    StringComparison.OrdinalIgnoreCase
                )
            )
            {
                return Refuse(
                    415,
                    new ArmError(
                        "UnsupportedMediaType",
                        $"The content media type '{request.ContentType}' is not supported. Only 'application/json' is supported."
                    )
                );
            }

            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(context.RequestAborted);
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                return Refuse(
                    400,
                    new ArmError(
                        "InvalidRequestContent",
                        $"The request content was invalid and could not be deserialized: '{e.Message}'."
                    )
                );
            }

            using (document)
            {
                var mode = operation.Method == "PATCH" ? SchemaMode.Patch : SchemaMode.Create;
                var violations = Model.Check(schema, document.RootElement, "", mode);
                if (violations.Count > 0)
                {
                    var first = violations[0];
                    var code =
                        first.Kind == ViolationKind.MissingRequired
                            ? "InvalidParameter"
                            : "InvalidRequestContent";
                    var message =
                        first.Kind == ViolationKind.MissingRequired
                            ? first.Message
                            : $"The request content was invalid and could not be deserialized: '{first.Message}'.";
                    return Refuse(400, new ArmError(code, message, first.Path), violations);
                }

                body =
                    document.RootElement.ValueKind == JsonValueKind.Object
                        ? JsonNode.Parse(text) as JsonObject
                        : null;
            }
        }

        var id = "/" + Uri.UnescapeDataString(request.Path.Value ?? "/").Trim('/');
        var kind = operation.OperationId.Split('_')[0] switch
        {
            "Galleries" => ResourceKind.Gallery,
            "GalleryImages" => ResourceKind.Image,
            "GalleryImageVersions" => ResourceKind.Version,
            _ => (ResourceKind?)null,
        };
        var verb = operation.OperationId.Split('_')[1];
        if (
            kind is not { } k
            || verb
                is not (
                    "CreateOrUpdate"
                    or "Update"
                    or "Get"
                    or "Delete"
                    or "ListByGallery"
                    or "ListByGalleryImage"
                    or "ListByResourceGroup"
                )
        )
        {
            return Refuse(
                501,
                new ArmError(
                    "NotModelledByFake",
                    $"{operation.OperationId} is in the Compute Gallery model but the fake does not model it."
                )
            );
        }

        var facts =
            verb == "CreateOrUpdate" && k == ResourceKind.Version
                ? await SourceBlobAsync(body!, context.RequestAborted)
                : null;
        lock (State.Gate)
        {
            return verb switch
            {
                "CreateOrUpdate" => Put(context, k, id, match, body!, facts),
                "Update" => Patch(context, k, id, body!),
                "Get" => Get(k, id, request.Query["$expand"].ToString()),
                "Delete" => Delete(context, id),
                _ => List(id),
            };
        }
    }

    private Answer Get(ResourceKind kind, string id, string expand)
    {
        if (State.Get(id) is not { } resource)
        {
            return NotFound(kind, id);
        }

        State.Step(resource, Faults);
        return State.Get(id) is null
            ? NotFound(kind, id)
            : new Answer(
                200,
                GalleryState.Render(
                    resource,
                    string.Equals(expand, "ReplicationStatus", StringComparison.OrdinalIgnoreCase)
                )
            );
    }

    private Answer NotFound(ResourceKind kind, string id)
    {
        // A GET of a missing resource is how "create when missing" asks: ARM's 404, no model problem.
        var parent = ParentId(id);
        var parentMissing =
            kind == ResourceKind.Gallery
                ? State.ResourceGroupLocation(Segment(id, 1), Segment(id, 3)) is null
                : State.Get(parent) is null;
        return parentMissing
            ? new Answer(
                404,
                Error(
                    new ArmError(
                        kind == ResourceKind.Gallery
                            ? "ResourceGroupNotFound"
                            : "ParentResourceNotFound",
                        $"Can not perform requested operation on nested resource. Parent resource '{parent}' not found."
                    )
                )
            )
            : new Answer(
                404,
                Error(new ArmError("ResourceNotFound", $"The Resource '{id}' was not found."))
            );
    }

    private Answer List(string collectionId)
    {
        var value = new JsonArray();
        var cut = collectionId.LastIndexOf('/');
        foreach (
            var child in State
                .ChildrenOf(collectionId[..cut])
                .Where(c =>
                    c.Id.Split('/')[^2]
                        .Equals(collectionId[(cut + 1)..], StringComparison.OrdinalIgnoreCase)
                )
        )
        {
            value.Add(GalleryState.Render(child, expandReplication: false));
        }

        return new Answer(200, new JsonObject { ["value"] = value });
    }

    private Answer Put(
        HttpContext context,
        ResourceKind kind,
        string id,
        SwaggerMatch match,
        JsonObject body,
        VhdBlobFacts? facts
    )
    {
        var location = body["location"]!.GetValue<string>();
        if (!_options.Regions.Any(r => GalleryState.SameRegion(r, location)))
        {
            return Refuse(
                400,
                new ArmError(
                    "LocationNotAvailableForResourceType",
                    $"The provided location '{location}' is not available for resource type '{TypeName(kind)}'. List of available regions for the resource type is '{string.Join(",", _options.Regions)}'."
                )
            );
        }

        if (ParentProblem(kind, id, location) is { } parentProblem)
        {
            return parentProblem;
        }

        var name = id[(id.LastIndexOf('/') + 1)..];
        var wellNamed =
            VersionName().IsMatch(name)
            && name.Split('.')
                .All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        if (kind == ResourceKind.Version && !wellNamed)
        {
            return Refuse(
                400,
                new ArmError(
                    "InvalidParameter",
                    $"The gallery image version name '{name}' is invalid. The allowed characters are digit and period. Digits must be within the range of a 32-bit integer. Format: <MajorVersion>.<MinorVersion>.<Patch>.",
                    "galleryImageVersionName"
                )
            );
        }

        var stored = new JsonObject { ["properties"] = body["properties"]?.DeepClone() };
        if (body["tags"] is { } tags)
        {
            stored["tags"] = tags.DeepClone();
        }

        var existing = State.Get(id);
        if (
            kind == ResourceKind.Version
            && VersionProblem(stored, location, facts, sourceChanged: true) is { } versionProblem
        )
        {
            return versionProblem;
        }

        if (existing is not null && ImmutableChange(kind, existing.Body, stored) is { } change)
        {
            return change;
        }

        if (existing?.Pending is { } pending)
        {
            // A client retrying the same PUT while it runs gets the running operation back (idempotent); anything else conflicts.
            return
                JsonNode.DeepEquals(existing.Body, stored) && pending.Kind != OperationKind.Delete
                ? Accepted(context, 200, existing, pending)
                : Refuse(
                    409,
                    new ArmError(
                        "OperationNotAllowed",
                        $"Operation '{pending.Kind}' on '{id}' is in progress; another change is not allowed until it completes."
                    )
                );
        }

        var resource = existing ?? new StoredResource(kind, id, name, location, stored);
        resource.Body = stored;
        if (kind == ResourceKind.Version)
        {
            GalleryState.Retarget(resource, TargetRegions(stored, location));
            if (existing is null)
            {
                resource.PublishedDate = _options.Time.GetUtcNow();
            }

            resource.SizeInGb = facts is null
                ? null
                : (int)Math.Ceiling((facts.Length - 512) / (double)(1L << 30));
        }

        State.Add(resource);
        var operation = State.Start(
            resource,
            existing is null ? OperationKind.Create : OperationKind.Update,
            Faults.TakeOperationFailure()
        );
        return Accepted(context, existing is null ? 201 : 200, resource, operation);
    }

    private Answer Patch(HttpContext context, ResourceKind kind, string id, JsonObject patch)
    {
        if (State.Get(id) is not { } resource)
        {
            return Refuse(
                404,
                new ArmError("ResourceNotFound", $"The Resource '{id}' was not found.")
            );
        }

        var merged = (JsonObject)resource.Body.DeepClone();
        MergePatch(merged, patch);
        // ARM's resource contract: tags in a PATCH replace the resource's tags as a whole (that is how a tag is
        // removed), where the rest of the body merges.
        if (patch["tags"] is JsonObject tags)
        {
            merged["tags"] = tags.DeepClone();
        }
        // PATCH merges; what it leads to must still be a valid resource.
        var whole = (JsonObject)merged.DeepClone();
        whole["location"] = resource.Location;
        var definition = kind switch
        {
            ResourceKind.Gallery => "Gallery",
            ResourceKind.Image => "GalleryImage",
            _ => "GalleryImageVersion",
        };
        using (var document = JsonDocument.Parse(whole.ToJsonString()))
        {
            var violations = Model.Check(
                Model.Definition(definition),
                document.RootElement,
                "",
                SchemaMode.Create
            );
            if (violations.Count > 0)
            {
                return Refuse(
                    400,
                    new ArmError("InvalidParameter", violations[0].Message, violations[0].Path),
                    violations
                );
            }
        }

        if (ImmutableChange(kind, resource.Body, merged) is { } change)
        {
            return change;
        }

        if (
            kind == ResourceKind.Version
            && VersionProblem(merged, resource.Location, facts: null, sourceChanged: false)
                is { } versionProblem
        )
        {
            return versionProblem;
        }

        if (resource.Pending is { } pending)
        {
            return Refuse(
                409,
                new ArmError(
                    "OperationNotAllowed",
                    $"Operation '{pending.Kind}' on '{id}' is in progress; another change is not allowed until it completes."
                )
            );
        }

        resource.Body = merged;
        if (kind == ResourceKind.Version)
        {
            GalleryState.Retarget(resource, TargetRegions(merged, resource.Location));
        }

        // PATCH answers 200 with provisioningState Updating: the SDK then polls the resource itself.
        var operation = State.Start(resource, OperationKind.Update, Faults.TakeOperationFailure());
        return Accepted(context, 200, resource, operation);
    }

    private Answer Delete(HttpContext context, string id)
    {
        if (State.Get(id) is not { } resource)
        {
            return new Answer(204, null);
        }

        if (State.ChildrenOf(id).Any())
        {
            return Refuse(
                409,
                new ArmError(
                    "CannotDeleteResource",
                    $"Can not delete resource '{id}' before its nested resources are deleted."
                )
            );
        }

        if (resource.Pending is { Kind: not OperationKind.Delete } pending)
        {
            return Refuse(
                409,
                new ArmError(
                    "OperationNotAllowed",
                    $"Operation '{pending.Kind}' on '{id}' is in progress; delete is not allowed until it completes."
                )
            );
        }

        var operation =
            resource.Pending
            ?? State.Start(resource, OperationKind.Delete, Faults.TakeOperationFailure());
        var answer = Accepted(context, 202, resource, operation);
        context.Response.Headers.Location = OperationUrl(resource, operation, monitor: true);
        return answer with { Body = null };
    }

    private Answer Accepted(
        HttpContext context,
        int status,
        StoredResource resource,
        FakeOperation operation
    )
    {
        context.Response.Headers["Azure-AsyncOperation"] = OperationUrl(
            resource,
            operation,
            monitor: false
        );
        context.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(
            CultureInfo.InvariantCulture
        );
        return new Answer(status, GalleryState.Render(resource, expandReplication: false));
    }

    private string OperationUrl(StoredResource resource, FakeOperation operation, bool monitor) =>
        new Uri(
            Url,
            $"subscriptions/{Segment(resource.Id, 1)}/providers/Microsoft.Compute/locations/{resource.Location.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()}/capsOperations/{operation.Name}?{(monitor ? "monitor=true&" : "")}api-version={GalleryApiVersions[^1]}"
        ).AbsoluteUri;

    private Answer? ParentProblem(ResourceKind kind, string id, string location)
    {
        string? parentLocation;
        if (kind == ResourceKind.Gallery)
        {
            if (State.ResourceGroupLocation(Segment(id, 1), Segment(id, 3)) is null)
            {
                return Refuse(
                    404,
                    new ArmError(
                        "ResourceGroupNotFound",
                        $"Resource group '{Segment(id, 3)}' could not be found."
                    )
                );
            }

            return null;
        }

        var parent = State.Get(ParentId(id));
        if (parent is null || parent.ProvisioningState is "Deleting")
        {
            return Refuse(
                404,
                new ArmError(
                    "ParentResourceNotFound",
                    $"Can not perform requested operation on nested resource. Parent resource '{ParentId(id)}' not found."
                )
            );
        }

        parentLocation = parent.Location;
        return GalleryState.SameRegion(parentLocation, location)
            ? null
            : Refuse(
                400,
                new ArmError(
                    "InvalidParameter",
                    $"The location '{location}' of '{id}' must be the location of its parent '{parentLocation}'.",
                    "location"
                )
            );
    }

    /// <summary>What Compute checks about a version beyond its schema: a source, its target regions, a VHD blob.</summary>
    private Answer? VersionProblem(
        JsonObject version,
        string location,
        VhdBlobFacts? facts,
        bool sourceChanged
    )
    {
        var properties = version["properties"]!;
        var storage = properties["storageProfile"];
        var diskSource = storage?["osDiskImage"]?["source"];
        if (
            storage?["source"]?["id"] is null
            && storage?["source"]?["virtualMachineId"] is null
            && diskSource?["uri"] is null
            && diskSource?["id"] is null
        )
        {
            return Refuse(
                400,
                new ArmError(
                    "InvalidParameter",
                    "A source is required: storageProfile.source, or storageProfile.osDiskImage.source.",
                    "storageProfile"
                )
            );
        }

        var regions = TargetRegions(version, location).ToList();
        if (
            regions.FirstOrDefault(r =>
                !_options.Regions.Any(k => GalleryState.SameRegion(k, r))
            ) is
            { } unknown
        )
        {
            return Refuse(
                400,
                new ArmError(
                    "InvalidParameter",
                    $"The target region '{unknown}' is not a valid Azure region.",
                    "publishingProfile.targetRegions"
                )
            );
        }

        if (!regions.Any(r => GalleryState.SameRegion(r, location)))
        {
            return Refuse(
                400,
                new ArmError(
                    "InvalidParameter",
                    $"Gallery image version publishing profile regions '{string.Join(", ", regions)}' must contain the location of image version '{location}'.",
                    "publishingProfile.targetRegions"
                )
            );
        }

        if (diskSource?["uri"] is not { } uri)
        {
            return null;
        }

        var accountId = diskSource["storageAccountId"]?.GetValue<string>();
        if (accountId is null)
        {
            return Refuse(
                400,
                new ArmError(
                    "InvalidParameter",
                    "Required parameter 'storageProfile.osDiskImage.source.storageAccountId' is missing (null).",
                    "storageProfile.osDiskImage.source.storageAccountId"
                )
            );
        }

        var account = StorageAccountId().Match(accountId);
        if (!account.Success)
        {
            return Refuse(
                400,
                new ArmError(
                    "LinkedInvalidPropertyId",
                    $"Property id '{accountId}' at path 'properties.storageProfile.osDiskImage.source.storageAccountId' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{{subscriptionId}}' and name a Microsoft.Storage/storageAccounts resource."
                )
            );
        }

        if (!Uri.TryCreate(uri.GetValue<string>(), UriKind.Absolute, out var blob))
        {
            return Refuse(
                400,
                new ArmError(
                    "InvalidParameter",
                    $"The source uri '{uri}' is not a valid blob uri.",
                    "storageProfile.osDiskImage.source.uri"
                )
            );
        }

        // A PATCH cannot change the source (PropertyChangeNotAllowed): it was checked when the version was created.
        if (
            !sourceChanged
            || _options.Blobs is null
            || facts is { VhdProblem: null, IsPageBlob: true }
                && string.Equals(
                    facts.Account,
                    account.Groups["name"].Value,
                    StringComparison.Ordinal
                )
        )
        {
            return null;
        }

        var why =
            facts is null ? $"The blob '{blob}' does not exist."
            : !facts.IsPageBlob
                ? $"The blob '{blob}' is not a page blob; only page blobs can be a VHD source."
            : facts.VhdProblem
                ?? $"The blob '{blob}' is not in storage account '{accountId}' (it is in '{facts.Account}').";
        return Refuse(
            400,
            new ArmError("InvalidParameter", why, "storageProfile.osDiskImage.source")
        );
    }

    private async Task<VhdBlobFacts?> SourceBlobAsync(
        JsonObject body,
        CancellationToken cancellationToken
    ) =>
        _options.Blobs is { } blobs
        && body["properties"]
            ?["storageProfile"]?["osDiskImage"]?["source"]?["uri"]?.GetValue<string>()
            is { } text
        && Uri.TryCreate(text, UriKind.Absolute, out var uri)
            ? await blobs.DescribeAsync(uri, cancellationToken)
            : null;

    private static Answer? ImmutableChange(ResourceKind kind, JsonObject before, JsonObject after)
    {
        string[] fixedPaths = kind switch
        {
            ResourceKind.Image =>
            [
                "osType",
                "osState",
                "identifier",
                "hyperVGeneration",
                "architecture",
            ],
            ResourceKind.Version =>
            [
                "storageProfile",
                "publishingProfile.storageAccountType",
                "publishingProfile.replicationMode",
            ],
            _ => [],
        };
        foreach (var fixedPath in fixedPaths)
        {
            JsonNode? was = before["properties"],
                now = after["properties"];
            foreach (var part in fixedPath.Split('.'))
            {
                was = was?[part];
                now = now?[part];
            }

            if (!JsonNode.DeepEquals(was, now))
            {
                return Refuse(
                    409,
                    new ArmError(
                        "PropertyChangeNotAllowed",
                        $"Changing property 'properties.{fixedPath}' is not allowed.",
                        $"properties.{fixedPath}"
                    )
                );
            }
        }

        return null;
    }

    private static IEnumerable<string> TargetRegions(JsonObject version, string location) =>
        version["properties"]?["publishingProfile"]?["targetRegions"] is JsonArray regions
            ? regions.Select(r => r?["name"]?.GetValue<string>() ?? "")
            : [location];

    private static void MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject inner && target[key] is JsonObject existing)
            {
                MergePatch(existing, inner);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private static OwnMatch? MatchArmOwn(string method, string path)
    {
        var s = path.Trim('/').Split('/');
        if (
            method != "GET"
            || s.Length == 0
            || !s[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase)
        )
        {
            return null;
        }

        return s.Length switch
        {
            1 => new OwnMatch("Subscriptions_List", s),
            2 => new OwnMatch("Subscriptions_Get", s),
            4 when s[2].Equals("resourcegroups", StringComparison.OrdinalIgnoreCase) =>
                new OwnMatch("ResourceGroups_Get", s),
            4 when s[2].Equals("providers", StringComparison.OrdinalIgnoreCase) => new OwnMatch(
                "Providers_Get",
                s
            ),
            8
                when s[2].Equals("providers", StringComparison.OrdinalIgnoreCase)
                    && s[3].Equals("Microsoft.Compute", StringComparison.OrdinalIgnoreCase)
                    && s[4].Equals("locations", StringComparison.OrdinalIgnoreCase)
                    && s[6].Equals("capsOperations", StringComparison.OrdinalIgnoreCase) =>
                new OwnMatch("Compute_OperationStatus", s),
            _ => null,
        };
    }

    /// <summary>ARM's own GETs (subscriptions, resource groups, providers) and Compute's operation status: not in the gallery spec, shapes in README.</summary>
    private Answer ArmOwn(HttpContext context, OwnMatch own)
    {
        var query = context.Request.Query;
        if (query["api-version"].ToString().Length == 0)
        {
            return Refuse(
                400,
                new ArmError(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests."
                )
            );
        }

        var s = own.Segments;
        lock (State.Gate)
        {
            switch (own.Name)
            {
                case "Subscriptions_List":
                    return new Answer(
                        200,
                        new JsonObject
                        {
                            ["value"] = new JsonArray(Subscription(DefaultSubscriptionId)),
                        }
                    );
                case "Subscriptions_Get":
                    return s[1] == DefaultSubscriptionId
                        ? new Answer(200, Subscription(s[1]))
                        : new Answer(
                            404,
                            Error(
                                new ArmError(
                                    "SubscriptionNotFound",
                                    $"The subscription '{s[1]}' could not be found."
                                )
                            )
                        );
                case "ResourceGroups_Get":
                    return State.ResourceGroupLocation(s[1], s[3]) is { } location
                        ? new Answer(
                            200,
                            new JsonObject
                            {
                                ["id"] = GalleryState.ResourceGroupId(s[1], s[3]),
                                ["name"] = s[3],
                                ["type"] = "Microsoft.Resources/resourceGroups",
                                ["location"] = location,
                                ["properties"] = new JsonObject
                                {
                                    ["provisioningState"] = "Succeeded",
                                },
                            }
                        )
                        : new Answer(
                            404,
                            Error(
                                new ArmError(
                                    "ResourceGroupNotFound",
                                    $"Resource group '{s[3]}' could not be found."
                                )
                            )
                        );
                case "Providers_Get":
                    return s[3].Equals("Microsoft.Compute", StringComparison.OrdinalIgnoreCase)
                        ? new Answer(200, ComputeProvider(s[1]))
                        : Refuse(
                            404,
                            new ArmError(
                                "InvalidResourceNamespace",
                                $"The resource namespace '{s[3]}' is not modelled by the fake (the SDK asks Microsoft.Resources for its tag helpers AddTag/SetTags/RemoveTag: put tags in a PATCH instead)."
                            )
                        );
                default:
                    return OperationStatus(context, s[7]);
            }
        }
    }

    private Answer OperationStatus(HttpContext context, string name)
    {
        var apiVersion = context.Request.Query["api-version"].ToString();
        if (!GalleryApiVersions.Contains(apiVersion))
        {
            return Refuse(
                400,
                new ArmError(
                    "NoRegisteredProviderFound",
                    $"No registered resource provider found for API version '{apiVersion}' of the operation status."
                )
            );
        }

        if (State.Operation(name) is not { } operation)
        {
            return new Answer(
                404,
                Error(new ArmError("NotFound", $"The operation '{name}' was not found."))
            );
        }

        if (operation.Status == "InProgress")
        {
            State.Step(operation.Target, Faults);
        }

        var inProgress = operation.Status == "InProgress";
        if (inProgress)
        {
            context.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(
                CultureInfo.InvariantCulture
            );
        }

        if (context.Request.Query["monitor"] == "true")
        {
            // The Location URL: 202 while running, then the final status of the operation.
            if (inProgress)
            {
                context.Response.Headers.Location = context.Request.GetEncodedUrl();
                return new Answer(202, null);
            }

            return operation.Error is { } error
                ? new Answer(500, Error(error))
                : new Answer(200, null);
        }

        return new Answer(200, GalleryState.Render(operation));
    }

    private static JsonObject Subscription(string id) =>
        new()
        {
            ["id"] = $"/subscriptions/{id}",
            ["subscriptionId"] = id,
            ["tenantId"] = TenantId,
            ["displayName"] = "ImageForge test subscription",
            ["state"] = "Enabled",
            ["subscriptionPolicies"] = new JsonObject
            {
                ["locationPlacementId"] = "Public_2014-09-01",
                ["quotaId"] = "PayAsYouGo_2014-09-01",
                ["spendingLimit"] = "Off",
            },
            ["authorizationSource"] = "RoleBased",
        };

    private JsonObject ComputeProvider(string subscriptionId)
    {
        var types = new JsonArray();
        foreach (
            var type in new[]
            {
                "galleries",
                "galleries/images",
                "galleries/images/versions",
                "locations/capsOperations",
            }
        )
        {
            types.Add(
                new JsonObject
                {
                    ["resourceType"] = type,
                    ["locations"] = new JsonArray([
                        .. _options.Regions.Select(r => (JsonNode?)JsonValue.Create(r)),
                    ]),
                    ["apiVersions"] = new JsonArray([
                        .. GalleryApiVersions.Reverse().Select(v => (JsonNode?)JsonValue.Create(v)),
                    ]),
                }
            );
        }

        return new JsonObject
        {
            ["id"] = $"/subscriptions/{subscriptionId}/providers/Microsoft.Compute",
            ["namespace"] = "Microsoft.Compute",
            ["registrationState"] = "Registered",
            ["registrationPolicy"] = "RegistrationRequired",
            ["resourceTypes"] = types,
        };
    }

    private async Task WriteAsync(
        HttpContext context,
        int status,
        JsonNode? body,
        SwaggerOperation? operation = null
    )
    {
        if (operation is not null)
        {
            CheckOwnAnswer(operation, status, body);
        }

        context.Response.StatusCode = status;
        if (body is not null)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
        }
    }

    /// <summary>The fake's own answers are held to the model too: a status the operation does not declare, or a body that breaks it, is a fake bug.</summary>
    private void CheckOwnAnswer(SwaggerOperation operation, int status, JsonNode? body)
    {
        if (status == 429 || status == 401)
        {
            return;
        }

        var key = status.ToString(CultureInfo.InvariantCulture);
        if (
            !operation.Responses.TryGetValue(key, out var schema)
            && !(status >= 400 && operation.Responses.TryGetValue("default", out schema))
        )
        {
            Problems.Add(
                $"fake answered {operation.OperationId} with {status}, which the model does not declare"
            );
            return;
        }

        if (schema is { } s && body is not null)
        {
            using var document = JsonDocument.Parse(body.ToJsonString());
            foreach (var violation in Model.Check(s, document.RootElement, "", SchemaMode.Response))
            {
                Problems.Add(
                    $"fake answered {operation.OperationId} {status} breaking the model: {violation.Kind} {violation.Path}: {violation.Message}"
                );
            }
        }
    }

    private static string TypeName(ResourceKind kind) =>
        kind switch
        {
            ResourceKind.Gallery => "Microsoft.Compute/galleries",
            ResourceKind.Image => "Microsoft.Compute/galleries/images",
            _ => "Microsoft.Compute/galleries/images/versions",
        };

    private static string ParentId(string id) => id[..id.LastIndexOf('/', id.LastIndexOf('/') - 1)];

    private static string Segment(string id, int index) => id.Trim('/').Split('/')[index];

    private static string Seconds(TimeSpan span) =>
        ((int)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\d+\.\d+\.\d+$")]
    private static partial Regex VersionName();

    [GeneratedRegex(
        @"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Storage/storageAccounts/(?<name>[a-z0-9]{3,24})$",
        RegexOptions.IgnoreCase
    )]
    private static partial Regex StorageAccountId();
}
