using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ImageForge.Core.Definitions;

/// <summary>
/// One check of an image's <c>tests:</c> section, run inside the booted guest by the boot test (docs/definitions.md,
/// "Image tests").
/// </summary>
/// <param name="Kind">What is checked, one of <see cref="ImageTestKinds"/>.</param>
/// <param name="Subject">The package, unit, path, sysctl key, user or TCP port checked.</param>
/// <param name="Expected">
/// What it must be: empty for presence checks; <c>owner=... group=... mode=...</c> (those given) for files; the value
/// for sysctl keys.
/// </param>
public sealed record ImageTest(string Kind, string Subject, string Expected)
{
    /// <summary>One line for people: "package openssh-server present", "file /etc/shadow owner=root mode=0640".</summary>
    public override string ToString() =>
        Expected.Length == 0 ? $"{Kind} {Subject}" : $"{Kind} {Subject} {Expected}";

    /// <summary>
    /// The checks as the guest's checker reads them: one line each, kind, subject and expectation separated by tabs
    /// (the reader allows neither tabs nor line breaks in any of them).
    /// </summary>
    public static string CheckerLines(IReadOnlyList<ImageTest> tests)
    {
        ArgumentNullException.ThrowIfNull(tests);
        var text = new StringBuilder();
        foreach (var test in tests)
        {
            text.Append(test.Kind)
                .Append('\t')
                .Append(test.Subject)
                .Append('\t')
                .Append(test.Expected)
                .Append('\n');
        }
        return text.ToString();
    }
}

/// <summary>The kinds of image test, as the guest's checker script knows them.</summary>
public static class ImageTestKinds
{
    /// <summary>A package is installed (dpkg status "install ok installed").</summary>
    public const string PackagePresent = "package-present";

    /// <summary>A package is not installed.</summary>
    public const string PackageAbsent = "package-absent";

    /// <summary>A unit is enabled (<c>systemctl is-enabled</c> says enabled or static).</summary>
    public const string ServiceEnabled = "service-enabled";

    /// <summary>A unit is active after boot (<c>systemctl is-active</c>).</summary>
    public const string ServiceRunning = "service-running";

    /// <summary>A file exists with the owner, group and mode given.</summary>
    public const string File = "file";

    /// <summary>A sysctl key has the value given (whitespace between fields compared as one space).</summary>
    public const string Sysctl = "sysctl";

    /// <summary>A user exists (getent passwd).</summary>
    public const string UserPresent = "user-present";

    /// <summary>A user does not exist.</summary>
    public const string UserAbsent = "user-absent";

    /// <summary>Something listens on the TCP port (IPv4 or IPv6) after boot.</summary>
    public const string PortListening = "port-listening";

    /// <summary>Nothing listens on the TCP port after boot.</summary>
    public const string PortClosed = "port-closed";
}

/// <summary>Reads a definition's <c>tests:</c> section.</summary>
internal static partial class ImageTestsReader
{
    private static readonly IReadOnlyList<string> Keys =
    [
        "packages",
        "services",
        "files",
        "sysctl",
        "users",
        "ports",
    ];

    private static readonly IReadOnlyList<string> FileKeys = ["path", "owner", "group", "mode"];

    /// <summary>The checks of <c>tests:</c>, in the order given; empty when the section is absent.</summary>
    public static IReadOnlyList<ImageTest> Read(MappingReader definition)
    {
        var node = definition.Get("tests");
        if (node is null)
        {
            return [];
        }
        var tests = MappingReader.Open(
            node,
            "tests",
            "a mapping of checks (" + string.Join(", ", Keys) + ")",
            definition.Problems,
            Keys
        );
        if (tests is null)
        {
            return [];
        }

        var result = new List<ImageTest>();
        Pairs(
            tests,
            "packages",
            ("present", ImageTestKinds.PackagePresent),
            ("absent", ImageTestKinds.PackageAbsent),
            "a Debian package name (lowercase letters, digits, '+', '-', '.')",
            v => OsCatalog.IsValidPackageName("debian", v),
            result
        );
        Pairs(
            tests,
            "services",
            ("enabled", ImageTestKinds.ServiceEnabled),
            ("running", ImageTestKinds.ServiceRunning),
            "a systemd unit name, e.g. ssh or auditd.service",
            v => UnitName().IsMatch(v),
            result,
            opposite: false
        );
        Files(tests, result);
        Sysctl(tests, result);
        Pairs(
            tests,
            "users",
            ("present", ImageTestKinds.UserPresent),
            ("absent", ImageTestKinds.UserAbsent),
            "a user name (lowercase letters, digits, '_', '-'; starting with a letter or '_')",
            v => UserName().IsMatch(v),
            result
        );
        Pairs(
            tests,
            "ports",
            ("listening", ImageTestKinds.PortListening),
            ("closed", ImageTestKinds.PortClosed),
            "a TCP port from 1 to 65535",
            v =>
                int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                && port is >= 1 and <= 65535
                && v[0] != '0',
            result
        );
        return result;
    }

    // A mapping of two lists (present/absent, enabled/running, ...) of names checked one way. A name may be in both
    // lists only when they do not contradict each other (a unit both enabled and running).
    private static void Pairs(
        MappingReader tests,
        string key,
        (string Key, string Kind) first,
        (string Key, string Kind) second,
        string expectation,
        Func<string, bool> valid,
        List<ImageTest> result,
        bool opposite = true
    )
    {
        var node = tests.Get(key);
        if (node is null)
        {
            return;
        }
        var map = MappingReader.Open(
            node,
            tests.PathOf(key),
            $"a mapping with {first.Key} and/or {second.Key}, each a list",
            tests.Problems,
            [first.Key, second.Key]
        );
        if (map is null)
        {
            return;
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (listKey, kind) in new[] { first, second })
        {
            if (!opposite)
            {
                seen.Clear();
            }
            if (map.Get(listKey) is not { } list)
            {
                continue;
            }
            var items =
                Schema.ScalarList(list, map.PathOf(listKey), key, expectation, tests.Problems)
                ?? [];
            foreach (var (value, line, path) in items)
            {
                if (!valid(value))
                {
                    tests.Problems.Add(
                        line,
                        path,
                        $"invalid value '{value}'; expected {expectation}"
                    );
                }
                else if (!seen.TryAdd(value, line))
                {
                    tests.Problems.Add(
                        line,
                        path,
                        $"'{value}' is listed twice under {tests.PathOf(key)} (first on line {seen[value]}); list it once, in the list it belongs to"
                    );
                }
                else
                {
                    result.Add(new ImageTest(kind, value, ""));
                }
            }
        }
    }

    private static void Files(MappingReader tests, List<ImageTest> result)
    {
        if (tests.Get("files") is not { } node)
        {
            return;
        }
        var items = Schema.List(
            node,
            tests.PathOf("files"),
            "files, each { path, owner, group, mode }",
            tests.Problems
        );
        foreach (var (item, path) in items ?? [])
        {
            var file = MappingReader.Open(
                item,
                path,
                "a mapping with path and any of owner, group, mode",
                tests.Problems,
                FileKeys
            );
            if (file is null)
            {
                continue;
            }
            var problems = tests.Problems.Count;
            var filePath = file.RequireScalar("path", "an absolute path without spaces");
            if (filePath is not null && !AbsolutePath().IsMatch(filePath))
            {
                tests.Problems.Add(
                    file.LineOf("path"),
                    file.PathOf("path"),
                    $"invalid path '{filePath}'; expected an absolute path without spaces, e.g. /etc/ssh/sshd_config"
                );
            }
            var expected = new List<string>();
            foreach (var key in (string[])["owner", "group"])
            {
                if (file.OptionalScalar(key, "a user or group name") is { } name)
                {
                    if (UserName().IsMatch(name))
                    {
                        expected.Add($"{key}={name}");
                    }
                    else
                    {
                        tests.Problems.Add(
                            file.LineOf(key),
                            file.PathOf(key),
                            $"invalid {key} '{name}'; expected a name like root"
                        );
                    }
                }
            }
            if (file.OptionalScalar("mode", "an octal mode in quotes, e.g. \"0640\"") is { } mode)
            {
                if (Mode().IsMatch(mode))
                {
                    expected.Add("mode=" + mode.PadLeft(4, '0'));
                }
                else
                {
                    tests.Problems.Add(
                        file.LineOf("mode"),
                        file.PathOf("mode"),
                        $"invalid mode '{mode}'; expected an octal mode of 3 or 4 digits in quotes, e.g. \"0640\""
                    );
                }
            }
            if (tests.Problems.Count == problems && filePath is not null)
            {
                result.Add(
                    new ImageTest(ImageTestKinds.File, filePath, string.Join(' ', expected))
                );
            }
        }
    }

    private static void Sysctl(MappingReader tests, List<ImageTest> result)
    {
        if (tests.Get("sysctl") is not { } node)
        {
            return;
        }
        var map = MappingReader.Open(
            node,
            tests.PathOf("sysctl"),
            "a mapping of sysctl keys to values, e.g. kernel.randomize_va_space: \"2\"",
            tests.Problems,
            null
        );
        foreach (var (key, value) in map?.Entries ?? [])
        {
            var path = map!.PathOf(key.Value);
            var text = Schema.Scalar(value, path, "the value the key must have", tests.Problems);
            if (!SysctlKey().IsMatch(key.Value))
            {
                tests.Problems.Add(
                    key.Line,
                    path,
                    $"invalid sysctl key '{key.Value}'; expected dotted lowercase names, e.g. net.ipv4.ip_forward"
                );
            }
            else if (text is not null && text.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
            {
                tests.Problems.Add(
                    value.Line,
                    path,
                    "a sysctl value is one line; separate fields with spaces"
                );
            }
            else if (text is not null)
            {
                result.Add(
                    new ImageTest(
                        ImageTestKinds.Sysctl,
                        key.Value,
                        string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    )
                );
            }
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9@._:\\-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex UnitName();

    [GeneratedRegex(@"^[a-z_][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex UserName();

    [GeneratedRegex(@"^/[A-Za-z0-9._+@:/-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex AbsolutePath();

    [GeneratedRegex(@"^[0-7]{3,4}$", RegexOptions.CultureInvariant)]
    private static partial Regex Mode();

    [GeneratedRegex(@"^[a-z0-9_-]+(\.[a-z0-9_-]+)+$", RegexOptions.CultureInvariant)]
    private static partial Regex SysctlKey();
}
