using System.Net;
using Microsoft.AspNetCore.Http;
using Shouldly;
using Xunit;

namespace ImageForge.CloudFakes.Tests;

public sealed class LoopbackServiceSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task Serves_https_that_a_client_trusting_only_its_certificate_accepts()
    {
        using var certificate = TestCertificates.Loopback();
        await using var service = await LoopbackService.StartAsync(
            context => context.Response.WriteAsync("ok"),
            certificate
        );
        using var trusting = new HttpClient(TestCertificates.TrustingOnly(certificate));
        using var plain = new HttpClient();

        service.Url.Scheme.ShouldBe("https");
        IPAddress.Parse(service.Url.Host).ShouldBe(IPAddress.Loopback);
        (await trusting.GetStringAsync(service.Url)).ShouldBe("ok");
        await Should.ThrowAsync<HttpRequestException>(() => plain.GetStringAsync(service.Url));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_handler_that_aborts_cuts_the_connection()
    {
        await using var service = await LoopbackService.StartAsync(context =>
        {
            context.Abort();
            return Task.CompletedTask;
        });
        using var client = new HttpClient();

        var failure = await Should.ThrowAsync<HttpRequestException>(() =>
            client.GetStringAsync(service.Url)
        );
        failure.ShouldNotBeNull();
    }
}
