using System.Security.Cryptography;
using ImageForge.Core.Worker;

namespace ImageForge.Server.Queue;

/// <summary>
/// The name this worker registers under in the catalog (<c>&lt;name&gt;-&lt;12 hex&gt;</c>, new at every start), made
/// before the host starts so the queue runner and Quartz's clustered scheduler (its instance id) use the same one.
/// </summary>
public sealed record WorkerIdentity(string Id)
{
    /// <summary>A new identity for a worker named by <c>worker.yaml</c>'s <c>name</c>, else the host name.</summary>
    public static WorkerIdentity New(WorkerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var name = config.Name ?? Environment.MachineName;
        return new WorkerIdentity(
            $"{name}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}"
        );
    }
}
