-- Passkeys (WebAuthn credentials), one row per credential, and accounts that sign in with passkeys
-- alone (no password).
create table passkeys (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    -- The id the authenticator chose (WebAuthn §6.1 credentialId): one account per credential.
    credential_id bytea not null unique,
    name text not null check (char_length(name) between 1 and 64),
    -- The credential as the WebAuthn library keeps it: public key, flags, signature counter.
    credential jsonb not null,
    -- The signature counter last seen (WebAuthn §6.1.1), kept apart so that a use can raise it
    -- atomically and a counter that goes back is noticed.
    sign_count bigint not null default 0,
    -- May be synced between devices (WebAuthn §6.1.3, `BE`): `swk` rather than `hwk` (RFC 8176).
    backup_eligible boolean not null,
    -- When an answer's counter did not grow (a copied authenticator?): refused from then on,
    -- until the passkey is removed.
    clone_suspected_at timestamptz,
    created_at timestamptz not null default now(),
    last_used_at timestamptz
);
create index passkeys_user on passkeys (user_id);

alter table users alter column password_hash drop not null;
