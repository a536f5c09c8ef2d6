using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// STS: the caller's identity, and AssumeRole of the roles the spec declared, whose temporary credentials (with their
/// session token, until they expire) the whole fake then accepts as that role.
/// </summary>
internal sealed partial class StsFake(AwsFake fake) : AwsServiceFake(fake, "aws-sts", "sts")
{
    private readonly HashSet<string> _roles = new(StringComparer.Ordinal);

    public override IAwsProtocol Protocol => field ??= new QueryProtocol(Model);

    public void AddRole(string roleArn)
    {
        if (!RolePattern().IsMatch(roleArn))
        {
            throw new ArgumentException($"not a role ARN: {roleArn}", nameof(roleArn));
        }

        lock (Gate)
        {
            _roles.Add(roleArn);
        }
    }

    public override AwsException Error(Failure failure, string detail) =>
        failure switch
        {
            Failure.UnknownOperation => new(
                400,
                "InvalidAction",
                $"Could not find operation {detail} for version 2011-06-15"
            ),
            Failure.UnknownMember => new(
                400,
                "InvalidQueryParameter",
                $"The AWS query string is malformed or does not adhere to AWS standards: {detail}"
            ),
            Failure.MissingMember => new(
                400,
                "MissingParameter",
                $"A required parameter for the specified action is not supplied: {detail}"
            ),
            Failure.WrongType or Failure.InvalidValue => new(
                400,
                "ValidationError",
                $"1 validation error detected: {detail}"
            ),
            Failure.MissingAuthentication => new(
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token"
            ),
            Failure.UnknownAccessKey => new(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid."
            ),
            Failure.BadSignature => new(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided."
            ),
            Failure.ExpiredToken => new(
                400,
                "ExpiredToken",
                "The security token included in the request is expired"
            ),
            Failure.Throttled => new(400, "Throttling", "Rate exceeded"),
            _ => new(503, "ServiceUnavailable", "Service Unavailable"),
        };

    public override Task<AwsResult> ExecuteAsync(AwsCall call) =>
        Task.FromResult(
            call.Operation.Name switch
            {
                "GetCallerIdentity" => Result(
                    Tree.Object(
                        ("UserId", call.Caller.UserId),
                        ("Account", call.Caller.Account),
                        ("Arn", call.Caller.Arn)
                    )
                ),
                "AssumeRole" => AssumeRole(call),
                _ => throw NotServed(call),
            }
        );

    private AwsResult AssumeRole(AwsCall call)
    {
        var roleArn = call.Input.Str("RoleArn")!;
        var session = call.Input.Str("RoleSessionName")!;
        lock (Gate)
        {
            if (!_roles.Contains(roleArn))
            {
                throw new AwsException(
                    403,
                    "AccessDenied",
                    $"User: {call.Caller.Arn} is not authorized to perform: sts:AssumeRole on resource: {roleArn}"
                );
            }
        }

        var duration = call.Input.Long("DurationSeconds") ?? 3600;
        if (duration > 3600)
        {
            throw new AwsException(
                400,
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            );
        }

        var match = RolePattern().Match(roleArn);
        var account = match.Groups["account"].Value;
        var roleName = match.Groups["name"].Value.Split('/')[^1];
        var roleId = "AROA" + Random(17);
        var principal = new Principal(
            account,
            $"arn:aws:sts::{account}:assumed-role/{roleName}/{session}",
            $"{roleId}:{session}"
        );
        var expires = Fake.Time.GetUtcNow().AddSeconds(duration);
        var credential = new Credential(
            "ASIA" + Random(16),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(96)),
            expires,
            principal
        );
        Fake.AddCredential(credential);
        return Result(
            Tree.Object(
                (
                    "Credentials",
                    Tree.Object(
                        ("AccessKeyId", credential.AccessKeyId),
                        ("SecretAccessKey", credential.SecretAccessKey),
                        ("SessionToken", credential.SessionToken),
                        ("Expiration", expires)
                    )
                ),
                (
                    "AssumedRoleUser",
                    Tree.Object(("AssumedRoleId", principal.UserId), ("Arn", principal.Arn))
                )
            )
        );
    }

    private static string Random(int length) =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", length);

    [GeneratedRegex(@"^arn:aws:iam::(?<account>\d{12}):role/(?<name>[\w+=,.@/-]+)$")]
    private static partial Regex RolePattern();
}
