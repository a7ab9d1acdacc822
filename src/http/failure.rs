//! The one place where failed requests are logged. An error that becomes a 5xx response leaves
//! its cause on the response as a [`Failure`] extension (the error types' `IntoResponse` do it);
//! [`log`], called by the edge around every route, logs each 5xx once: at `error` for our own
//! failures (500), at `warn` when a store we depend on is unavailable (503), with the method, the
//! matched route and the cause's whole source chain. The request span adds the request id. A
//! caller's mistake (4xx) is the caller's business and is not logged here.

use axum::extract::MatchedPath;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::error::Source;

/// The cause of a 5xx response, for [`log`]; never sent to the client.
#[derive(Clone)]
pub struct Failure(pub Source);

impl Failure {
    pub fn new(cause: impl Into<anyhow::Error>) -> Self {
        Failure(crate::error::source(cause))
    }
}

/// Logs a 5xx response once, with its [`Failure`] when it carries one; anything else is not
/// logged here.
pub fn log(method: &Method, route: Option<&MatchedPath>, response: &Response) {
    let status = response.status();
    if !status.is_server_error() {
        return;
    }
    let route = route.map_or("-", MatchedPath::as_str);
    let error = response
        .extensions()
        .get::<Failure>()
        .map(|failure| crate::error::chain(&*failure.0));
    let error = error.as_deref().unwrap_or("-");
    let status = status.as_u16();
    if status == StatusCode::SERVICE_UNAVAILABLE.as_u16() {
        tracing::warn!(%method, route, status, error, "request failed: unavailable");
    } else {
        tracing::error!(%method, route, status, error, "request failed");
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use anyhow::Context as _;
    use axum::extract::Request;
    use axum::response::IntoResponse as _;
    use tower::ServiceExt as _;

    use super::*;
    use crate::http::error::PageError;
    use crate::oauth::error::{ErrorCode, OAuthError};

    /// Log lines written into a buffer by a subscriber of this test only.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    /// Calls `path` on a router of failing handlers behind the edge, and returns the
    /// status, the body and what was logged meanwhile.
    async fn call(path: &str) -> (StatusCode, String, Vec<String>) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let db_down = || {
            let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
            crate::error::Error::Db(sqlx::Error::Io(refused))
        };
        let page = move || async move {
            let e = Err::<(), _>(db_down()).context("cannot load the user");
            PageError::Internal(e.unwrap_err()).into_response()
        };
        let oauth = move || async move { OAuthError::from(db_down()).into_response() };
        let mistake = || async {
            OAuthError::new(ErrorCode::InvalidGrant, "code already used").into_response()
        };
        let not_found = || async { PageError::NotFound.into_response() };
        let redis = || async {
            let down = redis::RedisError::from(std::io::Error::other("connection reset"));
            PageError::from(down).into_response()
        };
        let app = axum::Router::new()
            .route("/page/{id}", axum::routing::get(page))
            .route("/token", axum::routing::post(oauth))
            .route("/mistake", axum::routing::post(mistake))
            .route("/missing", axum::routing::get(not_found))
            .route("/login", axum::routing::get(redis))
            .layer(crate::http::edge::EdgeLayer::new(
                crate::http::edge::Settings {
                    log: crate::config::AccessLog::Off,
                    metrics: Arc::new(crate::metrics::Metrics::new()),
                    https: false,
                },
            ));
        let method = if path == "/token" || path == "/mistake" {
            "POST"
        } else {
            "GET"
        };
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap_or_default();
        let response = app.oneshot(request).await.unwrap_or_default();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap_or_default();
        (
            status,
            String::from_utf8_lossy(&body).into_owned(),
            captured.lines(),
        )
    }

    #[tokio::test]
    async fn a_500_is_logged_once_with_its_whole_source_chain() {
        let (status, body, lines) = call("/page/42").await;
        assert!(!body.contains("refused"), "{body}");
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        let line = &lines[0];
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains("method=GET"), "{line}");
        assert!(line.contains("route=\"/page/{id}\""), "{line}");
        assert!(line.contains("cannot load the user"), "{line}");
        assert!(line.contains("refused"), "the root cause is logged: {line}");
    }

    #[tokio::test]
    async fn an_oauth_server_error_is_logged_once_and_not_sent() {
        let (status, body, lines) = call("/token").await;
        assert!(
            body.contains("server_error") && !body.contains("refused"),
            "{body}"
        );
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(
            lines[0].contains("ERROR") && lines[0].contains("refused"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("route=\"/token\""), "{}", lines[0]);
    }

    #[tokio::test]
    async fn a_callers_mistake_is_not_logged_as_an_error() {
        for path in ["/mistake", "/missing"] {
            let (status, _, lines) = call(path).await;
            assert!(status.is_client_error(), "{path}: {status}");
            assert!(
                lines
                    .iter()
                    .all(|l| !l.contains("ERROR") && !l.contains("WARN")),
                "{path}: {lines:#?}"
            );
        }
    }

    #[tokio::test]
    async fn an_unavailable_store_is_a_warning_with_its_cause() {
        let (status, _, lines) = call("/login").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(lines[0].contains("WARN"), "{}", lines[0]);
        assert!(lines[0].contains("connection reset"), "{}", lines[0]);
    }
}
