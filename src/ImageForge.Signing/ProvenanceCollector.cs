using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using ImageForge.Core.Artifacts;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Provenance;

namespace ImageForge.Signing;

/// <summary>
/// The last evidence collector: writes the version's in-toto provenance over every artifact and every evidence
/// document collected before it, signs it as a DSSE envelope, and records the statement, the envelope and the signer's
/// public key, so a version can be verified with nothing but its own evidence.
/// </summary>
public sealed class ProvenanceCollector : IEvidenceCollector
{
    /// <summary>File names in the evidence directory.</summary>
    public const string StatementFile = "provenance.intoto.json";

    public const string EnvelopeFile = "provenance.dsse.json";
    public const string PublicKeyFile = "signing-key.pub.pem";

    private readonly ISigner _signer;
    private readonly ContentPaths _content;
    private readonly Func<string, CancellationToken, Task<BuildRecord?>> _build;

    /// <param name="signer">The key that signs.</param>
    /// <param name="content">Where the build's definitions, baselines, templates and hardening scripts live.</param>
    /// <param name="build">Looks up the build row (trigger, requester, reason, start time) by id.</param>
    public ProvenanceCollector(
        ISigner signer,
        ContentPaths content,
        Func<string, CancellationToken, Task<BuildRecord?>> build
    )
    {
        _signer = signer;
        _content = content;
        _build = build;
    }

    public string Name => "signed provenance";

    public async Task<IReadOnlyList<EvidenceDocument>> CollectAsync(
        EvidenceContext context,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(context);
        var build =
            await _build(context.BuildId, cancellationToken)
            ?? throw new InvalidOperationException(
                $"build {context.BuildId} is not in the catalog"
            );
        var statement = ProvenanceStatement.Write(
            new ProvenanceRequest
            {
                Image = context.Definition.Name,
                Version = context.Version,
                Target = context.Target.Provider,
                BuildId = context.BuildId,
                Trigger = build.Trigger,
                Requester = build.Requester,
                Reason = build.Reason,
                Fingerprint = build.Fingerprint,
                Artifacts = context.Artifacts,
                Evidence = context.Evidence,
                Dependencies = BuildDependencies.Collect(
                    _content,
                    context.Definition,
                    context.Baseline,
                    context.Target,
                    context.BaseImage.Dependency,
                    context.Tools
                ),
                StartedOn = build.StartedAt,
                FinishedOn = context.At,
                BuilderVersion = BuilderVersion,
            }
        );

        sink.Progress("evidence", $"signing provenance with {_signer.KeyId}");
        var envelope = await Dsse.SignAsync(
            _signer,
            ProvenanceStatement.PayloadType,
            statement,
            cancellationToken
        );
        var publicKey = await _signer.GetPublicKeyPemAsync(cancellationToken);
        using (var check = EcdsaKeys.ImportPublicKeyPem(publicKey))
        {
            // A provider that answers a key other than the one that signed would record an unverifiable version.
            if (!Dsse.Verify(envelope, check))
            {
                throw new SigningException(
                    $"the signature made with {_signer.KeyId} does not verify with the public key the provider returned"
                );
            }
        }

        Directory.CreateDirectory(context.EvidenceDirectory);
        return
        [
            await WriteAsync(
                context,
                StatementFile,
                ProvenanceSubjects.StatementKind,
                ProvenanceStatement.PayloadType,
                statement,
                cancellationToken
            ),
            await WriteAsync(
                context,
                EnvelopeFile,
                ProvenanceSubjects.EnvelopeKind,
                Dsse.EnvelopeMediaType,
                Dsse.Serialize(envelope),
                cancellationToken
            ),
            await WriteAsync(
                context,
                PublicKeyFile,
                ProvenanceSubjects.PublicKeyKind,
                PublicKeyDocument.MediaType,
                Encoding.ASCII.GetBytes(
                    PublicKeyDocument.Write(_signer.KeyId, _signer.Algorithm, publicKey)
                ),
                cancellationToken
            ),
        ];
    }

    private static string BuilderVersion =>
        typeof(ProvenanceCollector)
            .Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    private static async Task<EvidenceDocument> WriteAsync(
        EvidenceContext context,
        string file,
        string kind,
        string mediaType,
        byte[] bytes,
        CancellationToken cancellationToken
    )
    {
        var path = Path.GetFullPath(Path.Combine(context.EvidenceDirectory, file));
        await AtomicFile.WriteAsync(path, bytes, cancellationToken);
        return new EvidenceDocument
        {
            Kind = kind,
            Location = path,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            SizeBytes = bytes.Length,
            MediaType = mediaType,
        };
    }
}
