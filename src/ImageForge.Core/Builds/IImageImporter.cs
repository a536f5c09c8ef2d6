using System.Security.Cryptography;
using System.Text;
using ImageForge.Core.Definitions;

namespace ImageForge.Core.Builds;

/// <summary>
/// Imports the disk a build made into one provider (port; one per cloud provider): uploads it, turns it into the
/// provider's image in every region of the target, and returns those images as artifacts. Each step is recorded in
/// the build's journal before the next starts and is skipped when it is done already, and every create call carries
/// a token or name from <see cref="ImportTokens"/>, so a resumed import never makes a second image.
/// </summary>
public interface IImageImporter
{
    /// <summary>The provider whose targets this imports into.</summary>
    string Provider { get; }

    /// <summary>The disk format it imports: an artifact kind of the disk build (e.g. <c>disk-raw</c>).</summary>
    string DiskKind { get; }

    /// <summary>What the target needs before a build may start (credentials, settings), each a problem to fix.</summary>
    IReadOnlyList<string> Preflight(TargetSpec target);

    /// <summary>
    /// Runs the import's remaining steps and returns one artifact per image it made (with the disk's sha256 as
    /// <see cref="Artifact.SourceSha256"/>). Throws an <c>ImageForgeException</c> naming the failed step; what was done
    /// stays in the journal for <c>build --resume</c>.
    /// </summary>
    Task<IReadOnlyList<Artifact>> ImportAsync(
        ImportRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    );
}

/// <summary>What one import needs: the version it becomes, the disk, the target and the journal of its steps.</summary>
public sealed record ImportRequest(
    string BuildId,
    ImageDefinition Definition,
    TargetSpec Target,
    string Version,
    Artifact Disk,
    string Fingerprint,
    IImportJournal Journal,
    IReadOnlyDictionary<string, string> Secrets
)
{
    /// <summary>Where the import may keep temporary files (deleted with the build's work directory).</summary>
    public string WorkDirectory { get; init; } = Path.GetTempPath();

    // The secret values are part of the record for the importer; never print them.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(
            $"BuildId = {BuildId}, Image = {Definition.Name}, Target = {Target.Provider}, Version = {Version}, "
                + $"Secrets = [{string.Join(", ", Secrets.Keys)}]"
        );
        return true;
    }
}

/// <summary>The recorded steps of one target's import within one build.</summary>
public interface IImportJournal
{
    /// <summary>The step as last recorded, or null when it never started.</summary>
    Task<ImportStep?> GetAsync(
        string region,
        string name,
        CancellationToken cancellationToken = default
    );

    /// <summary>Records a step's state and data (replacing what was recorded for it).</summary>
    Task RecordAsync(ImportStep entry, CancellationToken cancellationToken = default);
}

/// <summary>One step of an import: started (its data says what it is waiting for) or done (its data is its result).</summary>
/// <param name="Region">The region it works in (or the target's home region for upload steps).</param>
/// <param name="Step">Its name, e.g. <c>upload</c>, <c>import-snapshot</c>, <c>copy</c>.</param>
/// <param name="State">Started or done.</param>
/// <param name="Data">What the step knows: ids of what it created, as the importer writes them.</param>
public sealed record ImportStep(string Region, string Step, ImportStepState State, string? Data);

/// <summary>One recorded import step of a build, with the target it belongs to.</summary>
public sealed record ImportStepRecord(string Target, ImportStep Step);

/// <summary>How far a step got.</summary>
public enum ImportStepState
{
    Started,
    Done,
}

/// <summary>Idempotency tokens and names derived from what an import step creates, so a repeat finds the first.</summary>
public static class ImportTokens
{
    /// <summary>
    /// A token for one create call: 64 lowercase hex characters (the sha256 of the image, version, target, region and
    /// step), stable across retries and resumes of the same build.
    /// </summary>
    public static string For(
        string image,
        string version,
        string target,
        string region,
        string step
    ) =>
        Convert.ToHexStringLower(
            SHA256.HashData(
                Encoding.UTF8.GetBytes($"{image}\n{version}\n{target}\n{region}\n{step}")
            )
        );
}
