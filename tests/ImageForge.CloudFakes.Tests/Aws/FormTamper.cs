using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.Internal;

namespace ImageForge.CloudFakes.Tests.Aws;

/// <summary>
/// Adds a form field to one EC2 request after the SDK marshalled it and before it signs it, so a request the
/// SDK would never build (an unknown member, a number that is not one) still goes out signed and comes back as the
/// SDK's own AmazonEC2Exception. Installed in every EC2 client's pipeline; inert for requests not marked.
/// </summary>
internal sealed class FormTamper : PipelineHandler, IRuntimePipelineCustomizer
{
    private static readonly ConditionalWeakTable<AmazonWebServiceRequest, string> Marked = [];

    static FormTamper() => RuntimePipelineCustomizerRegistry.Instance.Register(new FormTamper());

    public string UniqueName => "imageforge-form-tamper";

    /// <summary>Marks <paramref name="request"/>: <paramref name="form"/> (<c>Name=value</c>) is added to its body.</summary>
    public static T With<T>(T request, string form)
        where T : AmazonWebServiceRequest
    {
        Marked.AddOrUpdate(request, form);
        return request;
    }

    /// <summary>Runs the static registration before the spec creates its clients.</summary>
    public static void Install() { }

    public void Customize(Type type, RuntimePipeline pipeline)
    {
        if (type == typeof(AmazonEC2Client))
        {
            pipeline.AddHandlerBefore<Signer>(new FormTamper());
        }
    }

    public override Task<T> InvokeAsync<T>(IExecutionContext executionContext)
    {
        var context = executionContext.RequestContext;
        if (Marked.TryGetValue(context.OriginalRequest, out var form))
        {
            Marked.Remove(context.OriginalRequest);
            // The marshaller has already written the form into the content stream: write it again with the field.
            var request = context.Request;
            using var reader = new StreamReader(request.ContentStream, Encoding.UTF8);
            var body = Encoding.UTF8.GetBytes(reader.ReadToEnd() + "&" + form);
            request.ContentStream = new MemoryStream(body);
            request.Headers["Content-Length"] = body.Length.ToString(CultureInfo.InvariantCulture);
        }

        return base.InvokeAsync<T>(executionContext);
    }
}
