using System.Security.Cryptography;
using ImageForge.Signing;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Promotion;

/// <summary>
/// Trust roots end to end: a version re-signed with a key of the forger's own (its files and catalog rows written as
/// a build writes them) is refused by verify, admit and promote naming the key's fingerprint, and accepted once that
/// key is trusted with <c>keys trust add</c> or named by IMAGEFORGE_TRUSTED_KEYS.
/// </summary>
public sealed class TrustedKeyCommandSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-trusted-keys");

    private string DataDir => _dir.Combine("data");

    public void Dispose() => _dir.Dispose();

    [Fact(Timeout = 90_000)]
    public async Task A_forged_re_signature_is_refused_naming_its_fingerprint_and_accepted_after_keys_trust_add()
    {
        var (forgerKey, forgerPublic, fingerprint) = await ForgerKeyAsync();
        var v = await SignedVersions.RecordAsync(
            DataDir,
            TimeProvider.System,
            signingKey: $"file:{forgerKey}"
        );
        var disk = v.Artifacts[0].Location;
        string[] admit = ["admit", "--provider", "local", "--image-id", disk];

        var verify = await RunAsync("verify", $"debian-11-cis@{v.Version}");
        var promote = await RunAsync("promote", $"debian-11-cis@{v.Version}", "--to", "dev");
        var add = await RunAsync("keys", "trust", "add", forgerPublic);
        var list = await RunAsync("keys", "trust", "list");
        var verifyTrusted = await RunAsync("verify", $"debian-11-cis@{v.Version}");
        var promoteTrusted = await RunAsync("promote", $"debian-11-cis@{v.Version}", "--to", "dev");
        var admitTrusted = await RunAsync(admit);
        var remove = await RunAsync("keys", "trust", "remove", fingerprint);
        var admitRemoved = await RunAsync(admit);

        verify.ExitCode.ShouldBe(1, verify.ToString());
        verify.Out.ShouldContain($"signed with the key {fingerprint}");
        verify.Out.ShouldContain("(NOT TRUSTED)");
        promote.ExitCode.ShouldBe(1, promote.ToString());
        promote.Error.ShouldContain($"signed with the key {fingerprint}");
        add.ExitCode.ShouldBe(0, add.ToString());
        add.Out.ShouldContain($"trusted: {fingerprint}");
        list.Out.ShouldContain(fingerprint);
        verifyTrusted.ExitCode.ShouldBe(0, verifyTrusted.ToString());
        verifyTrusted.Out.ShouldContain($"{fingerprint} (trusted)");
        promoteTrusted.ExitCode.ShouldBe(0, promoteTrusted.ToString());
        admitTrusted.ExitCode.ShouldBe(0, admitTrusted.ToString());
        remove.ExitCode.ShouldBe(0, remove.ToString());
        admitRemoved.ExitCode.ShouldBe(1, admitRemoved.ToString());
        admitRemoved.Out.ShouldContain($"signed with the key {fingerprint}");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bundle_named_by_the_environment_replaces_the_data_directorys_store()
    {
        var (forgerKey, forgerPublic, fingerprint) = await ForgerKeyAsync();
        var v = await SignedVersions.RecordAsync(
            DataDir,
            TimeProvider.System,
            signingKey: $"file:{forgerKey}"
        );
        var empty = _dir.Combine("empty-store");

        var withBundle = await RunWithAsync(forgerPublic, "verify", $"debian-11-cis@{v.Version}");
        var withEmptyStore = await RunWithAsync(empty, "verify", $"debian-11-cis@{v.Version}");
        var addToBundle = await RunWithAsync(forgerPublic, "keys", "trust", "add", forgerPublic);

        withBundle.ExitCode.ShouldBe(0, withBundle.ToString());
        withEmptyStore.ExitCode.ShouldBe(1, withEmptyStore.ToString());
        withEmptyStore.Out.ShouldContain($"not in the trust store {empty}");
        addToBundle.ExitCode.ShouldBe(2, addToBundle.ToString());
        addToBundle.Error.ShouldContain("is a bundle file, which ImageForge does not change");
        fingerprint.ShouldStartWith("sha256:");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_default_key_is_trusted_on_creation_so_a_fresh_data_directory_verifies_in_one_go()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);

        var verify = await RunAsync("verify", $"debian-11-cis@{v.Version}");
        var list = await RunAsync("keys", "trust", "list");

        verify.ExitCode.ShouldBe(0, verify.ToString());
        verify.Out.ShouldContain("(trusted)");
        list.Out.ShouldContain($"trust store {Path.Combine(DataDir, "keys", "trusted")}: 1 key(s)");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("add", "missing.pem", "missing.pem: no such file")]
    [InlineData("add", "garbage.pem", "garbage.pem: not a readable ECDSA P-256 public key")]
    [InlineData("remove", "sha256:00", "fingerprint 'sha256:00': no key in the trust store")]
    public async Task Bad_input_to_keys_trust_is_refused_with_exit_2_naming_the_file_or_fingerprint(
        string action,
        string argument,
        string message
    )
    {
        await File.WriteAllTextAsync(_dir.Combine("garbage.pem"), "not a key\n");
        var value = action == "add" ? _dir.Combine(argument) : argument;

        var result = await RunAsync("keys", "trust", action, value);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain(message);
    }

    private async Task<(string Key, string Public, string Fingerprint)> ForgerKeyAsync()
    {
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = _dir.Combine("forger.pem");
        var pub = _dir.Combine("forger.pub.pem");
        await File.WriteAllTextAsync(key, forger.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(pub, forger.ExportSubjectPublicKeyInfoPem());
        return (key, pub, TrustStore.Fingerprint(forger.ExportSubjectPublicKeyInfoPem()));
    }

    private Task<CliResult> RunAsync(params string[] args) => RunWithAsync(null, args);

    private Task<CliResult> RunWithAsync(string? trustedKeys, params string[] args)
    {
        var environment = new Dictionary<string, string> { ["IMAGEFORGE_ACTOR"] = "alice" };
        if (trustedKeys is not null)
        {
            environment[TrustStore.EnvironmentVariable] = trustedKeys;
        }

        return CliRunner.RunAsync(
            RepoPaths.Root,
            environment,
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );
    }
}
