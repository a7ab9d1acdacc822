-- The key-encryption key that sealed each TOTP secret: the `kid` of the sealed value's header,
-- kept beside it so that `portcullis kek rotate` finds the secrets still under an old key by
-- index, in batches (signing_keys.kek_id already does this for private keys).
--
-- Nullable, and with no constraint tying it to totp_secret_sealed: the release before this one,
-- still serving during a rolling upgrade, writes secrets without it. A secret without its key id
-- is counted as unrecorded by `kek status` and re-sealed (and recorded) by `kek rotate`.
alter table users add column totp_kek_id text;

-- Existing secrets: the header is the first segment of the compact JWE, base64url-encoded JSON.
update users
set totp_kek_id = convert_from(
        decode(
            rpad(
                translate(split_part(totp_secret_sealed, '.', 1), '-_', '+/'),
                ((length(split_part(totp_secret_sealed, '.', 1)) + 3) / 4) * 4,
                '='
            ),
            'base64'
        ),
        'UTF8'
    )::jsonb ->> 'kid'
where totp_secret_sealed is not null;

-- Batches walk one key id's secrets in id order.
create index users_totp_kek_id on users (totp_kek_id, id) where totp_secret_sealed is not null;
