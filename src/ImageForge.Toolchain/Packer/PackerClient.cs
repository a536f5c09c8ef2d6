using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Packer;

/// <summary>
/// The one adapter to HashiCorp Packer: version detection, <c>init</c>, <c>validate</c> and <c>build</c>, with
/// machine-readable output parsed into events, secrets masked, and everything a run started stopped and unmounted
/// when it ends.
/// </summary>
public sealed partial class PackerClient
{
    private const int LastLineCount = 20;

    // `packer version` does no work: a hang there is a broken install, not a slow build.
    private static readonly TimeSpan QuickCommandTimeout = TimeSpan.FromMinutes(2);

    private readonly ProcessRunner _runner;
    private readonly string _packerExecutable;

    /// <summary>Creates a client that runs <paramref name="packerExecutable"/> (a path, or a name on PATH).</summary>
    public PackerClient(ProcessRunner runner, string packerExecutable = "packer")
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentException.ThrowIfNullOrWhiteSpace(packerExecutable);
        _runner = runner;
        _packerExecutable = packerExecutable;
    }

    /// <summary>Runs <c>packer version</c> and parses it.</summary>
    /// <exception cref="PackerFailedException">Kind <see cref="PackerFailureKind.NotInstalled"/>: no Packer, or not Packer.</exception>
    public async Task<PackerVersionInfo> GetVersionAsync(
        CancellationToken cancellationToken = default
    )
    {
        var spec = new ProcessSpec(_packerExecutable)
            .WithArguments("version")
            .WithEnvironment("CHECKPOINT_DISABLE", "1")
            .WithTimeout(QuickCommandTimeout);
        var run = await RunAsync(spec, null, cancellationToken);
        var output = string.Join('\n', run.Lines);
        if (run.ExitCode == 0 && ParseVersion(output) is { } version)
        {
            return new PackerVersionInfo(version);
        }

        throw new PackerFailedException(
            PackerFailureKind.NotInstalled,
            $"'{_packerExecutable} version' exited {run.ExitCode} without printing 'Packer vX.Y.Z': it is not a "
                + "working Packer. Install Packer (eng/prereqs.sh, or apt-get install packer) or point ImageForge "
                + "at the right executable (IMAGEFORGE_PACKER).",
            run.Errors,
            run.LastLines
        );
    }

    /// <summary>
    /// The HCL <c>packer { required_plugins { ... } }</c> block declaring these plugins, or "" when the Packer
    /// version does not support it (1.6.6 rejects the block; its plugins are built in) or there is none to declare.
    /// </summary>
    /// <param name="version">The installed Packer.</param>
    /// <param name="plugins">Local name (<c>amazon</c>), source (<c>github.com/hashicorp/amazon</c>), version constraint (<c>&gt;= 1.2.0</c>).</param>
    [SuppressMessage(
        "Performance",
        "CA1822:Mark members as static",
        Justification = "Part of the adapter's surface: callers hold a client, not the type."
    )]
    public string RequiredPluginsBlock(
        PackerVersionInfo version,
        IEnumerable<(string name, string source, string version)> plugins
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(plugins);
        var list = plugins.ToList();
        if (!version.SupportsRequiredPlugins || list.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder("packer {\n  required_plugins {\n");
        foreach (var (name, source, constraint) in list)
        {
            if (!PluginName().IsMatch(name))
            {
                throw new ArgumentException(
                    $"'{name}' is not a valid plugin name (an HCL identifier).",
                    nameof(plugins)
                );
            }

            text.Append(
                $"    {name} = {{\n      source  = {HclString(source)}\n      version = {HclString(constraint)}\n    }}\n"
            );
        }

        return text.Append("  }\n}\n").ToString();
    }

    /// <summary>Runs <c>packer init TEMPLATE</c> to install required plugins; nothing where init does not exist (before 1.7).</summary>
    /// <exception cref="PackerFailedException">Kind <see cref="PackerFailureKind.NotInstalled"/>: a plugin could not be installed.</exception>
    public async Task InitAsync(
        PackerInvocation invocation,
        PackerVersionInfo version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(invocation);
        ArgumentNullException.ThrowIfNull(version);
        if (!version.SupportsInit)
        {
            return;
        }

        var spec = invocation.ToProcessSpec(_packerExecutable, "init", [], withVariables: false);
        var run = await RunAsync(spec, invocation, cancellationToken);
        if (run.ExitCode != 0)
        {
            throw new PackerFailedException(
                PackerFailureKind.NotInstalled,
                $"'packer init' could not install the template's plugins (exit code {run.ExitCode}):\n"
                    + Summary(run)
                    + "\nCheck the required_plugins versions and that the plugin source is reachable.",
                run.Errors,
                run.LastLines
            );
        }
    }

    /// <summary>Runs <c>packer validate</c> with the invocation's variables, var files and environment.</summary>
    /// <exception cref="PackerFailedException">Kind <see cref="PackerFailureKind.Validation"/> with Packer's error text.</exception>
    public async Task ValidateAsync(
        PackerInvocation invocation,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(invocation);

        // -machine-readable: Packer 1.6.6 then writes its errors as "ui,error" lines (to standard output, like the
        // plain form), one per error with the line breaks escaped, instead of free text.
        var spec = invocation.ToProcessSpec(_packerExecutable, "validate", ["-machine-readable"]);
        var run = await RunAsync(spec, invocation, cancellationToken);
        if (run.ExitCode != 0)
        {
            throw new PackerFailedException(
                PackerFailureKind.Validation,
                $"Packer rejected the template {invocation.TemplatePath} (exit code {run.ExitCode}):\n"
                    + Summary(run)
                    + "\nFix the template or the variables it is given, then run again.",
                run.Errors,
                run.LastLines
            );
        }
    }

    /// <summary>
    /// Runs <c>packer build -machine-readable -color=false</c>, passing every parsed event to
    /// <paramref name="onEvent"/> as it arrives (a <see cref="PackerProcessStarted"/> first). Whatever the outcome,
    /// Packer's whole process group is gone and mounts below <see cref="PackerInvocation.CleanupDirectory"/> are
    /// detached when this returns or throws.
    /// </summary>
    /// <exception cref="PackerFailedException">Kind Build (non-zero exit) with Packer's errors, or TimedOut.</exception>
    /// <exception cref="OperationCanceledException">Cancelled, after the cleanup.</exception>
    public async Task<PackerBuildResult> BuildAsync(
        PackerInvocation invocation,
        Action<PackerEvent> onEvent,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(invocation);
        ArgumentNullException.ThrowIfNull(onEvent);

        // -color=false is accepted by 1.6.6 (machine-readable output has no colour anyway; it keeps plain errors
        // plain should Packer fall back to them).
        var spec = invocation.ToProcessSpec(
            _packerExecutable,
            "build",
            ["-machine-readable", "-color=false"]
        );
        var run = await RunAsync(spec, invocation, cancellationToken, onEvent);
        if (run.ExitCode != 0)
        {
            throw new PackerFailedException(
                PackerFailureKind.Build,
                $"packer build of {invocation.TemplatePath} failed (exit code {run.ExitCode}):\n"
                    + Summary(run)
                    + "\nRead the last lines of the build log for the failing step, fix it and build again.",
                run.Errors,
                run.LastLines
            );
        }

        return new PackerBuildResult(run.Artifacts, run.LastLines);
    }

    internal static Version? ParseVersion(string output)
    {
        var match = VersionLine().Match(output);
        return match.Success
            ? new Version(
                int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture)
            )
            : null;
    }

    /// <summary>Runs one Packer command to its end, collecting what a result or a failure message needs.</summary>
    private async Task<RunOutcome> RunAsync(
        ProcessSpec spec,
        PackerInvocation? invocation,
        CancellationToken cancellationToken,
        Action<PackerEvent>? onEvent = null
    )
    {
        var outcome = new RunOutcome();
        var parser = new MachineReadableParser(spec.Redactor, _runner.TimeProvider);
        try
        {
            await foreach (var processEvent in _runner.StreamAsync(spec, cancellationToken))
            {
                switch (processEvent)
                {
                    case ProcessStarted started:
                        Emit(
                            new PackerProcessStarted(
                                _runner.TimeProvider.GetUtcNow(),
                                started.ProcessId,
                                started.ProcessGroup
                            )
                        );
                        break;
                    case OutputLine line:
                        foreach (var packerEvent in parser.Push(line.Text))
                        {
                            Emit(packerEvent);
                        }

                        break;
                    case ErrorLine line:
                        Emit(parser.PushStderr(line.Text));
                        break;
                    case ProcessExited exited:
                        outcome.ExitCode = exited.ExitCode;
                        break;
                    default:
                        break;
                }
            }
        }
        catch (FileNotFoundException e) when (e.FileName == spec.FileName)
        {
            throw new PackerFailedException(
                PackerFailureKind.NotInstalled,
                $"Packer was not found ('{spec.FileName}'). Install it with eng/prereqs.sh (or apt-get install "
                    + "packer), or point ImageForge at the executable (IMAGEFORGE_PACKER).",
                [],
                [],
                e
            );
        }
        catch (ProcessTimedOutException e)
        {
            throw new PackerFailedException(
                PackerFailureKind.TimedOut,
                $"Packer did not finish within {e.Timeout} and was stopped with everything it started. "
                    + "Raise the timeout if the build is legitimately slow, or read the last lines for where it hung.",
                outcome.Errors,
                outcome.LastLines,
                e
            );
        }
        finally
        {
            // After the run the group is gone (the runner waits for that), so nothing re-mounts behind our back.
            if (invocation?.CleanupDirectory is { } directory && Directory.Exists(directory))
            {
                MountTable.UnmountBelow(directory);
            }
        }

        return outcome;

        void Emit(PackerEvent packerEvent)
        {
            outcome.Record(packerEvent);
            onEvent?.Invoke(packerEvent);
        }
    }

    private static string Summary(RunOutcome run) =>
        run.Errors.Count > 0 ? string.Join('\n', run.Errors) : string.Join('\n', run.LastLines);

    /// <summary>An HCL string literal of <paramref name="value"/>: backslash, quote, newline, <c>${</c> and <c>%{</c> escaped.</summary>
    public static string HclString(string value) =>
        "\""
        + value
            .Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal)
            .Replace("${", "$${", StringComparison.Ordinal)
            .Replace("%{", "%%{", StringComparison.Ordinal)
        + "\"";

    // First line "Packer v1.6.6"; newer versions may add "(commit)" and upgrade notes after it.
    [GeneratedRegex(@"^Packer v(\d+)\.(\d+)\.(\d+)", RegexOptions.Multiline)]
    private static partial Regex VersionLine();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$")]
    private static partial Regex PluginName();

    /// <summary>What one run left: exit code, artifacts, errors and the tail of its output.</summary>
    private sealed class RunOutcome
    {
        private readonly Queue<string> _lastLines = new();
        private readonly List<string> _errors = [];
        private readonly List<string> _uiErrors = [];
        private readonly List<string> _stderr = [];

        public int ExitCode { get; set; } = -1;

        public List<PackerArtifact> Artifacts { get; } = [];

        /// <summary>Every line of text, for version parsing.</summary>
        public List<string> Lines { get; } = [];

        /// <summary>Packer's error lines; else its UI errors; else its standard error.</summary>
        public List<string> Errors =>
            _errors.Count > 0 ? _errors.ToList()
            : _uiErrors.Count > 0 ? _uiErrors.ToList()
            : _stderr.ToList();

        public IReadOnlyList<string> LastLines => _lastLines.ToList();

        public void Record(PackerEvent packerEvent)
        {
            switch (packerEvent)
            {
                case PackerArtifact artifact:
                    Artifacts.Add(artifact);
                    break;
                case PackerError error:
                    _errors.Add(error.Text);
                    AddLines(error.Text);
                    break;
                case PackerUi { Level: PackerUiLevel.Error } ui:
                    _uiErrors.Add(ui.Text.Trim());
                    AddLines(ui.Text);
                    break;
                case PackerUi ui:
                    AddLines(ui.Text);
                    break;
                case PackerStderr stderr:
                    _stderr.Add(stderr.Text);
                    AddLines(stderr.Text);
                    break;
                default:
                    break;
            }
        }

        private void AddLines(string text)
        {
            foreach (var line in text.Split('\n'))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                Lines.Add(line);
                _lastLines.Enqueue(line.TrimEnd('\r'));
                if (_lastLines.Count > LastLineCount)
                {
                    _lastLines.Dequeue();
                }
            }
        }
    }
}
