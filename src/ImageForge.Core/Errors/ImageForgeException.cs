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
