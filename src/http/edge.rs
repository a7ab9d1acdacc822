//! The edge: what every request gets on its way in and out, as one tower service around each
//! route. In order: the request id and span of [`access`]; bounded input ([`bounded`], which may
//! refuse the request before its handler runs); the handler; the one log line of a server error
//! ([`failure`]); the security headers and `no-store` on HTML pages ([`headers`]); and the metrics,
//! the access line and the echoed request id ([`access`]).
//!
//! One hand-written service instead of a stack of `from_fn` middlewares: each of those boxes the
//! rest of the stack and its own future on every request, and on the JWKS and the token endpoint
//! that was a measurable share of the time. Here there is one boxed future per request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use tower::{Layer, Service, ServiceExt as _};
use tracing::Instrument as _;

use super::{access, bounded, failure, headers};
use crate::config::AccessLog;
use crate::metrics::{Metrics, RouteMetrics};

/// What the edge needs: the access-log setting, the metrics, and whether the issuer is https
/// (for HSTS). Shared by every route's copy of the service: a clone is one reference count.
#[derive(Clone)]
pub struct EdgeLayer(Arc<Settings>);

pub struct Settings {
    pub log: AccessLog,
    pub metrics: Arc<Metrics>,
    pub https: bool,
}

impl EdgeLayer {
    pub fn new(settings: Settings) -> Self {
        EdgeLayer(Arc::new(settings))
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            settings: self.0.clone(),
            metrics: Arc::default(),
        }
    }
}

/// The service [`EdgeLayer`] wraps a route in. axum applies the layer to each route (and each
/// method of it) once, so `metrics` is this route's own.
#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    settings: Arc<Settings>,
    metrics: Arc<RouteMetrics>,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was polled ready serves this request; a clone stays for the next.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        let settings = self.settings.clone();
        let metrics = self.metrics.clone();
        Box::pin(async move { Ok(serve(&settings, &metrics, inner, request).await) })
    }
}

async fn serve<S>(
    settings: &Settings,
    route_metrics: &RouteMetrics,
    inner: S,
    request: Request,
) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let started = Instant::now();
    let id = access::request_id(&request);
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    // A clone of the URI shares its bytes with the request: no copy of the path.
    let uri = request.uri().clone();
    let span = access::span(settings.log, &method, uri.path(), &id);

    let mut response = async {
        let response = match bounded::admit(request).await {
            Ok(request) => match inner.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
            Err(refused) => refused,
        };
        failure::log(&method, route.as_ref(), &response);
        response
    }
    .instrument(span.clone())
    .await;

    headers::apply(response.headers_mut(), settings.https);
    access::finish(
        &access::Finished {
            log: settings.log,
            metrics: &settings.metrics,
            route_metrics,
            span: &span,
            method: &method,
            path: uri.path(),
            route: route.as_ref(),
            id: &id,
            elapsed: started.elapsed(),
        },
        &mut response,
    );
    response
}
