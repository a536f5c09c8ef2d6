using System.Buffers.Binary;
using System.Text;

namespace ImageForge.CloudFakes.Azure;

/// <summary>
/// The footer of a fixed VHD (Microsoft's Virtual Hard Disk Image Format, "conectix" cookie): what Azure imports from
/// a page blob. Specs make one to upload; the ARM fake reads the last 512 bytes of a source blob with it.
/// </summary>
public static class FixedVhd
{
    /// <summary>The footer's size; a fixed VHD is the disk's bytes followed by it.</summary>
    public const int FooterSize = 512;

    private const long MiB = 1 << 20;
    private static readonly byte[] Cookie = Encoding.ASCII.GetBytes("conectix");

    /// <summary>The footer of a fixed VHD whose disk is <paramref name="diskSize"/> bytes (a whole number of MiB).</summary>
    public static byte[] Footer(long diskSize, Guid uniqueId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(diskSize);
        var footer = new byte[FooterSize];
        var span = footer.AsSpan();
        Cookie.CopyTo(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], 2); // features: reserved bit always set
        BinaryPrimitives.WriteUInt32BigEndian(span[12..], 0x0001_0000); // format version 1.0
        BinaryPrimitives.WriteUInt64BigEndian(span[16..], ulong.MaxValue); // data offset: none for a fixed disk
        Encoding.ASCII.GetBytes("ifrg").CopyTo(span[28..]); // creator application
        BinaryPrimitives.WriteUInt32BigEndian(span[32..], 0x0001_0000);
        Encoding.ASCII.GetBytes("Wi2k").CopyTo(span[36..]); // creator host OS, as Hyper-V writes it
        BinaryPrimitives.WriteInt64BigEndian(span[40..], diskSize); // original size
        BinaryPrimitives.WriteInt64BigEndian(span[48..], diskSize); // current size
        BinaryPrimitives.WriteUInt32BigEndian(span[56..], Geometry(diskSize));
        BinaryPrimitives.WriteUInt32BigEndian(span[60..], 2); // disk type: fixed
        uniqueId.TryWriteBytes(span[68..84], bigEndian: true, out _);
        BinaryPrimitives.WriteUInt32BigEndian(span[64..], Checksum(span));
        return footer;
    }

    /// <summary>Why <paramref name="footer"/>, the last 512 bytes of a blob, is not a fixed VHD Azure accepts; null when it is.</summary>
    public static string? Problem(ReadOnlySpan<byte> footer, long blobLength)
    {
        if (footer.Length != FooterSize || !footer[..8].SequenceEqual(Cookie))
        {
            return "The blob is not a VHD: its last 512 bytes carry no 'conectix' footer.";
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(footer[64..]) != Checksum(footer))
        {
            return "The VHD footer's checksum is wrong.";
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(footer[60..]) != 2)
        {
            return "The VHD is not a fixed VHD (Azure does not import dynamic or differencing VHDs).";
        }

        var size = BinaryPrimitives.ReadInt64BigEndian(footer[48..]);
        if (size != blobLength - FooterSize)
        {
            return $"The VHD footer says {size} bytes but the blob holds {blobLength - FooterSize} before it.";
        }

        return size % MiB == 0
            ? null
            : $"The VHD's virtual size {size} is not a whole number of MiB, as Azure requires.";
    }

    private static uint Checksum(ReadOnlySpan<byte> footer)
    {
        uint sum = 0;
        for (var i = 0; i < FooterSize; i++)
        {
            if (i is < 64 or >= 68)
            {
                sum += footer[i];
            }
        }

        return ~sum;
    }

    /// <summary>Cylinders, heads, sectors per track, by the algorithm of the VHD specification's appendix.</summary>
    private static uint Geometry(long diskSize)
    {
        var total = Math.Min(diskSize / 512, 65535L * 16 * 255);
        long sectors,
            heads,
            cylinderTimesHeads;
        if (total >= 65535L * 16 * 63)
        {
            sectors = 255;
            heads = 16;
            cylinderTimesHeads = total / sectors;
        }
        else
        {
            sectors = 17;
            cylinderTimesHeads = total / sectors;
            heads = Math.Max(4, (cylinderTimesHeads + 1023) / 1024);
            if (cylinderTimesHeads >= heads * 1024 || heads > 16)
            {
                sectors = 31;
                heads = 16;
                cylinderTimesHeads = total / sectors;
            }

            if (cylinderTimesHeads >= heads * 1024)
            {
                sectors = 63;
                heads = 16;
                cylinderTimesHeads = total / sectors;
            }
        }

        return (uint)((cylinderTimesHeads / heads) << 16 | heads << 8 | sectors);
    }
}
