using System.Net;

namespace ImageForge.CloudFakes.Gcp;

/// <summary>
/// Failures a spec injects into the GCP fake. Methods are named by their discovery id (<c>storage.objects.get</c>,
/// <c>compute.images.insert</c>, <c>compute.globalOperations.get</c>) or by <see cref="GcpFake.ResumableChunk"/>
/// for the PUTs of a resumable upload session.
/// </summary>
public sealed class GcpFaults
{
    private readonly Dictionary<string, Queue<HttpStatusCode>> _calls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<(string Code, string Message)>> _operations = new(
        StringComparer.Ordinal
    );
    private readonly List<long> _cuts = [];
    private readonly Lock _gate = new();

    /// <summary>
    /// Answers the next <paramref name="count"/> calls of <paramref name="methodId"/> with <paramref name="status"/>
    /// (429 rateLimitExceeded or 503 backendError, in Google's error format) before the request is looked at.
    /// </summary>
    public void FailNextCalls(string methodId, int count, HttpStatusCode status)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (status is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "429 or 503");
        }
        lock (_gate)
        {
            var queue = _calls.TryGetValue(methodId, out var q) ? q : _calls[methodId] = new();
            for (var i = 0; i < count; i++)
            {
                queue.Enqueue(status);
            }
        }
    }

    /// <summary>
    /// The next operation <paramref name="methodId"/> starts ends DONE with this error (an image it inserts ends
    /// FAILED; a change it carries is not applied).
    /// </summary>
    public void FailNextOperation(
        string methodId,
        string code = "QUOTA_EXCEEDED",
        string message = "Quota 'IMAGES' exceeded."
    )
    {
        lock (_gate)
        {
            var queue = _operations.TryGetValue(methodId, out var q)
                ? q
                : _operations[methodId] = new();
            queue.Enqueue((code, message));
        }
    }

    /// <summary>
    /// Cuts the connection of the next resumable-upload chunk that carries byte <paramref name="offset"/> of its
    /// object, once the fake has read the bytes before it. As GCS, the fake then keeps what it received rounded down
    /// to 256 KiB, so the client must ask (<c>Content-Range: bytes */N</c>) and resume from there.
    /// </summary>
    public void CutUploadAt(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        lock (_gate)
        {
            _cuts.Add(offset);
        }
    }

    internal HttpStatusCode? TakeCallFailure(string methodId)
    {
        lock (_gate)
        {
            return _calls.TryGetValue(methodId, out var queue) && queue.TryDequeue(out var status)
                ? status
                : null;
        }
    }

    internal (string Code, string Message)? TakeOperationFailure(string methodId)
    {
        lock (_gate)
        {
            return
                _operations.TryGetValue(methodId, out var queue)
                && queue.TryDequeue(out var failure)
                ? failure
                : null;
        }
    }

    /// <summary>The cut inside [start, end) of an object, taken (each cut fires once), or null.</summary>
    internal long? TakeCut(long start, long end)
    {
        lock (_gate)
        {
            var index = _cuts.FindIndex(c => c >= start && c < end);
            if (index < 0)
            {
                return null;
            }
            var cut = _cuts[index];
            _cuts.RemoveAt(index);
            return cut;
        }
    }
}
