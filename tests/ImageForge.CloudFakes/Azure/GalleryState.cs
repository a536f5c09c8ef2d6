using System.Globalization;
using System.Text.Json.Nodes;

namespace ImageForge.CloudFakes.Azure;

/// <summary>Replication of one image version to one target region, as <c>replicationStatus.summary</c> reports it.</summary>
/// <param name="Region">The target region's name as the client gave it.</param>
/// <param name="State">Replicating, Completed or Failed.</param>
/// <param name="Progress">Percent done.</param>
/// <param name="Details">Why it failed; empty otherwise.</param>
public sealed record RegionReplication(string Region, string State, int Progress, string Details);

/// <summary>A snapshot of one resource the fake holds, for assertions.</summary>
/// <param name="Id">The resource id, cased as it was created.</param>
/// <param name="Type">For example <c>Microsoft.Compute/galleries/images/versions</c>.</param>
/// <param name="Location">The resource's location.</param>
/// <param name="ProvisioningState">Creating, Updating, Succeeded, Failed or Deleting.</param>
/// <param name="Tags">The resource's tags.</param>
/// <param name="Properties">The <c>properties</c> the fake answers a GET with (with replicationStatus).</param>
/// <param name="Replication">Per target region (image versions only).</param>
public sealed record FakeResource(
    string Id,
    string Type,
    string Location,
    string ProvisioningState,
    IReadOnlyDictionary<string, string> Tags,
    JsonObject Properties,
    IReadOnlyList<RegionReplication> Replication
);

/// <summary>The kinds of resource the fake keeps, with their ARM types.</summary>
internal enum ResourceKind
{
    Gallery,
    Image,
    Version,
}

internal enum OperationKind
{
    Create,
    Update,
    Delete,
}

/// <summary>An error as ARM writes it inside <c>{"error": ...}</c>.</summary>
internal sealed record ArmError(string Code, string Message, string? Target = null)
{
    public JsonObject ToJson()
    {
        var error = new JsonObject { ["code"] = Code, ["message"] = Message };
        if (Target is not null)
        {
            error["target"] = Target;
        }

        return error;
    }
}

internal sealed class StoredResource(
    ResourceKind kind,
    string id,
    string name,
    string location,
    JsonObject body
)
{
    public ResourceKind Kind { get; } = kind;

    public string Id { get; } = id;

    public string Name { get; } = name;

    public string Location { get; } = location;

    /// <summary>What the client sent (merged over PATCHes): tags and properties, never server-owned members.</summary>
    public JsonObject Body { get; set; } = body;

    public string ProvisioningState { get; set; } = "Creating";

    public List<RegionState> Regions { get; } = [];

    public FakeOperation? Pending { get; set; }

    public DateTimeOffset PublishedDate { get; set; }

    public int? SizeInGb { get; set; }

    public string Type =>
        Kind switch
        {
            ResourceKind.Gallery => "Microsoft.Compute/galleries",
            ResourceKind.Image => "Microsoft.Compute/galleries/images",
            _ => "Microsoft.Compute/galleries/images/versions",
        };
}

internal sealed class RegionState(string name)
{
    public string Name { get; } = name;

    public string State { get; set; } = "Replicating";

    public int Progress { get; set; }

    public string Details { get; set; } = "";

    public bool Terminal => State is "Completed" or "Failed";
}

/// <summary>An ARM operation status resource (what <c>Azure-AsyncOperation</c> points at).</summary>
internal sealed class FakeOperation(
    string name,
    OperationKind kind,
    StoredResource target,
    DateTimeOffset start
)
{
    public string Name { get; } = name;

    public OperationKind Kind { get; } = kind;

    public StoredResource Target { get; } = target;

    public DateTimeOffset Start { get; } = start;

    public DateTimeOffset? End { get; set; }

    public string Status { get; set; } = "InProgress";

    public int RemainingPolls { get; set; }

    public ArmError? Failure { get; set; }

    public ArmError? Error { get; set; }
}

/// <summary>
/// What the Azure Resource Manager fake holds: resource groups, galleries, image definitions, image versions with
/// their per-region replication, and the operation status resources of long-running operations. Time moves by
/// observation: every GET of a resource or of its operation status is one step (a region's replication advances by
/// <see cref="ArmFakeOptions.ReplicationStepPercent"/>, a plain operation counts down
/// <see cref="ArmFakeOptions.PollsBeforeDone"/>), so specs are deterministic and need no clock.
/// </summary>
public sealed class GalleryState
{
    private readonly Dictionary<string, StoredResource> _resources = new(
        StringComparer.OrdinalIgnoreCase
    );
    private readonly Dictionary<string, string> _resourceGroups = new(
        StringComparer.OrdinalIgnoreCase
    );
    private readonly Dictionary<string, FakeOperation> _operations = new(
        StringComparer.OrdinalIgnoreCase
    );
    private readonly ArmFakeOptions _options;
    private int _operationCount;

    internal GalleryState(ArmFakeOptions options)
    {
        _options = options;
    }

    internal Lock Gate { get; } = new();

    /// <summary>Adds a resource group (ARM's own resource, which the gallery spec does not model).</summary>
    public void AddResourceGroup(string subscriptionId, string name, string location)
    {
        lock (Gate)
        {
            _resourceGroups[ResourceGroupId(subscriptionId, name)] = location;
        }
    }

    /// <summary>Adds a gallery that already exists (and its resource group); returns its id.</summary>
    public string AddGallery(
        string subscriptionId,
        string resourceGroup,
        string name,
        string location
    )
    {
        var id =
            $"{ResourceGroupId(subscriptionId, resourceGroup)}/providers/Microsoft.Compute/galleries/{name}";
        lock (Gate)
        {
            _resourceGroups.TryAdd(ResourceGroupId(subscriptionId, resourceGroup), location);
            _resources[id] = new StoredResource(
                ResourceKind.Gallery,
                id,
                name,
                location,
                new JsonObject { ["properties"] = new JsonObject() }
            )
            {
                ProvisioningState = "Succeeded",
            };
        }

        return id;
    }

    /// <summary>
    /// Deletes a resource at once, as someone in the portal would behind the client's back (no operation): false when
    /// there was none. A GET of it then answers 404 ResourceNotFound.
    /// </summary>
    public bool Delete(string id)
    {
        lock (Gate)
        {
            return _resources.Remove(id);
        }
    }

    /// <summary>Every resource now held (galleries, image definitions, image versions), ordered by id.</summary>
    public IReadOnlyList<FakeResource> Resources
    {
        get
        {
            lock (Gate)
            {
                return
                [
                    .. _resources
                        .Values.OrderBy(r => r.Id, StringComparer.Ordinal)
                        .Select(Snapshot),
                ];
            }
        }
    }

    /// <summary>The image versions now held.</summary>
    public IReadOnlyList<FakeResource> Versions =>
        [.. Resources.Where(r => r.Type == "Microsoft.Compute/galleries/images/versions")];

    /// <summary>The gallery image definitions now held.</summary>
    public IReadOnlyList<FakeResource> ImageDefinitions =>
        [.. Resources.Where(r => r.Type == "Microsoft.Compute/galleries/images")];

    /// <summary>The resource with this id (any casing), or null.</summary>
    public FakeResource? Find(string id)
    {
        lock (Gate)
        {
            return _resources.TryGetValue(id, out var resource) ? Snapshot(resource) : null;
        }
    }

    internal static string ResourceGroupId(string subscriptionId, string name) =>
        $"/subscriptions/{subscriptionId}/resourceGroups/{name}";

    internal string? ResourceGroupLocation(string subscriptionId, string name) =>
        _resourceGroups.GetValueOrDefault(ResourceGroupId(subscriptionId, name));

    internal StoredResource? Get(string id) => _resources.GetValueOrDefault(id);

    internal IEnumerable<StoredResource> ChildrenOf(string id) =>
        _resources.Values.Where(r =>
            r.Id.StartsWith(id + "/", StringComparison.OrdinalIgnoreCase)
            && r.Id.AsSpan(id.Length + 1).Count('/') == 1
        );

    internal void Add(StoredResource resource) => _resources[resource.Id] = resource;

    internal FakeOperation? Operation(string name) => _operations.GetValueOrDefault(name);

    internal FakeOperation Start(StoredResource target, OperationKind kind, ArmError? failure)
    {
        var name = string.Create(
            CultureInfo.InvariantCulture,
            $"{Guid.NewGuid():D}-{Interlocked.Increment(ref _operationCount)}"
        );
        var operation = new FakeOperation(name, kind, target, _options.Time.GetUtcNow())
        {
            RemainingPolls = _options.PollsBeforeDone,
            Failure = failure,
        };
        _operations[name] = operation;
        target.Pending = operation;
        target.ProvisioningState = kind switch
        {
            OperationKind.Create => "Creating",
            OperationKind.Update => "Updating",
            _ => "Deleting",
        };
        return operation;
    }

    /// <summary>Sets a version's target regions: kept regions keep their state, new ones start replicating.</summary>
    internal static void Retarget(StoredResource version, IEnumerable<string> regions)
    {
        var wanted = regions.ToList();
        version.Regions.RemoveAll(r => !wanted.Any(w => SameRegion(w, r.Name)));
        foreach (var region in wanted.Where(w => !version.Regions.Any(r => SameRegion(w, r.Name))))
        {
            version.Regions.Add(new RegionState(region));
        }
    }

    internal static bool SameRegion(string a, string b) =>
        string.Equals(
            a.Replace(" ", "", StringComparison.Ordinal),
            b.Replace(" ", "", StringComparison.Ordinal),
            StringComparison.OrdinalIgnoreCase
        );

    /// <summary>One step of time for a resource: its replication advances, its pending operation may finish.</summary>
    internal void Step(StoredResource resource, ArmFaults faults)
    {
        if (resource.Pending is not { } operation)
        {
            return;
        }

        bool done;
        if (resource.Kind == ResourceKind.Version && operation.Kind != OperationKind.Delete)
        {
            foreach (var region in resource.Regions.Where(r => !r.Terminal))
            {
                var progress = Math.Min(100, region.Progress + _options.ReplicationStepPercent);
                if (progress < 100)
                {
                    region.Progress = progress;
                }
                else if (faults.ReplicationFailure(region.Name) is { } details)
                {
                    region.State = "Failed";
                    region.Details = details;
                }
                else
                {
                    region.State = "Completed";
                    region.Progress = 100;
                }
            }

            done = resource.Regions.All(r => r.Terminal);
        }
        else
        {
            done = operation.RemainingPolls-- <= 0;
        }

        if (done)
        {
            Finish(resource, operation);
        }
    }

    private void Finish(StoredResource resource, FakeOperation operation)
    {
        var failed = resource.Regions.Where(r => r.State == "Failed").ToList();
        var error = operation.Failure;
        if (error is null && operation.Kind != OperationKind.Delete && failed.Count > 0)
        {
            // The wording Azure uses (seen in azure-cli#15539); the code is the fake's own, the real one is not documented.
            var regions = string.Join(
                ", ",
                failed.Select(r => $"{{region:{r.Name}, detail:{r.Details}}}")
            );
            error = new ArmError(
                "ReplicationFailed",
                $"Gallery replication jobs failed in one or more regions. The failing regions' details are as follows: '{regions}'. If retry does not work, then please do an update by removing the failed regions and update again by adding them back."
            );
        }

        operation.Status = error is null ? "Succeeded" : "Failed";
        operation.Error = error;
        operation.End = _options.Time.GetUtcNow();
        resource.Pending = null;
        if (operation.Kind == OperationKind.Delete && error is null)
        {
            _resources.Remove(resource.Id);
            return;
        }

        resource.ProvisioningState = error is null ? "Succeeded" : "Failed";
    }

    /// <summary>The resource as a GET answers it.</summary>
    internal static JsonObject Render(StoredResource resource, bool expandReplication)
    {
        var body = (JsonObject)resource.Body.DeepClone();
        var properties = body["properties"] as JsonObject ?? [];
        body.Remove("properties");
        properties["provisioningState"] = resource.ProvisioningState;
        if (resource.Kind == ResourceKind.Version)
        {
            RenderVersion(resource, properties, expandReplication);
        }

        var rendered = new JsonObject
        {
            ["id"] = resource.Id,
            ["name"] = resource.Name,
            ["type"] = resource.Type,
            ["location"] = resource.Location,
        };
        if (body["tags"] is JsonObject tags)
        {
            rendered["tags"] = tags.DeepClone();
        }

        rendered["properties"] = properties;
        return rendered;
    }

    private static void RenderVersion(
        StoredResource version,
        JsonObject properties,
        bool expandReplication
    )
    {
        if (properties["publishingProfile"] is not JsonObject publishing)
        {
            publishing = [];
            properties["publishingProfile"] = publishing;
        }

        var replicaCount = publishing["replicaCount"]?.GetValue<int>() ?? 1;
        var accountType = publishing["storageAccountType"]?.GetValue<string>() ?? "Standard_LRS";
        var exclude = publishing["excludeFromLatest"]?.GetValue<bool>() ?? false;
        publishing["replicaCount"] = replicaCount;
        publishing["storageAccountType"] = accountType;
        publishing["excludeFromLatest"] = exclude;
        publishing["publishedDate"] = version.PublishedDate.ToString(
            "yyyy-MM-dd'T'HH:mm:ss.fffffff'+00:00'",
            CultureInfo.InvariantCulture
        );
        var targets = new JsonArray();
        foreach (var region in version.Regions)
        {
            var given = (publishing["targetRegions"] as JsonArray)
                ?.OfType<JsonObject>()
                .FirstOrDefault(t => SameRegion(t["name"]!.GetValue<string>(), region.Name));
            var target =
                (JsonObject?)given?.DeepClone() ?? new JsonObject { ["name"] = region.Name };
            target["regionalReplicaCount"] ??= replicaCount;
            target["storageAccountType"] ??= accountType;
            target["excludeFromLatest"] ??= exclude;
            targets.Add(target);
        }

        publishing["targetRegions"] = targets;
        if (properties["storageProfile"]?["osDiskImage"] is JsonObject osDisk)
        {
            osDisk["hostCaching"] ??= "ReadOnly";
            if (version.SizeInGb is { } size)
            {
                osDisk["sizeInGB"] = size;
            }
        }

        if (!expandReplication)
        {
            return;
        }

        var summary = new JsonArray();
        foreach (var region in version.Regions)
        {
            summary.Add(
                new JsonObject
                {
                    ["region"] = region.Name,
                    ["state"] = region.State,
                    ["details"] = region.Details,
                    ["progress"] = region.Progress,
                }
            );
        }

        properties["replicationStatus"] = new JsonObject
        {
            ["aggregatedState"] =
                version.Regions.Any(r => r.State == "Failed") ? "Failed"
                : version.Regions.All(r => r.State == "Completed") ? "Completed"
                : "InProgress",
            ["summary"] = summary,
        };
    }

    /// <summary>The operation status resource as Compute answers it (ARM's async operation shape).</summary>
    internal static JsonObject Render(FakeOperation operation)
    {
        var status = new JsonObject
        {
            ["startTime"] = operation.Start.ToString("o", CultureInfo.InvariantCulture),
            ["status"] = operation.Status,
            ["name"] = operation.Name,
        };
        if (operation.End is { } end)
        {
            status["endTime"] = end.ToString("o", CultureInfo.InvariantCulture);
        }

        if (operation.Error is { } error)
        {
            status["error"] = error.ToJson();
        }

        return status;
    }

    private FakeResource Snapshot(StoredResource resource)
    {
        var rendered = Render(resource, expandReplication: resource.Kind == ResourceKind.Version);
        var tags =
            (rendered["tags"] as JsonObject)?.ToDictionary(
                t => t.Key,
                t => t.Value!.GetValue<string>()
            )
            ?? [];
        return new FakeResource(
            resource.Id,
            resource.Type,
            resource.Location,
            resource.ProvisioningState,
            tags,
            (JsonObject)rendered["properties"]!,
            [
                .. resource.Regions.Select(r => new RegionReplication(
                    r.Name,
                    r.State,
                    r.Progress,
                    r.Details
                )),
            ]
        );
    }
}
