using System.Runtime.InteropServices;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Files;

/// <summary>
/// What changes whenever a file's content can have changed: device, inode, size, and the modification and status-change
/// times in nanoseconds (statx). The status-change time is set by the kernel on every write, truncation, rename and
/// time change, and cannot be set back by a caller, so restoring the modification time after a write still changes the
/// identity.
/// </summary>
public readonly record struct FileIdentity(
    ulong Device,
    ulong Inode,
    ulong Size,
    long ModifiedSeconds,
    uint ModifiedNanoseconds,
    long ChangedSeconds,
    uint ChangedNanoseconds
)
{
    private const int AtFdCwd = -100;

    // STATX_MTIME | STATX_CTIME | STATX_INO | STATX_SIZE.
    private const uint Wanted = 0x40 | 0x80 | 0x100 | 0x200;

    /// <summary>The file's identity now; null when it does not exist or the file system gives no such times.</summary>
    public static FileIdentity? Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (
            LibC.Statx(AtFdCwd, path, 0, Wanted, out var status) != 0
            || (status.Mask & Wanted) != Wanted
        )
        {
            return null;
        }

        return new FileIdentity(
            ((ulong)status.DeviceMajor << 32) | status.DeviceMinor,
            status.Inode,
            status.Size,
            status.ModifiedSeconds,
            status.ModifiedNanoseconds,
            status.ChangedSeconds,
            status.ChangedNanoseconds
        );
    }
}

/// <summary>struct statx (linux/stat.h): the same layout on every architecture.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxBuffer
{
    [FieldOffset(0)]
    public uint Mask;

    [FieldOffset(32)]
    public ulong Inode;

    [FieldOffset(40)]
    public ulong Size;

    [FieldOffset(96)]
    public long ChangedSeconds;

    [FieldOffset(104)]
    public uint ChangedNanoseconds;

    [FieldOffset(112)]
    public long ModifiedSeconds;

    [FieldOffset(120)]
    public uint ModifiedNanoseconds;

    [FieldOffset(136)]
    public uint DeviceMajor;

    [FieldOffset(140)]
    public uint DeviceMinor;
}
