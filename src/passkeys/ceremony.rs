//! Ceremonies in progress: the state `webauthn-rs` keeps between the options it sends the browser
//! and the answer, with its challenge. The state lives in Redis under a random id for
//! [`super::CEREMONY_TTL`], so the answer may reach any replica; only the browser session that began
//! it knows the id (it is never sent to the browser), and the answer takes it with `GETDEL`, so a
//! challenge is used once (WebAuthn §13.4.3). A ceremony begun for one pending request cannot
//! finish another.

use redis::AsyncCommands as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration,
};

use super::CEREMONY_TTL;
use crate::crypto::random_token;
use crate::error::Result;
use crate::sessions::TypedSession;
use crate::sessions::pending::RequestId;
use crate::storage::{Redis, RedisKey};

/// What a ceremony is for, with its state.
#[derive(Serialize, Deserialize)]
pub enum Purpose {
    /// Adding a passkey named `name` to `user_id`.
    Register {
        user_id: Uuid,
        name: String,
        state: PasskeyRegistration,
    },
    /// Signing in with whichever passkey the person picks (a discoverable credential).
    SignIn { state: DiscoverableAuthentication },
    /// One of `user_id`'s passkeys: a second factor after the password, or a step-up.
    Confirm {
        user_id: Uuid,
        state: PasskeyAuthentication,
    },
}

#[derive(Serialize, Deserialize)]
struct Stored {
    /// The pending request (`?request=`) the ceremony was begun for.
    request: Option<String>,
    purpose: Purpose,
}

/// Keeps `purpose` as the one ceremony of this session (one begun earlier is dropped).
pub async fn begin(
    redis: &Redis,
    session: &TypedSession,
    request: Option<&RequestId>,
    purpose: Purpose,
) -> Result<()> {
    let id = random_token();
    let stored = Stored {
        request: request.map(|r| r.as_str().to_owned()),
        purpose,
    };
    let mut conn = redis.conn.clone();
    conn.set_ex::<_, _, ()>(
        redis.key(RedisKey::Ceremony(id.expose())),
        serde_json::to_vec(&stored)?,
        CEREMONY_TTL.as_secs(),
    )
    .await?;
    if let Some(earlier) = session
        .replace_passkey_ceremony(id.expose())
        .await
        .map_err(anyhow::Error::from)?
    {
        conn.del::<_, ()>(redis.key(RedisKey::Ceremony(&earlier)))
            .await?;
    }
    Ok(())
}

/// Takes this session's ceremony, once, if it was begun for `request` and has not expired.
pub async fn take(
    redis: &Redis,
    session: &TypedSession,
    request: Option<&RequestId>,
) -> Result<Option<Purpose>> {
    let Some(id) = session
        .take_passkey_ceremony()
        .await
        .map_err(anyhow::Error::from)?
    else {
        return Ok(None);
    };
    let mut conn = redis.conn.clone();
    let value: Option<Vec<u8>> = conn.get_del(redis.key(RedisKey::Ceremony(&id))).await?;
    let Some(value) = value else {
        return Ok(None);
    };
    let stored: Stored = serde_json::from_slice(&value)?;
    let same_request = stored.request.as_deref() == request.map(RequestId::as_str);
    Ok(same_request.then_some(stored.purpose))
}
