-- Cluster mode (docs/cluster.md): a running build records the machine and boot of its owner process
-- ('<host name>/<boot id>'), so a process on another machine sharing the catalog never judges its process id nor
-- signals its tool's process group. NULL (a build recorded before): this machine's, as before.
ALTER TABLE builds ADD COLUMN owner_host TEXT;
