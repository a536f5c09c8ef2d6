using System.Globalization;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Packer;

/// <summary>
/// Turns the lines of one Packer run's <c>-machine-readable</c> output into <see cref="PackerEvent"/>s. Lines have
/// the form <c>timestamp,target,type,data...</c>; commas inside data are written <c>%!(PACKER_COMMA)</c> and line
/// breaks as the two characters <c>\n</c> / <c>\r</c>. Stateful: an artifact is described over several lines and
/// emitted when its <c>end</c> line arrives, so use one parser per run. Never throws on odd input: a line that is
/// not machine-readable becomes a <see cref="PackerStderr"/>.
/// </summary>
public sealed class MachineReadableParser
{
    private const string PackerComma = "%!(PACKER_COMMA)";

    private readonly Redactor _redactor;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<(string Target, int Index), ArtifactBuilder> _artifacts = [];

    /// <summary>Creates a parser for one run; every text is masked with <paramref name="redactor"/>.</summary>
    public MachineReadableParser(Redactor? redactor = null, TimeProvider? timeProvider = null)
    {
        _redactor = redactor ?? Redactor.None;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Parses one line of standard output; yields nothing while an artifact is still being described.</summary>
    public IEnumerable<PackerEvent> Push(string line)
    {
        ArgumentNullException.ThrowIfNull(line);

        // Masked before parsing too: a secret with a comma or newline is only recognisable in its escaped form.
        line = _redactor.Redact(line);
        var fields = line.Split(',');
        if (
            fields.Length < 3
            || !long.TryParse(
                fields[0],
                NumberStyles.None,
                CultureInfo.InvariantCulture,
                out var seconds
            )
            || fields[2].Length == 0
        )
        {
            return [new PackerStderr(_timeProvider.GetUtcNow(), line)];
        }

        var time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        var target = Clean(fields[1]);
        var type = fields[2];
        var data = fields.Skip(3).Select(Clean).ToArray();
        return type switch
        {
            "ui" when data.Length >= 2 && ParseLevel(data[0]) is { } level =>
            [
                new PackerUi(time, target, level, string.Join(',', data.Skip(1))),
            ],
            "error" => [new PackerError(time, target, string.Join(',', data))],
            "artifact"
                when data.Length >= 2
                    && int.TryParse(data[0], CultureInfo.InvariantCulture, out var index) =>
                Artifact(time, target, index, data[1], data[2..]),
            _ => [new PackerOther(time, target, type, data)],
        };
    }

    /// <summary>Wraps one line of standard error (never machine-readable) as a <see cref="PackerStderr"/>.</summary>
    public PackerEvent PushStderr(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return new PackerStderr(_timeProvider.GetUtcNow(), _redactor.Redact(line));
    }

    /// <summary>Undoes Packer's escaping, then masks again: unescaping can join a secret back together.</summary>
    internal string Clean(string field) =>
        _redactor.Redact(
            field
                .Replace(PackerComma, ",", StringComparison.Ordinal)
                .Replace("\\n", "\n", StringComparison.Ordinal)
                .Replace("\\r", "\r", StringComparison.Ordinal)
        );

    private static PackerUiLevel? ParseLevel(string level) =>
        level switch
        {
            "say" => PackerUiLevel.Say,
            "message" => PackerUiLevel.Message,
            "error" => PackerUiLevel.Error,
            _ => null,
        };

    private IEnumerable<PackerEvent> Artifact(
        DateTimeOffset time,
        string target,
        int index,
        string key,
        string[] values
    )
    {
        if (!_artifacts.TryGetValue((target, index), out var artifact))
        {
            artifact = new ArtifactBuilder();
            _artifacts[(target, index)] = artifact;
        }

        var value = string.Join(',', values);
        switch (key)
        {
            case "builder-id":
                artifact.BuilderId = value;
                break;
            case "id":
                artifact.Id = value;
                break;
            case "string":
                artifact.Description = value;
                break;
            case "file"
                when values.Length >= 2
                    && int.TryParse(values[0], CultureInfo.InvariantCulture, out var n):
                artifact.Files[n] = string.Join(',', values.Skip(1));
                break;
            case "end":
                _artifacts.Remove((target, index));
                return
                [
                    new PackerArtifact(
                        time,
                        target,
                        index,
                        artifact.BuilderId,
                        artifact.Id,
                        artifact.Description,
                        artifact.Files.Values.ToArray()
                    ),
                ];
            default:
                // files-count and keys newer Packer versions may add: nothing the artifact needs.
                break;
        }

        return [];
    }

    private sealed class ArtifactBuilder
    {
        public string BuilderId { get; set; } = "";

        public string Id { get; set; } = "";

        public string Description { get; set; } = "";

        public SortedDictionary<int, string> Files { get; } = [];
    }
}
