using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ImageForge.CloudFakes.Gcp;

/// <summary>
/// Compute Engine's global images and global operations, kept as the JSON resources GCE answers. Every change is an
/// operation that goes PENDING -> RUNNING -> DONE over <see cref="GcpFakeOptions.OperationPolls"/> polls and takes
/// effect when it is DONE.
/// </summary>
public sealed class GcpComputeState
{
    private readonly GcpFake _fake;
    private readonly Dictionary<(string Project, string Name), ImageRecord> _images = [];
    private readonly Dictionary<(string Project, string Name), OperationRecord> _operations = [];
    private readonly Dictionary<(string Project, string RequestId), OperationRecord> _requests = [];
    private long _sequence;
    private readonly Lock _gate = new();

    internal GcpComputeState(GcpFake fake) => _fake = fake;

    internal sealed class ImageRecord(JsonObject resource, long sequence)
    {
        public JsonObject Resource { get; } = resource;
        public long Sequence { get; } = sequence;
    }

    internal sealed class OperationRecord(
        string project,
        JsonObject resource,
        Action<OperationRecord> complete
    )
    {
        public string Project { get; } = project;
        public JsonObject Resource { get; } = resource;
        public Action<OperationRecord> Complete { get; } = complete;
        public int Polls { get; set; }
        public (string Code, string Message)? Failure { get; set; }
    }

    /// <summary>An image as <c>images.get</c> answers it, or null.</summary>
    public JsonObject? Image(string project, string name)
    {
        lock (_gate)
        {
            return FindImage(project, name)?.Resource.DeepClone().AsObject();
        }
    }

    /// <summary>Every image of a project, by name.</summary>
    public IReadOnlyList<JsonObject> Images(string project)
    {
        lock (_gate)
        {
            return
            [
                .. _images
                    .Where(i => i.Key.Project == project)
                    .OrderBy(i => i.Key.Name, StringComparer.Ordinal)
                    .Select(i => i.Value.Resource.DeepClone().AsObject()),
            ];
        }
    }

    /// <summary>An operation as <c>globalOperations.get</c> would answer it (without polling it), or null.</summary>
    public JsonObject? Operation(string project, string name)
    {
        lock (_gate)
        {
            return _operations.GetValueOrDefault((project, name))?.Resource.DeepClone().AsObject();
        }
    }

    /// <summary>
    /// Deletes an image at once, as someone in the console would behind ImageForge's back (no operation): false when
    /// there was none.
    /// </summary>
    public bool DeleteImage(string project, string name)
    {
        lock (_gate)
        {
            return _images.Remove((project, name));
        }
    }

    /// <summary>Adds a READY image, as a public image project (debian-cloud) holds them.</summary>
    public JsonObject AddImage(
        string project,
        string name,
        string? family = null,
        string? deprecationState = null,
        IReadOnlyDictionary<string, string>? labels = null
    )
    {
        var body = new JsonObject
        {
            ["name"] = name,
            ["family"] = family,
            ["sourceType"] = "RAW",
        };
        if (labels is not null)
        {
            body["labels"] = new JsonObject(
                labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))
            );
        }
        if (deprecationState is not null)
        {
            body["deprecated"] = new JsonObject { ["state"] = deprecationState };
        }
        lock (_gate)
        {
            var image = NewImage(project, body, archiveSize: 0, status: "READY");
            image["diskSizeGb"] = "10";
            return image.DeepClone().AsObject();
        }
    }

    internal Lock Gate => _gate;

    internal GcpFakeOptions Options => _fake.Options;

    internal string Now() =>
        _fake
            .Options.Time.GetUtcNow()
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    internal string Link(string project, string collection, string name) =>
        $"{_fake.Options.ComputeLinkBase}projects/{project}/global/{collection}/{name}";

    internal static string NewId() =>
        (
            1_000_000_000_000_000_000UL
            + (
                BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8))
                % 8_000_000_000_000_000_000UL
            )
        ).ToString(CultureInfo.InvariantCulture);

    internal ImageRecord? FindImage(string project, string nameOrId) =>
        _images.GetValueOrDefault((project, nameOrId))
        ?? _images
            .FirstOrDefault(i =>
                i.Key.Project == project && (string?)i.Value.Resource["id"] == nameOrId
            )
            .Value;

    internal IEnumerable<ImageRecord> ImagesOf(string project) =>
        _images.Where(i => i.Key.Project == project).Select(i => i.Value);

    internal void RemoveImage(string project, string name) => _images.Remove((project, name));

    internal OperationRecord? FindOperation(string project, string name) =>
        _operations.GetValueOrDefault((project, name));

    internal OperationRecord? ByRequestId(string project, string? requestId) =>
        requestId is null ? null : _requests.GetValueOrDefault((project, requestId));

    /// <summary>Creates an image resource from an insert body (already checked against the Image schema).</summary>
    internal JsonObject NewImage(string project, JsonObject body, long archiveSize, string status)
    {
        var name = (string)body["name"]!;
        var image = body.DeepClone().AsObject();
        foreach (var (key, value) in body)
        {
            if (value is null)
            {
                image.Remove(key);
            }
        }
        image["kind"] = "compute#image";
        image["id"] = NewId();
        image["creationTimestamp"] = Now();
        image["selfLink"] = Link(project, "images", name);
        image["status"] = status;
        image["sourceType"] = "RAW";
        image["archiveSizeBytes"] = archiveSize.ToString(CultureInfo.InvariantCulture);
        image["storageLocations"] ??= new JsonArray("us");
        image["labelFingerprint"] = LabelFingerprint(body["labels"]?.AsObject());
        if (image["guestOsFeatures"] is JsonArray features)
        {
            // Packer pads guestOsFeatures with nulls; GCE keeps the features only.
            image["guestOsFeatures"] = new JsonArray([
                .. features.Where(f => f is not null).Select(f => f!.DeepClone()),
            ]);
        }
        _images[(project, name)] = new ImageRecord(image, ++_sequence);
        return image;
    }

    /// <summary>Starts an operation on <paramref name="target"/>; <paramref name="complete"/> applies it when DONE.</summary>
    internal JsonObject StartOperation(
        string project,
        string type,
        JsonObject target,
        string user,
        string methodId,
        string? requestId,
        Action<OperationRecord> complete
    )
    {
        var name =
            $"operation-{_fake.Options.Time.GetUtcNow().ToUnixTimeMilliseconds()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        var resource = new JsonObject
        {
            ["kind"] = "compute#operation",
            ["id"] = NewId(),
            ["name"] = name,
            ["operationType"] = type,
            ["targetLink"] = (string?)target["selfLink"],
            ["targetId"] = (string?)target["id"],
            ["status"] = "PENDING",
            ["user"] = user,
            ["progress"] = 0,
            ["insertTime"] = Now(),
            ["selfLink"] = Link(project, "operations", name),
        };
        if (requestId is not null)
        {
            resource["clientOperationId"] = requestId;
        }
        var operation = new OperationRecord(project, resource, complete)
        {
            Failure = _fake.Faults.TakeOperationFailure(methodId),
        };
        _operations[(project, name)] = operation;
        if (requestId is not null)
        {
            _requests[(project, requestId)] = operation;
        }
        if (_fake.Options.OperationPolls <= 0)
        {
            Finish(operation);
        }
        return resource.DeepClone().AsObject();
    }

    /// <summary>One poll: the operation moves one step toward DONE.</summary>
    internal void Advance(OperationRecord operation)
    {
        if ((string?)operation.Resource["status"] == "DONE")
        {
            return;
        }
        operation.Polls++;
        if (operation.Polls >= _fake.Options.OperationPolls)
        {
            Finish(operation);
            return;
        }
        operation.Resource["status"] = "RUNNING";
        operation.Resource["startTime"] ??= Now();
        operation.Resource["progress"] = 100 * operation.Polls / _fake.Options.OperationPolls;
    }

    private void Finish(OperationRecord operation)
    {
        var resource = operation.Resource;
        resource["startTime"] ??= Now();
        if (operation.Failure is null)
        {
            operation.Complete(operation);
        }
        else
        {
            Fail(operation, operation.Failure.Value.Code, operation.Failure.Value.Message);
        }
        resource["status"] = "DONE";
        resource["progress"] = 100;
        resource["endTime"] = Now();
    }

    /// <summary>Ends an operation in error; an image it was inserting ends FAILED.</summary>
    internal void Fail(OperationRecord operation, string code, string message)
    {
        operation.Resource["error"] = new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message }),
        };
        var (status, text) = code switch
        {
            "RESOURCE_NOT_FOUND" => (404, "NOT FOUND"),
            "QUOTA_EXCEEDED" => (403, "FORBIDDEN"),
            _ => (400, "BAD REQUEST"),
        };
        operation.Resource["httpErrorStatusCode"] = status;
        operation.Resource["httpErrorMessage"] = text;
        if (
            (string?)operation.Resource["operationType"] == "insert"
            && FindImage(operation.Project, (string)operation.Resource["targetId"]!) is { } image
        )
        {
            image.Resource["status"] = "FAILED";
        }
    }

    /// <summary>A fingerprint of a label set (8 bytes, base64, as GCE's look).</summary>
    internal static string LabelFingerprint(JsonObject? labels)
    {
        var canonical = new StringBuilder();
        foreach (var (key, value) in (labels ?? []).OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            canonical.Append(key).Append('=').Append((string?)value).Append('\n');
        }
        return Convert.ToBase64String(
            SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString()))[..8]
        );
    }
}

/// <summary>The Compute Engine methods the fake serves: images and global operations.</summary>
internal static partial class GcpComputeApi
{
    public static Task HandleAsync(GcpFake fake, GcpCall call) =>
        call.Route.Method.Id switch
        {
            "compute.images.insert" => Insert(fake, call),
            "compute.images.get" => GetImage(fake, call),
            "compute.images.list" => List(fake, call),
            "compute.images.getFromFamily" => GetFromFamily(fake, call),
            "compute.images.patch" => Patch(fake, call),
            "compute.images.deprecate" => Deprecate(fake, call),
            "compute.images.setLabels" => SetLabels(fake, call),
            "compute.images.delete" => Delete(fake, call),
            "compute.globalOperations.get" => Poll(fake, call, wait: false),
            "compute.globalOperations.wait" => Poll(fake, call, wait: true),
            var id => throw GcpException.NotModeled(id),
        };

    private static Task GetImage(GcpFake fake, GcpCall call)
    {
        JsonNode answer;
        lock (fake.Compute.Gate)
        {
            answer = Get(fake, call, call.Path("image")).Resource.DeepClone();
        }
        return GcpFake.WriteJsonAsync(call.Http, answer);
    }

    private static GcpException NotFound(string resource) =>
        new(404, "notFound", $"The resource '{resource}' was not found");

    private static GcpComputeState.ImageRecord Get(GcpFake fake, GcpCall call, string name)
    {
        var project = call.Path("project");
        lock (fake.Compute.Gate)
        {
            return fake.Compute.FindImage(project, name)
                ?? throw NotFound($"projects/{project}/global/images/{name}");
        }
    }

    private static Task Insert(GcpFake fake, GcpCall call)
    {
        var project = call.Path("project");
        var body = call.Body!.AsObject();
        var requestId = RequestId(call);
        var source = ImageSource(body);
        CheckFamily(body);
        if (body["deprecated"] is JsonObject deprecated)
        {
            body["deprecated"] = CheckDeprecation(fake, project, deprecated, "resource.deprecated");
        }
        var name = (string)body["name"]!;
        JsonObject operation;
        lock (fake.Compute.Gate)
        {
            if (fake.Compute.ByRequestId(project, requestId) is { } earlier)
            {
                operation = earlier.Resource.DeepClone().AsObject();
            }
            else
            {
                if (fake.Compute.FindImage(project, name) is not null)
                {
                    throw new GcpException(
                        409,
                        "alreadyExists",
                        $"The resource 'projects/{project}/global/images/{name}' already exists"
                    );
                }
                var stored = fake.Storage.Find(source.Bucket, source.Name);
                var image = fake.Compute.NewImage(
                    project,
                    body,
                    stored?.Data.LongLength ?? 0,
                    "PENDING"
                );
                operation = fake.Compute.StartOperation(
                    project,
                    "insert",
                    image,
                    call.Grant.ClientEmail,
                    call.Route.Method.Id,
                    requestId,
                    op =>
                    {
                        // GCE reads the archive when the operation runs: it must still be there and hold disk.raw.
                        var archive = fake.Storage.Find(source.Bucket, source.Name);
                        if (archive is null)
                        {
                            fake.Compute.Fail(
                                op,
                                "RESOURCE_NOT_FOUND",
                                $"The resource '{(string)body["rawDisk"]!["source"]!}' was not found"
                            );
                            return;
                        }
                        if (DiskRawSize(archive.Data) is not { } size)
                        {
                            fake.Compute.Fail(
                                op,
                                "INVALID_IMAGE_FILE",
                                "The archive is not a gzip-compressed tar holding disk.raw."
                            );
                            return;
                        }
                        image["status"] = "READY";
                        image["diskSizeGb"] = Math.Max(1, (size + (1L << 30) - 1) >> 30)
                            .ToString(CultureInfo.InvariantCulture);
                    }
                );
            }
        }
        return GcpFake.WriteJsonAsync(call.Http, operation);
    }

    // Exactly one source; the fake models rawDisk.source (a GCS object URL) only.
    private static (string Bucket, string Name) ImageSource(JsonObject body)
    {
        string[] others = ["sourceDisk", "sourceImage", "sourceSnapshot"];
        var source = (string?)body["rawDisk"]?["source"];
        var given = others.Where(o => body[o] is not null).ToList();
        if (source is null && given.Count == 0)
        {
            throw new GcpException(
                400,
                "invalid",
                "Invalid value for field 'resource': Must specify one of rawDisk.source, sourceDisk, sourceImage or sourceSnapshot."
            );
        }
        if (source is null || given.Count > 0)
        {
            throw source is null
                ? GcpException.NotModeled(
                    $"image sources other than rawDisk.source ({string.Join(", ", given)})"
                )
                : new GcpException(
                    400,
                    "invalid",
                    "Invalid value for field 'resource': give only one image source."
                );
        }
        var match = StorageUrl().Match(source);
        if (!match.Success)
        {
            throw new GcpException(
                400,
                "invalid",
                $"Invalid value for field 'resource.rawDisk.source': '{source}'. The URL must be https://storage.googleapis.com/BUCKET/OBJECT."
            );
        }
        return (match.Groups["bucket"].Value, Uri.UnescapeDataString(match.Groups["object"].Value));
    }

    private static void CheckFamily(JsonObject body)
    {
        if ((string?)body["family"] is { } family && !Rfc1035().IsMatch(family))
        {
            throw new GcpException(
                400,
                "invalid",
                $"Invalid value for field 'resource.family': '{family}'. Must be a match of regex '[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?'"
            );
        }
    }

    private static string? RequestId(GcpCall call)
    {
        var requestId = call.Query("requestId");
        if (
            requestId is not null
            && (!Guid.TryParse(requestId, out var guid) || guid == Guid.Empty)
        )
        {
            throw new GcpException(
                400,
                "invalid",
                $"Invalid value for field 'requestId': '{requestId}'. The request ID must be a valid UUID other than the zero UUID."
            );
        }
        return requestId;
    }

    // disk.tar.gz as GCE takes it: a gzip-compressed tar whose one file is disk.raw, a regular file or a GNU sparse
    // one (GCE's own instructions make it with tar --format=oldgnu -S). Its size, or null when it is not such an archive.
    // The header is read by hand: .NET's TarReader does not take GNU sparse entries.
    private static long? DiskRawSize(byte[] archive)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
            var header = new byte[512];
            gzip.ReadExactly(header);
            var name = Encoding.ASCII.GetString(header, 0, 100).TrimEnd('\0');
            var gnu = Encoding.ASCII.GetString(header, 257, 8) == "ustar  \0";
            if (name is not ("disk.raw" or "./disk.raw"))
            {
                return null;
            }

            return (char)header[156] switch
            {
                '0' or '\0' => TarNumber(header.AsSpan(124, 12)),
                'S' when gnu => TarNumber(header.AsSpan(483, 12)), // the sparse file's real size
                _ => null,
            };
        }
        catch (Exception e)
            when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            return null;
        }
    }

    // A tar number: octal digits, or (GNU, for large values) base-256 with the high bit of the first byte set.
    private static long TarNumber(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            var value = (long)(field[0] & 0x7F);
            foreach (var b in field[1..])
            {
                value = (value << 8) | b;
            }

            return value;
        }

        var digits = Encoding.ASCII.GetString(field).Trim('\0', ' ');
        return digits.Length == 0
            ? throw new FormatException("an empty tar number")
            : Convert.ToInt64(digits, 8);
    }

    private static Task List(GcpFake fake, GcpCall call)
    {
        var project = call.Path("project");
        var filter = Filter(call.Query("filter"));
        if (call.Query("orderBy") is { } order && order != "creationTimestamp desc")
        {
            throw GcpException.NotModeled($"orderBy '{order}'");
        }
        var max = int.Parse(call.Query("maxResults") ?? "500", CultureInfo.InvariantCulture);
        var skip = int.TryParse(call.Query("pageToken"), CultureInfo.InvariantCulture, out var t)
            ? t
            : 0;
        JsonObject answer;
        lock (fake.Compute.Gate)
        {
            var images = fake.Compute.ImagesOf(project).Where(i => filter(i.Resource));
            images = call.Query("orderBy") is null
                ? images.OrderBy(i => (string)i.Resource["name"]!, StringComparer.Ordinal)
                : images.OrderByDescending(i => i.Sequence);
            var all = images.ToList();
            var page = all.Skip(skip).Take(max).ToList();
            var list = new JsonObject
            {
                ["kind"] = "compute#imageList",
                ["id"] = $"projects/{project}/global/images",
                ["items"] = new JsonArray([.. page.Select(i => (JsonNode)i.Resource.DeepClone())]),
                ["selfLink"] =
                    $"{fake.Compute.Options.ComputeLinkBase}projects/{project}/global/images",
            };
            if (skip + page.Count < all.Count)
            {
                list["nextPageToken"] = (skip + page.Count).ToString(CultureInfo.InvariantCulture);
            }
            answer = list;
        }
        return GcpFake.WriteJsonAsync(call.Http, answer);
    }

    // The part of GCE's list filter the fake models: clauses "field = value" or "field != value" on name, family,
    // status or labels.KEY, joined by AND or written as (clause) (clause).
    private static Func<JsonObject, bool> Filter(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return _ => true;
        }
        var clauses = FilterClause().Matches(filter);
        var rest = FilterClause()
            .Replace(filter, "")
            .Replace("AND", "", StringComparison.Ordinal)
            .Trim('(', ')', ' ');
        if (clauses.Count == 0 || rest.Length > 0)
        {
            throw GcpException.NotModeled($"the filter '{filter}'");
        }
        var tests = clauses
            .Select(c =>
            {
                var field = c.Groups["field"].Value;
                var value = c.Groups["value"].Value.Trim('"');
                var equal = c.Groups["op"].Value == "=";
                return (Func<JsonObject, bool>)(
                    image =>
                    {
                        var actual = field.StartsWith("labels.", StringComparison.Ordinal)
                            ? (string?)image["labels"]?[field["labels.".Length..]]
                            : (string?)image[field];
                        return (actual == value) == equal;
                    }
                );
            })
            .ToList();
        return image => tests.All(test => test(image));
    }

    private static Task GetFromFamily(GcpFake fake, GcpCall call)
    {
        var project = call.Path("project");
        var family = call.Path("family");
        JsonNode answer;
        lock (fake.Compute.Gate)
        {
            var newest =
                fake.Compute.ImagesOf(project)
                    .Where(i =>
                        (string?)i.Resource["family"] == family
                        && (string?)i.Resource["status"] == "READY"
                    )
                    .Where(i => (string?)i.Resource["deprecated"]?["state"] is null or "ACTIVE")
                    .OrderByDescending(
                        i => (string)i.Resource["creationTimestamp"]!,
                        StringComparer.Ordinal
                    )
                    .ThenByDescending(i => i.Sequence)
                    .FirstOrDefault()
                ?? throw NotFound($"projects/{project}/global/images/family/{family}");
            answer = newest.Resource.DeepClone();
        }
        return GcpFake.WriteJsonAsync(call.Http, answer);
    }

    private static Task Patch(GcpFake fake, GcpCall call)
    {
        var project = call.Path("project");
        var body = call.Body!.AsObject();
        CheckFamily(body);
        if (body["deprecated"] is JsonObject deprecated)
        {
            body["deprecated"] = CheckDeprecation(fake, project, deprecated, "resource.deprecated");
        }
        return Change(
            fake,
            call,
            call.Path("image"),
            "patch",
            image =>
            {
                foreach (var (key, value) in body)
                {
                    if (key != "name")
                    {
                        image[key] = value?.DeepClone();
                    }
                }
            }
        );
    }

    private static Task Deprecate(GcpFake fake, GcpCall call)
    {
        var status = CheckDeprecation(
            fake,
            call.Path("project"),
            call.Body!.AsObject(),
            "deprecationStatusResource"
        );
        return Change(
            fake,
            call,
            call.Path("image"),
            "deprecate",
            image =>
            {
                if (status is null)
                {
                    image.Remove("deprecated");
                }
                else
                {
                    image["deprecated"] = status.DeepClone();
                }
            }
        );
    }

    // The stored deprecation status: replacement as a full image URL, times RFC 3339; null for ACTIVE with nothing
    // else to say (un-deprecating clears the status).
    private static JsonObject? CheckDeprecation(
        GcpFake fake,
        string project,
        JsonObject status,
        string field
    )
    {
        var result = status.DeepClone().AsObject();
        if ((string?)status["replacement"] is { } replacement)
        {
            var match = ImageUrl().Match(replacement);
            if (!match.Success)
            {
                throw new GcpException(
                    400,
                    "invalid",
                    $"Invalid value for field '{field}.replacement': '{replacement}'. The replacement must be an image URL."
                );
            }
            result["replacement"] = fake.Compute.Link(
                match.Groups["project"].Success ? match.Groups["project"].Value : project,
                "images",
                match.Groups["image"].Value
            );
        }
        foreach (var time in new[] { "deprecated", "obsolete", "deleted" })
        {
            if ((string?)status[time] is { } value && !DiscoveryDocument.Rfc3339.IsMatch(value))
            {
                throw new GcpException(
                    400,
                    "invalid",
                    $"Invalid value for field '{field}.{time}': '{value}'. It must be an RFC 3339 timestamp."
                );
            }
        }
        var state = (string?)status["state"] ?? "ACTIVE";
        result["state"] = state;
        return state == "ACTIVE" && result.Count == 1 ? null : result;
    }

    private static Task SetLabels(GcpFake fake, GcpCall call)
    {
        var body = call.Body!.AsObject();
        var fingerprint =
            (string?)body["labelFingerprint"]
            ?? throw new GcpException(
                400,
                [Violation.Required("globalSetLabelsRequest.labelFingerprint")]
            );
        var labels = body["labels"]?.AsObject() ?? [];
        var image = Get(fake, call, call.Path("resource"));
        lock (fake.Compute.Gate)
        {
            if ((string?)image.Resource["labelFingerprint"] != fingerprint)
            {
                throw new GcpException(
                    412,
                    "conditionNotMet",
                    "Labels fingerprint either invalid or resource labels have changed"
                );
            }
        }
        return Change(
            fake,
            call,
            call.Path("resource"),
            "setLabels",
            resource =>
            {
                resource["labels"] = labels.DeepClone();
                resource["labelFingerprint"] = GcpComputeState.LabelFingerprint(labels);
            }
        );
    }

    private static Task Delete(GcpFake fake, GcpCall call)
    {
        var project = call.Path("project");
        return Change(
            fake,
            call,
            call.Path("image"),
            "delete",
            image => fake.Compute.RemoveImage(project, (string)image["name"]!)
        );
    }

    private static Task Change(
        GcpFake fake,
        GcpCall call,
        string name,
        string type,
        Action<JsonObject> apply
    )
    {
        var project = call.Path("project");
        var requestId = RequestId(call);
        var image = Get(fake, call, name);
        JsonObject operation;
        lock (fake.Compute.Gate)
        {
            operation =
                fake.Compute.ByRequestId(project, requestId)?.Resource.DeepClone().AsObject()
                ?? fake.Compute.StartOperation(
                    project,
                    type,
                    image.Resource,
                    call.Grant.ClientEmail,
                    call.Route.Method.Id,
                    requestId,
                    _ => apply(image.Resource)
                );
        }
        return GcpFake.WriteJsonAsync(call.Http, operation);
    }

    private static async Task Poll(GcpFake fake, GcpCall call, bool wait)
    {
        var project = call.Path("project");
        var name = call.Path("operation");
        var started = fake.Options.Time.GetTimestamp();
        JsonNode answer;
        while (true)
        {
            lock (fake.Compute.Gate)
            {
                var operation =
                    fake.Compute.FindOperation(project, name)
                    ?? throw NotFound($"projects/{project}/global/operations/{name}");
                fake.Compute.Advance(operation);
                var done = (string?)operation.Resource["status"] == "DONE";
                if (
                    !wait
                    || done
                    || fake.Options.Time.GetElapsedTime(started)
                        >= fake.Options.OperationWaitTimeout
                )
                {
                    answer = operation.Resource.DeepClone();
                    break;
                }
            }
            await Task.Delay(
                TimeSpan.FromMilliseconds(10),
                fake.Options.Time,
                call.Http.RequestAborted
            );
        }
        await GcpFake.WriteJsonAsync(call.Http, answer);
    }

    [GeneratedRegex(
        @"^(?:https://storage\.googleapis\.com/|gs://)(?<bucket>[a-z0-9][a-z0-9._-]{1,220})/(?<object>.+)$"
    )]
    private static partial Regex StorageUrl();

    [GeneratedRegex(
        @"^(?:(?:https://(?:www|compute)\.googleapis\.com/compute/v1/)?projects/(?<project>[a-z][-a-z0-9.:]*[a-z0-9])/)?global/images/(?<image>[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)$"
    )]
    private static partial Regex ImageUrl();

    [GeneratedRegex(@"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex Rfc1035();

    [GeneratedRegex(
        @"\(?\s*(?<field>name|family|status|labels\.[a-z0-9_-]+)\s*(?<op>!=|=)\s*(?<value>""[^""]*""|[^\s()]+)\s*\)?"
    )]
    private static partial Regex FilterClause();
}
