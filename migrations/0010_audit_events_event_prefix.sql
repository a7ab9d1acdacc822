-- no-transaction
-- The audit log is filtered by the start of the event name (`client.`), a `like` prefix that only
-- an index in pattern order can answer; the list of event names walks the same index. Built
-- concurrently; it takes over from `audit_events_event`, dropped in a later release.
create index concurrently if not exists audit_events_event_prefix
    on audit_events (event text_pattern_ops, at desc, id desc);
