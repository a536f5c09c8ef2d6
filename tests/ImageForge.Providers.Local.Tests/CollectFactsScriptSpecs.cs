using ImageForge.Core.Facts;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Local.Tests;

/// <summary>
/// collect-facts.py over a small root filesystem made here: what the facts stage of the local target (and later a
/// cloud VM, with root "/") writes, read by the one reader.
/// </summary>
public sealed class CollectFactsScriptSpecs : IDisposable
{
    private static readonly string Script = Path.Combine(
        RepoPaths.Root,
        "templates",
        "packer",
        "local",
        "scripts",
        "collect-facts.py"
    );

    private readonly TempDirectory _dir = new("imageforge-collect-facts");

    public void Dispose() => _dir.Dispose();

    private string Write(string relative, string text, UnixFileMode? mode = null)
    {
        var path = _dir.Combine("root", relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        if (mode is { } m)
        {
            File.SetUnixFileMode(path, m);
        }
        return path;
    }

    [Fact(Timeout = 60_000)]
    public async Task The_facts_of_a_root_are_read_from_its_files_and_never_hold_a_password_hash()
    {
        Write(
            "etc/apt/sources.list",
            "deb  http://deb.debian.org/debian bookworm main\n# a comment\n"
        );
        Write(
            "etc/apt/sources.list.d/extra.sources",
            "Types: deb\nURIs: https://example.org/apt\nSuites: stable\nComponents: main\n"
        );
        Write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n");
        Write("etc/shadow", "root:$6$secrethash$abc:19000:0:99999:7:::\n");
        Write("etc/group", "root:x:0:\nsudo:x:27:alice\n");
        Write("etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n");
        Write("etc/ssh/sshd_config.d/10-first.conf", "PermitRootLogin yes\n");
        Write("etc/sudoers.d/alice", "alice ALL=(ALL) NOPASSWD: ALL\n");
        Write(
            "usr/bin/helper",
            "#!/bin/sh\n",
            UnixFileMode.SetUser
                | UnixFileMode.UserRead
                | UnixFileMode.UserWrite
                | UnixFileMode.UserExecute
        );
        Write("etc/cron.d/job", "SHELL=/bin/sh\n* * * * * root /bin/true\n");
        Write("etc/sysctl.d/90-net.conf", "net.ipv4.ip_forward = 0\nother.key = 1\n");
        Write("etc/modprobe.d/cis.conf", "install cramfs /bin/false\nblacklist usb-storage\n");
        Write("home/alice/.ssh/authorized_keys", "ssh-ed25519 AAAA alice\n");
        Write(
            "srv/open",
            "x",
            UnixFileMode.UserRead | UnixFileMode.OtherRead | UnixFileMode.OtherWrite
        );
        Write("tmp/scratch", "x", UnixFileMode.OtherWrite | UnixFileMode.OtherRead);
        var wants = _dir.Combine("root", "etc", "systemd", "system", "timers.target.wants");
        Directory.CreateDirectory(wants);
        File.CreateSymbolicLink(
            Path.Combine(wants, "apt-daily.timer"),
            "/lib/systemd/system/apt-daily.timer"
        );
        var output = _dir.Combine("image-facts.json");

        var (exit, _, errors) = await new ProcessRunner(TimeProvider.System).RunToEndAsync(
            new ProcessSpec("python3").WithArguments([Script, _dir.Combine("root"), output])
        );

        exit.ShouldBe(0, string.Join('\n', errors));
        File.ReadAllText(output).ShouldNotContain("secrethash");
        var facts = FactsDocuments.ReadImageFacts(output);
        facts.Apt.Sources.ShouldBe([
            "deb http://deb.debian.org/debian bookworm main",
            "deb https://example.org/apt stable main",
        ]);
        facts.Users.Single(u => u.Name == "toor").Uid.ShouldBe(0);
        facts.Sshd.Source.ShouldBe("sshd_config");
        facts.Sshd.Settings["permitrootlogin"].ShouldBe("yes", "the first value wins, as in sshd");
        facts.Sudoers.ShouldBe(["/etc/sudoers.d/alice: alice ALL=(ALL) NOPASSWD: ALL"]);
        facts.SetuidFiles.Single().Path.ShouldBe("/usr/bin/helper");
        facts.SetuidFiles.Single().Sha256.Length.ShouldBe(64);
        facts.Cron.ShouldBe(["/etc/cron.d/job: * * * * * root /bin/true"]);
        facts.Sysctl.ShouldBe(new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "0" });
        facts.ModuleBlacklist.ShouldBe(["cramfs", "usb-storage"]);
        facts.AuthorizedKeys.Single().Path.ShouldBe("/home/alice/.ssh/authorized_keys");
        facts.AuthorizedKeys.Single().Keys.ShouldBe(1);
        facts.WorldWritable.ShouldBe(["/srv/open"]);
        facts.Systemd.Timers.ShouldBe(["apt-daily.timer"]);
        facts.Sizes.Keys.ShouldContain("rootfs_bytes");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_base_facts_go_into_the_document_with_their_key_and_a_base_without_key_is_refused()
    {
        // Arrange: the base as collected before the image's changes; the image then adds a setuid file.
        Write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        var runner = new ProcessRunner(TimeProvider.System);
        var baseFacts = _dir.Combine("base-facts.json");
        (
            await runner.RunToEndAsync(
                new ProcessSpec("python3").WithArguments([Script, _dir.Combine("root"), baseFacts])
            )
        ).Exit.ShouldBe(0);
        Write(
            "usr/local/bin/extra",
            "#!/bin/sh\n",
            UnixFileMode.SetUser | UnixFileMode.UserExecute
        );
        var output = _dir.Combine("image-facts.json");

        // Act
        var (exit, _, errors) = await runner.RunToEndAsync(
            new ProcessSpec("python3").WithArguments([
                Script,
                "--base",
                baseFacts,
                "--base-key",
                "3fa2b1",
                _dir.Combine("root"),
                output,
            ])
        );
        var withoutKey = await runner.RunToEndAsync(
            new ProcessSpec("python3").WithArguments([
                Script,
                "--base",
                baseFacts,
                _dir.Combine("root"),
                _dir.Combine("other.json"),
            ])
        );

        // Assert
        exit.ShouldBe(0, string.Join('\n', errors));
        var facts = FactsDocuments.ReadImageFacts(output);
        facts.SetuidFiles.Single().Path.ShouldBe("/usr/local/bin/extra");
        facts.Base.ShouldNotBeNull();
        facts.Base.Key.ShouldBe("3fa2b1");
        facts.Base.Facts.SetuidFiles.ShouldBeEmpty();
        facts.Base.Facts.Users.Single().Name.ShouldBe("root");
        facts.Base.Facts.Base.ShouldBeNull();
        withoutKey.Exit.ShouldNotBe(0);
        string.Join('\n', withoutKey.Errors).ShouldContain("--base needs --base-key");
        File.Exists(_dir.Combine("other.json")).ShouldBeFalse();
    }
}
