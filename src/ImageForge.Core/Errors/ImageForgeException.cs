namespace ImageForge.Core.Errors;

/// <summary>The one base of every unexpected failure ImageForge reports. Carries the process exit code.</summary>
public abstract class ImageForgeException : Exception
{
    protected ImageForgeException(string message, Exception? inner = null)
        : base(message, inner) { }

    /// <summary>Exit code of the command line: 2 bad input, 3 tool or provider failure.</summary>
    public abstract int ExitCode { get; }
}

/// <summary>One problem in a user's input file: where it is, which field, and what is expected.</summary>
public sealed record InputProblem(string File, int Line, string Field, string Message)
{
    public override string ToString() => $"{File}:{Line}: {Field}: {Message}";
}

/// <summary>Bad input (a definition, baseline, argument): exit code 2. Nothing has been written.</summary>
public sealed class InvalidInputException : ImageForgeException
{
    public InvalidInputException(IReadOnlyList<InputProblem> problems)
        : base(string.Join(Environment.NewLine, problems.Select(p => p.ToString())))
    {
        Problems = problems;
    }

    public InvalidInputException(string message)
        : base(message)
    {
        Problems = [];
    }

    public IReadOnlyList<InputProblem> Problems { get; }

    public override int ExitCode => 2;
}

/// <summary>An external tool (Packer, mmdebstrap, oscap) failed: exit code 3. Carries the tail of its output.</summary>
public sealed class ToolFailedException : ImageForgeException
{
    public ToolFailedException(
        string tool,
        string message,
        IReadOnlyList<string> lastLines,
        Exception? inner = null
    )
        : base(message, inner)
    {
        Tool = tool;
        LastLines = lastLines;
    }

    public string Tool { get; }

    public IReadOnlyList<string> LastLines { get; }

    public override int ExitCode => 3;
}

/// <summary>
/// A version's stored evidence document is not what its kind promises (changed or damaged after the build): the
/// worker's or the data directory's problem, not the caller's input. Exit code 1; the API answers 500 naming it.
/// </summary>
public sealed class EvidenceUnreadableException : ImageForgeException
{
    /// <summary>The version <paramref name="image"/>@<paramref name="version"/> whose <paramref name="kind"/>
    /// document <paramref name="file"/> cannot be read; <paramref name="inner"/> says what is wrong in it.</summary>
    public EvidenceUnreadableException(
        string image,
        string version,
        string kind,
        string file,
        InvalidInputException inner
    )
        : base(
            $"the {kind} evidence of {image}@{version} is unreadable: {Located(file, inner)}; it was changed or "
                + "damaged after the build: restore the file from a backup or rebuild the image",
            inner
        )
    {
        Image = image;
        Version = version;
        Kind = kind;
        File = file;
    }

    /// <summary>The image.</summary>
    public string Image { get; }

    /// <summary>The version.</summary>
    public string Version { get; }

    /// <summary>The evidence kind (<c>anomalies</c>).</summary>
    public string Kind { get; }

    /// <summary>The stored document's path.</summary>
    public string File { get; }

    /// <inheritdoc />
    public override int ExitCode => 1;

    // The readers name the file first ("<path>: $.format: ..."); say it where one did not.
    private static string Located(string file, InvalidInputException inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        return inner.Message.Contains(file, StringComparison.Ordinal)
            ? inner.Message
            : $"{file}: {inner.Message}";
    }
}
