using System.Runtime.InteropServices;
using ImageForge.Cli;

// Ctrl-C and SIGTERM cancel the running command cleanly (Packer's process group stopped, mounts released, the
// build recorded as cancelled) instead of killing this process: the handler only requests cancellation.
using var cancellation = new CancellationTokenSource();
void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    cancellation.Cancel();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
return await CliApp.RunAsync(args, CliHost.FromProcess(), cancellation.Token);
