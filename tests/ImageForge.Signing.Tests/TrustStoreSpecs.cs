using System.Security.Cryptography;
using ImageForge.Core.Errors;
using ImageForge.Core.Provenance;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Signing.Tests;

/// <summary>
/// Trust roots: a signature verifies only with a key of the trust store, and the envelope's keyid must name the key
/// it is checked with; the store's own bad input is refused naming the file or fingerprint and the fix.
/// </summary>
public sealed class TrustStoreSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-trust");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_version_signed_by_a_key_outside_the_store_is_refused_naming_its_fingerprint_until_it_is_added()
    {
        using var version = await SignedVersion.CreateAsync();
        var store = TrustStore.Open(_dir.Combine("trusted"), _dir.Path, _dir.Path);
        var fingerprint = TrustStore.Fingerprint(version.Signer.PublicKeyPem);

        var untrusted = await VersionVerifier.VerifyAsync(version.Version, null, store);
        store.AddPem(version.Signer.PublicKeyPem);
        var trusted = await VersionVerifier.VerifyAsync(version.Version, null, store);
        store.Remove(fingerprint);
        var removed = await VersionVerifier.VerifyAsync(version.Version, null, store);

        untrusted.Ok.ShouldBeFalse();
        untrusted.SignatureValid.ShouldBeTrue();
        untrusted.KeyTrusted.ShouldBe(false);
        untrusted.Problems.ShouldBe([
            $"signed with the key {fingerprint} (keyid {version.Signer.KeyId}), which is not in the trust store "
                + $"{store.Path}: if you trust it, 'imageforge keys trust add {version.PathOf(ProvenanceSubjects.PublicKeyKind)}'",
        ]);
        trusted.Problems.ShouldBeEmpty();
        trusted.KeyTrusted.ShouldBe(true);
        trusted.KeyFingerprint.ShouldBe(fingerprint);
        removed.Ok.ShouldBeFalse();
    }

    [Fact]
    public async Task A_re_signature_with_another_key_under_the_original_keyid_is_refused_even_when_that_key_is_trusted()
    {
        using var version = await SignedVersion.CreateAsync();
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forgerPem = forger.ExportSubjectPublicKeyInfoPem();
        var envelopePath = version.PathOf(ProvenanceSubjects.EnvelopeKind);
        var keyPath = version.PathOf(ProvenanceSubjects.PublicKeyKind);
        var original = Dsse.Parse(await File.ReadAllBytesAsync(envelopePath));
        // The forger keeps the keyid the version had and swaps the recorded public key for its own.
        var forged = await Dsse.SignAsync(
            new KeySigner(forger, version.Signer.KeyId),
            original.PayloadType,
            original.Payload
        );
        await File.WriteAllBytesAsync(envelopePath, Dsse.Serialize(forged));
        await File.WriteAllTextAsync(
            keyPath,
            PublicKeyDocument.Write(
                version.Signer.KeyId,
                SigningAlgorithms.EcdsaP256Sha256,
                forgerPem
            )
        );
        var rewritten = version.Version with
        {
            Evidence =
            [
                .. version.Version.Evidence.Select(e =>
                    e.Location == envelopePath || e.Location == keyPath
                        ? e with
                        {
                            Sha256 = Convert.ToHexStringLower(
                                SHA256.HashData(File.ReadAllBytes(e.Location))
                            ),
                        }
                        : e
                ),
            ],
        };
        var store = TrustStore.Open(_dir.Combine("trusted"), _dir.Path, _dir.Path);
        store.AddPem(forgerPem);

        var report = await VersionVerifier.VerifyAsync(rewritten, null, store);

        report.SignatureValid.ShouldBeTrue();
        report.Problems.ShouldBe([
            $"the envelope's keyid {version.Signer.KeyId} does not match the fingerprint "
                + $"{TrustStore.Fingerprint(forgerPem)} of the public key it was checked with",
        ]);
    }

    [Fact]
    public void The_default_key_is_trusted_when_it_is_created_and_an_existing_key_is_not_trusted_again()
    {
        var data = _dir.Combine("data");
        string fingerprint;
        using (var created = (FileKeySigner)Signers.Create(null, data))
        {
            fingerprint = TrustStore.Fingerprint(created.PublicKeyPem);
        }

        var store = TrustStore.Open(null, data, data);
        var listed = store.List().Select(k => k.Fingerprint).ToList();
        store.Remove(fingerprint);
        using (var reopened = (FileKeySigner)Signers.Create(null, data)) { }

        listed.ShouldBe([fingerprint]);
        store.Path.ShouldBe(Path.Combine(data, "keys", "trusted"));
        store.List().ShouldBeEmpty();
    }

    [Fact]
    public void A_bundle_file_lists_each_key_in_it_and_refuses_to_be_changed()
    {
        using var one = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var two = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var bundle = _dir.Combine("ci-trusted.pem");
        File.WriteAllText(
            bundle,
            "# the release keys\n"
                + one.ExportSubjectPublicKeyInfoPem()
                + "\n"
                + two.ExportSubjectPublicKeyInfoPem()
        );
        var store = TrustStore.Open(bundle, _dir.Path, _dir.Path);

        var keys = store.List().Select(k => k.Fingerprint).ToList();
        var add = Should.Throw<InvalidInputException>(() =>
            store.AddPem(one.ExportSubjectPublicKeyInfoPem())
        );

        store.IsBundle.ShouldBeTrue();
        keys.ShouldBe(
            new[]
            {
                TrustStore.Fingerprint(one.ExportSubjectPublicKeyInfoPem()),
                TrustStore.Fingerprint(two.ExportSubjectPublicKeyInfoPem()),
            }.Order(StringComparer.Ordinal)
        );
        add.Message.ShouldContain($"IMAGEFORGE_TRUSTED_KEYS={bundle} is a bundle file");
        add.ExitCode.ShouldBe(2);
    }

    public static TheoryData<string, string, string> BadInput =>
        new()
        {
            {
                "a key file of the store that is not PEM",
                "store-garbage",
                "not a readable ECDSA P-256 public key"
            },
            {
                "a key to add that does not exist",
                "add-missing",
                "no such file; give the PEM public key file"
            },
            {
                "a key to add that is not PEM",
                "add-garbage",
                "not a readable ECDSA P-256 public key"
            },
            { "a key on another curve", "add-p384", "ImageForge signs with ECDSA P-256" },
            { "a fingerprint no key has", "remove-unknown", "'imageforge keys trust list' shows" },
            { "a bundle without a key", "bundle-empty", "holds no PEM public key" },
        };

    [Theory]
    [MemberData(nameof(BadInput))]
    public void Bad_input_to_the_store_is_refused_naming_the_file_or_fingerprint_and_the_fix(
        string what,
        string input,
        string message
    )
    {
        var directory = _dir.Combine("trusted");
        Directory.CreateDirectory(directory);
        var file = _dir.Combine(input + ".pem");
        var store = TrustStore.Open(directory, _dir.Path, _dir.Path);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Action act = input switch
        {
            "store-garbage" => () =>
            {
                File.WriteAllText(file = Path.Combine(directory, "bad.pem"), "not a key");
                store.List();
            },
            "add-missing" => () => store.Add(file),
            "add-garbage" => () =>
            {
                File.WriteAllText(
                    file,
                    "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
                );
                store.Add(file);
            },
            "add-p384" => () =>
            {
                File.WriteAllText(file, p384.ExportSubjectPublicKeyInfoPem());
                store.Add(file);
            },
            "remove-unknown" => () => store.Remove(file = "sha256:" + new string('0', 64)),
            _ => () =>
            {
                File.WriteAllText(file, "no keys here\n");
                TrustStore.Open(file, _dir.Path, _dir.Path).List();
            },
        };

        var refused = Should.Throw<InvalidInputException>(act, what);

        refused.ExitCode.ShouldBe(2);
        refused.Message.ShouldContain(file);
        refused.Message.ShouldContain(message);
    }

    private sealed class KeySigner(ECDsa key, string keyId) : ISigner
    {
        public string KeyId => keyId;

        public string Algorithm => SigningAlgorithms.EcdsaP256Sha256;

        public Task<byte[]> SignAsync(
            ReadOnlyMemory<byte> message,
            CancellationToken cancellationToken = default
        ) =>
            Task.FromResult(
                key.SignData(
                    message.Span,
                    HashAlgorithmName.SHA256,
                    DSASignatureFormat.Rfc3279DerSequence
                )
            );

        public Task<string> GetPublicKeyPemAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult(key.ExportSubjectPublicKeyInfoPem());
    }
}
