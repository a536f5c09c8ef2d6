using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Packer;

/// <summary>
/// What one Packer run works on: the template, its variables (plain ones on the command line, sensitive ones only
/// through <c>PKR_VAR_*</c> environment variables and masked everywhere), var files, and the directories and time
/// limits of the run. Immutable; copy it with the <c>WithX</c> methods.
/// </summary>
public sealed partial class PackerInvocation
{
    /// <summary>
    /// Time Packer gets between SIGTERM and SIGKILL unless told otherwise. Generous on purpose: when cancelled,
    /// cloud builders delete the instance, key pair and security group they made, and killing them early leaks those.
    /// </summary>
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(30);

    /// <summary>Creates an invocation of a template: a directory of <c>*.pkr.hcl</c> files, or one template file.</summary>
    public PackerInvocation(string templatePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(templatePath);
        TemplatePath = templatePath;
        VariableMap = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        SensitiveVariableMap = ImmutableSortedDictionary.Create<string, string>(
            StringComparer.Ordinal
        );
        EnvironmentMap = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        VarFileList = [];
        GracePeriod = DefaultGracePeriod;
    }

    private PackerInvocation(PackerInvocation other)
    {
        TemplatePath = other.TemplatePath;
        WorkingDirectory = other.WorkingDirectory;
        VariableMap = other.VariableMap;
        SensitiveVariableMap = other.SensitiveVariableMap;
        EnvironmentMap = other.EnvironmentMap;
        VarFileList = other.VarFileList;
        TempDirectory = other.TempDirectory;
        CleanupDirectory = other.CleanupDirectory;
        Timeout = other.Timeout;
        GracePeriod = other.GracePeriod;
    }

    /// <summary>The template: a directory of <c>*.pkr.hcl</c> files or one file; relative to the working directory.</summary>
    public string TemplatePath { get; }

    /// <summary>Where Packer runs (relative paths in the template resolve from here); null for the current directory.</summary>
    public string? WorkingDirectory { get; private init; }

    /// <summary>Plain variables, passed as <c>-var name=value</c>.</summary>
    public IReadOnlyDictionary<string, string> Variables => VariableMap;

    /// <summary>
    /// Sensitive variables, passed only as <c>PKR_VAR_name</c> environment variables (never on the command line,
    /// where any user can read them in <c>/proc</c>) and masked in every line and message. Packer 1.6.6 prints
    /// sensitive values in clear text in machine-readable output, so masking here is what keeps them out of logs.
    /// </summary>
    public IReadOnlyDictionary<string, string> SensitiveVariables => SensitiveVariableMap;

    /// <summary>Variable files, passed as <c>-var-file</c> in order (later files override earlier ones).</summary>
    public IReadOnlyList<string> VarFiles => VarFileList;

    /// <summary>Packer's temporary directory (set as <c>PACKER_TMP_DIR</c> and <c>TMPDIR</c>); null to inherit.</summary>
    public string? TempDirectory { get; private init; }

    /// <summary>Every mount at or below this directory is detached after each run, whatever its outcome.</summary>
    public string? CleanupDirectory { get; private init; }

    /// <summary>How long a run may take before it is stopped and fails as timed out; null for no limit.</summary>
    public TimeSpan? Timeout { get; private init; }

    /// <summary>Time Packer gets to clean up between SIGTERM and SIGKILL when stopped.</summary>
    public TimeSpan GracePeriod { get; private init; }

    /// <summary>Further environment variables for Packer and what it runs.</summary>
    public IReadOnlyDictionary<string, string> Environment => EnvironmentMap;

    private ImmutableSortedDictionary<string, string> VariableMap { get; init; }

    private ImmutableSortedDictionary<string, string> SensitiveVariableMap { get; init; }

    private ImmutableSortedDictionary<string, string> EnvironmentMap { get; init; }

    private ImmutableArray<string> VarFileList { get; init; }

    /// <summary>A copy with this plain variable set (<c>-var name=value</c>).</summary>
    public PackerInvocation WithVariable(string name, string value)
    {
        GuardVariable(name, value);
        return new(this)
        {
            VariableMap = VariableMap.SetItem(name, value),
            SensitiveVariableMap = SensitiveVariableMap.Remove(name),
        };
    }

    /// <summary>A copy with this sensitive variable set (<c>PKR_VAR_name</c>, masked everywhere).</summary>
    public PackerInvocation WithSensitiveVariable(string name, string value)
    {
        GuardVariable(name, value);
        return new(this)
        {
            SensitiveVariableMap = SensitiveVariableMap.SetItem(name, value),
            VariableMap = VariableMap.Remove(name),
        };
    }

    /// <summary>A copy that also reads this variable file (after the ones already added).</summary>
    public PackerInvocation WithVarFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new(this) { VarFileList = VarFileList.Add(path) };
    }

    /// <summary>A copy that runs Packer in this directory.</summary>
    public PackerInvocation WithWorkingDirectory(string? workingDirectory) =>
        new(this) { WorkingDirectory = workingDirectory };

    /// <summary>A copy with this temporary directory for Packer and its children.</summary>
    public PackerInvocation WithTempDirectory(string? tempDirectory) =>
        new(this) { TempDirectory = tempDirectory };

    /// <summary>A copy that detaches every mount below this directory after each run.</summary>
    public PackerInvocation WithCleanupDirectory(string? cleanupDirectory) =>
        new(this) { CleanupDirectory = cleanupDirectory };

    /// <summary>A copy with this time limit (null for none).</summary>
    public PackerInvocation WithTimeout(TimeSpan? timeout)
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
    public PackerInvocation WithGracePeriod(TimeSpan gracePeriod)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gracePeriod, TimeSpan.Zero);
        return new(this) { GracePeriod = gracePeriod };
    }

    /// <summary>A copy with this environment variable set for Packer.</summary>
    public PackerInvocation WithEnvironment(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        return new(this) { EnvironmentMap = EnvironmentMap.SetItem(name, value) };
    }

    /// <summary>The redactor for this invocation's sensitive values.</summary>
    internal Redactor Redactor => new(SensitiveVariableMap.Values);

    /// <summary>
    /// The process for <c>packer COMMAND FLAGS... [-var n=v]... [-var-file f]... TEMPLATE</c>: the template last,
    /// since Packer's flag parsing stops at the first argument that is not a flag.
    /// </summary>
    internal ProcessSpec ToProcessSpec(
        string packerExecutable,
        string command,
        IEnumerable<string> flags,
        bool withVariables = true
    )
    {
        var arguments = new List<string> { command };
        arguments.AddRange(flags);
        if (withVariables)
        {
            foreach (var (name, value) in VariableMap)
            {
                arguments.Add("-var");
                arguments.Add($"{name}={value}");
            }

            foreach (var file in VarFileList)
            {
                arguments.Add($"-var-file={file}");
            }
        }

        // A relative template starting with '-' would be read as a flag.
        arguments.Add(TemplatePath.StartsWith('-') ? "./" + TemplatePath : TemplatePath);

        var spec = new ProcessSpec(packerExecutable)
            .WithArguments(arguments)
            .WithWorkingDirectory(WorkingDirectory)
            .WithTimeout(Timeout)
            .WithGracePeriod(GracePeriod)
            // Packer 1.6.6 asks checkpoint.hashicorp.com for updates on every run; there is no network to ask.
            .WithEnvironment("CHECKPOINT_DISABLE", "1");

        if (TempDirectory is not null)
        {
            spec = spec.WithEnvironment("PACKER_TMP_DIR", TempDirectory)
                .WithEnvironment("TMPDIR", TempDirectory);
        }

        foreach (var (name, value) in EnvironmentMap)
        {
            spec = spec.WithEnvironment(name, value);
        }

        foreach (var (name, value) in SensitiveVariableMap)
        {
            spec = spec.WithEnvironment("PKR_VAR_" + name, value).WithSecret(value);
        }

        return spec;
    }

    /// <summary>A description for logs with every sensitive value masked.</summary>
    public override string ToString()
    {
        var redactor = Redactor;
        var text = new StringBuilder("template ").Append(TemplatePath);
        Append("in", WorkingDirectory);
        foreach (var (name, value) in VariableMap)
        {
            text.Append(" -var ").Append(name).Append('=').Append(redactor.Redact(value));
        }

        foreach (var name in SensitiveVariableMap.Keys)
        {
            text.Append(" PKR_VAR_").Append(name).Append('=').Append(Redactor.Mask);
        }

        foreach (var file in VarFileList)
        {
            text.Append(" -var-file=").Append(file);
        }

        foreach (var (name, value) in EnvironmentMap)
        {
            text.Append(' ').Append(name).Append('=').Append(redactor.Redact(value));
        }

        Append("tmp", TempDirectory);
        Append("cleanup", CleanupDirectory);
        Append("timeout", Timeout?.ToString());
        return text.ToString();

        void Append(string label, string? value)
        {
            if (value is not null)
            {
                text.Append(" (").Append(label).Append(' ').Append(value).Append(')');
            }
        }
    }

    private static void GuardVariable(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (name is null || !VariableName().IsMatch(name))
        {
            throw new ArgumentException(
                $"'{name}' is not a Packer variable name (letters, digits, '_' and '-', not starting with a digit).",
                nameof(name)
            );
        }
    }

    // HCL identifiers; anything else could not be declared in a template, and '=' would shift -var's split.
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$")]
    private static partial Regex VariableName();
}
