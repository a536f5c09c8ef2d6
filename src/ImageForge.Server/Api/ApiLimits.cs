using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace ImageForge.Server.Api;

/// <summary>
/// The API's request body limit (docs/worker.md, request limits): every body is a few small fields, so 1 MiB is
/// far above any real one. A larger body is refused with 413 before the endpoint runs, whether it says its length
/// or is sent in chunks. An endpoint that reads a document (a Terraform plan) names its own limit with
/// <see cref="WithBodyLimit"/>; the limit is read from the routed endpoint, so this runs after routing.
/// </summary>
internal static class ApiLimits
{
    /// <summary>The largest request body read: 1 MiB.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    private static readonly object LimitKey = new();

    /// <summary>
    /// Refuses a declared length over the limit at once and stops reading any body at the limit (Kestrel's own
    /// limit is set to it too; this covers a body without a length and servers without that feature).
    /// </summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) =>
        app.Use(
            async (context, next) =>
            {
                var limit =
                    context
                        .GetEndpoint()
                        ?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()
                        ?.MaxRequestBodySize
                    ?? MaxRequestBodyBytes;
                // The exception handler runs without the endpoint: it reads the limit from here.
                context.Items[LimitKey] = limit;
                if (context.Request.ContentLength > limit)
                {
                    throw TooLarge(limit);
                }

                if (
                    context.Features.Get<IHttpMaxRequestBodySizeFeature>() is
                    { IsReadOnly: false } feature
                )
                {
                    feature.MaxRequestBodySize = limit;
                }

                context.Request.Body = new LimitedBody(context.Request.Body, limit);
                await next(context);
            }
        );

    /// <summary>The largest body the request's endpoint reads (1 MiB unless it says otherwise).</summary>
    public static long BodyLimitOf(HttpContext context) =>
        context.Items.TryGetValue(LimitKey, out var limit) && limit is long bytes
            ? bytes
            : MaxRequestBodyBytes;

    /// <summary>Lets the endpoint read a body of up to <paramref name="bytes"/> instead of 1 MiB.</summary>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new BodyLimit(bytes));

    // Mapped to a 413 problem by ApiExceptionHandler, like Kestrel's own.
    private static BadHttpRequestException TooLarge(long limit) =>
        new($"the request body is larger than {limit} bytes", StatusCodes.Status413PayloadTooLarge);

    private sealed record BodyLimit(long Bytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => Bytes;
    }

    private sealed class LimitedBody(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(
            Memory<byte> buffer,
            CancellationToken cancellationToken = default
        ) => Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(
            byte[] buffer,
            int offset,
            int count,
            CancellationToken cancellationToken
        ) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) =>
            throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) =>
            throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw TooLarge(limit) : read;
        }
    }
}
