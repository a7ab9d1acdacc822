-- The resource (RFC 8707 absolute URI) a client is the resource server of: it may introspect
-- tokens whose audience names it (RFC 7662 §2.1). At most one client per resource.
alter table clients add column resource_uri text constraint clients_resource_uri_key unique;

-- The origins (RFC 6454) of each client's redirect URIs, written by the application whenever a
-- client is saved, so that a CORS preflight finds the public client of an origin by index. Rows
-- from before are filled in here the same way: scheme and host in lower case, no default port.
alter table clients add column web_origins text[] not null default '{}';
update clients set web_origins = array(
    select distinct regexp_replace(regexp_replace(
        lower(substring(u from '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*')),
        '^(https://.*):443$', '\1'), '^(http://.*):80$', '\1')
    from unnest(redirect_uris) as u
    where u ~ '^[A-Za-z][A-Za-z0-9+.-]*://'
);
create index clients_web_origins on clients using gin (web_origins);
