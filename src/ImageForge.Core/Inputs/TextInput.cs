using System.Buffers;
using System.Globalization;
using System.Text.Unicode;

namespace ImageForge.Core.Inputs;

/// <summary>What reading a text file gave: its text, or a problem at a line (0: the file as a whole).</summary>
/// <param name="Text">The text, without a byte order mark; null when there is a problem.</param>
/// <param name="Line">The line of the problem (1-based), 0 for the file as a whole.</param>
/// <param name="Problem">Why the file cannot be read; null when it was.</param>
public readonly record struct TextFile(string? Text, int Line, string? Problem);

/// <summary>
/// Reads the YAML files people write (definitions, baselines, worker.yaml, policy test cases, roles.yaml) as UTF-8,
/// strictly: bytes that are not UTF-8 (a file saved as Latin-1 or UTF-16) are refused with the line and byte offset
/// of the first bad byte, rather than decoded into replacement characters that would then validate and build.
/// </summary>
public static class TextInput
{
    /// <summary>
    /// Reads <paramref name="path"/>; a file larger than <paramref name="maxBytes"/> is refused with
    /// <paramref name="tooLarge"/> ("a definition is a few kilobytes") before it is read.
    /// </summary>
    public static TextFile ReadUtf8(string path, long maxBytes, string tooLarge)
    {
        byte[] bytes;
        try
        {
            if (new FileInfo(path).Length > maxBytes)
            {
                return new(null, 0, $"the file is larger than {maxBytes / 1024} KiB; {tooLarge}");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(null, 0, $"cannot read the file: {e.Message}");
        }

        return Decode(bytes);
    }

    /// <summary>Decodes UTF-8 (a leading byte order mark is dropped), or says where the first invalid byte is.</summary>
    public static TextFile Decode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        var status = Utf8.ToUtf16(
            bytes,
            chars,
            out var read,
            out var written,
            replaceInvalidSequences: false
        );
        if (status == OperationStatus.Done)
        {
            var text = new string(chars, 0, written);
            return new(text.StartsWith('\uFEFF') ? text[1..] : text, 0, null);
        }

        // An incomplete sequence at the end is as invalid as a bad byte in the middle.
        var before = bytes[..read];
        var line = before.Count((byte)'\n') + 1;
        var column = read - (before.LastIndexOf((byte)'\n') + 1) + 1;
        var hex = bytes[read].ToString("X2", CultureInfo.InvariantCulture);
        return new(
            null,
            line,
            $"not valid UTF-8: byte 0x{hex} at byte offset {read} (line {line}, byte {column} of the line); save the file as UTF-8"
        );
    }
}
