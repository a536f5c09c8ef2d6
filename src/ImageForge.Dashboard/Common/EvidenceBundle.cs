using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using ImageForge.Core.Builds;
using ImageForge.Server.Api;
using Microsoft.AspNetCore.Http;

namespace ImageForge.Dashboard.Common;

/// <summary>
/// One zip with every evidence document of a version (the newest of each kind, under its own file name: the DSSE
/// envelope <c>provenance.dsse.json</c> and the public key <c>signing-key.pub.pem</c> among them) and
/// <c>SHA256SUMS</c> over them, so <c>sha256sum -c SHA256SUMS</c> and the openssl check of docs/signing.md work in the
/// unpacked folder with nothing else.
/// </summary>
internal static class EvidenceBundle
{
    public const string SumsName = "SHA256SUMS";

    public static async Task<IResult> DownloadAsync(
        string image,
        string version,
        ICatalog catalog,
        CancellationToken cancellationToken
    )
    {
        var found = await ImageEndpoints.FindAsync(catalog, image, version, cancellationToken);
        var bytes = await ZipAsync(found, cancellationToken);
        return Results.File(bytes, "application/zip", $"{image}-{version}-evidence.zip");
    }

    public static async Task<byte[]> ZipAsync(
        ImageVersion version,
        CancellationToken cancellationToken
    )
    {
        var newest = version
            .Evidence.GroupBy(e => e.Kind, StringComparer.Ordinal)
            .Select(g => g.Last())
            .Where(e => File.Exists(e.Location))
            .ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var sums = new StringBuilder();
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var document in newest)
            {
                var name = Path.GetFileName(document.Location);
                // Two kinds written under one file name would overwrite each other once unpacked: prefix the kind.
                if (!names.Add(name))
                {
                    name = $"{document.Kind}-{name}";
                    names.Add(name);
                }

                var content = await File.ReadAllBytesAsync(document.Location, cancellationToken);
                await WriteAsync(zip, name, content, cancellationToken);
                sums.Append(Convert.ToHexStringLower(SHA256.HashData(content)))
                    .Append("  ")
                    .Append(name)
                    .Append('\n');
            }

            await WriteAsync(
                zip,
                SumsName,
                Encoding.UTF8.GetBytes(sums.ToString()),
                cancellationToken
            );
        }

        return buffer.ToArray();
    }

    private static async Task WriteAsync(
        ZipArchive zip,
        string name,
        byte[] content,
        CancellationToken cancellationToken
    )
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        await using var stream = await entry.OpenAsync(cancellationToken);
        await stream.WriteAsync(content, cancellationToken);
    }
}
