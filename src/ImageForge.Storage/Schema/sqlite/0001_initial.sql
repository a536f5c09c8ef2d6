-- ImageForge catalog, SQLite, schema version 1.
-- Times are ISO-8601 UTC text with milliseconds ('2025-03-04T05:06:07.089Z'), so text order is time order.
-- Enumerations are lower-case text ('running', 'base-update').

CREATE TABLE builds (
    id               INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: users type these numbers
    image            TEXT    NOT NULL,
    target           TEXT    NOT NULL,
    "trigger"        TEXT    NOT NULL,
    requester        TEXT    NOT NULL,
    reason           TEXT,
    fingerprint      TEXT    NOT NULL,
    started_at       TEXT    NOT NULL,
    ended_at         TEXT,
    status           TEXT    NOT NULL,
    message          TEXT,
    version          TEXT,
    owner_pid        INTEGER,
    tool_pgid        INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1))
);

-- Newest first, overall and per image; the row id breaks ties in both.
CREATE INDEX builds_by_started_at ON builds (started_at);
CREATE INDEX builds_by_image ON builds (image, started_at);
-- Finding builds whose owner may have died touches only running rows.
CREATE INDEX builds_running ON builds (status) WHERE status = 'running';

CREATE TABLE build_logs (
    build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    time     TEXT    NOT NULL,
    stream   TEXT    NOT NULL,
    text     TEXT    NOT NULL,
    PRIMARY KEY (build_id, seq)
);

-- One row per image ever built, kept up to date in the transaction that adds a version, so listing images reads
-- one row per image instead of every version.
CREATE TABLE images (
    image             TEXT    NOT NULL PRIMARY KEY,
    version_count     INTEGER NOT NULL DEFAULT 0,
    latest_version    TEXT,
    latest_created_at TEXT
);

CREATE TABLE image_versions (
    image       TEXT    NOT NULL REFERENCES images (image),
    version     TEXT    NOT NULL,                           -- 'YYYY.MM.DD.N'
    version_day TEXT    NOT NULL,                           -- 'YYYY.MM.DD', the UTC day of the version
    version_seq INTEGER NOT NULL CHECK (version_seq >= 1),  -- N, numeric so that .10 follows .9
    build_id    INTEGER NOT NULL UNIQUE REFERENCES builds (id),
    created_at  TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    PRIMARY KEY (image, version),
    -- Serves the next number of a day (MAX), the newest-first listing and the latest version, and refuses a
    -- duplicate number should two writers ever race.
    UNIQUE (image, version_day, version_seq)
);

CREATE TABLE artifacts (
    image      TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    position   INTEGER NOT NULL, -- order as the build reported them
    target     TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    location   TEXT    NOT NULL,
    sha256     TEXT,
    size_bytes INTEGER,
    PRIMARY KEY (image, version, position),
    FOREIGN KEY (image, version) REFERENCES image_versions (image, version) ON DELETE CASCADE
);

-- Admission looks a provider image id up to find the version it belongs to.
CREATE INDEX artifacts_by_location ON artifacts (location);
