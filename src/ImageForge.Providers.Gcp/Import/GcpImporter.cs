using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Google;
using Google.Apis.Upload;
using Google.Cloud.Storage.V1;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Providers.Gcp.Compute;
using StorageObject = Google.Apis.Storage.v1.Data.Object;

namespace ImageForge.Providers.Gcp.Import;

/// <summary>
/// Imports the build's <c>disk.tar.gz</c> into Compute Engine in three journaled steps (docs/gcp.md): <c>upload</c>
/// (a resumable Cloud Storage upload whose session URI is journaled before the first byte, its CRC32C and MD5 checked
/// by the server and again here), <c>insert</c> (images.insert with a deterministic name and requestId, outside any
/// family until promoted, waited on to DONE) and <c>delete-upload</c>. A resumed import skips what is done, resumes an
/// upload from the last committed byte, waits on the recorded operation, and never makes a second image.
/// </summary>
internal sealed class GcpImporter(GcpClients clients, TimeProvider time) : IImageImporter
{
    public const string UploadStep = "upload";
    public const string InsertStep = "insert";
    public const string DeleteUploadStep = "delete-upload";

    /// <summary>The artifact kind of an imported image.</summary>
    public const string ImageKind = "gce-image";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <inheritdoc />
    public string Provider => GcpProvider.ProviderName;

    /// <inheritdoc />
    public string DiskKind => "disk-tar-gz";

    /// <inheritdoc />
    public IReadOnlyList<string> Preflight(TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var problems = new List<string>();
        if (target.Option("project_id") is null)
        {
            problems.Add(
                "gcp: options.project_id is required to import (the project that owns the images)"
            );
        }

        if (target.Option("bucket") is null)
        {
            problems.Add(
                "gcp: options.bucket is required to import (the Cloud Storage bucket the disk is uploaded to)"
            );
        }

        return problems;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Artifact>> ImportAsync(
        ImportRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sink);
        var plan = ImportPlan.For(request);
        var account = await Step(
            "connect",
            () => clients.ForAsync(request.Target, cancellationToken)
        );
        var upload = await Step(
            UploadStep,
            () => UploadAsync(account.Storage, plan, request, sink, cancellationToken)
        );
        var image = await Step(
            InsertStep,
            () => InsertAsync(account.Compute, plan, request, sink, cancellationToken)
        );
        await Step(
            DeleteUploadStep,
            () => DeleteUploadAsync(account.Storage, plan, request, cancellationToken)
        );

        var details = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["project"] = plan.Project,
            ["name"] = plan.ImageName,
            ["id"] = image.Id,
            ["upload"] = plan.ObjectUrl,
            ["crc32c"] = upload.Crc32c,
            ["storage-location"] = plan.StorageLocation,
            ["credentials-variable"] = GcpClients.CredentialsVariable(request.Target),
        };
        foreach (var (channel, family) in plan.Families)
        {
            details["family." + channel] = family;
        }

        return
        [
            new Artifact
            {
                Target = Provider,
                Region = "global",
                Kind = ImageKind,
                Location = image.SelfLink,
                SourceSha256 = request.Disk.Sha256,
                Details = details,
            },
        ];
    }

    // Runs one step; any failure names the step (what was done stays journaled for 'build --resume').
    private static async Task<T> Step<T>(string step, Func<Task<T>> run)
    {
        try
        {
            return await run();
        }
        catch (Exception e) when (e is not OperationCanceledException and not InvalidInputException)
        {
            throw new ToolFailedException(
                GcpProvider.ProviderName,
                $"step {step} failed: {e.Message}",
                [],
                e
            );
        }
    }

    private async Task<UploadDone> UploadAsync(
        StorageClient storage,
        ImportPlan plan,
        ImportRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken
    )
    {
        var recorded = await request.Journal.GetAsync(plan.Home, UploadStep, cancellationToken);
        if (recorded is { State: ImportStepState.Done })
        {
            return Read<UploadDone>(recorded);
        }

        var (crc32c, md5) = await HashAsync(request.Disk.Location, cancellationToken);
        var existing = await FindObjectAsync(storage, plan, cancellationToken);
        if (existing is not null && existing.Crc32c == crc32c && existing.Md5Hash == md5)
        {
            // Uploaded by an earlier run whose journal entry was lost: the same bytes, nothing to send again.
            return await RecordUploadAsync(request, plan, existing, crc32c, md5, cancellationToken);
        }

        await using var source = File.OpenRead(request.Disk.Location);
        var destination = new StorageObject
        {
            Bucket = plan.Bucket,
            Name = plan.ObjectName,
            ContentType = "application/gzip",
            // Sent with the session: the server refuses the object if its bytes hash otherwise.
            Crc32c = crc32c,
            Md5Hash = md5,
            Metadata = new Dictionary<string, string>
            {
                ["imageforge-image"] = request.Definition.Name,
                ["imageforge-version"] = request.Version,
                ["imageforge-sha256"] = request.Disk.Sha256 ?? "",
            },
        };
        var session = recorded?.Data is { } data ? Read<UploadStarted>(data).Session : null;
        var uploader = Uploader(storage, destination, source, resuming: session is not null);
        var total = source.Length;
        var reported = -1L;
        void Report(IUploadProgress p)
        {
            var tenth = total == 0 ? 10 : p.BytesSent * 10 / total;
            if (p.Status == UploadStatus.Uploading && tenth > Interlocked.Read(ref reported))
            {
                Interlocked.Exchange(ref reported, tenth);
                sink.Progress(
                    "import gcp",
                    $"uploaded {p.BytesSent / 1048576.0:0.0} of {total / 1048576.0:0.0} MiB to gs://{plan.Bucket}"
                );
            }
        }

        uploader.ProgressChanged += Report;

        IUploadProgress progress;
        if (session is not null)
        {
            sink.Progress("import gcp", "resuming the upload where Cloud Storage has it");
            progress = await uploader.ResumeAsync(new Uri(session), cancellationToken);
            if (
                progress.Exception is GoogleApiException
                {
                    HttpStatusCode: HttpStatusCode.NotFound or HttpStatusCode.Gone
                }
            )
            {
                // The session expired (a week) or was cancelled: start a new one from the first byte.
                session = null;
                source.Position = 0;
                uploader = Uploader(storage, destination, source, resuming: false);
                uploader.ProgressChanged += Report;
            }
        }

        if (session is null)
        {
            var uri = await uploader.InitiateSessionAsync(cancellationToken);
            await request.Journal.RecordAsync(
                new ImportStep(
                    plan.Home,
                    UploadStep,
                    ImportStepState.Started,
                    JsonSerializer.Serialize(
                        new UploadStarted(plan.ObjectUrl, uri.AbsoluteUri),
                        Json
                    )
                ),
                cancellationToken
            );
            progress = await uploader.ResumeAsync(uri, cancellationToken);
        }
        else
        {
            progress = uploader.GetProgress();
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (progress.Status != UploadStatus.Completed)
        {
            throw progress.Exception
                ?? new InvalidOperationException($"the upload ended {progress.Status}");
        }

        var stored =
            uploader.ResponseBody
            ?? await FindObjectAsync(storage, plan, cancellationToken)
            ?? throw new InvalidOperationException($"{plan.ObjectUrl} is missing after its upload");
        return await RecordUploadAsync(request, plan, stored, crc32c, md5, cancellationToken);
    }

    // A resumed session sends only the rest of the file, so the library cannot hash it: the server still checks the
    // CRC32C and MD5 the session was opened with, and RecordUploadAsync compares what it stored.
    private Google.Apis.Storage.v1.ObjectsResource.InsertMediaUpload Uploader(
        StorageClient storage,
        StorageObject destination,
        Stream source,
        bool resuming
    ) =>
        storage.CreateObjectUploader(
            destination,
            source,
            new UploadObjectOptions
            {
                ChunkSize = clients.Settings.UploadChunkSize,
                UploadValidationMode = resuming
                    ? UploadValidationMode.None
                    : UploadValidationMode.RejectAndThrow,
            }
        );

    private static async Task<UploadDone> RecordUploadAsync(
        ImportRequest request,
        ImportPlan plan,
        StorageObject stored,
        string crc32c,
        string md5,
        CancellationToken cancellationToken
    )
    {
        if (stored.Crc32c != crc32c || stored.Md5Hash != md5)
        {
            throw new InvalidOperationException(
                $"{plan.ObjectUrl} has crc32c {stored.Crc32c} md5 {stored.Md5Hash}, the disk has crc32c {crc32c} md5 {md5}"
            );
        }

        var done = new UploadDone(
            plan.ObjectUrl,
            crc32c,
            md5,
            stored.Generation?.ToString(CultureInfo.InvariantCulture) ?? ""
        );
        await request.Journal.RecordAsync(
            new ImportStep(
                plan.Home,
                UploadStep,
                ImportStepState.Done,
                JsonSerializer.Serialize(done, Json)
            ),
            cancellationToken
        );
        return done;
    }

    private async Task<InsertDone> InsertAsync(
        ComputeClient compute,
        ImportPlan plan,
        ImportRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken
    )
    {
        var recorded = await request.Journal.GetAsync(plan.Home, InsertStep, cancellationToken);
        if (recorded is { State: ImportStepState.Done })
        {
            return Read<InsertDone>(recorded);
        }

        var started = recorded?.Data is { } data ? Read<InsertStarted>(data) : null;
        var attempt = started?.Attempt ?? 1;
        var existing = await compute.GetImageAsync(plan.Project, plan.ImageName, cancellationToken);
        if (
            existing is not null
            && existing.Labels?.GetValueOrDefault("fingerprint") != plan.FingerprintLabel
        )
        {
            throw new InvalidOperationException(
                $"image {plan.ImageName} exists in {plan.Project} but was not made from this build's inputs "
                    + $"(label fingerprint={existing.Labels?.GetValueOrDefault("fingerprint")}); delete it or build again"
            );
        }

        if (existing is { Status: "FAILED" })
        {
            // A failed insert leaves a FAILED image under the name: delete it, insert again with a new requestId.
            sink.Progress(
                "import gcp",
                $"image {plan.ImageName} failed before; deleting it to insert again"
            );
            var deleting = await compute.DeleteImageAsync(
                plan.Project,
                plan.ImageName,
                plan.RequestId($"delete-failed#{attempt}"),
                cancellationToken
            );
            if (deleting is not null)
            {
                await compute.WaitAsync(plan.Project, deleting, _ => { }, cancellationToken);
            }

            existing = null;
            attempt++;
        }

        if (existing is null || existing.Status != "READY")
        {
            var operation =
                existing is null
                    ? await compute.InsertImageAsync(
                        plan.Project,
                        plan.ImageBody(request),
                        plan.RequestId($"insert#{attempt}"),
                        cancellationToken
                    )
                : started?.Operation is { } name ? new ComputeOperation { Name = name }
                : null;
            if (operation is not null)
            {
                await request.Journal.RecordAsync(
                    new ImportStep(
                        plan.Home,
                        InsertStep,
                        ImportStepState.Started,
                        JsonSerializer.Serialize(
                            new InsertStarted(plan.ImageName, operation.Name, attempt),
                            Json
                        )
                    ),
                    cancellationToken
                );
                var last = -1;
                await compute.WaitAsync(
                    plan.Project,
                    operation,
                    op =>
                    {
                        if (op.Progress is { } p && p != last)
                        {
                            last = p;
                            sink.Progress(
                                "import gcp",
                                $"images.insert {plan.ImageName}: {op.Status} {p}%"
                            );
                        }
                    },
                    cancellationToken
                );
            }

            existing = await WaitReadyAsync(compute, plan, cancellationToken);
        }

        var done = new InsertDone(
            plan.ImageName,
            existing.SelfLink ?? GcpNames.SelfLink(plan.Project, plan.ImageName),
            existing.Id ?? ""
        );
        await request.Journal.RecordAsync(
            new ImportStep(
                plan.Home,
                InsertStep,
                ImportStepState.Done,
                JsonSerializer.Serialize(done, Json)
            ),
            cancellationToken
        );
        sink.Progress("import gcp", $"image {done.SelfLink} is READY");
        return done;
    }

    // An image another run is inserting (no operation of ours to wait on): poll images.get until it settles.
    private async Task<ComputeImage> WaitReadyAsync(
        ComputeClient compute,
        ImportPlan plan,
        CancellationToken cancellationToken
    )
    {
        for (
            var delay = TimeSpan.FromMilliseconds(100);
            ;
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerSecond * 15))
        )
        {
            var image =
                await compute.GetImageAsync(plan.Project, plan.ImageName, cancellationToken)
                ?? throw new InvalidOperationException(
                    $"image {plan.ImageName} is missing after its insert"
                );
            switch (image.Status)
            {
                case "READY":
                    return image;
                case "FAILED":
                    throw new InvalidOperationException(
                        $"image {plan.ImageName} ended FAILED; 'build --resume' deletes it and inserts again"
                    );
            }

            await Task.Delay(delay, time, cancellationToken);
        }
    }

    private static async Task<bool> DeleteUploadAsync(
        StorageClient storage,
        ImportPlan plan,
        ImportRequest request,
        CancellationToken cancellationToken
    )
    {
        var recorded = await request.Journal.GetAsync(
            plan.Home,
            DeleteUploadStep,
            cancellationToken
        );
        if (recorded is { State: ImportStepState.Done })
        {
            return true;
        }

        try
        {
            await storage.DeleteObjectAsync(
                plan.Bucket,
                plan.ObjectName,
                cancellationToken: cancellationToken
            );
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            // Deleted by an earlier run whose journal entry was lost.
        }

        await request.Journal.RecordAsync(
            new ImportStep(plan.Home, DeleteUploadStep, ImportStepState.Done, plan.ObjectUrl),
            cancellationToken
        );
        return true;
    }

    private static async Task<StorageObject?> FindObjectAsync(
        StorageClient storage,
        ImportPlan plan,
        CancellationToken cancellationToken
    )
    {
        try
        {
            return await storage.GetObjectAsync(
                plan.Bucket,
                plan.ObjectName,
                cancellationToken: cancellationToken
            );
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    // CRC32C and MD5 of the file, base64 as Cloud Storage writes them.
    private static async Task<(string Crc32c, string Md5)> HashAsync(
        string path,
        CancellationToken cancellationToken
    )
    {
        var crc = new Crc32C();
#pragma warning disable CA5351 // MD5 is Cloud Storage's own integrity hash, not a security choice.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
        await using var stream = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            crc.Append(buffer.AsSpan(0, read));
            md5.AppendData(buffer, 0, read);
        }

        return (Convert.ToBase64String(crc.Hash()), Convert.ToBase64String(md5.GetHashAndReset()));
    }

    private static T Read<T>(ImportStep step) => Read<T>(step.Data ?? "{}");

    private static T Read<T>(string data) =>
        JsonSerializer.Deserialize<T>(data, Json)
        ?? throw new InvalidOperationException($"unreadable journal entry: {data}");

    internal sealed record UploadStarted(string Object, string Session);

    internal sealed record UploadDone(string Object, string Crc32c, string Md5, string Generation);

    internal sealed record InsertStarted(string Image, string Operation, int Attempt);

    internal sealed record InsertDone(string Name, string SelfLink, string Id);
}
