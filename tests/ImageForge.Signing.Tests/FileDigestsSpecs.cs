using System.Security.Cryptography;
using System.Text;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Signing.Tests;

public sealed class FileDigestsSpecs
{
    [Fact]
    public async Task A_file_whose_identity_is_unchanged_keeps_the_digest_it_had_when_it_was_hashed()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("disk.raw");
        await File.WriteAllTextAsync(file, "disk");
        var digests = new CachedFileDigests(_ => "same");
        var first = await digests.Sha256Async(file);

        // Written behind an identity that claims nothing changed: the remembered digest is what is given.
        await File.WriteAllTextAsync(file, "DISK");
        var second = await digests.Sha256Async(file);

        first.ShouldBe(Sha("disk"));
        second.ShouldBe(first);
    }

    [Fact]
    public async Task A_file_whose_identity_changed_is_hashed_again()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("disk.raw");
        await File.WriteAllTextAsync(file, "disk");
        var identity = 1;
        var digests = new CachedFileDigests(_ => identity);
        await digests.Sha256Async(file);

        await File.WriteAllTextAsync(file, "DISK");
        identity = 2;

        (await digests.Sha256Async(file)).ShouldBe(Sha("DISK"));
    }

    [Fact]
    public async Task A_file_without_an_identity_is_hashed_every_time()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("disk.raw");
        await File.WriteAllTextAsync(file, "disk");
        var digests = new CachedFileDigests(_ => null);
        await digests.Sha256Async(file);

        await File.WriteAllTextAsync(file, "DISK");

        (await digests.Sha256Async(file)).ShouldBe(Sha("DISK"));
    }

    [Fact]
    public async Task A_file_that_changed_while_it_was_hashed_is_not_remembered()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("disk.raw");
        await File.WriteAllTextAsync(file, "disk");
        var calls = 0;
        // The identity read after hashing differs from the one before: a write during the hash.
        var digests = new CachedFileDigests(_ => ++calls);
        await digests.Sha256Async(file);
        await File.WriteAllTextAsync(file, "DISK");

        (await digests.Sha256Async(file)).ShouldBe(Sha("DISK"));
    }

    [Fact]
    public async Task The_verifier_takes_the_digests_it_is_given()
    {
        using var version = await SignedVersion.CreateAsync();
        var digests = new CachedFileDigests(_ => "same");
        (await VersionVerifier.VerifyAsync(version.Version, null, null, digests)).Ok.ShouldBeTrue();

        var report = await VersionVerifier.VerifyAsync(version.Version, null, null, new Failing());

        report.Ok.ShouldBeFalse();
        report.Problems.ShouldContain(p => p.Contains("changed", StringComparison.Ordinal));
    }

    private static string Sha(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private sealed class Failing : IFileDigests
    {
        public Task<string> Sha256Async(
            string path,
            CancellationToken cancellationToken = default
        ) => Task.FromResult(new string('0', 64));
    }
}
