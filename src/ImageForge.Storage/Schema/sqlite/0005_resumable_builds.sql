-- Resumable builds (docs/clouds.md): a build whose disk was made and whose imports began keeps its reserved version,
-- its files and the journal of its import steps when it fails or its process dies, so 'build --resume' takes it up.
ALTER TABLE builds ADD COLUMN resumable INTEGER NOT NULL DEFAULT 0 CHECK (resumable IN (0, 1));

-- One row per import step of a build: what it created (data, as the provider's importer writes it) and whether it is
-- done. A step that is done is never run again.
CREATE TABLE build_steps (
    build_id   INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    target     TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    step       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    data       TEXT,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (build_id, target, region, step)
);

-- Cloud images: the sha256 of the disk they were imported from, and what else names them at their provider (JSON
-- object, keys sorted), both signed with them in the provenance.
ALTER TABLE artifacts ADD COLUMN source_sha256 TEXT;
ALTER TABLE artifacts ADD COLUMN details TEXT;
