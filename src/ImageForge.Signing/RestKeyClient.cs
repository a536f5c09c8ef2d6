using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageForge.Core.Inputs;

namespace ImageForge.Signing;

/// <summary>Gets a bearer token for a cloud key service (from the provider's credential chain, or a test).</summary>
public delegate ValueTask<string> AccessTokenSource(CancellationToken cancellationToken);

/// <summary>The small JSON-over-HTTPS client the Azure and GCP key providers share.</summary>
internal sealed class RestKeyClient(HttpClient http, AccessTokenSource token, string provider)
{
    public async Task<JsonNode> SendAsync(
        HttpMethod method,
        Uri uri,
        JsonObject? body,
        CancellationToken cancellationToken
    )
    {
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Bearer",
            await token(cancellationToken)
        );
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(
                body.ToJsonString(),
                Encoding.UTF8,
                "application/json"
            );
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new SigningException(
                $"{provider} at {uri.Host} is not reachable: {e.Message}",
                e
            );
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new SigningException(
                    $"{provider} {method} {uri.AbsolutePath} answered {(int)response.StatusCode}: {Truncate(text)}. "
                        + "Check the key reference and that the credentials may sign with it."
                );
            }

            try
            {
                return JsonNode.Parse(text, documentOptions: JsonInput.DocumentOptions)
                    ?? throw new SigningException($"{provider} answered an empty body");
            }
            catch (JsonException e)
            {
                throw new SigningException($"{provider} answered non-JSON: {Truncate(text)}", e);
            }
        }
    }

    // A member of another type is as missing as an absent one (JsonNode's indexer and GetValue would throw
    // InvalidOperationException instead).
    public static string Required(JsonNode node, string provider, params string[] path)
    {
        JsonNode? current = node;
        foreach (var part in path)
        {
            current = current is JsonObject o ? o[part] : null;
        }

        return current is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw new SigningException(
                $"{provider} answered without {string.Join('.', path)} (a string)"
            );
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "..." : text;
}
