using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Shouldly;
using Xunit;

namespace ImageForge.Signing.Tests;

public sealed class DsseSpecs
{
    [Fact]
    public void The_pre_authentication_encoding_matches_the_protocol_example()
    {
        var pae = Dsse.Pae("http://example.com/HelloWorld", "hello world"u8);

        Encoding
            .ASCII.GetString(pae)
            .ShouldBe("DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    }

    [Fact]
    public void The_signed_example_of_the_dsse_protocol_verifies_once_its_raw_signature_is_converted_to_der()
    {
        // Key and envelope from tests/specs/attestation/dsse/protocol.md (raw r||s signature, P-256).
        using var key = ECDsa.Create(
            new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint
                {
                    X = Coordinate(
                        "46950820868899156662930047687818585632848591499744589407958293238635476079160"
                    ),
                    Y = Coordinate(
                        "5640078356564379163099075877009565129882514886557779369047442380624545832820"
                    ),
                },
            }
        );
        const string example = """
            {"payload": "aGVsbG8gd29ybGQ=",
             "payloadType": "http://example.com/HelloWorld",
             "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}
            """;
        var parsed = Dsse.Parse(Encoding.UTF8.GetBytes(example));

        var der = parsed with
        {
            Signatures =
            [
                .. parsed.Signatures.Select(s =>
                    s with
                    {
                        Signature = EcdsaKeys.P1363ToDer(s.Signature),
                    }
                ),
            ],
        };

        Dsse.Verify(der, key).ShouldBeTrue();
        Dsse.Verify(der with { Payload = "hello World"u8.ToArray() }, key).ShouldBeFalse();
        parsed.Signatures.Single().KeyId.ShouldBe("");
    }

    [Fact]
    public async Task An_envelope_round_trips_through_its_json_form_and_fails_to_verify_after_any_change()
    {
        using var dir = new ImageForge.TestUtils.TempDirectory();
        using var signer = FileKeySigner.OpenOrCreate(dir.Combine("key.pem"));
        using var publicKey = EcdsaKeys.ImportPublicKeyPem(await signer.GetPublicKeyPemAsync());
        var envelope = await Dsse.SignAsync(
            signer,
            "application/vnd.in-toto+json",
            "{\"a\":1}"u8.ToArray()
        );

        var json = Dsse.Serialize(envelope);
        var back = Dsse.Parse(json);

        Dsse.Verify(back, publicKey).ShouldBeTrue();
        back.Signatures.Single().KeyId.ShouldBe(signer.KeyId);
        using var document = JsonDocument.Parse(json);
        document
            .RootElement.EnumerateObject()
            .Select(p => p.Name)
            .ShouldBe(["payloadType", "payload", "signatures"]);
        Dsse.Verify(back with { PayloadType = "application/json" }, publicKey).ShouldBeFalse();
        Dsse.Verify(back with { Payload = "{\"a\":2}"u8.ToArray() }, publicKey).ShouldBeFalse();
    }

    [Fact]
    public void Text_that_is_not_an_envelope_is_a_format_error()
    {
        Should.Throw<FormatException>(() => Dsse.Parse("{\"payload\":1}"u8));
        Should.Throw<FormatException>(() => Dsse.Parse("not json"u8));
    }

    private static byte[] Coordinate(string decimalValue)
    {
        var bytes = BigInteger
            .Parse(decimalValue, CultureInfo.InvariantCulture)
            .ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. new byte[32 - bytes.Length], .. bytes];
    }
}
