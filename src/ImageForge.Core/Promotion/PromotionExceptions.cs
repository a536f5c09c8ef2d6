using ImageForge.Core.Errors;

namespace ImageForge.Core.Promotion;

/// <summary>
/// A rule refused the action (a role, a precondition, a version's status): exit code 1. Nothing was changed.
/// </summary>
public sealed class RefusedException : ImageForgeException
{
    public RefusedException(IReadOnlyList<string> reasons)
        : base(string.Join(Environment.NewLine, reasons))
    {
        Reasons = reasons;
    }

    public RefusedException(string reason)
        : this([reason]) { }

    public IReadOnlyList<string> Reasons { get; }

    public override int ExitCode => 1;
}

/// <summary>
/// Another action holds the channel (a promotion running, or the pointer moved meanwhile): exit code 1. Nothing was
/// changed; retry once the other action has finished.
/// </summary>
public sealed class PromotionConflictException : ImageForgeException
{
    public PromotionConflictException(string message)
        : base(message) { }

    public override int ExitCode => 1;
}
