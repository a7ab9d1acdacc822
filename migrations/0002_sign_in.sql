-- Sign-in: how a person authenticated travels with their refresh tokens (for `amr`/`acr` in
-- refreshed ID tokens), and single-use recovery codes for a lost second factor.

alter table refresh_tokens add column amr text[] not null default '{}';

create table recovery_codes (
    user_id uuid not null references users (id) on delete cascade,
    -- SHA-256 of the code: codes are random (60 bits), so a fast hash is enough.
    code_hash bytea not null,
    used_at timestamptz,
    created_at timestamptz not null default now(),
    primary key (user_id, code_hash)
);
