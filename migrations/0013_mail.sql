-- Mail: verified addresses, single-use links sent by mail, and the outbox every message to the
-- outside goes through.

-- When the person proved the current address is theirs (by a link sent to it); null: not
-- verified. Changing the address clears it.
alter table users add column email_verified_at timestamptz;
-- An account made on the sign-up page cannot sign in until its address is verified; using the
-- verification link clears this.
alter table users add column awaiting_verification boolean not null default false;

-- Links sent by mail (verify an address, reset a password, accept an invitation): each is a
-- random 256-bit token of which only the SHA-256 is kept, bound to one account and one purpose,
-- used once (deleted when used) and valid until `expires_at`. The outbox worker makes the link
-- when it sends the mail, so the token itself is stored nowhere. A new link of a purpose
-- replaces the account's earlier ones.
create table mail_links (
    token_hash bytea primary key,
    user_id uuid not null references users (id) on delete cascade,
    purpose text not null check (purpose in ('verify', 'reset', 'invite')),
    -- For `verify`: the address the link was sent to; the link verifies it only while it is
    -- still the account's address.
    email text,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index mail_links_user on mail_links (user_id, purpose);
create index mail_links_expires on mail_links (expires_at);

-- The outbox: everything sent to the outside is written here in the transaction of the change
-- that caused it, and delivered by a worker on every replica (`for update skip locked`, so each
-- message once). `payload` says what to send (a topic and the account); it never holds a secret:
-- the worker makes a mail's link when it sends it.
create table outbox (
    id uuid primary key,
    kind text not null check (kind in ('mail')),
    -- Whom it goes to, for the admin view and the logs (an address; never a secret).
    recipient text not null,
    -- What it says, by name (`verify`, `reset`, `notice.password_changed`, ...).
    topic text not null,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    -- When the worker tries next: now at first, later after a failure (backoff).
    next_attempt_at timestamptz not null default now(),
    attempts integer not null default 0,
    last_error text,
    sent_at timestamptz,
    -- Given up on (too long undeliverable), with an audit event.
    failed_at timestamptz
);
create index outbox_due on outbox (next_attempt_at) where sent_at is null and failed_at is null;
create index outbox_done on outbox (coalesce(sent_at, failed_at)) where sent_at is not null or failed_at is not null;
