using ImageForge.Core.Builds;
using ImageForge.Core.Worker;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// An <see cref="IBuildRequests"/> that records what it was asked. By default it queues in memory: a new queued build
/// per request, the same build again for a repeated Idempotency-Key (joined). Set <see cref="OnQueue"/> to answer
/// otherwise (throw InvalidInputException, join).
/// </summary>
public sealed class RecordingBuildRequests : IBuildRequests
{
    private readonly Lock _lock = new();
    private readonly List<BuildSubmission> _submissions = [];
    private readonly List<(string BuildId, string Actor)> _cancellations = [];
    private readonly Dictionary<string, BuildRecord> _byKey = new(StringComparer.Ordinal);
    private int _next;

    /// <summary>Replaces the default answer of <see cref="QueueAsync"/> (the submission is recorded first).</summary>
    public Func<BuildSubmission, QueuedBuild>? OnQueue { get; set; }

    /// <summary>What <see cref="CancelAsync"/> answers.</summary>
    public bool CancelResult { get; set; } = true;

    /// <summary>The clock the queued builds' times come from.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    public IReadOnlyList<BuildSubmission> Submissions
    {
        get
        {
            lock (_lock)
            {
                return [.. _submissions];
            }
        }
    }

    public IReadOnlyList<(string BuildId, string Actor)> Cancellations
    {
        get
        {
            lock (_lock)
            {
                return [.. _cancellations];
            }
        }
    }

    public Task<QueuedBuild> QueueAsync(
        BuildSubmission submission,
        CancellationToken cancellationToken
    )
    {
        lock (_lock)
        {
            _submissions.Add(submission);
            if (OnQueue is { } answer)
            {
                return Task.FromResult(answer(submission));
            }

            if (submission.IdempotencyKey is { } key && _byKey.TryGetValue(key, out var earlier))
            {
                return Task.FromResult(new QueuedBuild(earlier, Joined: true));
            }

            var build = Queued(submission, $"{9000 + ++_next}", Time.GetUtcNow());
            if (submission.IdempotencyKey is { } newKey)
            {
                _byKey[newKey] = build;
            }

            return Task.FromResult(new QueuedBuild(build, Joined: false));
        }
    }

    public Task<bool> CancelAsync(
        string buildId,
        string actor,
        string role,
        CancellationToken cancellationToken
    )
    {
        lock (_lock)
        {
            _cancellations.Add((buildId, actor));
        }

        return Task.FromResult(CancelResult);
    }

    /// <summary>The build row a queue would return for the submission.</summary>
    public static BuildRecord Queued(BuildSubmission submission, string id, DateTimeOffset at) =>
        new()
        {
            Id = id,
            Image = submission.Image,
            Target = submission.Target ?? "local",
            Trigger = submission.Trigger,
            Requester = submission.Requester,
            Reason = submission.Reason,
            Fingerprint = "sha256:" + new string('0', 64),
            StartedAt = at,
            Status = BuildStatus.Queued,
        };
}

/// <summary>An <see cref="IWorkerEvents"/> that records the events published.</summary>
public sealed class RecordingWorkerEvents : IWorkerEvents
{
    private readonly Lock _lock = new();
    private readonly List<(string Type, object Data)> _published = [];

    public IReadOnlyList<(string Type, object Data)> Published
    {
        get
        {
            lock (_lock)
            {
                return [.. _published];
            }
        }
    }

    public Task PublishAsync(string eventType, object data, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _published.Add((eventType, data));
        }

        return Task.CompletedTask;
    }
}
