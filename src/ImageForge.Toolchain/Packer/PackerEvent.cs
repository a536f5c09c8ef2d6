namespace ImageForge.Toolchain.Packer;

/// <summary>Something Packer reported during a run, parsed from its <c>-machine-readable</c> output.</summary>
/// <param name="Time">When Packer wrote it (whole seconds), or when it was read for lines without a timestamp.</param>
/// <param name="Target">The build it is about (<c>null.local</c>), or empty for Packer itself.</param>
public abstract record PackerEvent(DateTimeOffset Time, string Target);

/// <summary>How Packer's UI showed a message.</summary>
public enum PackerUiLevel
{
    /// <summary>A step heading (<c>==&gt; null.local: Running local shell script</c>).</summary>
    Say,

    /// <summary>Output of a step (a provisioner's standard output).</summary>
    Message,

    /// <summary>An error (a provisioner's standard error, a failed build).</summary>
    Error,
}

/// <summary>A line of Packer's UI (type <c>ui</c>); the text is unescaped and may span several lines.</summary>
public sealed record PackerUi(DateTimeOffset Time, string Target, PackerUiLevel Level, string Text)
    : PackerEvent(Time, Target);

/// <summary>A build's error (type <c>error</c>), written once per failed build at the end of the run.</summary>
public sealed record PackerError(DateTimeOffset Time, string Target, string Text)
    : PackerEvent(Time, Target);

/// <summary>
/// An artifact a build produced, emitted when Packer finished describing it (<c>artifact,INDEX,end</c>). Post-
/// processors add artifacts, so one build can report several.
/// </summary>
/// <param name="Time">When Packer reported it.</param>
/// <param name="Target">The build that made it.</param>
/// <param name="Index">The artifact's number within its build.</param>
/// <param name="BuilderId">The builder or post-processor that made it (<c>mitchellh.amazonebs</c>).</param>
/// <param name="Id">Its id (<c>eu-west-1:ami-04d23aca8bdd36e30</c>); may be empty.</param>
/// <param name="Description">Packer's human description of it.</param>
/// <param name="Files">Local files it consists of.</param>
public sealed record PackerArtifact(
    DateTimeOffset Time,
    string Target,
    int Index,
    string BuilderId,
    string Id,
    string Description,
    IReadOnlyList<string> Files
) : PackerEvent(Time, Target);

/// <summary>Any other machine-readable line (<c>artifact-count</c>, <c>error-count</c>, <c>version</c>...).</summary>
public sealed record PackerOther(
    DateTimeOffset Time,
    string Target,
    string Type,
    IReadOnlyList<string> Data
) : PackerEvent(Time, Target);

/// <summary>Packer was started; record the group so a crashed ImageForge can stop what it left running.</summary>
public sealed record PackerProcessStarted(DateTimeOffset Time, int ProcessId, int ProcessGroup)
    : PackerEvent(Time, "");

/// <summary>Text that is not machine-readable: Packer's standard error, or a stray log line in its output.</summary>
public sealed record PackerStderr(DateTimeOffset Time, string Text) : PackerEvent(Time, "");
