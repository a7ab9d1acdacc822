-- Bounded tables: indexes on tables that stay small (one row per person, client or key), built in
-- one transaction.

-- Deleting a client deletes its consents (foreign key cascade): found by index, not by a scan.
create index if not exists consents_client on consents (client_id);

-- The audit log names users as `user:<id>`; its pages show their usernames through this index.
create index if not exists users_actor_label on users (('user:' || id::text));

-- Expired signing keys are deleted by expiry.
create index if not exists signing_keys_expire on signing_keys (expire_at);
