-- Cluster mode (docs/cluster.md): the workers sharing a catalog, and the lease a worker holds on each build it claimed
-- (SQLite: 0010_leases.sql).
-- Times are the database's clock (clock_timestamp(), as ISO-8601 text), so workers with skewed clocks agree on expiry.
CREATE TABLE workers (
    id           TEXT    NOT NULL PRIMARY KEY, -- '<name>-<12 hex>', new at every start
    name         TEXT    NOT NULL,             -- worker.yaml name, default the host name
    host         TEXT    NOT NULL,             -- '<host name>/<boot id>' (HostIdentity)
    pid          BIGINT  NOT NULL,
    started_at   TEXT    NOT NULL,
    heartbeat_at TEXT    NOT NULL,
    stopped_at   TEXT,
    lease_ms     BIGINT  NOT NULL,             -- its queue.lease: silent for longer, it is given up for dead
    capabilities TEXT    NOT NULL              -- JSON: providers, kvm
);

CREATE INDEX workers_by_heartbeat ON workers (heartbeat_at);

-- lease_worker: the worker whose lease the running build is under (NULL: a build started by the command line).
-- lease_epoch: raised at every claim and every takeover; a write made under an older epoch is refused.
-- attempts: how many times the build was claimed.
ALTER TABLE builds ADD COLUMN lease_worker TEXT;
ALTER TABLE builds ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN lease_expires_at TEXT;
ALTER TABLE builds ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
