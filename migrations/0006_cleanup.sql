-- Bounded tables: the indexes the background cleanup (src/cleanup.rs) and the per-request
-- queries need, so that neither reads a big table from end to end.
-- Each is `if not exists`: on a large database an operator may build them beforehand with
-- `create index concurrently` under the same names, and this migration then takes no long lock.

-- The moment a refresh token stopped being usable: used, revoked or expired, whichever came
-- first (`least` skips nulls). The cleanup walks this index in order, oldest first.
create index if not exists refresh_tokens_ended
    on refresh_tokens ((least(used_at, revoked_at, expires_at)), id);

-- Deleting a client deletes its consents (foreign key cascade): found by index, not by a scan.
create index if not exists consents_client on consents (client_id);

-- The audit log names users as `user:<id>`; its pages show their usernames through this index.
create index if not exists users_actor_label on users (('user:' || id::text));

-- Audit pages are ordered by time, then id; retention deletes the oldest first.
create index if not exists audit_events_at_id on audit_events (at desc, id desc);
drop index if exists audit_events_at;

-- The audit log is filtered by the start of the event name (`client.`), a `like` prefix that only
-- an index in pattern order can answer; the list of event names walks the same index.
create index if not exists audit_events_event_prefix
    on audit_events (event text_pattern_ops, at desc, id desc);
drop index if exists audit_events_event;

-- Expired signing keys are deleted by expiry.
create index if not exists signing_keys_expire on signing_keys (expire_at);
