using ImageForge.Core.Definitions;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

/// <summary>A definition's <c>tests:</c> section: the checks the boot test runs inside the booted guest.</summary>
public sealed class ImageTestsSpecs : IDisposable
{
    private readonly ContentFixture _content = new();

    public void Dispose() => _content.Dispose();

    [Fact]
    public void Every_kind_of_check_is_read_in_order_and_written_one_line_each_for_the_guest()
    {
        _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + """
                tests:
                  packages:
                    present: [openssh-server, auditd]
                    absent: [telnet]
                  services:
                    enabled: [ssh]
                    running: [ssh, auditd.service]
                  files:
                    - { path: /etc/shadow, owner: root, group: shadow, mode: "640" }
                    - path: /etc/passwd
                  sysctl:
                    kernel.randomize_va_space: 2
                    net.ipv4.tcp_rmem: "4096   131072 6291456"
                  users:
                    present: [root]
                    absent: [games]
                  ports:
                    listening: [22]
                    closed: [23]

                """
        );

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        var tests = set.FindImage("web")!.Tests;
        tests
            .Select(t => t.ToString())
            .ShouldBe([
                "package-present openssh-server",
                "package-present auditd",
                "package-absent telnet",
                "service-enabled ssh",
                "service-running ssh",
                "service-running auditd.service",
                "file /etc/shadow owner=root group=shadow mode=0640",
                "file /etc/passwd",
                "sysctl kernel.randomize_va_space 2",
                "sysctl net.ipv4.tcp_rmem 4096 131072 6291456",
                "user-present root",
                "user-absent games",
                "port-listening 22",
                "port-closed 23",
            ]);
        ImageTest
            .CheckerLines(tests)
            .Split('\n')[6]
            .ShouldBe("file\t/etc/shadow\towner=root group=shadow mode=0640");
    }

    [Fact]
    public void A_definition_without_tests_has_none()
    {
        _content.Definition("web.yaml", ContentFixture.MinimalDefinition);

        _content.Load().FindImage("web")!.Tests.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(
        "  packages:\n    present: [Bad_Name]\n",
        12,
        "tests.packages.present[0]",
        "invalid value 'Bad_Name'"
    )]
    [InlineData(
        "  packages:\n    installed: [ssh]\n",
        12,
        "tests.packages.installed",
        "unknown key 'installed'"
    )]
    [InlineData(
        "  packages:\n    present: [ssh]\n    absent: [ssh]\n",
        13,
        "tests.packages.absent[0]",
        "'ssh' is listed twice"
    )]
    [InlineData(
        "  services:\n    enabled: [\"ssh service\"]\n",
        12,
        "tests.services.enabled[0]",
        "expected a systemd unit name"
    )]
    [InlineData(
        "  files:\n    - { owner: root }\n",
        12,
        "tests.files[0].path",
        "missing required field 'path'"
    )]
    [InlineData(
        "  files:\n    - { path: etc/passwd }\n",
        12,
        "tests.files[0].path",
        "expected an absolute path"
    )]
    [InlineData(
        "  files:\n    - { path: /etc/passwd, mode: rw-r--r-- }\n",
        12,
        "tests.files[0].mode",
        "invalid mode 'rw-r--r--'"
    )]
    [InlineData(
        "  files:\n    - { path: /etc/passwd, owner: Root! }\n",
        12,
        "tests.files[0].owner",
        "invalid owner 'Root!'"
    )]
    [InlineData(
        "  sysctl:\n    Kernel: 1\n",
        12,
        "tests.sysctl.Kernel",
        "invalid sysctl key 'Kernel'"
    )]
    [InlineData(
        "  users:\n    present: [1root]\n",
        12,
        "tests.users.present[0]",
        "expected a user name"
    )]
    [InlineData(
        "  ports:\n    listening: [70000]\n",
        12,
        "tests.ports.listening[0]",
        "expected a TCP port from 1 to 65535"
    )]
    [InlineData(
        "  ports:\n    closed: [022]\n",
        12,
        "tests.ports.closed[0]",
        "invalid value '022'"
    )]
    [InlineData("  processes: [sshd]\n", 11, "tests.processes", "unknown key 'processes'")]
    public void A_bad_check_is_refused_at_its_line_naming_the_field_and_what_is_expected(
        string section,
        int line,
        string field,
        string message
    )
    {
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "tests:\n" + section
        );

        var set = _content.Load();

        set.ShouldHaveProblem(file, line, field, message);
        set.Images.ShouldBeEmpty();
    }
}
