-- Roles and groups for RBAC at resource servers: administrators define the names and assign
-- them to users (and roles to clients, for service accounts). Tokens carry them as `roles` and
-- `groups` claims when the client asked for those scopes.
create table roles (
    name text primary key,
    description text not null default '',
    created_at timestamptz not null default now(),
    constraint roles_name_format check (name ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$')
);

create table groups (
    name text primary key,
    description text not null default '',
    created_at timestamptz not null default now(),
    constraint groups_name_format check (name ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$')
);

create table user_roles (
    user_id uuid not null references users (id) on delete cascade,
    role text not null references roles (name) on delete cascade,
    primary key (user_id, role)
);

create table user_groups (
    user_id uuid not null references users (id) on delete cascade,
    group_name text not null references groups (name) on delete cascade,
    primary key (user_id, group_name)
);

create table client_roles (
    client_id text not null references clients (client_id) on delete cascade,
    role text not null references roles (name) on delete cascade,
    primary key (client_id, role)
);
create index client_roles_role on client_roles (role);
create index user_roles_role on user_roles (role);
create index user_groups_group on user_groups (group_name);

-- The audit log is filtered by actor.
create index audit_events_actor on audit_events (actor, at desc);
