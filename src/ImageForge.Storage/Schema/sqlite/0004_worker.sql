-- ImageForge catalog, SQLite, schema version 4: the worker's queue, schedule firings, CVE rebuilds, API tokens and
-- webhook deliveries. Build statuses now also include 'queued' (waiting for the worker's runner; started_at is when
-- it was queued until the runner claims it) and 'skipped' (a scheduled build whose inputs had not changed).

-- The client's Idempotency-Key: a retried request finds the build it got the first time, whether that request
-- queued a new build or joined a queued one (so one build may have several keys).
CREATE TABLE build_request_keys (
    idempotency_key TEXT    NOT NULL PRIMARY KEY,
    build_id        INTEGER NOT NULL REFERENCES builds (id),
    created_at      TEXT    NOT NULL
);
-- The runner's pick and a request joining a queued build of its image and target touch only queued rows.
CREATE INDEX builds_queued ON builds (image, target, id) WHERE status = 'queued';

-- Every handled instant of a schedule, so a restart never fires one twice. outcome: queued, skipped, misfired.
CREATE TABLE schedule_firings (
    image         TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    scheduled_for TEXT    NOT NULL,
    fired_at      TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    build_id      INTEGER REFERENCES builds (id),
    reason        TEXT    NOT NULL,
    PRIMARY KEY (image, target, scheduled_for)
);

-- Each advisory set (sorted, distinct ids joined by ',') that queued a rebuild of an image on a target: the same set
-- never queues a second one.
CREATE TABLE cve_rebuilds (
    image      TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    advisories TEXT    NOT NULL,
    build_id   INTEGER NOT NULL REFERENCES builds (id),
    queued_at  TEXT    NOT NULL,
    PRIMARY KEY (image, target, advisories)
);

-- API bearer tokens: only the sha256 (lower-case hex) of the secret is kept.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a revoked id must not name a new token
    secret_sha256 TEXT    NOT NULL UNIQUE,
    actor         TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    revoked_at    TEXT
);

-- One delivery of one event to one URL, written before it is sent. state: pending, delivered, failed.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT    NOT NULL,
    next_attempt_at  TEXT,
    delivered_at     TEXT,
    UNIQUE (event_id, url)
);

-- Every attempt of a delivery, in order: the delivery log shows each one's status code or error.
CREATE TABLE webhook_attempts (
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    attempt     INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    status_code INTEGER,
    error       TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

-- The sender's poll touches only pending rows.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
