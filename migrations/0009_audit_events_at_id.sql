-- no-transaction
-- Audit pages are ordered by time, then id; retention deletes the oldest first. Built
-- concurrently (audit_events can be big); it takes over from `audit_events_at`, dropped in a later
-- release once no running release's queries are planned with it (expand, then contract).
create index concurrently if not exists audit_events_at_id on audit_events (at desc, id desc);
