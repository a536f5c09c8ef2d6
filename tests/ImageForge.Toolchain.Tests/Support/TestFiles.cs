using ImageForge.TestUtils;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Tests.Support;

/// <summary>Where the specs' inputs are: recorded transcripts, the upstream example, the fakepacker apphost.</summary>
internal static class TestFiles
{
    public const string RealPacker = "/usr/bin/packer";

    /// <summary>A file of Transcripts/ (copied next to the test binary).</summary>
    public static string Transcript(string name) =>
        Existing(Path.Combine(AppContext.BaseDirectory, "Transcripts", name));

    /// <summary>The machine-readable example from Packer's documentation, in tests/specs/packer.</summary>
    public static string UpstreamExample =>
        Existing(
            Path.Combine(RepoPaths.Specs, "packer", "example-machine-readable-build.amazon-ebs.txt")
        );

    /// <summary>The fakepacker apphost, copied next to the specs by the ProjectReference to ImageForge.FakeTools.</summary>
    public static string FakePacker =>
        Existing(Path.Combine(AppContext.BaseDirectory, "fakepacker"));

    /// <summary>Parses a transcript the way <see cref="PackerClient"/> parses a live run.</summary>
    public static List<PackerEvent> Parse(string transcript, Redactor? redactor = null)
    {
        var parser = new MachineReadableParser(redactor);
        return File.ReadLines(Transcript(transcript)).SelectMany(parser.Push).ToList();
    }

    private static string Existing(string path) =>
        File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"{path} is missing: the specs need it (see Transcripts/README.md).",
                path
            );
}
