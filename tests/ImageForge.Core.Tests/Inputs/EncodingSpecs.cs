using System.Text;
using ImageForge.Core.Errors;
using ImageForge.Core.Gates;
using ImageForge.Core.Promotion;
using ImageForge.Core.Tests.Definitions;
using ImageForge.Core.Worker;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Inputs;

/// <summary>
/// The YAML files people write (definitions, baselines, worker.yaml, policy test cases, roles.yaml) must be UTF-8:
/// a file with bytes that are not (Latin-1, UTF-16, a cut or overlong sequence, an encoded surrogate) is refused
/// with file:line and the byte offset of the first bad byte, instead of validating with replacement characters.
/// </summary>
[Trait(BadInput.Trait, BadInput.Encoding)]
public sealed class EncodingSpecs : IDisposable
{
    private readonly ContentFixture _content = new();

    public void Dispose() => _content.Dispose();

    // Each reader: a valid file whose line 2 ends in text (so bytes appended to it stay on line 2), and how to read
    // a file of those bytes into the one line that reports the problem.
    private static readonly Dictionary<string, string> Valid = new(StringComparer.Ordinal)
    {
        ["definition"] = ContentFixture.MinimalDefinition,
        ["baseline"] = ContentFixture.ValidBaseline,
        ["worker.yaml"] = "shutdown: finish\n# the worker of the specs\n",
        ["policy test case"] = "# a case\ndescription: passes\nexpect: { decision: pass }\n",
        ["roles.yaml"] = "actors:\n  # the release team\n  alice: admin\n",
    };

    // Bad bytes and the index of the first bad one among them; appended to line 2 unless whole-file.
    private static readonly (string Case, byte[] Bytes, int Bad)[] Cases =
    [
        ("Latin-1 e acute", [.. " caf"u8, 0xE9], 4),
        ("overlong slash", [(byte)' ', 0xC0, 0xAF], 1),
        ("encoded surrogate", [(byte)' ', 0xED, 0xA0, 0x80], 1),
        ("lone continuation byte", [(byte)' ', 0x80], 1),
    ];

    public static IEnumerable<object[]> Rows =>
        from reader in Valid.Keys
        from c in Cases
            .Select(c => c.Case)
            .Append("UTF-16 with a byte order mark")
            .Append("cut sequence at the end")
        select new object[] { reader, c };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_file_that_is_not_UTF_8_is_refused_with_its_line_and_byte_offset(
        string reader,
        string encoding
    )
    {
        var valid = Encoding.UTF8.GetBytes(Valid[reader]);
        var (bytes, line, offset) = Corrupt(valid, encoding);

        var (file, problem) = Read(reader, bytes);

        problem.ShouldContain($"{file}:{line}: ", Case.Sensitive, problem);
        problem.ShouldContain("not valid UTF-8", Case.Sensitive, problem);
        problem.ShouldContain(
            $"0x{bytes[offset]:X2} at byte offset {offset} (line {line}",
            Case.Sensitive,
            problem
        );
    }

    [Fact]
    public void A_UTF_8_file_with_a_byte_order_mark_and_non_ASCII_text_is_read()
    {
        _content.Definition(
            "web.yaml",
            "\uFEFF" + ContentFixture.MinimalDefinition.Replace("Web server", "Café server")
        );

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        set.FindImage("web")!.Description.ShouldBe("Café server");
    }

    private static (byte[] Bytes, int Line, int Offset) Corrupt(byte[] valid, string encoding)
    {
        if (encoding == "UTF-16 with a byte order mark")
        {
            var text = Encoding.UTF8.GetString(valid);
            return ([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)], 1, 0);
        }

        if (encoding == "cut sequence at the end")
        {
            var lines = valid.Count(b => b == (byte)'\n') + 1;
            return ([.. valid, .. "# "u8, 0xE2, 0x82], lines, valid.Length + 2);
        }

        var (_, bad, index) = Cases.Single(c => c.Case == encoding);
        var endOfLine2 = Array.IndexOf(valid, (byte)'\n', Array.IndexOf(valid, (byte)'\n') + 1);
        return ([.. valid[..endOfLine2], .. bad, .. valid[endOfLine2..]], 2, endOfLine2 + index);
    }

    private (string File, string Problem) Read(string reader, byte[] bytes)
    {
        switch (reader)
        {
            case "definition":
                var definition = _content.Definition("web.yaml", "");
                File.WriteAllBytes(definition, bytes);
                return (definition, Problems(_content.Load().Problems));
            case "baseline":
                var baseline = _content.Baseline("debian-11-anssi.yaml", "");
                File.WriteAllBytes(baseline, bytes);
                return (baseline, Problems(_content.Load().Problems));
            case "worker.yaml":
                var worker = Path.Combine(_content.Root, "worker.yaml");
                File.WriteAllBytes(worker, bytes);
                return (
                    worker,
                    Should
                        .Throw<InvalidInputException>(() =>
                            WorkerConfigParser.Load(worker, TestProviders.Names)
                        )
                        .Message
                );
            case "policy test case":
                var set = _content.Load();
                var tests = PolicyTests.CaseDirectory(set.FindBaseline("debian-11-anssi")!);
                Directory.CreateDirectory(tests);
                var testCase = Path.Combine(tests, "pass.yaml");
                File.WriteAllBytes(testCase, bytes);
                return (
                    testCase,
                    Problems(PolicyTests.Run(set.Baselines, DateTimeOffset.UnixEpoch).Problems)
                );
            default:
                var roles = Path.Combine(_content.Root, AccessPolicy.FileName);
                File.WriteAllBytes(roles, bytes);
                var error = Should.Throw<InvalidInputException>(() =>
                    AccessPolicy.Load(_content.Root)
                );
                error.ExitCode.ShouldBe(2);
                return (roles, error.Message);
        }
    }

    private static string Problems(IReadOnlyList<InputProblem> problems) =>
        string.Join("\n", problems.Select(p => p.ToString()));
}
