using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ImageForge.Server.Api;

/// <summary>
/// The API's request body limit (docs/worker.md, request limits): every body is a few small fields, so 1 MiB is
/// far above any real one. A larger body is refused with 413 before the endpoint runs, whether it says its length
/// or is sent in chunks.
/// </summary>
internal static class ApiLimits
{
    /// <summary>The largest request body read: 1 MiB.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    /// <summary>
    /// Refuses a declared length over the limit at once and stops reading any body at the limit (Kestrel's own
    /// limit is set to it too; this covers a body without a length and servers without that feature).
    /// </summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) =>
        app.Use(
            async (context, next) =>
            {
                if (context.Request.ContentLength > MaxRequestBodyBytes)
                {
                    throw TooLarge();
                }

                if (
                    context.Features.Get<IHttpMaxRequestBodySizeFeature>() is
                    { IsReadOnly: false } feature
                )
                {
                    feature.MaxRequestBodySize = MaxRequestBodyBytes;
                }

                context.Request.Body = new LimitedBody(context.Request.Body);
                await next(context);
            }
        );

    // Mapped to a 413 problem by ApiExceptionHandler, like Kestrel's own.
    private static BadHttpRequestException TooLarge() =>
        new(
            $"the request body is larger than {MaxRequestBodyBytes} bytes",
            StatusCodes.Status413PayloadTooLarge
        );

    private sealed class LimitedBody(Stream inner) : Stream
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
            return _read > MaxRequestBodyBytes ? throw TooLarge() : read;
        }
    }
}
