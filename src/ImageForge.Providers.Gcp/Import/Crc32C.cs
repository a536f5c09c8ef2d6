namespace ImageForge.Providers.Gcp.Import;

/// <summary>
/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Cloud Storage keeps for every object; the
/// storage library's own implementation is internal, and System.IO.Hashing has only the IEEE CRC-32.
/// </summary>
internal sealed class Crc32C
{
    private static readonly uint[] Table = CreateTable();
    private uint _crc = 0xFFFFFFFFu;

    public void Append(ReadOnlySpan<byte> data)
    {
        var crc = _crc;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        _crc = crc;
    }

    /// <summary>The checksum so far, big-endian, as Cloud Storage encodes it before base64.</summary>
    public byte[] Hash()
    {
        var value = ~_crc;
        return [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
