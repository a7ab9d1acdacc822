-- The least a person must have signed in with for a client to get a code: a rung of the
-- authentication ladder (`password` < `two-factor` < `phishing-resistant`). Releases that do not
-- know the column insert clients at the bottom rung, as they treat every client.
alter table clients add column min_level text not null default 'password'
    constraint clients_min_level_known
    check (min_level in ('password', 'two-factor', 'phishing-resistant'));
