//! Oversized input, endpoint by endpoint and field by field: a value over the field's maximum
//! (20 KB, under the body limit, so the field check itself answers) and a 1 MB value are refused
//! fast with 400/401/413, and nothing is kept: no audit row, no new Redis key, no cached client.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::admin::admin_browser;
use crate::admin::api::script;
use crate::helpers::TestApp;
use crate::signin::browser;

/// How a field travels.
#[derive(Clone, Copy, Debug, PartialEq)]
enum In {
    Query,
    Form,
    Json,
}

/// Who sends it: an anonymous program, a signed-in administrator's browser, an admin API script.
#[derive(Clone, Copy, Debug, PartialEq)]
enum As {
    Anonymous,
    Admin,
    Script,
}

struct Case {
    method: &'static str,
    path: &'static str,
    by: As,
    carried: In,
    /// The fields, separated by spaces.
    fields: &'static str,
    /// OAuth endpoints and the admin API name the parameter in RFC 6749 JSON.
    names_it: bool,
}

use As::{Admin, Anonymous, Script};
use In::{Form, Json, Query};

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { method: "GET", path: "/authorize", by: Anonymous, carried: Query, names_it: false,
        fields: "client_id redirect_uri response_type scope state nonce code_challenge code_challenge_method prompt max_age login_hint acr_values" },
    Case { method: "POST", path: "/token", by: Anonymous, carried: Form, names_it: true,
        fields: "grant_type code redirect_uri code_verifier client_id client_secret refresh_token scope device_code" },
    Case { method: "POST", path: "/device_authorization", by: Anonymous, carried: Form, names_it: true,
        fields: "client_id client_secret scope" },
    Case { method: "POST", path: "/introspect", by: Anonymous, carried: Form, names_it: true,
        fields: "token token_type_hint client_id client_secret" },
    Case { method: "POST", path: "/revoke", by: Anonymous, carried: Form, names_it: true,
        fields: "token token_type_hint client_id client_secret" },
    Case { method: "POST", path: "/userinfo", by: Anonymous, carried: Form, names_it: true,
        fields: "access_token" },
    Case { method: "GET", path: "/logout", by: Anonymous, carried: Query, names_it: false,
        fields: "id_token_hint post_logout_redirect_uri state client_id" },
    Case { method: "POST", path: "/login", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf username password" },
    Case { method: "POST", path: "/password/forgot", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf username" },
    Case { method: "GET", path: "/password/reset", by: Anonymous, carried: Query, names_it: false,
        fields: "token" },
    Case { method: "POST", path: "/password/reset", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf token new confirm" },
    Case { method: "GET", path: "/invitation", by: Anonymous, carried: Query, names_it: false,
        fields: "token" },
    Case { method: "POST", path: "/invitation", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf token new confirm" },
    Case { method: "POST", path: "/invitation/passkey/options", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf name" },
    Case { method: "POST", path: "/invitation/passkey", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf token credential" },
    Case { method: "GET", path: "/email/verify", by: Anonymous, carried: Query, names_it: false,
        fields: "token" },
    Case { method: "POST", path: "/email/verify", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf token" },
    Case { method: "POST", path: "/login/mfa", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf code" },
    Case { method: "POST", path: "/login/passkey/options", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf purpose" },
    Case { method: "POST", path: "/login/passkey", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf credential" },
    Case { method: "POST", path: "/consent", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf decision" },
    Case { method: "GET", path: "/device", by: Anonymous, carried: Query, names_it: false,
        fields: "user_code" },
    Case { method: "POST", path: "/device", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf user_code" },
    Case { method: "POST", path: "/device/approve", by: Anonymous, carried: Form, names_it: false,
        fields: "csrf decision" },
    Case { method: "POST", path: "/account/password", by: Admin, carried: Form, names_it: false,
        fields: "csrf current new confirm" },
    Case { method: "POST", path: "/account/totp", by: Admin, carried: Form, names_it: false,
        fields: "csrf code" },
    Case { method: "POST", path: "/account/totp/remove", by: Admin, carried: Form, names_it: false,
        fields: "csrf password" },
    Case { method: "POST", path: "/account/passkeys/options", by: Admin, carried: Form, names_it: false,
        fields: "csrf name" },
    Case { method: "POST", path: "/account/passkeys", by: Admin, carried: Form, names_it: false,
        fields: "csrf credential" },
    Case { method: "POST", path: "/account/applications/revoke", by: Admin, carried: Form, names_it: false,
        fields: "csrf client_id" },
    Case { method: "POST", path: "/admin/clients/new", by: Admin, carried: Form, names_it: false,
        fields: "csrf name client_type redirect_uris post_logout_redirect_uris scopes audiences grant_type id_token_alg access_token_ttl refresh_token_ttl min_level" },
    Case { method: "POST", path: "/admin/users/new", by: Admin, carried: Form, names_it: false,
        fields: "csrf username email name password role group" },
    Case { method: "POST", path: "/admin/roles/roles", by: Admin, carried: Form, names_it: false,
        fields: "csrf name description" },
    Case { method: "GET", path: "/admin/audit", by: Admin, carried: Query, names_it: false,
        fields: "actor event since until page" },
    Case { method: "GET", path: "/admin/clients", by: Admin, carried: Query, names_it: false,
        fields: "q page" },
    Case { method: "POST", path: "/admin/api/v1/users", by: Script, carried: Json, names_it: true,
        fields: "username email name password" },
    Case { method: "POST", path: "/admin/api/v1/clients", by: Script, carried: Json, names_it: true,
        fields: "name redirect_uris post_logout_redirect_uris grant_types scopes audiences min_level" },
    Case { method: "POST", path: "/admin/api/v1/roles", by: Script, carried: Json, names_it: true,
        fields: "name description" },
    Case { method: "GET", path: "/admin/api/v1/users", by: Script, carried: Query, names_it: true,
        fields: "q page" },
];

/// Everything that could have been kept: audit rows, Redis keys, cached clients.
async fn kept(app: &TestApp) -> (i64, usize, usize) {
    let audit: i64 = sqlx::query_scalar("select count(*) from audit_events")
        .fetch_one(&app.db.pool().await)
        .await
        .unwrap();
    (audit, redis_keys(app).await.len(), app.state.clients.len())
}

/// Every Redis key of this app, but the dashboard's per-minute tally of tokens issued (written in
/// the background for tokens issued before).
pub async fn redis_keys(app: &TestApp) -> Vec<String> {
    let mut conn = app.state.redis.conn.clone();
    let pattern = format!("{}*", app.state.redis.prefix());
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.into_iter()
        .filter(|k| !k.contains(":tokens-issued:"))
        .collect()
}

async fn send(
    app: &TestApp,
    who: &reqwest::Client,
    token: Option<&str>,
    case: &Case,
    field: &str,
    value: &str,
) -> reqwest::Response {
    let url = app.url(case.path);
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut request = who.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match case.carried {
        Query => request.query(&[(field, value)]),
        Form => request.form(&[(field, value), ("other", "x")]),
        Json => request.json(
            &json!({ field: if field.ends_with('s') { json!([value]) } else { json!(value) } }),
        ),
    };
    match request.send().await {
        Ok(response) => response,
        Err(e) => panic!("{} {} {field}: {}", case.method, case.path, e.without_url()),
    }
}

#[tokio::test]
async fn every_field_of_every_endpoint_refuses_oversized_values_and_keeps_nothing() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    let (_, token) = script(&app).await;
    let anonymous = browser();
    let before = kept(&app).await;

    let over_the_field_limit = "a".repeat(20_000);
    let megabyte = "a".repeat(1 << 20);
    // A URI is at most 64 KiB (in the `http` crate, on both ends): a query gets that much.
    let longest_query = "a".repeat(60_000);
    for case in CASES {
        let (who, bearer) = match case.by {
            Anonymous => (&anonymous, None),
            Admin => (&admin, None),
            Script => (&anonymous, Some(token.as_str())),
        };
        for field in case.fields.split(' ') {
            let huge = if case.carried == Query {
                &longest_query
            } else {
                &megabyte
            };
            for value in [&over_the_field_limit, huge] {
                let what = format!(
                    "{} {} {field}={} bytes",
                    case.method,
                    case.path,
                    value.len()
                );
                let started = Instant::now();
                let response = send(&app, who, bearer, case, field, value).await;
                let status = response.status().as_u16();
                let html = response
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
                let body = response.text().await.unwrap();
                assert!(
                    started.elapsed() < Duration::from_secs(2),
                    "{what}: took {:?}",
                    started.elapsed()
                );
                assert!(
                    [400, 401, 413].contains(&status),
                    "{what}: {status} {body:.300}"
                );
                if case.names_it {
                    let json: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(json["error"], "invalid_request", "{what}");
                    if status == 400 {
                        let description = json["error_description"].as_str().unwrap();
                        assert!(description.contains(field), "{what}: {description}");
                    }
                } else {
                    assert!(html, "{what}: a page for the browser");
                }
                assert!(body.len() < 10_000, "{what}: the value is not echoed");
            }
        }
    }
    // A huge bearer token is refused as well, before anything looks at it.
    let response = anonymous
        .get(app.url("/userinfo"))
        .bearer_auth(&over_the_field_limit)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    assert_eq!(
        kept(&app).await,
        before,
        "audit rows, Redis keys, cached clients"
    );
}
