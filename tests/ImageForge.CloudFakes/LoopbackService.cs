using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageForge.CloudFakes;

/// <summary>
/// A real HTTP(S) server on 127.0.0.1 (Kestrel, a free port) that a cloud fake answers requests with. Bodies stream
/// (multi-GiB uploads are not buffered by the server), and a handler may cut a connection (<c>HttpContext.Abort()</c>)
/// to model a failed upload. Never binds anything but loopback.
/// </summary>
public sealed class LoopbackService : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackService(WebApplication app, Uri url, X509Certificate2? certificate)
    {
        _app = app;
        Url = url;
        Certificate = certificate;
    }

    /// <summary>The server's root, ending in '/' (https when started with a certificate).</summary>
    public Uri Url { get; }

    /// <summary>The server's certificate when it speaks HTTPS (clients trust exactly this one).</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Starts a server answering every request with <paramref name="handler"/>.</summary>
    /// <param name="handler">Answers one request.</param>
    /// <param name="certificate">Serve HTTPS with this certificate (see <see cref="TestCertificates"/>); null for plain HTTP.</param>
    /// <param name="cancellationToken">Stops the start.</param>
    public static async Task<LoopbackService> StartAsync(
        RequestDelegate handler,
        X509Certificate2? certificate = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(handler);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(
                IPAddress.Loopback,
                0,
                listen =>
                {
                    if (certificate is not null)
                    {
                        listen.UseHttps(certificate);
                    }
                }
            );
        });
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync(cancellationToken);
        var address = app
            .Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.Single();
        // Kestrel reports the bound address with the real port once it listens.
        var url = new Uri(address.EndsWith('/') ? address : address + "/");
        return new LoopbackService(app, url, certificate);
    }

    /// <summary>Stops the server; requests in flight are cut.</summary>
    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}

/// <summary>Self-signed certificates for HTTPS fakes (Azure.Core refuses bearer tokens over plain HTTP).</summary>
public static class TestCertificates
{
    /// <summary>A fresh self-signed certificate for 127.0.0.1 and localhost, valid for a day.</summary>
    public static X509Certificate2 Loopback()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=imageforge-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(
            new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.1")], // server authentication
                critical: false
            )
        );
        var now = TimeProvider.System.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        // Kestrel needs the private key in a form it can load on Linux: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// A handler whose client trusts exactly <paramref name="certificate"/> (by thumbprint), for SDK transports.
    /// </summary>
    public static HttpClientHandler TrustingOnly(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var thumbprint = certificate.Thumbprint;
        return new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, _, _) =>
                presented is not null
                && string.Equals(
                    presented.Thumbprint,
                    thumbprint,
                    StringComparison.OrdinalIgnoreCase
                ),
        };
    }
}

/// <summary>
/// Every way the requests a fake received broke the official model (unknown operation or member, a missing required
/// member, a wrong type). A fake answers such a request with the error the real service would give and records the
/// problem here; specs assert this is empty at the end.
/// </summary>
public sealed class ModelProblems
{
    private readonly List<string> _problems = [];
    private readonly Lock _gate = new();

    /// <summary>Records one problem.</summary>
    public void Add(string problem)
    {
        lock (_gate)
        {
            _problems.Add(problem);
        }
    }

    /// <summary>Every problem so far, in order.</summary>
    public IReadOnlyList<string> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _problems];
            }
        }
    }
}
