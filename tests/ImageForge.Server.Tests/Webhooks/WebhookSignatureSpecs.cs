using System.Text;
using ImageForge.Server.Webhooks;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Webhooks;

public sealed class WebhookSignatureSpecs
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("what do ya want for nothing?");

    [Fact]
    public void The_signature_is_the_lowercase_hex_hmac_sha256_of_the_body()
    {
        // RFC 4231, test case 2.
        WebhookSignature
            .Sign("Jefe", Body)
            .ShouldBe("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    [Fact]
    public void Verify_accepts_the_signature_of_the_same_body_and_secret()
    {
        WebhookSignature.Verify("Jefe", Body, WebhookSignature.Sign("Jefe", Body)).ShouldBeTrue();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    [InlineData("sha1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    [InlineData("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3844")]
    [InlineData("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38")]
    [InlineData("sha256=zzdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    public void Verify_refuses_a_missing_malformed_or_wrong_signature(string? header)
    {
        WebhookSignature.Verify("Jefe", Body, header).ShouldBeFalse();
    }

    [Fact]
    public void Verify_refuses_another_body_or_another_secret()
    {
        var signature = WebhookSignature.Sign("Jefe", Body);

        WebhookSignature.Verify("Jefe", [.. Body, (byte)' '], signature).ShouldBeFalse();
        WebhookSignature.Verify("jefe", Body, signature).ShouldBeFalse();
    }
}
