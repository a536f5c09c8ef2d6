using System.Collections.Immutable;
using System.Text;

namespace ImageForge.Toolchain.Processes;

/// <summary>
/// An immutable description of one process to run: executable, argument vector, working directory, environment
/// additions, secrets to mask and time limits. Copy it with the <c>WithX</c> methods.
/// </summary>
public sealed class ProcessSpec
{
    /// <summary>How long a process gets between SIGTERM and SIGKILL unless told otherwise.</summary>
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>Creates a spec for an executable (a path, or a name looked up on PATH) with no arguments.</summary>
    public ProcessSpec(string fileName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        FileName = fileName;
        Arguments = [];
        EnvironmentMap = ImmutableSortedDictionary<string, string>.Empty.WithComparers(
            StringComparer.Ordinal
        );
        SecretList = [];
        GracePeriod = DefaultGracePeriod;
    }

    private ProcessSpec(ProcessSpec other)
    {
        FileName = other.FileName;
        Arguments = other.Arguments;
        WorkingDirectory = other.WorkingDirectory;
        EnvironmentMap = other.EnvironmentMap;
        SecretList = other.SecretList;
        Timeout = other.Timeout;
        GracePeriod = other.GracePeriod;
    }

    /// <summary>The executable: a path, or a name looked up on PATH.</summary>
    public string FileName { get; }

    /// <summary>The argument vector, passed to the process as is (never joined into one string and re-split).</summary>
    public IReadOnlyList<string> Arguments { get; private init; }

    /// <summary>The working directory, or null for the current one.</summary>
    public string? WorkingDirectory { get; private init; }

    /// <summary>Variables added to (or replacing in) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string> Environment => EnvironmentMap;

    /// <summary>Values masked in every line the process prints and in <see cref="ToString"/>.</summary>
    public IReadOnlyList<string> Secrets => SecretList;

    private ImmutableSortedDictionary<string, string> EnvironmentMap { get; init; }

    private ImmutableArray<string> SecretList { get; init; }

    /// <summary>How long the process may run before it is stopped and the run fails; null for no limit.</summary>
    public TimeSpan? Timeout { get; private init; }

    /// <summary>How long the process group gets between SIGTERM and SIGKILL when it is stopped.</summary>
    public TimeSpan GracePeriod { get; private init; }

    /// <summary>A copy with this argument vector (replacing the current one).</summary>
    public ProcessSpec WithArguments(params IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var list = arguments.ToImmutableArray();
        if (list.Any(a => a is null))
        {
            throw new ArgumentException("An argument is null.", nameof(arguments));
        }

        return new(this) { Arguments = list };
    }

    /// <summary>A copy that sets an environment variable for the process.</summary>
    public ProcessSpec WithEnvironment(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (
            name.Contains('=', StringComparison.Ordinal)
            || name.Contains('\0', StringComparison.Ordinal)
        )
        {
            throw new ArgumentException(
                $"'{name}' is not a valid environment variable name.",
                nameof(name)
            );
        }

        return new(this) { EnvironmentMap = EnvironmentMap.SetItem(name, value) };
    }

    /// <summary>A copy that also masks this value; empty values are ignored.</summary>
    public ProcessSpec WithSecret(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length == 0 || Secrets.Contains(value)
            ? this
            : new(this) { SecretList = SecretList.Add(value) };
    }

    /// <summary>A copy with a time limit (null for none).</summary>
    public ProcessSpec WithTimeout(TimeSpan? timeout)
    {
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                nameof(timeout),
                timeout,
                "A timeout must be positive."
            );
        }

        return new(this) { Timeout = timeout };
    }

    /// <summary>A copy with this time between SIGTERM and SIGKILL.</summary>
    public ProcessSpec WithGracePeriod(TimeSpan gracePeriod)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gracePeriod, TimeSpan.Zero);
        return new(this) { GracePeriod = gracePeriod };
    }

    /// <summary>A copy that runs in this directory (null for the current one).</summary>
    public ProcessSpec WithWorkingDirectory(string? workingDirectory) =>
        new(this) { WorkingDirectory = workingDirectory };

    /// <summary>The redactor for this spec's secrets.</summary>
    internal Redactor Redactor => new(Secrets);

    /// <summary>
    /// The command line as a shell would read it, environment additions first, with every secret masked (in
    /// arguments and in environment values). For logs and error messages only: the process never gets a string.
    /// </summary>
    public override string ToString()
    {
        var redactor = Redactor;
        var text = new StringBuilder();
        foreach (var (name, value) in Environment)
        {
            text.Append(name).Append('=').Append(ShellQuote(redactor.Redact(value))).Append(' ');
        }

        text.Append(ShellQuote(FileName));
        foreach (var argument in Arguments)
        {
            text.Append(' ').Append(ShellQuote(redactor.Redact(argument)));
        }

        return text.ToString();
    }

    internal static string ShellQuote(string value)
    {
        if (
            value.Length > 0
            && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+%@".Contains(c))
        )
        {
            return value;
        }

        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
