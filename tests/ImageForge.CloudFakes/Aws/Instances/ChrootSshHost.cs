using System.Globalization;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// Runs the AWS fake's instances on this machine: each is a copy of its AMI's root tree in which a real sshd listens
/// on <see cref="Port"/> of 127.0.0.1, chrooted, in a mount namespace of its own (<c>run-instance.sh</c>), so real
/// Packer reaches it over SSH as it would an EC2 instance. One instance at a time (one port). Needs root.
/// </summary>
public sealed class ChrootSshHost : IEc2InstanceHost
{
    private static readonly string Script = Path.Combine(
        RepoPaths.Root,
        "tests",
        "ImageForge.CloudFakes",
        "Aws",
        "Instances",
        "run-instance.sh"
    );

    private readonly string _workspace;

    /// <summary>A host whose instances live below <paramref name="workspace"/> and listen on <paramref name="port"/>.</summary>
    public ChrootSshHost(string workspace, int port)
    {
        _workspace = workspace;
        Port = port;
        Directory.CreateDirectory(Path.Combine(workspace, "images"));
    }

    /// <summary>The loopback port every instance's sshd listens on (Packer's <c>ssh_port</c>).</summary>
    public int Port { get; }

    /// <summary>What the instances' sshd printed (for a spec's failure message).</summary>
    public List<string> Output { get; } = [];

    /// <summary>Processes whose root is below the workspace (a spec checks none is left after termination).</summary>
    public IReadOnlyList<int> ProcessesInside() => ProcessesBelow(_workspace);

    /// <inheritdoc />
    public IEc2Machine Launch(string instanceId, string tree, string user, string authorizedKey)
    {
        var dir = Path.Combine(_workspace, instanceId);
        Directory.CreateDirectory(dir);
        var root = Path.Combine(dir, "root");
        Run("cp", "-a", "--reflink=auto", tree, root);
        var machine = new Machine(this, dir, root);
        machine.Start(user, authorizedKey);
        return machine;
    }

    private static void Run(string file, params string[] args)
    {
        var (exit, output, errors) = new ProcessRunner(TimeProvider.System)
            .RunToEndAsync(new ProcessSpec(file).WithArguments(args))
            .GetAwaiter()
            .GetResult();
        if (exit != 0)
        {
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', args)} exited with {exit}: {string.Join('\n', output.Concat(errors))}"
            );
        }
    }

    // /proc/<pid>/root names the root a process sees: the instance's tree for sshd and everything it started.
    private static List<int> ProcessesBelow(string directory)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var root = new DirectoryInfo(Path.Combine(entry, "root")).LinkTarget;
                if (
                    root is not null
                    && (
                        root == directory
                        || root.StartsWith(directory + "/", StringComparison.Ordinal)
                    )
                )
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone, or not ours to read.
            }
        }

        return found;
    }

    private static int? GroupOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[2], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private sealed class Machine(ChrootSshHost host, string dir, string root)
        : IEc2Machine,
            IDisposable
    {
        private CancellationTokenSource? _stop;
        private Task? _run;

        public string Address => "127.0.0.1";

        public void Start(string user, string key)
        {
            _stop = new CancellationTokenSource();
            var spec = new ProcessSpec("/bin/bash")
                .WithArguments(
                    Script,
                    root,
                    host.Port.ToString(CultureInfo.InvariantCulture),
                    user,
                    key
                )
                .WithGracePeriod(TimeSpan.FromSeconds(5));
            var stop = _stop.Token;
            _run = Task.Run(
                async () =>
                {
                    try
                    {
                        await foreach (
                            var e in new ProcessRunner(TimeProvider.System).StreamAsync(spec, stop)
                        )
                        {
                            if (e is OutputLine or ErrorLine)
                            {
                                lock (host.Output)
                                {
                                    host.Output.Add(
                                        e is OutputLine o ? o.Text : ((ErrorLine)e).Text
                                    );
                                }
                            }
                        }
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        // Halted: the runner returns once sshd's group is gone.
                    }
                },
                CancellationToken.None
            );
        }

        public string Snapshot(string imageId)
        {
            var image = Path.Combine(host._workspace, "images", imageId);
            Run("cp", "-a", "--reflink=auto", root, image);
            return image;
        }

        public void Halt()
        {
            if (_stop is null)
            {
                return;
            }

            _stop.Cancel();
            // sshd's sessions run in sessions of their own and keep its output open, so the runner would wait for
            // them: whatever has the tree as its root is killed, until the runner is done too.
            for (var attempt = 0; attempt < 100; attempt++)
            {
                foreach (var group in ProcessesBelow(root).Select(GroupOf).OfType<int>().Distinct())
                {
                    ProcessGroup.Signal(group, 9);
                }

                if (_run!.Wait(TimeSpan.FromMilliseconds(100)) && ProcessesBelow(root).Count == 0)
                {
                    _stop.Dispose();
                    _stop = null;
                    return;
                }
            }

            throw new InvalidOperationException(
                $"processes of the instance in {root} would not end: {string.Join(", ", ProcessesBelow(root))}"
            );
        }

        public void Dispose() => Halt();

        public void Terminate()
        {
            Halt();
            // The mounts were only in the instance's namespace, which ended with its last process.
            Directory.Delete(dir, recursive: true);
        }
    }
}
