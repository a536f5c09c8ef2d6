-- Image facts (docs/anomalies.md): one row per member of a fact set (an apt source, a setuid file "path sha256", an
-- enabled unit...) with value NULL, or per measurement (a size, a stage's seconds, a count of findings) with its
-- value, of one version and target. Recorded while the version is pending, so they go with a failed build's version;
-- later builds of the image compare with the rows of its successful versions.
CREATE TABLE version_facts (
    image    TEXT NOT NULL,
    version  TEXT NOT NULL,
    target   TEXT NOT NULL,
    name     TEXT NOT NULL,
    member   TEXT NOT NULL,
    value    REAL,
    PRIMARY KEY (image, version, target, name, member),
    FOREIGN KEY (image, version) REFERENCES image_versions (image, version) ON DELETE CASCADE
);

CREATE INDEX version_facts_by_name ON version_facts (image, target, name, member);

-- A release manager's acknowledgement of one anomaly of a version (docs/anomalies.md), with the reason; audited. A
-- restricted channel refuses a version until every raised high or critical anomaly is acknowledged.
CREATE TABLE anomaly_acks (
    image       TEXT NOT NULL,
    version     TEXT NOT NULL,
    anomaly_id  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    at          TEXT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (image, version, anomaly_id),
    FOREIGN KEY (image, version) REFERENCES image_versions (image, version) ON DELETE CASCADE
);
