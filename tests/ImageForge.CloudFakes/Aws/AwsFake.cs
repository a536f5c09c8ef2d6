using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// EC2, S3, SSM and STS on one loopback endpoint for every region. The SigV4 credential scope of each request names
/// the service and region it is for; the signature is checked against the fake's keys; the request is checked
/// against the botocore model of its service (a problem is recorded in <see cref="Problems"/> and answered with the
/// service's own error) and then served from per-region state.
/// </summary>
public sealed class AwsFake : IAsyncDisposable
{
    /// <summary>The account of the fake's IAM user.</summary>
    public const string AccountId = "123456789012";

    /// <summary>The IAM user's access key id (AWS's documentation example).</summary>
    public const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";

    /// <summary>The IAM user's secret key (AWS's documentation example).</summary>
    public const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    private readonly LoopbackService _server;
    private readonly Dictionary<string, AwsServiceFake> _services;
    private readonly ConcurrentDictionary<string, Credential> _credentials = new(
        StringComparer.Ordinal
    );
    private long _ids;

    private AwsFake(LoopbackService server, TimeProvider time, AwsFakeOptions options)
    {
        _server = server;
        Time = time;
        Options = options;
        Ec2 = new Ec2Fake(this);
        S3 = new S3Fake(this);
        Ssm = new SsmFake(this);
        Sts = new StsFake(this);
        _services = new AwsServiceFake[] { Ec2, S3, Ssm, Sts }.ToDictionary(s => s.SigningName);
        AddCredential(
            new(
                AccessKeyId,
                SecretAccessKey,
                null,
                null,
                new(
                    AccountId,
                    $"arn:aws:iam::{AccountId}:user/imageforge-test",
                    "AIDAIMAGEFORGETEST0001"
                )
            )
        );
    }

    /// <summary>The endpoint every client's <c>ServiceURL</c> points at.</summary>
    public Uri Url => _server.Url;

    /// <summary>Every request that broke a model, and every operation called that the fake does not serve.</summary>
    public ModelProblems Problems { get; } = new();

    /// <summary>Failures a spec injects.</summary>
    public AwsFaults Faults { get; } = new();

    /// <summary>Requests served, by operation and by region.</summary>
    public AwsRequestCounts Requests { get; } = new();

    /// <summary>How fast simulated work (import tasks, pending images) progresses.</summary>
    public AwsFakeOptions Options { get; }

    /// <summary>SSM's asynchronous <c>aws:ec2:image</c> validations that failed (AWS reports them as EventBridge events).</summary>
    public IReadOnlyList<string> FailedImageParameterValidations => Ssm.FailedValidations;

    internal TimeProvider Time { get; }

    internal Ec2Fake Ec2 { get; }

    internal S3Fake S3 { get; }

    internal SsmFake Ssm { get; }

    internal StsFake Sts { get; }

    /// <summary>Starts the fake on a free loopback port.</summary>
    public static async Task<AwsFake> StartAsync(
        TimeProvider? time = null,
        AwsFakeOptions? options = null
    )
    {
        AwsFake? fake = null;
        var server = await LoopbackService.StartAsync(context => fake!.HandleAsync(context));
        fake = new AwsFake(server, time ?? TimeProvider.System, options ?? new AwsFakeOptions());
        return fake;
    }

    /// <summary>Where RunInstances starts machines (null: instances are state only).</summary>
    public IEc2InstanceHost? InstanceHost
    {
        get => Ec2.InstanceHost;
        set => Ec2.InstanceHost = value;
    }

    /// <summary>The user whose authorized_keys gets the key pair of RunInstances.</summary>
    public string InstanceUser { get; set; } = "admin";

    /// <summary>Machines started on the instance host and not terminated yet.</summary>
    public int LiveMachines => Ec2.LiveMachines;

    /// <summary>
    /// Registers an available public AMI named <paramref name="name"/> of <paramref name="owner"/> in
    /// <paramref name="region"/>, whose instances run a copy of <paramref name="tree"/> on the instance host; returns its id.
    /// </summary>
    public string RegisterSourceImage(string region, string name, string owner, string tree) =>
        Ec2.RegisterSourceImage(region, name, owner, tree);

    /// <summary>Lets the fake's user assume <paramref name="roleArn"/> (<c>arn:aws:iam::ACCOUNT:role/NAME</c>).</summary>
    public void AddRole(string roleArn) => Sts.AddRole(roleArn);

    /// <summary>Fails unless no request broke a model.</summary>
    public void AssertNoModelProblems()
    {
        var problems = Problems.All;
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                "requests broke the AWS models:\n" + string.Join('\n', problems)
            );
        }
    }

    /// <summary>Stops the server.</summary>
    public ValueTask DisposeAsync() => _server.DisposeAsync();

    internal void AddCredential(Credential credential) =>
        _credentials[credential.AccessKeyId] = credential;

    /// <summary>A fresh id suffix: 17 hex digits, as EC2's ids have.</summary>
    internal string NewId() =>
        Interlocked
            .Increment(ref _ids)
            .ToString("x17", System.Globalization.CultureInfo.InvariantCulture);

    private async Task HandleAsync(HttpContext http)
    {
        var requestId = Guid.NewGuid().ToString();
        var signed = SignedRequest.Parse(http.Request.Headers.Authorization.ToString());
        var service = signed is not null
            ? _services.GetValueOrDefault(signed.Service)
            : Guess(http);
        if (service is null)
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsync(
                $"the AWS fake serves {string.Join(", ", _services.Keys)}, not '{signed?.Service}'"
            );
            return;
        }

        try
        {
            var region = signed?.Region ?? "us-east-1";
            var body = service.BuffersBody
                ? await RestXmlProtocol.ReadAllAsync(http.Request.Body)
                : null;
            var caller = Authenticate(http, service, signed, body);
            var parsed = await service.Protocol.ReadAsync(http, body);
            Requests.Add(parsed.OperationName, region);
            if (Faults.RegionFails(region))
            {
                throw service.Error(Failure.Unavailable, region);
            }

            if (parsed.Violations.Count > 0)
            {
                foreach (var violation in parsed.Violations)
                {
                    Problems.Add($"{service.SigningName} {parsed.OperationName}: {violation}");
                }

                var first = parsed.Violations[0];
                throw service.Error(
                    Violations.Failure(first.Kind),
                    first.Kind == ViolationKind.UnknownOperation
                        ? parsed.OperationName
                        : $"{first.Path}: {first.Detail}"
                );
            }

            if (Faults.Throttles(parsed.OperationName))
            {
                throw service.Error(Failure.Throttled, parsed.OperationName);
            }

            await Faults.HeldAsync(parsed.OperationName).WaitAsync(http.RequestAborted);

            var call = new AwsCall(
                http,
                region,
                caller,
                parsed.Operation!,
                parsed.Input,
                requestId
            );
            var result = await service.ExecuteAsync(call);
            if (http.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            await service.Protocol.WriteResultAsync(http, parsed.Operation!, result, requestId);
        }
        catch (AwsException error)
        {
            if (!http.RequestAborted.IsCancellationRequested)
            {
                await service.Protocol.WriteErrorAsync(http, error, requestId);
            }
        }
    }

    private Principal Authenticate(
        HttpContext http,
        AwsServiceFake service,
        SignedRequest? signed,
        byte[]? body
    )
    {
        if (signed is null)
        {
            throw service.Error(
                Failure.MissingAuthentication,
                "the request is not signed with SigV4"
            );
        }

        if (!_credentials.TryGetValue(signed.AccessKeyId, out var credential))
        {
            throw service.Error(Failure.UnknownAccessKey, signed.AccessKeyId);
        }

        if (
            credential.SessionToken is not null
            && http.Request.Headers["X-Amz-Security-Token"] != credential.SessionToken
        )
        {
            throw service.Error(
                Failure.UnknownAccessKey,
                "the session token does not belong to the access key"
            );
        }

        if (credential.Expires is { } expires && Time.GetUtcNow() >= expires)
        {
            throw service.Error(Failure.ExpiredToken, signed.AccessKeyId);
        }

        var payloadHash = http.Request.Headers["x-amz-content-sha256"].ToString()
            is { Length: > 0 } declared
            ? declared
            : SignedRequest.Hex(SHA256.HashData(body ?? []));
        if (signed.Mismatch(http, credential.SecretAccessKey, payloadHash) is { } canonical)
        {
            var error = service.Error(Failure.BadSignature, "");
            error.Extra["CanonicalRequest"] = canonical;
            throw error;
        }

        return credential.Principal;
    }

    private AwsServiceFake Guess(HttpContext http)
    {
        if (http.Request.Headers.ContainsKey("X-Amz-Target"))
        {
            return Ssm;
        }

        var form = http.Request.HasFormContentType ? http.Request.Form : null;
        return form?["Version"].ToString() switch
        {
            "2016-11-15" => Ec2,
            "2011-06-15" => Sts,
            _ => S3,
        };
    }
}

/// <summary>Speeds of the fake's simulated work.</summary>
public sealed class AwsFakeOptions
{
    /// <summary>DescribeImportSnapshotTasks calls that see a task active before it completes (default 3).</summary>
    public int ImportPollsUntilCompleted { get; init; } = 3;

    /// <summary>DescribeImages calls that see a new image pending before it is available (default 2).</summary>
    public int DescribesUntilAvailable { get; init; } = 2;
}

/// <summary>A request a service serves: where it went, who signed it, and its input by member name.</summary>
internal sealed record AwsCall(
    HttpContext Http,
    string Region,
    Principal Caller,
    Operation Operation,
    JsonObject Input,
    string RequestId
);

/// <summary>Failures a service answers in its own words.</summary>
internal enum Failure
{
    UnknownOperation,
    UnknownMember,
    MissingMember,
    WrongType,
    InvalidValue,
    MissingAuthentication,
    UnknownAccessKey,
    BadSignature,
    ExpiredToken,
    Throttled,
    Unavailable,
}

internal static class Violations
{
    public static Failure Failure(ViolationKind kind) =>
        kind switch
        {
            ViolationKind.UnknownOperation => Aws.Failure.UnknownOperation,
            ViolationKind.UnknownMember => Aws.Failure.UnknownMember,
            ViolationKind.MissingMember => Aws.Failure.MissingMember,
            ViolationKind.WrongType => Aws.Failure.WrongType,
            _ => Aws.Failure.InvalidValue,
        };
}

/// <summary>One service of the fake: its model and protocol, its errors, and its operations.</summary>
internal abstract class AwsServiceFake(AwsFake fake, string specFolder, string signingName)
{
    protected AwsFake Fake { get; } = fake;

    protected Lock Gate { get; } = new();

    public ServiceModel Model { get; } = ServiceModel.Load(specFolder);

    /// <summary>The service name in the SigV4 credential scope.</summary>
    public string SigningName { get; } = signingName;

    public abstract IAwsProtocol Protocol { get; }

    /// <summary>Whether the fake reads the whole body before the call (all but S3, which streams uploads).</summary>
    public virtual bool BuffersBody => true;

    /// <summary>The service's error for a failure; <paramref name="detail"/> is the member, action or text it concerns.</summary>
    public abstract AwsException Error(Failure failure, string detail);

    /// <summary>Serves a call the model accepts.</summary>
    public abstract Task<AwsResult> ExecuteAsync(AwsCall call);

    /// <summary>An operation the model has and the fake does not serve: recorded, so a spec sees it.</summary>
    protected AwsException NotServed(AwsCall call)
    {
        Fake.Problems.Add(
            $"{SigningName} {call.Operation.Name}: the fake does not serve this operation"
        );
        return new AwsException(
            501,
            "NotImplemented",
            $"the AWS fake does not serve {call.Operation.Name}"
        );
    }

    protected static AwsResult Result(JsonObject output) => new(output);
}
