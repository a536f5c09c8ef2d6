using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using ImageForge.CloudFakes.Aws;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Aws.AwsFlows;

namespace ImageForge.CloudFakes.Tests.Aws;

/// <summary>
/// Requests the real API refuses are refused by the fake, recorded as model problems, and raised by the SDK as the
/// service's exception. Some come through the SDK as callers write them (an enum value the SDK does not know, a
/// required member left out); the others are a request the SDK built and then changed before it signed it.
/// </summary>
public sealed class AwsModelCheckSpecs
{
    public static TheoryData<string, string, string> Ec2Cases =>
        new()
        {
            { "bad-enum", "InvalidParameterValue", "NotInEnum BootMode" },
            { "missing", "MissingParameter", "MissingMember ImageId" },
            { "unknown", "UnknownParameter", "UnknownMember ImageSize" },
            { "wrong-type", "InvalidParameterValue", "WrongType MaxResults" },
            { "too-short", "InvalidParameterValue", "OutOfRange Name" },
        };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Ec2Cases))]
    public async Task An_ec2_request_the_model_refuses_is_recorded_and_raised_as_the_services_error(
        string @case,
        string code,
        string problem
    )
    {
        FormTamper.Install();
        await using var aws = await AwsFakeFixture.StartAsync();
        var ec2 = aws.Ec2(Home, configure: c => c.MaxErrorRetry = 0);
        Func<Task> call = @case switch
        {
            "bad-enum" => () =>
                ec2.RegisterImageAsync(
                    WithBootMode(
                        Register("debian", "snap-0123456789abcdef0"),
                        BootModeValues.FindValue("bios")
                    )
                ),
            "missing" => () => ec2.DeregisterImageAsync(new DeregisterImageRequest()),
            "unknown" => () =>
                ec2.DescribeImagesAsync(
                    FormTamper.With(new DescribeImagesRequest { Owners = ["self"] }, "ImageSize=8")
                ),
            "wrong-type" => () =>
                ec2.DescribeImagesAsync(
                    FormTamper.With(
                        new DescribeImagesRequest { Owners = ["self"] },
                        "MaxResults=ten"
                    )
                ),
            _ => () => ec2.RegisterImageAsync(Register("ab", "snap-0123456789abcdef0")),
        };

        var error = await Should.ThrowAsync<AmazonEC2Exception>(call);

        error.ErrorCode.ShouldBe(code);
        error.StatusCode.ShouldBe(System.Net.HttpStatusCode.BadRequest);
        aws.TakeModelProblems()
            .ShouldContain(p =>
                p.Contains(problem.Split(' ')[0], StringComparison.Ordinal)
                && p.Contains(problem.Split(' ')[1], StringComparison.Ordinal)
            );
    }

    [Fact(Timeout = 30_000)]
    public async Task S3_ssm_and_sts_refuse_what_their_models_refuse_in_their_own_formats()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var bucket = await BucketAsync(aws.S3(Home), Home);

        var s3 = await Should.ThrowAsync<AmazonS3Exception>(() =>
            aws.S3(Home)
                .ListPartsAsync(
                    new Amazon.S3.Model.ListPartsRequest
                    {
                        BucketName = bucket,
                        Key = "disk.raw",
                        UploadId = "u",
                        RequestPayer = RequestPayer.FindValue("nobody"),
                    }
                )
        );
        var ssm = await Should.ThrowAsync<AmazonSimpleSystemsManagementException>(() =>
            aws.Ssm(Home)
                .PutParameterAsync(
                    new PutParameterRequest
                    {
                        Name = "/imageforge/debian",
                        Value = "x",
                        Type = ParameterType.FindValue("Text"),
                    }
                )
        );
        var sts = await Should.ThrowAsync<AmazonSecurityTokenServiceException>(() =>
            aws.Sts(Home)
                .AssumeRoleAsync(
                    new AssumeRoleRequest
                    {
                        RoleArn = "arn:aws:iam::210987654321:role/distribute",
                        RoleSessionName = OneCharacter,
                    }
                )
        );

        (s3.ErrorCode, ssm.ErrorCode, sts.ErrorCode).ShouldBe(
            ("InvalidArgument", "ValidationException", "ValidationError")
        );
        var problems = aws.TakeModelProblems();
        problems.ShouldContain(p =>
            p.StartsWith("s3 ListParts: NotInEnum RequestPayer", StringComparison.Ordinal)
        );
        problems.ShouldContain(p =>
            p.StartsWith("ssm PutParameter: NotInEnum Type", StringComparison.Ordinal)
        );
        problems.ShouldContain(p =>
            p.StartsWith("sts AssumeRole: OutOfRange RoleSessionName", StringComparison.Ordinal)
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task A_request_signed_with_a_wrong_secret_is_refused()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var ec2 = aws.Ec2(
            Home,
            new BasicAWSCredentials(AwsFake.AccessKeyId, "not-the-secret"),
            c => c.MaxErrorRetry = 0
        );

        var error = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            ec2.DescribeImagesAsync(new DescribeImagesRequest())
        );

        error.ErrorCode.ShouldBe("SignatureDoesNotMatch");
    }

    // A constant too short would be caught by the SDK's analyzer at build time; the service sees it at run time.
    private static string OneCharacter => new('x', 1);

    private static RegisterImageRequest WithBootMode(
        RegisterImageRequest request,
        BootModeValues mode
    )
    {
        request.BootMode = mode;
        return request;
    }
}
