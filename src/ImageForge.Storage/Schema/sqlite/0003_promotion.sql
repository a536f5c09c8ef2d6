-- ImageForge catalog, SQLite, schema version 3: ancestry, channels, promotions, approvals, revocations, audit trail.
-- Version statuses now also include 'revoked' and 'deleted' (image_versions.status is free text).

-- Where a version came from: the base it was built on ('debian/bullseye', an AMI id) or another ImageForge version.
CREATE TABLE version_lineage (
    image          TEXT NOT NULL,
    version        TEXT NOT NULL,
    base_image     TEXT,
    parent_image   TEXT,
    parent_version TEXT,
    PRIMARY KEY (image, version),
    FOREIGN KEY (image, version) REFERENCES image_versions (image, version) ON DELETE CASCADE
);

CREATE INDEX version_lineage_by_parent ON version_lineage (parent_image, parent_version);

-- Warnings on a version, e.g. 'parent-revoked'.
CREATE TABLE version_flags (
    image   TEXT NOT NULL,
    version TEXT NOT NULL,
    flag    TEXT NOT NULL,
    reason  TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (image, version, flag),
    FOREIGN KEY (image, version) REFERENCES image_versions (image, version) ON DELETE CASCADE
);

-- Where each channel points now (version NULL: emptied by a revocation with no good version to fall back to).
CREATE TABLE channel_pointers (
    image         TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    version       TEXT,
    assignment_id INTEGER NOT NULL,
    PRIMARY KEY (image, channel)
);

-- Every move of a pointer, never updated nor deleted: the channel's history.
CREATE TABLE channel_assignments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    image            TEXT NOT NULL,
    channel          TEXT NOT NULL,
    version          TEXT,
    previous_version TEXT,
    action           TEXT NOT NULL,  -- promote, rollback, revoke
    actor            TEXT NOT NULL,
    reason           TEXT,
    at               TEXT NOT NULL
);

CREATE INDEX channel_assignments_by_channel ON channel_assignments (image, channel, id);
CREATE INDEX channel_assignments_by_version ON channel_assignments (image, version);

CREATE TABLE approvals (
    image   TEXT NOT NULL,
    version TEXT NOT NULL,
    channel TEXT NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL,
    at      TEXT NOT NULL,
    reason  TEXT,
    PRIMARY KEY (image, version, channel, actor)
);

CREATE TABLE promotions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    image       TEXT NOT NULL,
    version     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    state       TEXT NOT NULL,  -- running, failed, completed, abandoned
    actor       TEXT NOT NULL,
    skip_reason TEXT,
    started_at  TEXT NOT NULL,
    ended_at    TEXT
);

-- At most one promotion of a channel runs at a time: the second writer's insert fails on this index.
CREATE UNIQUE INDEX promotions_one_running ON promotions (image, channel) WHERE state = 'running';
CREATE INDEX promotions_open ON promotions (image, channel, id) WHERE state IN ('running', 'failed');

CREATE TABLE promotion_steps (
    promotion_id INTEGER NOT NULL REFERENCES promotions (id),
    position     INTEGER NOT NULL,
    target       TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    status       TEXT    NOT NULL,  -- pending, succeeded, failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    detail       TEXT,
    updated_at   TEXT,
    PRIMARY KEY (promotion_id, position)
);

CREATE TABLE revocations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    image        TEXT NOT NULL,
    version      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    effective_at TEXT NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    applied_at   TEXT
);

CREATE INDEX revocations_due ON revocations (effective_at) WHERE applied_at IS NULL;

-- The audit trail: append-only, each event's hash covers its content and the previous event's hash.
CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY,
    time      TEXT NOT NULL,
    action    TEXT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    image     TEXT,
    version   TEXT,
    channel   TEXT,
    reason    TEXT,
    details   TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE INDEX audit_events_by_image ON audit_events (image, seq);

-- The last event written, kept in the same transaction as each append, so events cut from the end are noticed.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
