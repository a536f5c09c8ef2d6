-- A shared artifact store (docs/cluster.md): a location below the store's root (worker.yaml's artifacts,
-- IMAGEFORGE_ARTIFACTS) is stored relative to it (in_store = 1), so every worker mounting the store resolves it.
-- Existing rows keep their meaning: in_data_dir = 1 is relative to the data directory, both 0 is kept as given
-- (never both 1). The lookup by location keeps using artifacts_by_location (location, in_data_dir).
ALTER TABLE artifacts ADD COLUMN in_store INTEGER NOT NULL DEFAULT 0 CHECK (in_store IN (0, 1));
ALTER TABLE evidence ADD COLUMN in_store INTEGER NOT NULL DEFAULT 0 CHECK (in_store IN (0, 1));
