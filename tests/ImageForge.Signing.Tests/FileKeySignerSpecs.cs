using System.Text;
using ImageForge.Core.Errors;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Signing.Tests;

public sealed class FileKeySignerSpecs
{
    [Fact]
    public async Task The_file_key_is_created_on_first_use_with_mode_0600_and_reused_afterwards()
    {
        using var data = new TempDirectory();

        string first;
        string firstPem;
        using (var signer = (FileKeySigner)Signers.Create(null, data.Path))
        {
            first = signer.KeyId;
            firstPem = await signer.GetPublicKeyPemAsync();
        }

        using var again = (FileKeySigner)Signers.Create("file:", data.Path);
        var path = Signers.DefaultKeyPath(data.Path);

        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.GetDirectoryName(path)!)
            .ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        (await File.ReadAllTextAsync(path)).ShouldStartWith("-----BEGIN PRIVATE KEY-----");
        again.KeyId.ShouldBe(first);
        again.KeyId.ShouldMatch("^file:sha256:[0-9a-f]{64}$");
        (await again.GetPublicKeyPemAsync()).ShouldBe(firstPem);
        firstPem.ShouldStartWith("-----BEGIN PUBLIC KEY-----");
    }

    [Fact]
    public void A_file_that_is_not_a_key_is_refused_with_what_to_do()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("key.pem"), "not a key");

        var failure = Should.Throw<SigningException>(() =>
            Signers.Create($"file:{dir.Combine("key.pem")}", dir.Path)
        );

        failure.Message.ShouldContain("move it away");
    }

    [Theory]
    [InlineData("vault:xyz")]
    [InlineData("awskms:")]
    [InlineData("azurekv:not-a-url")]
    [InlineData("azurekv:https://v.vault.azure.net/secrets/x")]
    [InlineData("gcpkms:projects/p/keyRings/r")]
    public void A_signing_key_setting_without_a_known_provider_or_a_valid_reference_is_bad_input(
        string setting
    )
    {
        var failure = Should.Throw<InvalidInputException>(() =>
            Signers.Create(setting, "/nonexistent")
        );

        failure.Message.ShouldContain("IMAGEFORGE_SIGNING_KEY");
        failure.ExitCode.ShouldBe(2);
    }

    [Theory]
    [InlineData(
        "awskms:arn:aws:kms:eu-west-1:111122223333:key/1234abcd",
        "awskms:arn:aws:kms:eu-west-1:111122223333:key/1234abcd"
    )]
    [InlineData(
        "azurekv:https://v.vault.azure.net/keys/release/abc",
        "azurekv:https://v.vault.azure.net/keys/release/abc"
    )]
    [InlineData(
        "gcpkms:projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
        "gcpkms:projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1"
    )]
    public void A_cloud_key_setting_selects_its_provider_without_contacting_it(
        string setting,
        string keyId
    )
    {
        var signer = Signers.Create(setting, "/nonexistent");

        signer.KeyId.ShouldBe(keyId);
        signer.Algorithm.ShouldBe("ECDSA_P256_SHA256");
        (signer as IDisposable)?.Dispose();
    }

    [Fact(Timeout = 60_000)]
    public async Task Openssl_verifies_a_file_key_signature_with_the_command_documented_in_signing_md()
    {
        using var dir = new TempDirectory();
        using var signer = FileKeySigner.OpenOrCreate(dir.Combine("keys", "signing-key.pem"));
        var statement = Encoding.UTF8.GetBytes(
            "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[]}"
        );
        var envelope = await Dsse.SignAsync(signer, "application/vnd.in-toto+json", statement);
        await File.WriteAllBytesAsync(
            dir.Combine("provenance.dsse.json"),
            Dsse.Serialize(envelope)
        );
        await File.WriteAllTextAsync(
            dir.Combine("signing-key.pub.pem"),
            PublicKeyDocument.Write(
                signer.KeyId,
                signer.Algorithm,
                await signer.GetPublicKeyPemAsync()
            )
        );
        var script = DocumentedShell.OpensslCommands();

        var (exit, output) = await DocumentedShell.RunAsync(script, dir.Path);
        var extracted = await File.ReadAllBytesAsync(dir.Combine("payload.json"));
        var tampered = Dsse.Serialize(envelope with { Payload = [.. statement, (byte)' '] });
        await File.WriteAllBytesAsync(dir.Combine("provenance.dsse.json"), tampered);
        var (tamperedExit, tamperedOutput) = await DocumentedShell.RunAsync(script, dir.Path);

        exit.ShouldBe(0, output);
        output.ShouldContain("Verified OK");
        extracted.ShouldBe(statement);
        tamperedExit.ShouldNotBe(0, tamperedOutput);
        tamperedOutput.ShouldContain("Verification failure");
    }
}
