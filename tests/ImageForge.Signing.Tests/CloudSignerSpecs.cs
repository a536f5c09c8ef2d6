using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Signing.Tests;

/// <summary>
/// The cloud key providers against in-process HTTP fakes that check each request against the provider's documented
/// wire format and sign with a real P-256 key, so the envelopes they produce verify with that key's public half.
/// </summary>
public sealed class CloudSignerSpecs : IDisposable
{
    private const string KeyArn =
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes(
        "{\"_type\":\"https://in-toto.io/Statement/v1\"}"
    );
    private static readonly string[] SigningAlgorithmsList = ["ECDSA_SHA_256"];
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    [Fact(Timeout = 30_000)]
    public async Task The_aws_kms_signer_sends_requests_that_match_the_kms_model_and_its_envelope_verifies()
    {
        await using var server = new FakeHttpServer(AwsKms);
        using var client = new AmazonKeyManagementServiceClient(
            new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            new AmazonKeyManagementServiceConfig
            {
                ServiceURL = server.Url.ToString(),
                AuthenticationRegion = "eu-west-1",
                MaxErrorRetry = 0,
            }
        );
        using var signer = new AwsKmsSigner(client, KeyArn);

        var envelope = await Dsse.SignAsync(signer, "application/vnd.in-toto+json", Payload);
        var pem = await signer.GetPublicKeyPemAsync();

        server.Problems.ShouldBeEmpty();
        server
            .Requests.Select(r => r.Headers["X-Amz-Target"])
            .ShouldBe(["TrentService.Sign", "TrentService.GetPublicKey"]);
        using var publicKey = EcdsaKeys.ImportPublicKeyPem(pem);
        Dsse.Verify(envelope, publicKey).ShouldBeTrue();
        envelope.Signatures.Single().KeyId.ShouldBe($"awskms:{KeyArn}");
        var sign = JsonNode.Parse(server.Requests[0].Body)!;
        sign["MessageType"]!.GetValue<string>().ShouldBe("DIGEST");
        sign["SigningAlgorithm"]!.GetValue<string>().ShouldBe("ECDSA_SHA_256");
        Convert
            .FromBase64String(sign["Message"]!.GetValue<string>())
            .ShouldBe(SHA256.HashData(Dsse.Pae("application/vnd.in-toto+json", Payload)));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_aws_kms_error_becomes_a_signing_failure_naming_the_key()
    {
        await using var server = new FakeHttpServer(_ =>
            (
                400,
                "application/x-amz-json-1.1",
                """{"__type":"NotFoundException","message":"Key 'arn' does not exist"}"""
            )
        );
        using var client = new AmazonKeyManagementServiceClient(
            new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
            new AmazonKeyManagementServiceConfig
            {
                ServiceURL = server.Url.ToString(),
                AuthenticationRegion = "eu-west-1",
                MaxErrorRetry = 0,
            }
        );
        using var signer = new AwsKmsSigner(client, KeyArn);

        var failure = await Should.ThrowAsync<SigningException>(() => signer.SignAsync(Payload));

        failure.Message.ShouldContain(KeyArn);
        failure.Message.ShouldContain("NotFoundException");
        failure.ExitCode.ShouldBe(3);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_azure_key_vault_signer_calls_the_documented_sign_and_get_key_operations_and_its_envelope_verifies()
    {
        await using var server = new FakeHttpServer(AzureKeyVault);
        using var http = new HttpClient();
        var signer = new AzureKeyVaultSigner(
            http,
            new Uri(server.Url, "keys/release/0123456789abcdef"),
            _ => ValueTask.FromResult("azure-token")
        );

        var envelope = await Dsse.SignAsync(signer, "application/vnd.in-toto+json", Payload);
        var pem = await signer.GetPublicKeyPemAsync();

        server.Problems.ShouldBeEmpty();
        server
            .Requests.Select(r => $"{r.Method} {r.Path}{r.Query}")
            .ShouldBe([
                "POST /keys/release/0123456789abcdef/sign?api-version=7.4",
                "GET /keys/release/0123456789abcdef?api-version=7.4",
            ]);
        using var publicKey = EcdsaKeys.ImportPublicKeyPem(pem);
        Dsse.Verify(envelope, publicKey).ShouldBeTrue();
        envelope.Signatures.Single().KeyId.ShouldStartWith("azurekv:http://127.0.0.1:");
    }

    [Fact(Timeout = 30_000)]
    public async Task The_gcp_kms_signer_calls_asymmetric_sign_and_get_public_key_and_its_envelope_verifies()
    {
        const string name =
            "projects/acme/locations/europe-west1/keyRings/images/cryptoKeys/provenance/cryptoKeyVersions/3";
        await using var server = new FakeHttpServer(r => GcpKms(r, name));
        using var http = new HttpClient();
        var signer = new GcpKmsSigner(
            http,
            name,
            _ => ValueTask.FromResult("gcp-token"),
            server.Url
        );

        var envelope = await Dsse.SignAsync(signer, "application/vnd.in-toto+json", Payload);
        var pem = await signer.GetPublicKeyPemAsync();

        server.Problems.ShouldBeEmpty();
        server
            .Requests.Select(r => $"{r.Method} {r.Path}")
            .ShouldBe([$"POST /v1/{name}:asymmetricSign", $"GET /v1/{name}/publicKey"]);
        using var publicKey = EcdsaKeys.ImportPublicKeyPem(pem);
        Dsse.Verify(envelope, publicKey).ShouldBeTrue();
        envelope.Signatures.Single().KeyId.ShouldBe($"gcpkms:{name}");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_cloud_key_that_is_not_p256_is_refused_with_what_it_is()
    {
        const string name =
            "projects/acme/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1";
        await using var server = new FakeHttpServer(_ =>
            (
                200,
                "application/json",
                """{"pem":"x","algorithm":"RSA_SIGN_PSS_2048_SHA256","name":"n"}"""
            )
        );
        using var http = new HttpClient();
        var signer = new GcpKmsSigner(http, name, _ => ValueTask.FromResult("t"), server.Url);

        var failure = await Should.ThrowAsync<SigningException>(() =>
            signer.GetPublicKeyPemAsync()
        );

        failure.Message.ShouldContain("RSA_SIGN_PSS_2048_SHA256");
    }

    public static IEnumerable<object[]> KeyAnswers =>
        BadJson
            .Roots.Select(r => new object[] { r.Shape, r.Json })
            .Append(["algorithm a number", """{"algorithm":5,"pem":"x"}"""])
            .Append(["pem an array", """{"algorithm":"EC_SIGN_P256_SHA256","pem":[]}"""]);

    [Theory(Timeout = 30_000)]
    [Trait(BadInput.Trait, BadInput.JsonShape)]
    [MemberData(nameof(KeyAnswers))]
    public async Task A_key_service_answer_of_the_wrong_shape_is_a_signing_error(
        string shape,
        string json
    )
    {
        const string name =
            "projects/acme/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1";
        await using var server = new FakeHttpServer(_ => (200, "application/json", json));
        using var http = new HttpClient();
        var signer = new GcpKmsSigner(http, name, _ => ValueTask.FromResult("t"), server.Url);

        var failure = await Should.ThrowAsync<SigningException>(
            () => signer.GetPublicKeyPemAsync(),
            shape
        );

        failure.Message.ShouldContain("Google Cloud KMS answered", Case.Sensitive, shape);
    }

    public void Dispose() => _key.Dispose();

    private (int, string, string) AwsKms(RecordedRequest r)
    {
        var target = r.Headers.GetValueOrDefault("X-Amz-Target") ?? "";
        var operation = target.Split('.').Last();
        var problems = new List<string>();
        if (r.Method != "POST" || r.Path != "/")
        {
            problems.Add($"{r.Method} {r.Path}: the model says POST /");
        }

        if (target != KmsModel.TargetOf(operation) || operation is not ("Sign" or "GetPublicKey"))
        {
            problems.Add($"X-Amz-Target '{target}' names no expected operation");
        }

        if (
            !(r.Headers.GetValueOrDefault("Content-Type") ?? "").StartsWith(
                KmsModel.ContentType,
                StringComparison.Ordinal
            )
        )
        {
            problems.Add(
                $"Content-Type {r.Headers.GetValueOrDefault("Content-Type")}, the model's protocol wants {KmsModel.ContentType}"
            );
        }

        var authorization = r.Headers.GetValueOrDefault("Authorization") ?? "";
        if (
            !authorization.StartsWith(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/",
                StringComparison.Ordinal
            )
            || !authorization.Contains("/eu-west-1/kms/aws4_request", StringComparison.Ordinal)
            || !authorization.Contains("SignedHeaders=", StringComparison.Ordinal)
            || !authorization.Contains("Signature=", StringComparison.Ordinal)
        )
        {
            problems.Add($"Authorization is not SigV4 for kms: {authorization}");
        }

        if (!r.Headers.ContainsKey("X-Amz-Date"))
        {
            problems.Add("X-Amz-Date is missing");
        }

        problems.AddRange(KmsModel.ProblemsWith(operation, r.Body));
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        using var body = JsonDocument.Parse(r.Body);
        if (operation == "Sign")
        {
            var digest = Convert.FromBase64String(
                body.RootElement.GetProperty("Message").GetString()!
            );
            var signature = _key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
            return (
                200,
                KmsModel.ContentType,
                JsonSerializer.Serialize(
                    new Dictionary<string, object>
                    {
                        ["KeyId"] = KeyArn,
                        ["Signature"] = Convert.ToBase64String(signature),
                        ["SigningAlgorithm"] = "ECDSA_SHA_256",
                    }
                )
            );
        }

        return (
            200,
            KmsModel.ContentType,
            JsonSerializer.Serialize(
                new Dictionary<string, object>
                {
                    ["KeyId"] = KeyArn,
                    ["PublicKey"] = Convert.ToBase64String(_key.ExportSubjectPublicKeyInfo()),
                    ["KeySpec"] = "ECC_NIST_P256",
                    ["KeyUsage"] = "SIGN_VERIFY",
                    ["SigningAlgorithms"] = SigningAlgorithmsList,
                }
            )
        );
    }

    // Key Vault REST 7.4: POST {key}/sign {alg, value: base64url digest} -> {kid, value: base64url r||s};
    // GET {key} -> {key: JWK}. Bearer token on both.
    private (int, string, string) AzureKeyVault(RecordedRequest r)
    {
        r.Headers.GetValueOrDefault("Authorization").ShouldBe("Bearer azure-token");
        r.Query.ShouldBe("?api-version=7.4");
        var kid = $"https://vault.example/keys/release/0123456789abcdef";
        if (r.Method == "POST")
        {
            r.Path.ShouldEndWith("/sign");
            r.Headers["Content-Type"].ShouldStartWith("application/json");
            var body = JsonNode.Parse(r.Body)!.AsObject();
            body.Select(p => p.Key).Order(StringComparer.Ordinal).ShouldBe(["alg", "value"]);
            body["alg"]!.GetValue<string>().ShouldBe("ES256");
            var value = body["value"]!.GetValue<string>();
            value.ShouldNotContain("=");
            var digest = AzureKeyVaultSigner.FromBase64Url(value);
            digest.Length.ShouldBe(32);
            var raw = _key.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            return (
                200,
                "application/json",
                new JsonObject
                {
                    ["kid"] = kid,
                    ["value"] = AzureKeyVaultSigner.Base64Url(raw),
                }.ToJsonString()
            );
        }

        r.Method.ShouldBe("GET");
        r.Body.ShouldBeEmpty();
        var q = _key.ExportParameters(false).Q;
        return (
            200,
            "application/json",
            new JsonObject
            {
                ["key"] = new JsonObject
                {
                    ["kid"] = kid,
                    ["kty"] = "EC",
                    ["crv"] = "P-256",
                    ["key_ops"] = new JsonArray("sign", "verify"),
                    ["x"] = AzureKeyVaultSigner.Base64Url(q.X),
                    ["y"] = AzureKeyVaultSigner.Base64Url(q.Y),
                },
                ["attributes"] = new JsonObject { ["enabled"] = true },
            }.ToJsonString()
        );
    }

    // Cloud KMS v1: POST v1/{name}:asymmetricSign {digest: {sha256: base64}} -> {signature: base64 DER, name};
    // GET v1/{name}/publicKey -> {pem, algorithm, name}.
    private (int, string, string) GcpKms(RecordedRequest r, string name)
    {
        r.Headers.GetValueOrDefault("Authorization").ShouldBe("Bearer gcp-token");
        if (r.Method == "POST")
        {
            r.Path.ShouldBe($"/v1/{name}:asymmetricSign");
            var body = JsonNode.Parse(r.Body)!.AsObject();
            body.Select(p => p.Key).ShouldBe(["digest"]);
            var digest = body["digest"]!.AsObject();
            digest.Select(p => p.Key).ShouldBe(["sha256"]);
            var hash = Convert.FromBase64String(digest["sha256"]!.GetValue<string>());
            hash.Length.ShouldBe(32);
            var signature = _key.SignHash(hash, DSASignatureFormat.Rfc3279DerSequence);
            return (
                200,
                "application/json",
                new JsonObject
                {
                    ["signature"] = Convert.ToBase64String(signature),
                    ["name"] = name,
                }.ToJsonString()
            );
        }

        r.Method.ShouldBe("GET");
        r.Path.ShouldBe($"/v1/{name}/publicKey");
        return (
            200,
            "application/json",
            new JsonObject
            {
                ["pem"] = _key.ExportSubjectPublicKeyInfoPem() + "\n",
                ["algorithm"] = "EC_SIGN_P256_SHA256",
                ["name"] = name,
            }.ToJsonString()
        );
    }
}
