//! `serve --demo`: seeds, once, a demo user and two demo clients (one confidential, one public)
//! so a person can try Portcullis at once, and says how. Seeding again finds them and creates
//! nothing; the confidential client's secret can be shown only the first time.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::audit::{Actor, By};
use crate::clients::{self, ClientSpec, GrantType};
use crate::error::Error;
use crate::oauth::authorize::ResponseType;
use crate::oauth::pkce::ChallengeMethod;
use crate::oauth::scope::{Scope, Scopes};
use crate::oidc::discovery::paths;
use crate::secret::Secret;
use crate::state::AppState;
use crate::urls::Href;
use crate::users::{self, Username};

pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_PASSWORD: &str = "open-the-portcullis";
pub const DEMO_CONFIDENTIAL: &str = "Demo confidential client";
pub const DEMO_PUBLIC: &str = "Demo public client";
/// Where the demo clients send people back to (any local app listening there).
pub const DEMO_REDIRECT: &str = "http://127.0.0.1:8000/callback";
/// A PKCE pair for trying the flow by hand (RFC 7636 Appendix B).
const DEMO_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const DEMO_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// What seeding did, for people and for scripts.
pub struct Report {
    pub text: String,
    pub json: Value,
}

pub async fn seed(state: &AppState, address: SocketAddr) -> anyhow::Result<Report> {
    let user_created = seed_user(state).await?;
    let confidential = seed_client(state, DEMO_CONFIDENTIAL, false).await?;
    let public = seed_client(state, DEMO_PUBLIC, true).await?;
    let issuer = &state.config.issuer;
    let secret_line = match &confidential.1 {
        Some(secret) => format!("client_secret {} (shown only now)", secret.expose()),
        None => "client_secret was shown when it was first seeded".to_owned(),
    };
    let at = |path| Href::route(path).absolute(issuer);
    let (discovery, jwks, token) = (
        at(paths::OPENID_CONFIGURATION),
        at(paths::JWKS),
        at(paths::TOKEN),
    );
    let scope =
        Scopes::from(vec![Scope::OPENID, Scope::PROFILE, Scope::OFFLINE_ACCESS]).to_string();
    let try_it = Href::route(paths::AUTHORIZE)
        .query(&[
            ("response_type", ResponseType::Code.as_str()),
            ("client_id", &public.0),
            ("redirect_uri", DEMO_REDIRECT),
            ("scope", &scope),
            ("state", "demo"),
            ("code_challenge", DEMO_CHALLENGE),
            ("code_challenge_method", ChallengeMethod::S256.as_str()),
        ])
        .absolute(issuer);
    let text = format!(
        "Portcullis demo is listening on http://{address}\n\
         \n  Discovery: {discovery}\n  JWKS:      {jwks}\n\
         \n  Demo user:  {DEMO_USERNAME} / {DEMO_PASSWORD}{}\n  {DEMO_CONFIDENTIAL}: client_id {}, {secret_line}\n  {DEMO_PUBLIC}: client_id {} (PKCE, no secret)\n  Redirect URI of both: {DEMO_REDIRECT}\n\
         \nTry a sign-in: open this in a browser and sign in as {DEMO_USERNAME}:\n  {try_it}\n\
         You land on {DEMO_REDIRECT}?code=...; exchange the code within a minute:\n  curl -s {token} -d grant_type=authorization_code -d client_id={public_id} -d redirect_uri={DEMO_REDIRECT} -d code_verifier={DEMO_VERIFIER} -d code=CODE",
        if user_created { " (created now)" } else { "" },
        confidential.0,
        public.0,
        public_id = public.0,
    );
    let json = json!({
        "listening": format!("http://{address}"),
        "discovery": discovery,
        "user": { "username": DEMO_USERNAME, "password": DEMO_PASSWORD, "created": user_created },
        "confidential_client": { "client_id": confidential.0, "client_secret": confidential.1.as_ref().map(|s| s.expose().clone()) },
        "public_client": { "client_id": public.0 },
        "redirect_uri": DEMO_REDIRECT,
    });
    Ok(Report { text, json })
}

async fn seed_user(state: &AppState) -> anyhow::Result<bool> {
    if users::store::exists(&state.db, DEMO_USERNAME).await? {
        return Ok(false);
    }
    let username = Username::parse(DEMO_USERNAME).map_err(anyhow::Error::msg)?;
    let hash = state
        .hasher
        .hash(Secret::new(DEMO_PASSWORD.to_owned()))
        .await?;
    let new = users::store::NewUser {
        username: &username,
        email: None,
        name: None,
        password_hash: Some(&hash),
        is_admin: false,
        totp_secret_sealed: None,
        invited: false,
    };
    match users::store::create(&state.db, new, &Actor::System).await {
        Ok(_) => Ok(true),
        // Another replica seeded it at the same moment.
        Err(Error::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Returns the client id, and the secret if the client was created now.
async fn seed_client(
    state: &AppState,
    name: &str,
    public: bool,
) -> anyhow::Result<(String, Option<Secret<String>>)> {
    if let Some(existing) = clients::store::find_by_name(&state.db, name).await? {
        return Ok((existing.client_id.into(), None));
    }
    let mut grants = GrantType::DEFAULT.to_vec();
    if !public {
        grants.push(GrantType::ClientCredentials);
    }
    let grant_types = grants.iter().map(|g| g.as_str().to_owned()).collect();
    let spec = ClientSpec {
        name: name.to_owned(),
        public,
        redirect_uris: vec![DEMO_REDIRECT.to_owned()],
        post_logout_redirect_uris: vec!["http://127.0.0.1:8000/".to_owned()],
        grant_types,
        scopes: vec![],
        ..ClientSpec::default()
    };
    let client = spec.validate().map_err(anyhow::Error::msg)?;
    match clients::store::create(&state.db, &client, &By::new(Actor::System, None)).await {
        Ok(created) => Ok((created.client_id.into(), created.client_secret)),
        Err(Error::Conflict(_)) => {
            let existing = clients::store::find_by_name(&state.db, name).await?;
            Ok((
                existing.map(|c| c.client_id.into()).unwrap_or_default(),
                None,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
