-- Cluster mode (docs/cluster.md): a webhook delivery is claimed by one worker's dispatcher before it is sent, as builds
-- are, so workers sharing a catalog never send it at the same time (PostgreSQL: postgres/0006_webhook_claims.sql).
-- claimed_by: the worker that claimed it last (kept after the attempt is recorded: who sent it).
-- claim_epoch: raised at every claim; an attempt is recorded only under the epoch its sender claimed.
-- claim_expires_at: the database's clock; while in the future no other dispatcher takes the delivery, and once past
-- (the sender died mid-send) the delivery is due again. NULL once the attempt is recorded.
ALTER TABLE webhook_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN claim_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN claim_expires_at TEXT;
