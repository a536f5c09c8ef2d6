namespace ImageForge.Storage;
