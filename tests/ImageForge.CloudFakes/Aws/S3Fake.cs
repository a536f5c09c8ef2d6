using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

// S3's ETags and some of its checksums are MD5 and SHA-1 by protocol.
#pragma warning disable CA5350, CA5351

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// S3 buckets, objects and multipart uploads (path-style). Bodies are checked as S3 checks them: a signed payload
/// hash, <c>Content-MD5</c>, and the SDK's flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256 in a header or
/// an aws-chunked trailer); a mismatch is refused. Objects live in memory: sized for tests, not for real disks.
/// </summary>
internal sealed class S3Fake(AwsFake fake) : AwsServiceFake(fake, "aws-s3", "s3")
{
    private const long MinimumPartSize = 5L << 20;
    private static readonly string[] Algorithms =
    [
        "CRC32",
        "CRC32C",
        "CRC64NVME",
        "SHA1",
        "SHA256",
        "SHA512",
        "MD5",
    ];
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    public override IAwsProtocol Protocol =>
        field ??= new RestXmlProtocol(Model, "http://s3.amazonaws.com/doc/2006-03-01/");

    public override bool BuffersBody => false;

    public override AwsException Error(Failure failure, string detail) =>
        failure switch
        {
            Failure.UnknownOperation => new(
                405,
                "MethodNotAllowed",
                $"The specified method is not allowed against this resource: {detail}"
            ),
            Failure.UnknownMember => new(
                400,
                "MalformedXML",
                $"The XML you provided was not well-formed or did not validate against our published schema: {detail}"
            ),
            Failure.MissingMember => new(
                400,
                "InvalidRequest",
                $"Missing required parameter {detail}"
            ),
            Failure.WrongType or Failure.InvalidValue => new(400, "InvalidArgument", detail),
            Failure.MissingAuthentication => new(403, "AccessDenied", "Access Denied"),
            Failure.UnknownAccessKey => new(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records."
            ),
            Failure.BadSignature => new(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method."
            ),
            Failure.ExpiredToken => new(400, "ExpiredToken", "The provided token has expired."),
            Failure.Throttled => new(503, "SlowDown", "Please reduce your request rate."),
            _ => new(503, "ServiceUnavailable", "Service is unable to handle request."),
        };

    /// <summary>The size of an object in a bucket of <paramref name="region"/> (what ImportSnapshot reads), or null.</summary>
    internal long? ObjectSize(string region, string bucket, string key)
    {
        lock (Gate)
        {
            return
                _buckets.TryGetValue(bucket, out var b)
                && b.Region == region
                && b.Objects.TryGetValue(key, out var o)
                ? o.Length
                : null;
        }
    }

    public override async Task<AwsResult> ExecuteAsync(AwsCall call) =>
        call.Operation.Name switch
        {
            "CreateBucket" => CreateBucket(call),
            "HeadBucket" => Result(Tree.Object(("BucketRegion", BucketOf(call).Region))),
            "DeleteBucket" => DeleteBucket(call),
            "PutObject" => await PutObjectAsync(call),
            "HeadObject" or "GetObject" => GetObject(call),
            "DeleteObject" => DeleteObject(call),
            "CreateMultipartUpload" => CreateMultipartUpload(call),
            "UploadPart" => await UploadPartAsync(call),
            "CompleteMultipartUpload" => CompleteMultipartUpload(call),
            "AbortMultipartUpload" => AbortMultipartUpload(call),
            "ListParts" => ListParts(call),
            "ListMultipartUploads" => ListMultipartUploads(call),
            _ => throw NotServed(call),
        };

    private AwsResult CreateBucket(AwsCall call)
    {
        var name = call.Input.Str("Bucket")!;
        var constraint = call.Input.Obj("CreateBucketConfiguration")?.Str("LocationConstraint");
        // "EU" is S3's legacy name of eu-west-1, which the SDK still sends.
        if ((constraint == "EU" ? "eu-west-1" : constraint ?? "us-east-1") != call.Region)
        {
            throw Fail(
                400,
                "IllegalLocationConstraintException",
                constraint is null
                    ? "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
                    : $"The {constraint} location constraint is incompatible for the region specific endpoint this request was sent to."
            );
        }

        lock (Gate)
        {
            if (_buckets.TryGetValue(name, out var existing))
            {
                throw existing.Owner == call.Caller.Account
                    ? Fail(
                        409,
                        "BucketAlreadyOwnedByYou",
                        "Your previous request to create the named bucket succeeded and you already own it."
                    )
                    : Fail(
                        409,
                        "BucketAlreadyExists",
                        "The requested bucket name is not available."
                    );
            }

            _buckets[name] = new Bucket(call.Region, call.Caller.Account);
        }

        return Result(Tree.Object(("Location", "/" + name)));
    }

    private AwsResult DeleteBucket(AwsCall call)
    {
        lock (Gate)
        {
            var bucket = BucketOf(call);
            if (bucket.Objects.Count > 0)
            {
                throw Fail(409, "BucketNotEmpty", "The bucket you tried to delete is not empty");
            }

            _buckets.Remove(call.Input.Str("Bucket")!);
        }

        return Result([]);
    }

    private async Task<AwsResult> PutObjectAsync(AwsCall call)
    {
        var bucket = BucketOf(call);
        var (data, checksums) = await ReadBodyAsync(call, cutAfter: null);
        var stored = new S3Object(
            [data],
            Etag(MD5.HashData(data)),
            Fake.Time.GetUtcNow(),
            call.Input.Str("ContentType"),
            checksums,
            null
        );
        lock (Gate)
        {
            bucket.Objects[call.Input.Str("Key")!] = stored;
        }

        return Result(
            WithChecksums(
                Tree.Object(("ETag", stored.ETag), ("Size", (long)data.Length)),
                checksums
            )
        );
    }

    private AwsResult GetObject(AwsCall call)
    {
        S3Object stored;
        lock (Gate)
        {
            stored = ObjectOf(call);
        }

        var output = Tree.Object(
            ("AcceptRanges", "bytes"),
            ("LastModified", stored.Modified),
            ("ContentLength", stored.Length),
            ("ETag", stored.ETag),
            ("ContentType", stored.ContentType ?? "binary/octet-stream"),
            ("PartsCount", stored.Parts)
        );
        if (call.Input.Str("ChecksumMode") == "ENABLED")
        {
            WithChecksums(output, stored.Checksums);
            if (stored.Checksums.Count > 0)
            {
                output["ChecksumType"] =
                    stored.Parts is null
                    || stored.Checksums.Values.Any(v => !v.Contains('-', StringComparison.Ordinal))
                        ? "FULL_OBJECT"
                        : "COMPOSITE";
            }
        }

        return new AwsResult(output, stored.Data);
    }

    private AwsResult DeleteObject(AwsCall call)
    {
        lock (Gate)
        {
            BucketOf(call).Objects.Remove(call.Input.Str("Key")!);
        }

        return Result([]);
    }

    private AwsResult CreateMultipartUpload(AwsCall call)
    {
        var algorithm = call.Input.Str("ChecksumAlgorithm");
        var type = call.Input.Str("ChecksumType") ?? (algorithm is null ? null : "COMPOSITE");
        if (type == "FULL_OBJECT" && algorithm is not ("CRC32" or "CRC32C" or "CRC64NVME"))
        {
            throw Fail(
                400,
                "InvalidRequest",
                $"The FULL_OBJECT checksum type cannot be used with the {algorithm} checksum algorithm."
            );
        }

        var upload = new Upload(
            Guid.NewGuid().ToString("N"),
            call.Input.Str("Key")!,
            Fake.Time.GetUtcNow(),
            algorithm,
            type,
            call.Caller.Account
        );
        lock (Gate)
        {
            BucketOf(call).Uploads[upload.Id] = upload;
        }

        return Result(
            Tree.Object(
                ("Bucket", call.Input.Str("Bucket")),
                ("Key", upload.Key),
                ("UploadId", upload.Id),
                ("ChecksumAlgorithm", algorithm),
                ("ChecksumType", type)
            )
        );
    }

    private async Task<AwsResult> UploadPartAsync(AwsCall call)
    {
        var number = (int)call.Input.Long("PartNumber")!.Value;
        if (number is < 1 or > 10000)
        {
            throw Fail(
                400,
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive"
            );
        }

        Upload upload;
        lock (Gate)
        {
            upload = UploadOf(call);
        }

        var (data, checksums) = await ReadBodyAsync(call, Fake.Faults.CutAfter(number));
        if (
            upload.Algorithm is { } algorithm
            && checksums.Count > 0
            && !checksums.ContainsKey(algorithm)
        )
        {
            throw Fail(
                400,
                "InvalidRequest",
                $"Checksum Type mismatch occurred, expected checksum Type: {algorithm.ToLowerInvariant()}, actual checksum Type: {checksums.Keys.First().ToLowerInvariant()}"
            );
        }

        if (upload.Algorithm is { } required && !checksums.ContainsKey(required))
        {
            checksums[required] = Checksum(required, data); // S3 computes the upload's algorithm when the client sent none
        }

        var part = new Part(
            number,
            data,
            Etag(MD5.HashData(data)),
            Fake.Time.GetUtcNow(),
            checksums
        );
        lock (Gate)
        {
            upload.Parts[number] = part;
        }

        return Result(WithChecksums(Tree.Object(("ETag", part.ETag)), checksums));
    }

    private AwsResult CompleteMultipartUpload(AwsCall call)
    {
        var requested = call.Input.Obj("MultipartUpload")?.Objects("Parts").ToList() ?? [];
        if (requested.Count == 0)
        {
            throw Fail(
                400,
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema"
            );
        }

        lock (Gate)
        {
            var bucket = BucketOf(call);
            var upload = UploadOf(call);
            var parts = new List<Part>();
            foreach (var item in requested)
            {
                var number = (int)(item.Long("PartNumber") ?? 0);
                if (parts.Count > 0 && number <= parts[^1].Number)
                {
                    throw Fail(
                        400,
                        "InvalidPartOrder",
                        "The list of parts was not in ascending order. The parts list must be specified in order by part number."
                    );
                }

                if (
                    !upload.Parts.TryGetValue(number, out var part)
                    || Unquote(item.Str("ETag")) != Unquote(part.ETag)
                )
                {
                    throw Fail(
                        400,
                        "InvalidPart",
                        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag."
                    );
                }

                if (
                    upload.Algorithm is { } algorithm
                    && upload.Type == "COMPOSITE"
                    && item.Str("Checksum" + algorithm) is var sent
                    && sent != part.Checksums[algorithm]
                )
                {
                    throw sent is null
                        ? Fail(
                            400,
                            "InvalidRequest",
                            $"The upload was created using a {algorithm.ToLowerInvariant()} checksum. The complete request must include the checksum for each part. It was missing for part {number} in the request."
                        )
                        : Fail(
                            400,
                            "InvalidPart",
                            $"The {algorithm.ToLowerInvariant()} checksum of part {number} does not match the uploaded part."
                        );
                }

                parts.Add(part);
            }

            if (parts.SkipLast(1).FirstOrDefault(p => p.Data.Length < MinimumPartSize) is { } small)
            {
                throw Fail(
                    400,
                    "EntityTooSmall",
                    $"Your proposed upload is smaller than the minimum allowed size (part {small.Number} is {small.Data.Length} bytes)"
                );
            }

            // The parts stay as they came: an object may be larger than one array can hold (a 2 GiB disk).
            var segments = parts.Select(p => p.Data).ToList();
            var checksums = new Dictionary<string, string>(StringComparer.Ordinal);
            if (upload.Algorithm is { } algo)
            {
                checksums[algo] =
                    upload.Type == "FULL_OBJECT"
                        ? Checksum(algo, [.. segments.SelectMany(d => d)])
                        : $"{Checksum(algo, [.. parts.SelectMany(p => Convert.FromBase64String(p.Checksums[algo]))])}-{parts.Count}";
                var header = call.Input.Str("Checksum" + algo);
                if (header is not null && header != checksums[algo])
                {
                    throw Fail(
                        400,
                        "BadDigest",
                        $"The {algo} you specified did not match the calculated checksum."
                    );
                }
            }

            var etag = Etag(
                MD5.HashData(
                    parts.SelectMany(p => Convert.FromHexString(Unquote(p.ETag)!)).ToArray()
                ),
                parts.Count
            );
            bucket.Objects[upload.Key] = new S3Object(
                segments,
                etag,
                Fake.Time.GetUtcNow(),
                null,
                checksums,
                parts.Count
            );
            bucket.Uploads.Remove(upload.Id);
            var output = Tree.Object(
                ("Location", $"{Fake.Url}{call.Input.Str("Bucket")}/{upload.Key}"),
                ("Bucket", call.Input.Str("Bucket")),
                ("Key", upload.Key),
                ("ETag", etag),
                ("ChecksumType", upload.Type)
            );
            return Result(WithChecksums(output, checksums));
        }
    }

    private AwsResult AbortMultipartUpload(AwsCall call)
    {
        lock (Gate)
        {
            BucketOf(call).Uploads.Remove(UploadOf(call).Id);
        }

        return Result([]);
    }

    private AwsResult ListParts(AwsCall call)
    {
        lock (Gate)
        {
            var upload = UploadOf(call);
            var marker = (int)(call.Input.Long("PartNumberMarker") ?? 0);
            var max = (int)(call.Input.Long("MaxParts") ?? 1000);
            var after = upload
                .Parts.Values.Where(p => p.Number > marker)
                .OrderBy(p => p.Number)
                .ToList();
            var page = after.Take(max).ToList();
            var owner = Owner(upload.Owner);
            return Result(
                Tree.Object(
                    ("Bucket", call.Input.Str("Bucket")),
                    ("Key", upload.Key),
                    ("UploadId", upload.Id),
                    ("PartNumberMarker", marker),
                    ("NextPartNumberMarker", page.Count > 0 ? page[^1].Number : null),
                    ("MaxParts", max),
                    ("IsTruncated", after.Count > page.Count),
                    (
                        "Parts",
                        Tree.List(
                            page.Select(p =>
                                WithChecksums(
                                    Tree.Object(
                                        ("PartNumber", p.Number),
                                        ("LastModified", p.Modified),
                                        ("ETag", p.ETag),
                                        ("Size", (long)p.Data.Length)
                                    ),
                                    p.Checksums
                                )
                            )
                        )
                    ),
                    ("Initiator", owner),
                    ("Owner", owner),
                    ("StorageClass", "STANDARD"),
                    ("ChecksumAlgorithm", upload.Algorithm),
                    ("ChecksumType", upload.Type)
                )
            );
        }
    }

    private AwsResult ListMultipartUploads(AwsCall call)
    {
        lock (Gate)
        {
            var prefix = call.Input.Str("Prefix") ?? "";
            var max = (int)(call.Input.Long("MaxUploads") ?? 1000);
            var uploads = BucketOf(call)
                .Uploads.Values.Where(u => u.Key.StartsWith(prefix, StringComparison.Ordinal))
                .OrderBy(u => u.Key, StringComparer.Ordinal)
                .ThenBy(u => u.Initiated)
                .ToList();
            var page = uploads.Take(max).ToList();
            return Result(
                Tree.Object(
                    ("Bucket", call.Input.Str("Bucket")),
                    ("Prefix", call.Input.Str("Prefix")),
                    ("MaxUploads", max),
                    ("IsTruncated", uploads.Count > page.Count),
                    (
                        "Uploads",
                        Tree.List(
                            page.Select(u =>
                                Tree.Object(
                                    ("UploadId", u.Id),
                                    ("Key", u.Key),
                                    ("Initiated", u.Initiated),
                                    ("StorageClass", "STANDARD"),
                                    ("Owner", Owner(u.Owner)),
                                    ("Initiator", Owner(u.Owner)),
                                    ("ChecksumAlgorithm", u.Algorithm),
                                    ("ChecksumType", u.Type)
                                )
                            )
                        )
                    )
                )
            );
        }
    }

    /// <summary>
    /// The body as S3 receives it: aws-chunked decoded, with the checksums the client declared (headers or
    /// trailers) verified. With <paramref name="cutAfter"/> the connection is cut after that many bytes.
    /// </summary>
    private static async Task<(byte[] Data, Dictionary<string, string> Checksums)> ReadBodyAsync(
        AwsCall call,
        long? cutAfter
    )
    {
        var request = call.Http.Request;
        if (cutAfter is { } limit)
        {
            var buffer = new byte[81920];
            for (long read = 0; read < limit; )
            {
                var n = await request.Body.ReadAsync(
                    buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - read))
                );
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            call.Http.Abort();
            throw new AwsException(500, "ConnectionCut", "the fault cut this connection");
        }

        var raw = await RestXmlProtocol.ReadAllAsync(request.Body);
        var contentSha = request.Headers["x-amz-content-sha256"].ToString();
        var chunked =
            contentSha.StartsWith("STREAMING-", StringComparison.Ordinal)
            || request
                .Headers.ContentEncoding.ToString()
                .Contains("aws-chunked", StringComparison.Ordinal);
        var (data, trailers) = chunked
            ? Dechunk(raw)
            : (raw, new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));
        if (
            request.Headers["x-amz-decoded-content-length"].ToString() is { Length: > 0 } decoded
            && decoded != data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)
        )
        {
            throw Fail(
                400,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header."
            );
        }

        if (contentSha.Length == 64 && SignedRequest.Hex(SHA256.HashData(data)) != contentSha)
        {
            throw Fail(
                400,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            );
        }

        if (
            request.Headers.ContentMD5.ToString() is { Length: > 0 } md5
            && md5 != Convert.ToBase64String(MD5.HashData(data))
        )
        {
            throw Fail(
                400,
                "BadDigest",
                "The Content-MD5 you specified did not match what we received."
            );
        }

        var checksums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var algorithm in Algorithms)
        {
            var name = "x-amz-checksum-" + algorithm.ToLowerInvariant();
            var declared = request.Headers[name].ToString() is { Length: > 0 } h
                ? h
                : trailers.GetValueOrDefault(name);
            if (declared is null)
            {
                continue;
            }

            if (declared != Checksum(algorithm, data))
            {
                throw Fail(
                    400,
                    "BadDigest",
                    $"The {algorithm} you specified did not match the calculated checksum."
                );
            }

            checksums[algorithm] = declared;
        }

        return (data, checksums);
    }

    /// <summary>aws-chunked: <c>hex-size[;chunk-signature=...]\r\n data \r\n</c> ... <c>0\r\n</c> then trailer lines.</summary>
    private static (byte[] Data, Dictionary<string, string> Trailers) Dechunk(byte[] raw)
    {
        using var data = new MemoryStream();
        var trailers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var at = 0;
        string Line()
        {
            var end = raw.AsSpan(at).IndexOf("\r\n"u8);
            if (end < 0)
            {
                throw Fail(
                    400,
                    "IncompleteBody",
                    "The aws-chunked body ended inside a chunk header."
                );
            }

            var line = Encoding.ASCII.GetString(raw, at, end);
            at += end + 2;
            return line;
        }

        while (true)
        {
            var size = Convert.ToInt32(Line().Split(';')[0], 16);
            if (size == 0)
            {
                break;
            }

            if (at + size + 2 > raw.Length)
            {
                throw Fail(400, "IncompleteBody", "The aws-chunked body ended inside a chunk.");
            }

            data.Write(raw, at, size);
            at += size + 2;
        }

        while (at < raw.Length && Line() is { Length: > 0 } trailer)
        {
            var colon = trailer.IndexOf(':', StringComparison.Ordinal);
            trailers[trailer[..colon].Trim()] = trailer[(colon + 1)..].Trim();
        }

        return (data.ToArray(), trailers);
    }

    internal static string Checksum(string algorithm, byte[] data) =>
        Convert.ToBase64String(
            algorithm switch
            {
                "CRC32" => Crc.Crc32(data),
                "CRC32C" => Crc.Crc32C(data),
                "CRC64NVME" => Crc.Crc64Nvme(data),
                "SHA1" => SHA1.HashData(data),
                "SHA256" => SHA256.HashData(data),
                "SHA512" => SHA512.HashData(data),
                _ => MD5.HashData(data),
            }
        );

    private static JsonObject WithChecksums(JsonObject output, Dictionary<string, string> checksums)
    {
        foreach (var (algorithm, value) in checksums)
        {
            output["Checksum" + algorithm] = value;
        }

        return output;
    }

    private Bucket BucketOf(AwsCall call)
    {
        lock (Gate)
        {
            var name = call.Input.Str("Bucket")!;
            if (!_buckets.TryGetValue(name, out var bucket) || bucket.Owner != call.Caller.Account)
            {
                var error = bucket is null
                    ? Fail(404, "NoSuchBucket", "The specified bucket does not exist")
                    : Fail(403, "AccessDenied", "Access Denied");
                error.Extra["BucketName"] = name;
                throw error;
            }

            if (bucket.Region != call.Region)
            {
                var error = Fail(
                    400,
                    "AuthorizationHeaderMalformed",
                    $"The authorization header is malformed; the region '{call.Region}' is wrong; expecting '{bucket.Region}'"
                );
                error.Extra["Region"] = bucket.Region;
                throw error;
            }

            return bucket;
        }
    }

    private S3Object ObjectOf(AwsCall call)
    {
        if (!BucketOf(call).Objects.TryGetValue(call.Input.Str("Key")!, out var stored))
        {
            var error = Fail(404, "NoSuchKey", "The specified key does not exist.");
            error.Extra["Key"] = call.Input.Str("Key")!;
            throw error;
        }

        return stored;
    }

    private Upload UploadOf(AwsCall call)
    {
        if (
            !BucketOf(call).Uploads.TryGetValue(call.Input.Str("UploadId")!, out var upload)
            || upload.Key != call.Input.Str("Key")
        )
        {
            var error = Fail(
                404,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
            );
            error.Extra["UploadId"] = call.Input.Str("UploadId")!;
            throw error;
        }

        return upload;
    }

    private static JsonObject Owner(string account) =>
        Tree.Object(
            ("ID", SignedRequest.Hex(SHA256.HashData(Encoding.UTF8.GetBytes(account)))),
            ("DisplayName", "imageforge-" + account)
        );

    private static string Etag(byte[] md5, int? parts = null) =>
        $"\"{Convert.ToHexStringLower(md5)}{(parts is { } n ? $"-{n}" : "")}\"";

    private static string? Unquote(string? etag) => etag?.Trim('"');

    private static AwsException Fail(int status, string code, string message) =>
        new(status, code, message);

    private sealed record Bucket(string Region, string Owner)
    {
        public Dictionary<string, S3Object> Objects { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Upload> Uploads { get; } = new(StringComparer.Ordinal);
    }

    private sealed record S3Object(
        IReadOnlyList<byte[]> Segments,
        string ETag,
        DateTimeOffset Modified,
        string? ContentType,
        Dictionary<string, string> Checksums,
        int? Parts
    )
    {
        public long Length => Segments.Sum(s => (long)s.Length);

        /// <summary>The object's bytes in one array (a GET of it); objects over 2 GiB are only ever imported.</summary>
        public byte[] Data => Segments.Count == 1 ? Segments[0] : [.. Segments.SelectMany(d => d)];
    }

    private sealed record Upload(
        string Id,
        string Key,
        DateTimeOffset Initiated,
        string? Algorithm,
        string? Type,
        string Owner
    )
    {
        public Dictionary<int, Part> Parts { get; } = [];
    }

    private sealed record Part(
        int Number,
        byte[] Data,
        string ETag,
        DateTimeOffset Modified,
        Dictionary<string, string> Checksums
    );
}

/// <summary>The CRCs of S3's flexible checksums (reflected, table-driven), big-endian as S3 encodes them.</summary>
internal static class Crc
{
    private static readonly uint[] Crc32Table = Table32(0xEDB88320);
    private static readonly uint[] Crc32CTable = Table32(0x82F63B78);
    private static readonly ulong[] Crc64Table = Table64(0x9A6C9329AC4BC9B5);

    public static byte[] Crc32(byte[] data) => BigEndian(Run32(Crc32Table, data));

    public static byte[] Crc32C(byte[] data) => BigEndian(Run32(Crc32CTable, data));

    public static byte[] Crc64Nvme(byte[] data)
    {
        var crc = ulong.MaxValue;
        foreach (var b in data)
        {
            crc = Crc64Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        var bytes = BitConverter.GetBytes(~crc);
        if (BitConverter.IsLittleEndian)
        {
            Array.Reverse(bytes);
        }

        return bytes;
    }

    private static uint Run32(uint[] table, byte[] data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static byte[] BigEndian(uint value) =>
        [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private static uint[] Table32(uint polynomial) =>
        [
            .. Enumerable
                .Range(0, 256)
                .Select(i =>
                {
                    var c = (uint)i;
                    for (var k = 0; k < 8; k++)
                    {
                        c = (c & 1) != 0 ? polynomial ^ (c >> 1) : c >> 1;
                    }

                    return c;
                }),
        ];

    private static ulong[] Table64(ulong polynomial) =>
        [
            .. Enumerable
                .Range(0, 256)
                .Select(i =>
                {
                    var c = (ulong)i;
                    for (var k = 0; k < 8; k++)
                    {
                        c = (c & 1) != 0 ? polynomial ^ (c >> 1) : c >> 1;
                    }

                    return c;
                }),
        ];
}
