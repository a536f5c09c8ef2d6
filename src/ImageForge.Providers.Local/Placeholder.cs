namespace ImageForge.Providers.Local;
