using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Cloud.Storage.V1;
using ImageForge.CloudFakes.Gcp;
using Shouldly;
using Xunit;

namespace ImageForge.CloudFakes.Tests.Gcp;

public sealed class GcpTokenSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task A_trusted_key_gets_a_token_that_the_apis_accept()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        var token = await gcp
            .Credential.CreateScoped(GcpFakeFixture.ComputeScope)
            .UnderlyingCredential.GetAccessTokenForRequestAsync();
        using var compute = new HttpClient { BaseAddress = gcp.Fake.ComputeBaseUri };
        compute.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer",
            token
        );

        var list = await GcpSpecKit.OkAsync(compute, HttpMethod.Get, GcpSpecKit.Images());

        token.ShouldStartWith("ya29.");
        list["kind"]!.ToString().ShouldBe("compute#imageList");
        gcp.Fake.CallsOf(GcpFake.TokenMethod).ShouldBe(1);
        gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task The_storage_client_self_signed_jwt_counts_only_when_a_trusted_key_signed_it()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(GcpSpecKit.Bucket);
        using var untrusted = await new StorageClientBuilder
        {
            BaseUri = gcp.Fake.StorageBaseUri.AbsoluteUri,
            GoogleCredential = CredentialFactory
                .FromJson<ServiceAccountCredential>(
                    gcp.Fake.CreateUntrustedServiceAccountKey(
                        GcpFakeFixture.ClientEmail,
                        GcpFakeFixture.ProjectId
                    )
                )
                .ToGoogleCredential(),
        }.BuildAsync();

        var bucket = await gcp.Storage.GetBucketAsync(GcpSpecKit.Bucket);
        var refused = await Should.ThrowAsync<GoogleApiException>(() =>
            untrusted.GetBucketAsync(GcpSpecKit.Bucket)
        );

        bucket.Name.ShouldBe(GcpSpecKit.Bucket);
        refused.HttpStatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        gcp.Fake.CallsOf(GcpFake.TokenMethod).ShouldBe(0); // Gax signs its own JWT access tokens
    }

    [Fact(Timeout = 30_000)]
    public async Task A_key_the_fake_never_saw_is_refused_with_invalid_grant()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        var untrusted = CredentialFactory
            .FromJson<ServiceAccountCredential>(
                gcp.Fake.CreateUntrustedServiceAccountKey(
                    GcpFakeFixture.ClientEmail,
                    GcpFakeFixture.ProjectId
                )
            )
            .ToGoogleCredential()
            .CreateScoped(GcpFakeFixture.ComputeScope);

        var refused = await Should.ThrowAsync<TokenResponseException>(() =>
            untrusted.UnderlyingCredential.GetAccessTokenForRequestAsync()
        );

        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        refused.Error.Error.ShouldBe("invalid_grant");
        refused.Error.ErrorDescription.ShouldBe("Invalid JWT Signature.");
    }

    public static TheoryData<string, string, string> BadAssertions =>
        new()
        {
            { "audience", "invalid_grant", "Failed audience check" },
            { "lifetime", "invalid_grant", "short-lived token" },
            { "expired", "invalid_grant", "short-lived token" },
            { "issuer", "invalid_grant", "account not found" },
            { "scope", "invalid_scope", "Invalid OAuth scope" },
        };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(BadAssertions))]
    public async Task An_assertion_signed_by_the_right_key_but_claiming_the_wrong_thing_is_refused(
        string broken,
        string error,
        string description
    )
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        using var key = RSA.Create();
        var file = JsonNode.Parse(await File.ReadAllTextAsync(gcp.KeyFile))!;
        key.ImportFromPem((string)file["private_key"]!);
        var now = DateTimeOffset.FromUnixTimeSeconds(
            TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()
        );
        var claims = new JsonObject
        {
            ["iss"] =
                broken == "issuer"
                    ? "someone@else.iam.gserviceaccount.com"
                    : GcpFakeFixture.ClientEmail,
            ["aud"] =
                broken == "audience"
                    ? "https://storage.googleapis.com/"
                    : gcp.Fake.TokenUri.AbsoluteUri,
            ["scope"] = broken == "scope" ? "" : GcpFakeFixture.ComputeScope,
            ["iat"] = (broken == "expired" ? now.AddHours(-3) : now).ToUnixTimeSeconds(),
            ["exp"] = (
                broken switch
                {
                    "expired" => now.AddHours(-2),
                    "lifetime" => now.AddHours(2),
                    _ => now.AddHours(1),
                }
            ).ToUnixTimeSeconds(),
        };
        using var http = new HttpClient();

        using var response = await http.PostAsync(
            gcp.Fake.TokenUri,
            new FormUrlEncodedContent(
                new Dictionary<string, string>
                {
                    ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    ["assertion"] = Jwt(key, (string)file["private_key_id"]!, claims),
                }
            )
        );
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        ((string?)answer["error"]).ShouldBe(error);
        ((string)answer["error_description"]!).ShouldContain(description);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_apis_refuse_a_request_without_a_token_or_without_their_scope()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = gcp.Fake.ComputeBaseUri };
        using var storageScoped = gcp.CreateComputeClient(
            "https://www.googleapis.com/auth/devstorage.read_only"
        );

        var (noToken, noTokenBody) = await GcpSpecKit.SendAsync(
            anonymous,
            HttpMethod.Get,
            GcpSpecKit.Images()
        );
        var (wrongScope, wrongScopeBody) = await GcpSpecKit.SendAsync(
            storageScoped,
            HttpMethod.Get,
            GcpSpecKit.Images()
        );

        noToken.ShouldBe(HttpStatusCode.Unauthorized);
        noTokenBody["error"]!["errors"]![0]!["reason"]!.ToString().ShouldBe("authError");
        wrongScope.ShouldBe(HttpStatusCode.Forbidden);
        wrongScopeBody["error"]!["errors"]![0]!["reason"]!
            .ToString()
            .ShouldBe("insufficientPermissions");
    }

    private static string Jwt(RSA key, string keyId, JsonObject claims)
    {
        var header = new JsonObject
        {
            ["alg"] = "RS256",
            ["typ"] = "JWT",
            ["kid"] = keyId,
        };
        var signed =
            $"{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString()))}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()))}";
        var signature = key.SignData(
            Encoding.ASCII.GetBytes(signed),
            HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1
        );
        return $"{signed}.{Base64Url.EncodeToString(signature)}";
    }
}
