-- no-transaction
-- Bounded tables (src/cleanup.rs): the moment a refresh token stopped being usable (used, revoked
-- or expired, whichever came first; `least` skips nulls). The cleanup walks this index in order,
-- oldest first. Built concurrently (refresh_tokens can be big): writes go on while it builds. One
-- statement per file: PostgreSQL runs several in one transaction, where `concurrently` is refused.
-- A build that was interrupted leaves an invalid index, which start-up rebuilds
-- (src/migrations.rs).
create index concurrently if not exists refresh_tokens_ended
    on refresh_tokens ((least(used_at, revoked_at, expires_at)), id);
