namespace ImageForge.Toolchain;
