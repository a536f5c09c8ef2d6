using System.CommandLine;
using ImageForge.Application.Views;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge workers</c>: the workers sharing the catalog (docs/cluster.md), with their state, last heartbeat,
/// capabilities and the builds under their leases.
/// </summary>
internal static class WorkersCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var command = new Command(
            "workers",
            "The workers sharing the catalog: state, last heartbeat, capabilities, builds (last day)"
        );
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var workers = (await catalog.ListWorkersAsync(WorkerView.Recent, ct))
                    .Select(WorkerView.From)
                    .ToList();
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, workers);
                    return CliApp.Ok;
                }

                if (workers.Count == 0)
                {
                    await ctx.Out.WriteLineAsync(
                        $"no worker has used the catalog {catalog.Location} in the last day; start one with 'imageforge worker'"
                    );
                    return CliApp.Ok;
                }

                await ctx.Out.WriteLineAsync(
                    $"{"WORKER", -28} {"HOST", -20} {"PID", 7} {"STATE", -8} {"HEARTBEAT", -20} {"PROVIDERS", -20} {"BUILDS", -12} KVM"
                );
                foreach (var w in workers)
                {
                    // The KVM column last: its reason can be long.
                    var kvm = w.Kvm ? "kvm yes" : $"kvm no ({w.KvmReason})";
                    await ctx.Out.WriteLineAsync(
                        $"{w.Id, -28} {w.Host, -20} {w.Pid, 7} {w.State, -8} {Report.Time(w.HeartbeatAt), -20} "
                            + $"{string.Join(",", w.Providers), -20} "
                            + $"{(w.Builds.Count == 0 ? "-" : string.Join(",", w.Builds)), -12} {kvm}"
                    );
                }

                return CliApp.Ok;
            }
        );
        return command;
    }
}
