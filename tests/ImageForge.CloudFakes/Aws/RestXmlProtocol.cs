using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// botocore's <c>rest-xml</c> protocol (S3, path-style addressing): the operation is the one whose method and URI
/// template match, with the most literal sub-resources (<c>?uploads</c>) and then the most required header and
/// query members present (PUT with <c>partNumber</c> and <c>uploadId</c> is UploadPart, without them PutObject);
/// members come from the URI labels, headers, query string and an XML payload. A blob payload (UploadPart's body)
/// is left on the request for the service to stream.
/// </summary>
internal sealed class RestXmlProtocol(ServiceModel model, XNamespace ns) : IAwsProtocol
{
    private readonly List<(
        Operation Operation,
        Regex Path,
        Dictionary<string, string?> Literals
    )> _routes =
    [
        .. model.Operations.Values.Select(o =>
            (o, PathPattern(o.RequestUri), Literals(o.RequestUri))
        ),
    ];

    public async Task<ParsedRequest> ReadAsync(HttpContext http, byte[]? body)
    {
        var request = http.Request;
        var rawTarget = http.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var rawPath = rawTarget.Split('?')[0];
        var query = QueryHelpers.ParseQuery(request.QueryString.Value);
        var candidates = _routes
            .Where(r => r.Operation.Method == request.Method && r.Path.IsMatch(rawPath))
            .Where(r =>
                r.Literals.All(l =>
                    query.TryGetValue(l.Key, out var v)
                        ? l.Value is null || v == l.Value
                        : l.Key == "x-id"
                )
            )
            .Where(r => !query.TryGetValue("x-id", out var xid) || xid == r.Operation.Name)
            .Select(r =>
                (
                    Route: r,
                    Literals: r.Literals.Count(l => l.Key != "x-id"),
                    Required: RequiredLocated(r.Operation, request, query)
                )
            )
            .OrderByDescending(c => c.Literals)
            .ThenByDescending(c => c.Required.Missing == 0)
            .ThenByDescending(c => c.Required.Present)
            .ToList();
        if (candidates.Count == 0)
        {
            return new ParsedRequest(
                $"{request.Method} {rawPath}",
                null,
                [],
                [
                    new(
                        ViolationKind.UnknownOperation,
                        rawPath,
                        $"no operation of the model is {request.Method} {rawTarget}"
                    ),
                ]
            );
        }

        var (operation, path, _) = candidates[0].Route;
        var input = new JsonObject();
        var violations = new List<Violation>();
        var labels = path.Match(rawPath);
        var shape = operation.Input!;
        foreach (var (name, member) in shape.Members)
        {
            var value = member.Location switch
            {
                "uri" => labels.Groups[member.LocationName!] is { Success: true } g
                    ? ModelValidator.FromText(member.Shape, Uri.UnescapeDataString(g.Value))
                    : null,
                "header" => request.Headers.TryGetValue(member.LocationName!, out var h)
                    ? ModelValidator.FromText(member.Shape, h.ToString())
                    : null,
                "headers" => Prefixed(request.Headers, member.LocationName!),
                "querystring" when member.Shape.Type == "list" => query.TryGetValue(
                    member.LocationName!,
                    out var q
                )
                    ? new JsonArray([
                        .. q.Select(v =>
                            ModelValidator.FromText(member.Shape.ListMember.Shape, v!)
                        ),
                    ])
                    : null,
                "querystring" => query.TryGetValue(member.LocationName!, out var q)
                    ? ModelValidator.FromText(member.Shape, q.ToString())
                    : null,
                _ => null,
            };
            if (value is not null)
            {
                input[name] = value;
            }
        }

        if (
            shape.Payload is { } payloadName
            && shape.Members[payloadName] is { Shape.Type: "structure" } payload
            && request.ContentLength != 0
        )
        {
            var xml = body ?? await ReadAllAsync(request.Body);
            if (xml.Length > 0)
            {
                try
                {
                    var root = XElement.Parse(System.Text.Encoding.UTF8.GetString(xml));
                    var expected =
                        payload.LocationName ?? payload.Shape.LocationName ?? payload.Shape.Name;
                    if (root.Name.LocalName != expected)
                    {
                        violations.Add(
                            new(
                                ViolationKind.UnknownMember,
                                root.Name.LocalName,
                                $"the payload element must be {expected}"
                            )
                        );
                    }

                    input[payloadName] = XmlShapes.Read(
                        root,
                        payload.Shape,
                        payloadName,
                        violations
                    );
                }
                catch (XmlException e)
                {
                    violations.Add(
                        new(
                            ViolationKind.WrongType,
                            payloadName,
                            $"the body is not XML: {e.Message}"
                        )
                    );
                }
            }
        }

        ModelValidator.Validate(shape, input, "", violations);
        return new ParsedRequest(operation.Name, operation, input, violations);
    }

    public Task WriteResultAsync(
        HttpContext http,
        Operation operation,
        AwsResult result,
        string requestId
    )
    {
        var response = http.Response;
        response.StatusCode = 200;
        response.Headers["x-amz-request-id"] = requestId;
        var shape = operation.Output;
        if (shape is null)
        {
            return Task.CompletedTask;
        }

        foreach (var (name, node) in result.Output)
        {
            var member = XmlShapes.Member(shape, name);
            switch (member.Location)
            {
                case "header" when node is not null:
                    response.Headers[member.LocationName!] = XmlShapes.Text(
                        member.Shape,
                        node,
                        header: true
                    );
                    break;
                case "headers" when node is JsonObject map:
                    foreach (var (key, value) in map)
                    {
                        response.Headers[member.LocationName + key] = value!.GetValue<string>();
                    }

                    break;
                case "statusCode" when node is not null:
                    response.StatusCode = node.GetValue<int>();
                    break;
            }
        }

        if (result.Payload is { } bytes)
        {
            response.ContentLength = bytes.Length;
            return http.Request.Method == "HEAD"
                ? Task.CompletedTask
                : response.Body.WriteAsync(bytes).AsTask();
        }

        var body = result
            .Output.Where(p => XmlShapes.Member(shape, p.Key).Location is null)
            .ToList();
        if (body.Count == 0 || http.Request.Method == "HEAD")
        {
            return Task.CompletedTask;
        }

        var rootName = shape.LocationName ?? operation.Name + "Result";
        return QueryProtocol.WriteXmlAsync(
            http,
            response.StatusCode,
            new XElement(ns + rootName, XmlShapes.Elements(ns, shape, result.Output))
        );
    }

    public Task WriteErrorAsync(HttpContext http, AwsException error, string requestId)
    {
        http.Response.Headers["x-amz-request-id"] = requestId;
        if (http.Request.Method == "HEAD")
        {
            http.Response.StatusCode = error.Status;
            return Task.CompletedTask;
        }

        var root = new XElement(
            "Error",
            new XElement("Code", error.Code),
            new XElement("Message", error.Message),
            error.Extra.Select(e => new XElement(e.Key, e.Value)),
            new XElement("RequestId", requestId)
        );
        return QueryProtocol.WriteXmlAsync(http, error.Status, root);
    }

    public static async Task<byte[]> ReadAllAsync(Stream body)
    {
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static JsonObject? Prefixed(IHeaderDictionary headers, string prefix)
    {
        var map = new JsonObject();
        foreach (
            var (key, value) in headers.Where(h =>
                h.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            )
        )
        {
            map[key[prefix.Length..].ToLowerInvariant()] = value.ToString();
        }

        return map.Count == 0 ? null : map;
    }

    private static (int Present, int Missing) RequiredLocated(
        Operation operation,
        HttpRequest request,
        Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query
    )
    {
        var located = operation
            .Input!.Required.Select(r => operation.Input.Members[r])
            .Where(m => m.Location is "header" or "querystring")
            .ToList();
        var present = located.Count(m =>
            m.Location == "header"
                ? request.Headers.ContainsKey(m.LocationName!)
                : query.ContainsKey(m.LocationName!)
        );
        return (present, located.Count - present);
    }

    private static Regex PathPattern(string requestUri)
    {
        var path = requestUri.Split('?')[0];
        var pattern = Regex.Replace(
            Regex
                .Escape(path)
                .Replace(@"\{", "{", StringComparison.Ordinal)
                .Replace(@"\+}", "+}", StringComparison.Ordinal),
            @"\{(\w+)(\+?)\}",
            m =>
                m.Groups[2].Value == "+"
                    ? $"(?<{m.Groups[1].Value}>.+)"
                    : $"(?<{m.Groups[1].Value}>[^/]+)"
        );
        return new Regex($"^{pattern.TrimEnd('/')}/?$", RegexOptions.CultureInvariant);
    }

    private static Dictionary<string, string?> Literals(string requestUri)
    {
        var parts = requestUri.Split('?', 2);
        return parts.Length == 1
            ? []
            : parts[1]
                .Split('&')
                .Select(p => p.Split('=', 2))
                .ToDictionary(p => p[0], p => p.Length == 2 ? p[1] : null);
    }
}
