-- Telemetry (docs/telemetry.md): a queued build keeps when it was queued (started_at becomes its start when the
-- runner claims it; the difference is the queue wait) and the W3C traceparent of the request that queued it, which
-- its build span continues. A webhook delivery keeps the traceparent of the work that published its event, sent as
-- its traceparent header.
ALTER TABLE builds ADD COLUMN queued_at TEXT;
ALTER TABLE builds ADD COLUMN traceparent TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN traceparent TEXT;
