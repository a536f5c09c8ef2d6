using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace ImageForge.CloudFakes.Gcp;

/// <summary>One object generation as Cloud Storage keeps it; hashes base64, as GCS reports them.</summary>
public sealed record GcpObject(
    string Bucket,
    string Name,
    long Generation,
    long Metageneration,
    string ContentType,
    byte[] Data,
    string Md5Hash,
    string Crc32c,
    DateTimeOffset Created,
    IReadOnlyDictionary<string, string> Metadata
);

/// <summary>One PUT of a resumable upload session: where it started, what the fake read, what was committed after.</summary>
public sealed record GcpUploadChunk(
    string UploadId,
    string Bucket,
    string Name,
    long Start,
    long Received,
    long CommittedAfter,
    bool Cut
);

/// <summary>Cloud Storage's state: buckets (created by specs), objects, resumable sessions and their chunk log.</summary>
public sealed partial class GcpStorageState
{
    /// <summary>GCS persists a resumable upload in multiples of 256 KiB until the final chunk.</summary>
    public const int Granularity = 256 * 1024;

    private readonly GcpFake _fake;
    private readonly Dictionary<string, string> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), GcpObject> _objects = [];
    private readonly Dictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private readonly List<GcpUploadChunk> _log = [];
    private long _lastGeneration;
    private readonly Lock _gate = new();

    internal GcpStorageState(GcpFake fake) => _fake = fake;

    internal Lock Gate => _gate;

    /// <summary>Creates a bucket (the product never creates buckets; its deployment does).</summary>
    public void CreateBucket(string name, string location = "US")
    {
        if (!BucketName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a valid bucket name.", nameof(name));
        }
        lock (_gate)
        {
            _buckets[name] = location;
        }
    }

    /// <summary>The live generation of an object, or null.</summary>
    public GcpObject? Find(string bucket, string name)
    {
        lock (_gate)
        {
            return _objects.GetValueOrDefault((bucket, name));
        }
    }

    /// <summary>The live objects of a bucket, by name.</summary>
    public IReadOnlyList<GcpObject> Objects(string bucket)
    {
        lock (_gate)
        {
            return
            [
                .. _objects
                    .Values.Where(o => o.Bucket == bucket)
                    .OrderBy(o => o.Name, StringComparer.Ordinal),
            ];
        }
    }

    /// <summary>Every PUT that carried bytes to a resumable session, in order.</summary>
    public IReadOnlyList<GcpUploadChunk> UploadLog
    {
        get
        {
            lock (_gate)
            {
                return [.. _log];
            }
        }
    }

    internal string? BucketLocation(string bucket)
    {
        lock (_gate)
        {
            return _buckets.GetValueOrDefault(bucket);
        }
    }

    internal void Log(GcpUploadChunk chunk)
    {
        lock (_gate)
        {
            _log.Add(chunk);
        }
    }

    internal UploadSession? Session(string id)
    {
        lock (_gate)
        {
            return _sessions.GetValueOrDefault(id);
        }
    }

    internal void AddSession(UploadSession session)
    {
        lock (_gate)
        {
            _sessions[session.Id] = session;
        }
    }

    internal bool Delete(string bucket, string name)
    {
        lock (_gate)
        {
            return _objects.Remove((bucket, name));
        }
    }

    /// <summary>Stores a new generation after the checks GCS makes at the end of every upload.</summary>
    internal GcpObject Commit(
        string bucket,
        string name,
        string contentType,
        byte[] data,
        JsonObject? metadata,
        Preconditions preconditions,
        string? hashHeader
    )
    {
        CheckObjectName(name);
        var crc32c = Crc32C.Base64(Crc32C.Compute(data));
#pragma warning disable CA5351 // GCS's own integrity hash, not a security boundary
        var md5 = Convert.ToBase64String(MD5.HashData(data));
#pragma warning restore CA5351
        CheckHashes(crc32c, md5, hashHeader, metadata);
        lock (_gate)
        {
            if (!_buckets.ContainsKey(bucket))
            {
                throw NoBucket();
            }
            preconditions.Check(_objects.GetValueOrDefault((bucket, name)));
            // Generations are microseconds since the epoch, strictly increasing as in GCS.
            var now = _fake.Options.Time.GetUtcNow();
            _lastGeneration = Math.Max(
                _lastGeneration + 1,
                (now - DateTimeOffset.UnixEpoch).Ticks / 10
            );
            var user = metadata
                ?["metadata"]?.AsObject()
                .ToDictionary(p => p.Key, p => (string)p.Value!);
            var stored = new GcpObject(
                bucket,
                name,
                _lastGeneration,
                1,
                contentType,
                data,
                md5,
                crc32c,
                now,
                user ?? []
            );
            _objects[(bucket, name)] = stored;
            return stored;
        }
    }

    private static void CheckObjectName(string name)
    {
        var bytes = Encoding.UTF8.GetByteCount(name);
        if (
            bytes is 0 or > 1024
            || name.Contains('\r')
            || name.Contains('\n')
            || name is "." or ".."
        )
        {
            throw new GcpException(400, "invalid", $"The object name '{name}' is invalid.");
        }
    }

    // The client's hashes: the X-Goog-Hash header ("crc32c=...,md5=...") and the metadata's crc32c/md5Hash.
    private static void CheckHashes(string crc32c, string md5, string? header, JsonObject? metadata)
    {
        var provided = new List<(string Kind, string Value)>();
        foreach (
            var item in (header ?? "").Split(
                ',',
                StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
            )
        )
        {
            var pair = item.Split('=', 2);
            if (pair.Length == 2)
            {
                provided.Add((pair[0].ToLowerInvariant(), pair[1]));
            }
        }
        if ((string?)metadata?["crc32c"] is { } metaCrc)
        {
            provided.Add(("crc32c", metaCrc));
        }
        if ((string?)metadata?["md5Hash"] is { } metaMd5)
        {
            provided.Add(("md5", metaMd5));
        }
        foreach (var (kind, value) in provided)
        {
            if (kind == "crc32c" && value != crc32c)
            {
                throw new GcpException(
                    400,
                    "invalid",
                    $"Provided CRC32C \"{value}\" doesn't match calculated CRC32C \"{crc32c}\"."
                );
            }
            if (kind == "md5" && value != md5)
            {
                throw new GcpException(
                    400,
                    "invalid",
                    $"Provided MD5 hash \"{value}\" doesn't match calculated MD5 hash \"{md5}\"."
                );
            }
        }
    }

    internal static GcpException NoBucket() =>
        new(404, "notFound", "The specified bucket does not exist.");

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();
}

/// <summary>The generation preconditions of a request (ifGenerationMatch=0: only if the object does not exist).</summary>
internal sealed record Preconditions(
    long? GenerationMatch,
    long? GenerationNotMatch,
    long? MetagenerationMatch,
    long? MetagenerationNotMatch
)
{
    public static Preconditions From(IQueryCollection query)
    {
        static long? Read(IQueryCollection q, string name) =>
            q.TryGetValue(name, out var v)
                ? long.Parse(v.ToString(), CultureInfo.InvariantCulture)
                : null;
        return new(
            Read(query, "ifGenerationMatch"),
            Read(query, "ifGenerationNotMatch"),
            Read(query, "ifMetagenerationMatch"),
            Read(query, "ifMetagenerationNotMatch")
        );
    }

    public void Check(GcpObject? current)
    {
        var generation = current?.Generation ?? 0;
        var failed =
            (GenerationMatch is { } gm && gm != generation)
            || (GenerationNotMatch is { } gn && gn == generation)
            || (MetagenerationMatch is { } mm && (current is null || mm != current.Metageneration))
            || (
                MetagenerationNotMatch is { } mn
                && current is not null
                && mn == current.Metageneration
            );
        if (failed)
        {
            throw new GcpException(
                412,
                "conditionNotMet",
                "At least one of the pre-conditions you specified did not hold."
            );
        }
    }
}

/// <summary>A resumable upload session: what was committed so far and what the object will be.</summary>
internal sealed class UploadSession(
    string id,
    string bucket,
    string name,
    string contentType,
    long? length,
    JsonObject? metadata,
    Preconditions preconditions
)
{
    public string Id { get; } = id;
    public string Bucket { get; } = bucket;
    public string Name { get; } = name;
    public string ContentType { get; } = contentType;
    public long? Length { get; set; } = length;
    public JsonObject? Metadata { get; } = metadata;
    public Preconditions Preconditions { get; } = preconditions;
    public MemoryStream Committed { get; } = new();
    public GcpObject? Result { get; set; }
    public bool Failed { get; set; }
    public SemaphoreSlim Gate { get; } = new(1, 1);
}

/// <summary>The Cloud Storage JSON API methods the fake serves.</summary>
internal static partial class GcpStorageApi
{
    public static Task HandleAsync(GcpFake fake, GcpCall call) =>
        call.Route.Method.Id switch
        {
            "storage.buckets.get" => GetBucketAsync(fake, call),
            "storage.objects.get" => GetObjectAsync(fake, call),
            "storage.objects.delete" => DeleteObjectAsync(fake, call),
            "storage.objects.insert" when call.Route.Kind == RouteKind.Upload => InsertAsync(
                fake,
                call
            ),
            var id => throw GcpException.NotModeled($"{id} ({call.Route.Kind})"),
        };

    private static Task GetBucketAsync(GcpFake fake, GcpCall call)
    {
        var bucket = call.Path("bucket");
        var location = fake.Storage.BucketLocation(bucket) ?? throw GcpStorageState.NoBucket();
        return GcpFake.WriteJsonAsync(
            call.Http,
            new JsonObject
            {
                ["kind"] = "storage#bucket",
                ["id"] = bucket,
                ["name"] = bucket,
                ["location"] = location,
                ["storageClass"] = "STANDARD",
                ["selfLink"] = new Uri(fake.StorageBaseUri, $"b/{bucket}").AbsoluteUri,
            }
        );
    }

    private static GcpObject Existing(GcpFake fake, GcpCall call)
    {
        var bucket = call.Path("bucket");
        if (fake.Storage.BucketLocation(bucket) is null)
        {
            throw GcpStorageState.NoBucket();
        }
        var found = fake.Storage.Find(bucket, call.Path("object"));
        if (
            found is null
            || (
                call.Query("generation") is { } g
                && g != found.Generation.ToString(CultureInfo.InvariantCulture)
            )
        )
        {
            throw new GcpException(
                404,
                "notFound",
                $"No such object: {bucket}/{call.Path("object")}"
            );
        }
        Preconditions.From(call.Http.Request.Query).Check(found);
        return found;
    }

    private static async Task GetObjectAsync(GcpFake fake, GcpCall call)
    {
        var found = Existing(fake, call);
        if (call.Query("alt") != "media")
        {
            await GcpFake.WriteJsonAsync(call.Http, Resource(fake, found));
            return;
        }
        var response = call.Http.Response;
        response.ContentType = found.ContentType;
        response.Headers["X-Goog-Hash"] = $"crc32c={found.Crc32c},md5={found.Md5Hash}";
        response.Headers["X-Goog-Generation"] = found.Generation.ToString(
            CultureInfo.InvariantCulture
        );
        response.Headers["X-Goog-Metageneration"] = found.Metageneration.ToString(
            CultureInfo.InvariantCulture
        );
        response.Headers["X-Goog-Stored-Content-Length"] = found.Data.Length.ToString(
            CultureInfo.InvariantCulture
        );
        var (from, to) = (0L, found.Data.LongLength - 1);
        if (
            RangeHeaderValue.TryParse(call.Http.Request.Headers.Range.ToString(), out var range)
            && range.Ranges.Count == 1
        )
        {
            var r = range.Ranges.First();
            (from, to) = r.From is { } f
                ? (f, Math.Min(r.To ?? to, to))
                : (Math.Max(0, to + 1 - r.To!.Value), to);
            if (from > to)
            {
                throw new GcpException(
                    416,
                    "requestedRangeNotSatisfiable",
                    "Request range not satisfiable"
                );
            }
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {from}-{to}/{found.Data.Length}";
        }
        response.ContentLength = to - from + 1;
        await response.Body.WriteAsync(
            found.Data.AsMemory((int)from, (int)(to - from + 1)),
            call.Http.RequestAborted
        );
    }

    private static Task DeleteObjectAsync(GcpFake fake, GcpCall call)
    {
        var found = Existing(fake, call);
        fake.Storage.Delete(found.Bucket, found.Name);
        call.Http.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static async Task InsertAsync(GcpFake fake, GcpCall call)
    {
        var bucket = call.Path("bucket");
        if (fake.Storage.BucketLocation(bucket) is null)
        {
            throw GcpStorageState.NoBucket();
        }
        var request = call.Http.Request;
        var preconditions = Preconditions.From(request.Query);
        switch (call.Query("uploadType"))
        {
            case "media":
            {
                var name =
                    call.Query("name") ?? throw new GcpException(400, [Violation.Required("name")]);
                var data = await GcpFake.ReadBodyAsync(call.Http);
                await CommitAsync(
                    request.ContentType ?? "application/octet-stream",
                    name,
                    data,
                    null
                );
                return;
            }
            case "multipart":
            {
                var (metadata, contentType, data) = await ReadMultipartAsync(call);
                GcpFake.ThrowIfInvalid(call.CheckBody(metadata));
                var name = call.Query("name") ?? (string)metadata["name"]!;
                await CommitAsync(
                    (string?)metadata["contentType"] ?? contentType,
                    name,
                    data,
                    metadata
                );
                return;
            }
            default:
            {
                var metadata = (await GcpFake.ReadJsonAsync(call.Http))?.AsObject();
                if (metadata is not null || call.Query("name") is null)
                {
                    GcpFake.ThrowIfInvalid(call.CheckBody(metadata));
                }
                var name = call.Query("name") ?? (string)metadata!["name"]!;
                preconditions.Check(fake.Storage.Find(bucket, name));
                long? length = long.TryParse(
                    request.Headers["X-Upload-Content-Length"],
                    CultureInfo.InvariantCulture,
                    out var l
                )
                    ? l
                    : null;
                var contentType = request.Headers["X-Upload-Content-Type"].ToString()
                    is { Length: > 0 } t
                    ? t
                    : (string?)metadata?["contentType"] ?? "application/octet-stream";
                var session = new UploadSession(
                    Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                    bucket,
                    name,
                    contentType,
                    length,
                    metadata,
                    preconditions
                );
                fake.Storage.AddSession(session);
                var location = new Uri(
                    fake.Url,
                    $"upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=resumable&name={Uri.EscapeDataString(name)}&upload_id={session.Id}"
                );
                call.Http.Response.Headers.Location = location.AbsoluteUri;
                call.Http.Response.Headers["X-GUploader-UploadID"] = session.Id;
                call.Http.Response.StatusCode = StatusCodes.Status200OK;
                call.Http.Response.ContentLength = 0;
                return;
            }
        }

        async Task CommitAsync(string contentType, string name, byte[] data, JsonObject? metadata)
        {
            var stored = fake.Storage.Commit(
                bucket,
                name,
                contentType,
                data,
                metadata,
                preconditions,
                request.Headers["X-Goog-Hash"]
            );
            await GcpFake.WriteJsonAsync(call.Http, Resource(fake, stored));
        }
    }

    private static async Task<(
        JsonObject Metadata,
        string ContentType,
        byte[] Data
    )> ReadMultipartAsync(GcpCall call)
    {
        var type = MediaTypeHeaderValue.Parse(call.Http.Request.ContentType);
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (
            !type.MediaType.Equals("multipart/related", StringComparison.OrdinalIgnoreCase)
            || boundary is null
        )
        {
            throw new GcpException(
                400,
                "invalid",
                "A multipart upload is multipart/related with a boundary."
            );
        }
        var reader = new MultipartReader(boundary, call.Http.Request.Body);
        var parts = new List<(string ContentType, byte[] Data)>();
        while (await reader.ReadNextSectionAsync(call.Http.RequestAborted) is { } section)
        {
            using var buffer = new MemoryStream();
            await section.Body.CopyToAsync(buffer, call.Http.RequestAborted);
            parts.Add((section.ContentType ?? "application/octet-stream", buffer.ToArray()));
        }
        if (
            parts.Count != 2
            || !parts[0]
                .ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
        )
        {
            throw new GcpException(
                400,
                "invalid",
                "A multipart upload has two parts: the JSON metadata, then the media."
            );
        }
        var metadata =
            JsonNode.Parse(parts[0].Data) as JsonObject
            ?? throw new GcpException(400, "parseError", "Invalid JSON payload received.");
        return (metadata, parts[1].ContentType, parts[1].Data);
    }

    /// <summary>A PUT (a chunk or a status query) or DELETE on a session URI the fake issued.</summary>
    public static bool IsSessionRequest(HttpContext context, string[] segments) =>
        (HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsDelete(context.Request.Method))
        && context.Request.Query.ContainsKey("upload_id")
        && segments is ["upload", "storage", "v1", "b", _, "o"];

    public static async Task HandleSessionAsync(GcpFake fake, HttpContext context)
    {
        var session =
            fake.Storage.Session(context.Request.Query["upload_id"].ToString())
            ?? throw new GcpException(404, "notFound", "No such upload session.")
            {
                ModelProblem = true,
            };
        await session.Gate.WaitAsync(context.RequestAborted);
        try
        {
            await HandleSessionCoreAsync(fake, context, session);
        }
        finally
        {
            session.Gate.Release();
        }
    }

    private static async Task HandleSessionCoreAsync(
        GcpFake fake,
        HttpContext context,
        UploadSession session
    )
    {
        if (HttpMethods.IsDelete(context.Request.Method))
        {
            session.Failed = true;
            context.Response.StatusCode = 499; // GCS answers a cancelled session so
            return;
        }
        if (session.Failed)
        {
            throw new GcpException(410, "gone", "The upload session was cancelled or failed.");
        }
        if (session.Result is not null)
        {
            await GcpFake.WriteJsonAsync(context, Resource(fake, session.Result));
            return;
        }
        var header = context.Request.Headers.ContentRange.ToString();
        var match = ContentRange().Match(header);
        if (!match.Success)
        {
            throw new GcpException(
                400,
                "invalid",
                $"Invalid Content-Range '{header}' on a resumable upload."
            );
        }
        long? total = match.Groups["total"].Value is "*"
            ? null
            : long.Parse(match.Groups["total"].Value, CultureInfo.InvariantCulture);
        if (total is { } t && session.Length is { } declared && t != declared)
        {
            throw new GcpException(
                400,
                "invalid",
                $"The upload's total size {t} is not the {declared} bytes it was started with."
            );
        }
        session.Length ??= total;
        var committed = session.Committed.Length;
        if (match.Groups["first"].Success)
        {
            var first = long.Parse(match.Groups["first"].Value, CultureInfo.InvariantCulture);
            var last = long.Parse(match.Groups["last"].Value, CultureInfo.InvariantCulture);
            if (first > committed)
            {
                throw new GcpException(
                    400,
                    "invalid",
                    $"Invalid request. According to the Content-Range header, the upload offset is {first} byte(s), which exceeds already uploaded size of {committed} byte(s)."
                );
            }
            if (!await ReceiveAsync(fake, context, session, first, last))
            {
                return; // cut
            }
        }
        var done = session.Length is { } length && session.Committed.Length == length;
        if (!done)
        {
            // Bytes beyond the last full 256 KiB are not kept until the final chunk.
            if (session.Length is null || session.Committed.Length < session.Length)
            {
                session.Committed.SetLength(
                    session.Committed.Length
                        / GcpStorageState.Granularity
                        * GcpStorageState.Granularity
                );
            }
            context.Response.StatusCode = 308;
            if (session.Committed.Length > 0)
            {
                context.Response.Headers["Range"] = $"bytes=0-{session.Committed.Length - 1}";
            }
            context.Response.ContentLength = 0;
            return;
        }
        try
        {
            session.Result = fake.Storage.Commit(
                session.Bucket,
                session.Name,
                session.ContentType,
                session.Committed.ToArray(),
                session.Metadata,
                session.Preconditions,
                context.Request.Headers["X-Goog-Hash"]
            );
        }
        catch (GcpException)
        {
            session.Failed = true;
            throw;
        }
        await GcpFake.WriteJsonAsync(context, Resource(fake, session.Result));
    }

    // Reads one chunk [first, last]; keeps what the session does not have yet. False when the connection was cut.
    private static async Task<bool> ReceiveAsync(
        GcpFake fake,
        HttpContext context,
        UploadSession session,
        long first,
        long last
    )
    {
        var cut = fake.Faults.TakeCut(first, last + 1);
        var committedBefore = session.Committed.Length;
        var position = first;
        var buffer = new byte[64 * 1024];
        var body = context.Request.Body;
        while (true)
        {
            var want = cut is { } c ? (int)Math.Min(buffer.Length, c - position) : buffer.Length;
            var read =
                want == 0
                    ? 0
                    : await body.ReadAsync(buffer.AsMemory(0, want), context.RequestAborted);
            if (read == 0)
            {
                break;
            }
            var skip = (int)Math.Clamp(session.Committed.Length - position, 0, read);
            session.Committed.Write(buffer, skip, read - skip);
            position += read;
        }
        if (cut is not null)
        {
            // What a cut chunk leaves: what was there before it, plus its bytes up to the last whole 256 KiB.
            var keep = Math.Max(
                committedBefore,
                cut.Value / GcpStorageState.Granularity * GcpStorageState.Granularity
            );
            session.Committed.SetLength(Math.Min(keep, session.Committed.Length));
        }
        fake.Storage.Log(
            new GcpUploadChunk(
                session.Id,
                session.Bucket,
                session.Name,
                first,
                position - first,
                session.Committed.Length,
                Cut: cut is not null
            )
        );
        if (cut is not null)
        {
            context.Abort();
            return false;
        }
        if (position != last + 1)
        {
            session.Committed.SetLength(first);
            throw new GcpException(
                400,
                "invalid",
                $"The chunk carries {position - first} bytes but its Content-Range says {last - first + 1}."
            );
        }
        return true;
    }

    /// <summary>The object resource as GCS answers it.</summary>
    public static JsonObject Resource(GcpFake fake, GcpObject o)
    {
        var escaped = Uri.EscapeDataString(o.Name);
        var generation = o.Generation.ToString(CultureInfo.InvariantCulture);
        var created = o.Created.UtcDateTime.ToString(
            "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
            CultureInfo.InvariantCulture
        );
        var resource = new JsonObject
        {
            ["kind"] = "storage#object",
            ["id"] = $"{o.Bucket}/{o.Name}/{generation}",
            ["selfLink"] = new Uri(fake.StorageBaseUri, $"b/{o.Bucket}/o/{escaped}").AbsoluteUri,
            ["mediaLink"] = new Uri(
                fake.Url,
                $"download/storage/v1/b/{o.Bucket}/o/{escaped}?generation={generation}&alt=media"
            ).AbsoluteUri,
            ["name"] = o.Name,
            ["bucket"] = o.Bucket,
            ["generation"] = generation,
            ["metageneration"] = o.Metageneration.ToString(CultureInfo.InvariantCulture),
            ["contentType"] = o.ContentType,
            ["storageClass"] = "STANDARD",
            ["size"] = o.Data.Length.ToString(CultureInfo.InvariantCulture),
            ["md5Hash"] = o.Md5Hash,
            ["crc32c"] = o.Crc32c,
            ["etag"] = Convert.ToBase64String(BitConverter.GetBytes(o.Generation)),
            ["timeCreated"] = created,
            ["updated"] = created,
            ["timeStorageClassUpdated"] = created,
        };
        if (o.Metadata.Count > 0)
        {
            var metadata = new JsonObject();
            foreach (var (key, value) in o.Metadata)
            {
                metadata[key] = value;
            }
            resource["metadata"] = metadata;
        }
        return resource;
    }

    [GeneratedRegex(@"^bytes (?:\*|(?<first>\d+)-(?<last>\d+))/(?<total>\d+|\*)$")]
    private static partial Regex ContentRange();
}

/// <summary>CRC32C (Castagnoli), the checksum GCS keeps for every object.</summary>
public static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            }
            table[i] = c;
        }
        return table;
    }

    /// <summary>The CRC32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = ~0u;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return ~crc;
    }

    /// <summary>The checksum as GCS writes it: base64 of its four bytes, big-endian.</summary>
    public static string Base64(uint crc)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, crc);
        return Convert.ToBase64String(bytes);
    }
}
