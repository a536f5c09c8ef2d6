using ImageForge.Core.Errors;

namespace ImageForge.Toolchain.Packer;

/// <summary>Why Packer failed.</summary>
public enum PackerFailureKind
{
    /// <summary>Packer (or, from 1.7, a required plugin) is not installed or is not Packer.</summary>
    NotInstalled,

    /// <summary><c>packer validate</c> rejected the template or its variables.</summary>
    Validation,

    /// <summary><c>packer build</c> exited non-zero (a builder, provisioner or post-processor failed).</summary>
    Build,

    /// <summary>Packer ran longer than its timeout and was stopped with everything it started.</summary>
    TimedOut,
}

/// <summary>Packer failed (exit code 3). The message says what went wrong and what to do next.</summary>
public sealed class PackerFailedException : ImageForgeException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="kind">Why Packer failed.</param>
    /// <param name="message">What went wrong and what to do next.</param>
    /// <param name="errors">Packer's own error texts, secrets masked.</param>
    /// <param name="lastLines">The last lines of its output, secrets masked.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public PackerFailedException(
        PackerFailureKind kind,
        string message,
        IReadOnlyList<string> errors,
        IReadOnlyList<string> lastLines,
        Exception? inner = null
    )
        : base(message, inner)
    {
        Kind = kind;
        Errors = errors;
        LastLines = lastLines;
    }

    /// <summary>Why Packer failed.</summary>
    public PackerFailureKind Kind { get; }

    /// <summary>Packer's own error texts (its <c>error</c> lines, else its UI errors), secrets masked.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>The last lines of Packer's output, secrets masked.</summary>
    public IReadOnlyList<string> LastLines { get; }

    /// <inheritdoc />
    public override int ExitCode => 3;
}
