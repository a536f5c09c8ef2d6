using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// SSM Parameter Store: parameters per region with versions, types and data types. An <c>aws:ec2:image</c> value is
/// validated as AWS documents it: asynchronously, so PutParameter succeeds, and a value that is not an AMI the caller
/// can use in that region leaves the parameter unchanged and is reported in <see cref="FailedValidations"/>.
/// </summary>
internal sealed partial class SsmFake(AwsFake fake) : AwsServiceFake(fake, "aws-ssm", "ssm")
{
    private readonly Dictionary<
        (string Region, string Account, string Name),
        List<Version>
    > _parameters = [];
    private readonly List<string> _failed = [];

    public override IAwsProtocol Protocol => field ??= new JsonProtocol(Model);

    public IReadOnlyList<string> FailedValidations
    {
        get
        {
            lock (Gate)
            {
                return [.. _failed];
            }
        }
    }

    public override AwsException Error(Failure failure, string detail) =>
        failure switch
        {
            Failure.UnknownOperation => new(
                400,
                "UnknownOperationException",
                $"Unknown operation {detail}"
            ),
            Failure.UnknownMember or Failure.WrongType => new(
                400,
                "SerializationException",
                detail
            ),
            Failure.MissingMember or Failure.InvalidValue => new(
                400,
                "ValidationException",
                $"1 validation error detected: {detail}"
            ),
            Failure.MissingAuthentication => new(
                400,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token"
            ),
            Failure.UnknownAccessKey => new(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid."
            ),
            Failure.BadSignature => new(
                400,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided."
            ),
            Failure.ExpiredToken => new(
                400,
                "ExpiredTokenException",
                "The security token included in the request is expired"
            ),
            Failure.Throttled => new(400, "ThrottlingException", "Rate exceeded"),
            _ => new(503, "ServiceUnavailable", "Service Unavailable"),
        };

    public override Task<AwsResult> ExecuteAsync(AwsCall call)
    {
        lock (Gate)
        {
            return Task.FromResult(
                call.Operation.Name switch
                {
                    "PutParameter" => PutParameter(call),
                    "GetParameter" => GetParameter(call),
                    "GetParameterHistory" => GetParameterHistory(call),
                    "DeleteParameter" => DeleteParameter(call),
                    _ => throw NotServed(call),
                }
            );
        }
    }

    private AwsResult PutParameter(AwsCall call)
    {
        var input = call.Input;
        var name = CheckName(input.Str("Name")!);
        var key = (call.Region, call.Caller.Account, name);
        var versions = _parameters.GetValueOrDefault(key);
        var current = versions?[^1];
        if (current is not null && input.Bool("Overwrite") != true)
        {
            throw Fail(
                "ParameterAlreadyExists",
                "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
            );
        }

        if (input["Tags"] is not null && input.Bool("Overwrite") == true)
        {
            throw Fail(
                "ValidationException",
                "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource API."
            );
        }

        var type =
            input.Str("Type")
            ?? current?.Type
            ?? throw Fail(
                "ValidationException",
                "A parameter type is required when you create a parameter."
            );
        var dataType = input.Str("DataType") ?? current?.DataType ?? "text";
        if (dataType is not ("text" or "aws:ec2:image" or "aws:ssm:integration"))
        {
            throw Fail(
                "ValidationException",
                $"The following data type is not supported: {dataType} (Data type names are all lowercase.)"
            );
        }

        if (dataType == "aws:ec2:image" && type != "String")
        {
            throw Fail(
                "ValidationException",
                "The aws:ec2:image data type is only supported for String parameters."
            );
        }

        if (
            current is not null
            && current.DataType != dataType
            && (dataType != "text" || current.DataType != "text")
        )
        {
            throw Fail(
                "ValidationException",
                $"You can't change the data type of a parameter from {current.DataType} to {dataType}."
            );
        }

        var value = input.Str("Value")!;
        if (input.Str("AllowedPattern") is { } pattern && !Regex.IsMatch(value, pattern))
        {
            throw Fail(
                "ParameterPatternMismatchException",
                $"Parameter value, cannot be validated against allowedPattern: {pattern}"
            );
        }

        var number = (current?.Number ?? 0) + 1;
        if (
            dataType == "aws:ec2:image"
            && !(
                AmiPattern().IsMatch(value)
                && Fake.Ec2.CanLaunch(call.Region, value, call.Caller.Account)
            )
        )
        {
            // AWS validates aws:ec2:image after answering: the call succeeds and the parameter is not written.
            _failed.Add(
                $"{call.Region} {name}: {value} is not an AMI available to {call.Caller.Account} in {call.Region}"
            );
            return Result(Tree.Object(("Version", number), ("Tier", "Standard")));
        }

        var version = new Version(
            number,
            type,
            value,
            dataType,
            input.Str("Description") ?? current?.Description,
            Fake.Time.GetUtcNow(),
            call.Caller.Arn
        );
        (versions ??= _parameters[key] = []).Add(version);
        return Result(Tree.Object(("Version", number), ("Tier", "Standard")));
    }

    private AwsResult GetParameter(AwsCall call)
    {
        var (name, selector) = Split(call.Input.Str("Name")!);
        var versions = Versions(call, name);
        var version = selector is null
            ? versions[^1]
            : versions.FirstOrDefault(v =>
                v.Number.ToString(System.Globalization.CultureInfo.InvariantCulture) == selector
            )
                ?? throw Fail(
                    "ParameterVersionNotFound",
                    $"Systems Manager could not find version {selector} of {name}. Verify the version and try again."
                );
        return Result(
            Tree.Object(
                (
                    "Parameter",
                    Output(
                        call,
                        name,
                        version,
                        call.Input.Bool("WithDecryption") == true,
                        selector is null ? null : ":" + selector
                    )
                )
            )
        );
    }

    private AwsResult GetParameterHistory(AwsCall call)
    {
        var name = call.Input.Str("Name")!;
        var decrypt = call.Input.Bool("WithDecryption") == true;
        return Result(
            Tree.Object(
                (
                    "Parameters",
                    Tree.List(
                        Versions(call, name)
                            .Select(v =>
                            {
                                var item = Output(call, name, v, decrypt, null);
                                item.Remove("ARN");
                                item["Description"] = v.Description;
                                item["LastModifiedUser"] = v.User;
                                item["Tier"] = "Standard";
                                return item;
                            })
                    )
                )
            )
        );
    }

    private AwsResult DeleteParameter(AwsCall call)
    {
        var name = call.Input.Str("Name")!;
        Versions(call, name);
        _parameters.Remove((call.Region, call.Caller.Account, name));
        return Result([]);
    }

    private List<Version> Versions(AwsCall call, string name) =>
        _parameters.GetValueOrDefault((call.Region, call.Caller.Account, name))
        ?? throw Fail("ParameterNotFound", $"Parameter {name} not found.");

    private static JsonObject Output(
        AwsCall call,
        string name,
        Version v,
        bool decrypt,
        string? selector
    ) =>
        Tree.Object(
            ("Name", name),
            ("Type", v.Type),
            (
                "Value",
                v.Type == "SecureString" && !decrypt
                    ? Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("kms:" + v.Value))
                    : v.Value
            ),
            ("Version", v.Number),
            ("Selector", selector),
            ("LastModifiedDate", v.Modified),
            (
                "ARN",
                $"arn:aws:ssm:{call.Region}:{call.Caller.Account}:parameter/{name.TrimStart('/')}"
            ),
            ("DataType", v.DataType)
        );

    private static string CheckName(string name)
    {
        if (
            name.TrimStart('/').StartsWith("aws", StringComparison.OrdinalIgnoreCase)
            || name.TrimStart('/').StartsWith("ssm", StringComparison.OrdinalIgnoreCase)
        )
        {
            throw Fail("ValidationException", $"No access to reserved parameter name: {name}.");
        }

        if (name.Contains('/', StringComparison.Ordinal) && !name.StartsWith('/'))
        {
            throw Fail(
                "ValidationException",
                "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_"
            );
        }

        return name;
    }

    private static (string Name, string? Selector) Split(string name) =>
        name.LastIndexOf(':') is var at and > 0 ? (name[..at], name[(at + 1)..]) : (name, null);

    private static AwsException Fail(string code, string message) => new(400, code, message);

    [GeneratedRegex("^ami-[0-9a-f]{8}([0-9a-f]{9})?$")]
    private static partial Regex AmiPattern();

    private sealed record Version(
        long Number,
        string Type,
        string Value,
        string DataType,
        string? Description,
        DateTimeOffset Modified,
        string User
    );
}
