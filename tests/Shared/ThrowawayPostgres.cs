using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

// The server is a daemon that must outlive the call starting it, which the Toolchain's runner never allows (nothing
// of a process group it started outlives the call): these few runs of initdb and pg_ctl use Process directly.
#pragma warning disable RS0030

namespace ImageForge.TestUtils;

/// <summary>
/// A PostgreSQL cluster of Debian's server binaries (initdb, pg_ctl) for one test process: made in a temporary
/// directory, listening on a free loopback port only (and a socket in its own directory), with a random password, and
/// removed when the process exits. Clusters left behind by a test process that was killed are stopped and removed by
/// the next one. As root, the server runs as the <c>postgres</c> user (PostgreSQL refuses to run as root).
/// </summary>
public sealed class ThrowawayPostgres
{
    private const string Prefix = "imageforge-pg-";
    private const string User = "imageforge";

    private static readonly Lazy<ThrowawayPostgres> SharedServer = new(Start);

    private readonly string _root;
    private readonly string _bin;
    private readonly string[] _asServer;
    private int _databases;

    private ThrowawayPostgres(string root, string bin, string[] asServer, int port, string password)
    {
        _root = root;
        _bin = bin;
        _asServer = asServer;
        Port = port;
        Password = password;
    }

    /// <summary>The cluster of this test process, started on first use.</summary>
    public static ThrowawayPostgres Shared => SharedServer.Value;

    public int Port { get; }

    public string Password { get; }

    /// <summary>A connection string to <paramref name="database"/> on this cluster, with the password.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = User,
            Password = Password,
            Database = database,
        }.ToString();

    /// <summary>Creates an empty database with a fresh name and returns that name.</summary>
    public string CreateDatabase(string? template = null)
    {
        var name = string.Create(
            CultureInfo.InvariantCulture,
            $"t{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}"
        );
        Execute($"CREATE DATABASE {name}{(template is null ? "" : " TEMPLATE " + template)}");
        return name;
    }

    // One statement in the maintenance database.
    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static ThrowawayPostgres Start()
    {
        var bin = FindBinaries();
        RemoveAbandoned(bin);
        var asServer = AsServer();
        var root = Directory.CreateTempSubdirectory(Prefix).FullName;
        File.WriteAllText(
            Path.Combine(root, "owner"),
            Environment.ProcessId.ToString(CultureInfo.InvariantCulture)
        );
        if (asServer.Length > 0)
        {
            Run(["chown", "postgres:postgres", root], TimeSpan.FromSeconds(10));
        }

        var password = Convert.ToHexString(
            System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)
        );
        var passwordFile = Path.Combine(root, "password");
        File.WriteAllText(passwordFile, password + "\n");
        if (asServer.Length > 0)
        {
            Run(["chown", "postgres:postgres", passwordFile], TimeSpan.FromSeconds(10));
        }

        var data = Path.Combine(root, "data");
        Run(
            [
                .. asServer,
                Path.Combine(bin, "initdb"),
                "-D",
                data,
                "-U",
                User,
                "--auth=scram-sha-256",
                "--pwfile=" + passwordFile,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            TimeSpan.FromSeconds(60)
        );
        File.Delete(passwordFile);

        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort();
            try
            {
                Run(
                    [
                        .. asServer,
                        Path.Combine(bin, "pg_ctl"),
                        "-D",
                        data,
                        "-l",
                        Path.Combine(root, "server.log"),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        $"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
                            + "-c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0 -c max_connections=300",
                        "start",
                    ],
                    TimeSpan.FromSeconds(90)
                );
                var server = new ThrowawayPostgres(root, bin, asServer, port, password);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Remove();
                return server;
            }
            catch (InvalidOperationException e)
            {
                // Another process took the port between the probe and the start.
                last = e;
            }
        }

        throw new InvalidOperationException($"PostgreSQL did not start in {root}", last);
    }

    private void Remove()
    {
        try
        {
            Run(
                [
                    .. _asServer,
                    Path.Combine(_bin, "pg_ctl"),
                    "-D",
                    Path.Combine(_root, "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                TimeSpan.FromSeconds(30)
            );
        }
        catch (InvalidOperationException)
        {
            // Already stopped: the directory goes anyway.
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // The next test process removes what is left (RemoveAbandoned).
        }
    }

    // A cluster whose test process is gone (killed, so ProcessExit never ran) is stopped and deleted.
    private static void RemoveAbandoned(string bin)
    {
        foreach (var root in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            var owner = Path.Combine(root, "owner");
            if (
                File.Exists(owner)
                && int.TryParse(File.ReadAllText(owner), CultureInfo.InvariantCulture, out var pid)
                && IsAlive(pid)
            )
            {
                continue;
            }

            var data = Path.Combine(root, "data");
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                try
                {
                    Run(
                        [
                            .. AsServer(),
                            Path.Combine(bin, "pg_ctl"),
                            "-D",
                            data,
                            "-m",
                            "immediate",
                            "-w",
                            "stop",
                        ],
                        TimeSpan.FromSeconds(30)
                    );
                }
                catch (InvalidOperationException)
                {
                    // Not running any more.
                }
            }

            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Someone else is removing it.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string FindBinaries()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory
                .GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal)
                .ToArray()
            : [];
        return versions.FirstOrDefault()
            ?? throw new InvalidOperationException(
                "PostgreSQL's server programs (initdb, pg_ctl) are not installed under /usr/lib/postgresql: run "
                    + "`bash eng/prereqs.sh` (it installs Debian's postgresql package), then rerun the tests."
            );
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static void Run(string[] command, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException(
                $"{string.Join(' ', command)} did not finish in {timeout}"
            );
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{string.Join(' ', command)} exited {process.ExitCode}: {output.Result}{error.Result}"
            );
        }
    }

    // .NET reads the user name of the effective user id.
    private static string[] AsServer() =>
        Environment.UserName == "root"
            ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
            : [];
}
