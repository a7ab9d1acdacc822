-- Portcullis schema: users, clients, signing keys, refresh tokens, consents, audit events.
-- Never edit a migration once it has been applied anywhere; add a new one.

create or replace function set_updated_at() returns trigger as $$
begin
    new.updated_at = now();
    return new;
end;
$$ language plpgsql;

create table users (
    id uuid primary key,
    username text not null,
    email text,
    name text,
    password_hash text not null,
    is_admin boolean not null default false,
    -- TOTP secret sealed under the key-encryption key (compact JWE); null when not enrolled.
    totp_secret_sealed text,
    -- The last accepted TOTP time step: a code is accepted once.
    totp_last_step bigint,
    disabled boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint users_username_format check (username ~ '^[A-Za-z0-9._@-]{1,64}$')
);
-- Sign-in is case-insensitive, so uniqueness is too.
create unique index users_username_key on users (lower(username));
create unique index users_email_key on users (lower(email)) where email is not null;
create trigger users_updated_at before update on users for each row execute function set_updated_at();

create table clients (
    client_id text primary key,
    name text not null,
    client_type text not null check (client_type in ('public', 'confidential')),
    -- SHA-256 of the server-generated 256-bit secret; confidential clients only.
    secret_hash bytea,
    redirect_uris text[] not null default '{}',
    post_logout_redirect_uris text[] not null default '{}',
    grant_types text[] not null default '{}',
    scopes text[] not null default '{}',
    require_consent boolean not null default true,
    id_token_alg text not null default 'RS256' check (id_token_alg in ('RS256', 'ES256')),
    -- Per-client overrides of the configured lifetimes, in seconds; null means the default.
    access_token_ttl_secs integer check (access_token_ttl_secs > 0),
    refresh_token_ttl_secs integer check (refresh_token_ttl_secs > 0),
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint clients_secret_matches_type check (
        (client_type = 'confidential') = (secret_hash is not null)
    )
);
create unique index clients_name_key on clients (lower(name));
create trigger clients_updated_at before update on clients for each row execute function set_updated_at();

-- Each signing key's lifecycle is given by its times: next (published, not yet signing) until
-- activate_at, active until retire_at, retiring (published, verify only) until expire_at, then
-- expired; revoked_at removes it at once.
create table signing_keys (
    kid text primary key,
    alg text not null check (alg in ('RS256', 'ES256')),
    public_jwk jsonb not null,
    -- Private JWK sealed under the key-encryption key (compact JWE, dir + A256GCM).
    private_jwk_sealed text not null,
    kek_id text not null,
    created_at timestamptz not null default now(),
    activate_at timestamptz not null,
    retire_at timestamptz not null,
    expire_at timestamptz not null,
    revoked_at timestamptz,
    constraint signing_keys_times_ordered check (activate_at <= retire_at and retire_at <= expire_at)
);
create index signing_keys_alg_expire on signing_keys (alg, expire_at);

create table refresh_tokens (
    id uuid primary key,
    -- SHA-256 of the opaque token.
    token_hash bytea not null unique,
    -- Every token rotated from one grant shares a family; replay revokes the family (RFC 9700 §4.14).
    family_id uuid not null,
    client_id text not null references clients (client_id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    scope text not null,
    auth_time timestamptz not null,
    session_id text,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    revoked_at timestamptz
);
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_user on refresh_tokens (user_id);
create index refresh_tokens_client on refresh_tokens (client_id);

create table consents (
    user_id uuid not null references users (id) on delete cascade,
    client_id text not null references clients (client_id) on delete cascade,
    scopes text[] not null,
    granted_at timestamptz not null default now(),
    primary key (user_id, client_id)
);

create table audit_events (
    id bigserial primary key,
    at timestamptz not null default now(),
    -- Who acted: a user id, a client id, `cli` or `system`.
    actor text not null,
    event text not null,
    target text,
    ip inet,
    details jsonb not null default '{}'
);
create index audit_events_at on audit_events (at desc);
create index audit_events_event on audit_events (event, at desc);
