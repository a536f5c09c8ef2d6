using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// The specs that run several real worker processes with short leases on a throwaway PostgreSQL take turns: run at
/// once on 2 cores they starve each other's heartbeats and restarts, and their timings (kill to running elsewhere,
/// missed schedule instants) say more about each other than about the code. Other spec classes still run beside them.
/// </summary>
[CollectionDefinition(nameof(ClusterProcesses))]
public sealed class ClusterProcesses;
