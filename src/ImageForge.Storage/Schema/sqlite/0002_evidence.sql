-- Evidence documents of a version (inventory, hardening report, SBOMs, scan results). A re-scan adds rows; the
-- newest row of a kind is current, older ones stay as history.
CREATE TABLE evidence (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    image        TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    sha256       TEXT    NOT NULL,
    size_bytes   INTEGER,
    media_type   TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL,
    FOREIGN KEY (image, version) REFERENCES image_versions (image, version) ON DELETE CASCADE
);

CREATE INDEX evidence_by_version ON evidence (image, version, id);
