using System.Collections.Concurrent;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using Google.Apis.Util;
using Google.Cloud.Storage.V1;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Providers.Gcp.Compute;

namespace ImageForge.Providers.Gcp;

/// <summary>
/// The SDK clients of one account (one credential source): a <see cref="StorageClient"/> and a
/// <see cref="ComputeClient"/>, made once per host and credential variable and shared by import and distribution.
/// </summary>
internal sealed class GcpClients(GcpSettings settings, Func<string, string?> variable)
    : IAsyncDisposable
{
    /// <summary>The variable that names a service-account key file when the target names none.</summary>
    public const string DefaultCredentialsVariable = "GOOGLE_APPLICATION_CREDENTIALS";

    private readonly ConcurrentDictionary<string, Lazy<Task<Account>>> _accounts = new(
        StringComparer.Ordinal
    );

    public GcpSettings Settings => settings;

    /// <summary>The clients for the target's credentials (created on first use).</summary>
    public Task<Account> ForAsync(TargetSpec target, CancellationToken cancellationToken)
    {
        var name = CredentialsVariable(target);
        return _accounts
            .GetOrAdd(
                name,
                key => new Lazy<Task<Account>>(() => ConnectAsync(key, cancellationToken))
            )
            .Value;
    }

    /// <summary>The environment variable a target's service-account key file is named by.</summary>
    public static string CredentialsVariable(TargetSpec target) =>
        target.Option("credentials_variable") ?? DefaultCredentialsVariable;

    public async ValueTask DisposeAsync()
    {
        foreach (var account in _accounts.Values.Where(a => a.IsValueCreated))
        {
            if (account.Value.IsCompletedSuccessfully)
            {
                (await account.Value).Dispose();
            }
        }
    }

    private async Task<Account> ConnectAsync(string name, CancellationToken cancellationToken)
    {
        GoogleCredential credential;
        if (variable(name) is { Length: > 0 } keyFile)
        {
            try
            {
                credential = (
                    await CredentialFactory.FromFileAsync<ServiceAccountCredential>(
                        keyFile,
                        cancellationToken
                    )
                ).ToGoogleCredential();
            }
            catch (Exception e)
                when (e is IOException or InvalidOperationException or ArgumentException)
            {
                // The message names the variable, never the key's contents.
                throw new InvalidInputException(
                    $"{name} names {keyFile}, which is not a readable service-account key file ({e.GetType().Name})"
                );
            }
        }
        else
        {
            // Application Default Credentials: gcloud's user credentials or the metadata server of the VM.
            credential = await GoogleCredential.GetApplicationDefaultAsync(cancellationToken);
        }

        var storage = await new StorageClientBuilder
        {
            BaseUri = settings.StorageBaseUri?.AbsoluteUri,
            GoogleCredential = credential,
        }.BuildAsync(cancellationToken);
        var compute = ComputeClient.Create(
            settings.ComputeBaseUri,
            credential.CreateScoped(ComputeClient.Scope),
            new BackOff(settings)
        );
        return new Account(storage, compute);
    }

    /// <summary>The clients of one account.</summary>
    internal sealed record Account(StorageClient Storage, ComputeClient Compute) : IDisposable
    {
        public void Dispose()
        {
            Storage.Dispose();
            Compute.Dispose();
        }
    }

    // Google.Apis' exponential back-off, on rate limits (429) as well as server errors: every mutating call carries a
    // requestId, so a repeat of a POST whose answer was lost finds the first operation.
    private sealed class BackOff(GcpSettings settings) : IConfigurableHttpClientInitializer
    {
        public void Initialize(ConfigurableHttpClient httpClient)
        {
            httpClient.MessageHandler.NumTries = settings.Retries + 1;
            httpClient.MessageHandler.AddUnsuccessfulResponseHandler(
                new BackOffHandler(
                    new BackOffHandler.Initializer(
                        new ExponentialBackOff(settings.RetryDelay, settings.Retries)
                    )
                    {
                        HandleUnsuccessfulResponseFunc = r =>
                            (int)r.StatusCode == 429 || (int)r.StatusCode >= 500,
                        MaxTimeSpan = TimeSpan.FromMinutes(2),
                    }
                )
            );
        }
    }
}
