namespace ImageForge.Toolchain.Packer;

/// <summary>The installed Packer's version and what follows from it for the templates ImageForge writes.</summary>
public sealed record PackerVersionInfo(Version Version)
{
    private static readonly Version PluginsVersion = new(1, 7, 0);

    /// <summary>
    /// Whether templates may (and, for cloud builders, must) declare <c>packer { required_plugins { } }</c>. From
    /// 1.7.0; Packer 1.6.6 rejects the block.
    /// </summary>
    public bool SupportsRequiredPlugins => Version >= PluginsVersion;

    /// <summary>Whether <c>packer init</c> exists (from 1.7.0; 1.6.6 exits 127 on it).</summary>
    public bool SupportsInit => Version >= PluginsVersion;

    /// <inheritdoc />
    public override string ToString() => $"Packer v{Version}";
}
