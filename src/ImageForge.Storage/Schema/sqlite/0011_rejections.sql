-- A release manager's rejection of a version for a channel (docs/promotion.md), with the reason; audited as
-- reject-promotion. While it stands, promoting the version into the channel is refused (PostgreSQL: postgres/0004_rejections.sql).
CREATE TABLE promotion_rejections (
    image   TEXT NOT NULL,
    version TEXT NOT NULL,
    channel TEXT NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL,
    at      TEXT NOT NULL,
    reason  TEXT NOT NULL,
    PRIMARY KEY (image, version, channel),
    FOREIGN KEY (image, version) REFERENCES image_versions (image, version) ON DELETE CASCADE
);
