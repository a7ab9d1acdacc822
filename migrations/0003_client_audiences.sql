-- Resource servers (RFC 8707 `resource` / `audience`) a client may ask tokens for.
alter table clients add column audiences text[] not null default '{}';
