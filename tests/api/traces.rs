//! Traces over OTLP: a server with `PORTCULLIS_OTLP_ENDPOINT` pointing at a collector (here a
//! stand-in that decodes the OTLP/HTTP protobuf export, as the OpenTelemetry Collector would)
//! sends a token request as one trace: the request, the client's authentication, the client
//! lookup and the grant, linked parent to child, from `service.name` = `portcullis`; a password
//! sign-in as its steps and store calls. A collector that does not answer costs the requests
//! nothing.
//!
//! Each test is its own process (nextest): the first app of a process installs the subscriber.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message as _;

use crate::helpers::{Settings, TestApp, eventually};
use crate::machines::client_credentials;
use crate::signin::{browser, sign_in};

/// A span as the collector received it.
#[derive(Debug, Clone)]
struct Received {
    name: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent: Vec<u8>,
    attributes: Vec<(String, String)>,
    resource: Vec<(String, String)>,
}

impl Received {
    fn attribute(&self, key: &str) -> Option<&str> {
        find(&self.attributes, key)
    }
}

fn find<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Everything the stand-in received: the spans, and the exports it could not decode.
#[derive(Default)]
struct Inbox {
    spans: Vec<Received>,
    refused: Vec<String>,
}

type Shared = Arc<Mutex<Inbox>>;

/// A stand-in for an OpenTelemetry Collector's OTLP/HTTP receiver on 127.0.0.1.
struct Collector {
    base: String,
    inbox: Shared,
}

impl Collector {
    async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inbox = Shared::default();
        let router = axum::Router::new()
            .route("/v1/traces", axum::routing::post(receive))
            .with_state(inbox.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Collector { base, inbox }
    }

    fn spans(&self) -> Vec<Received> {
        let inbox = self.inbox.lock().unwrap();
        assert!(inbox.refused.is_empty(), "bad exports: {:?}", inbox.refused);
        inbox.spans.clone()
    }
}

/// `POST /v1/traces`: an `ExportTraceServiceRequest` in protobuf (OTLP/HTTP, binary encoding).
async fn receive(
    State(inbox): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], Vec<u8>) {
    let protobuf = [(header::CONTENT_TYPE, "application/x-protobuf")];
    let content_type = headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes());
    if content_type != Some(b"application/x-protobuf".as_slice()) {
        inbox
            .lock()
            .unwrap()
            .refused
            .push(format!("content-type {content_type:?}"));
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, protobuf, vec![]);
    }
    let export = match ExportTraceServiceRequest::decode(body) {
        Ok(export) => export,
        Err(error) => {
            inbox.lock().unwrap().refused.push(error.to_string());
            return (StatusCode::BAD_REQUEST, protobuf, vec![]);
        }
    };
    let mut inbox = inbox.lock().unwrap();
    for resource_spans in export.resource_spans {
        let resource = strings(&resource_spans.resource.unwrap_or_default().attributes);
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                inbox.spans.push(Received {
                    name: span.name,
                    trace_id: span.trace_id,
                    span_id: span.span_id,
                    parent: span.parent_span_id,
                    attributes: strings(&span.attributes),
                    resource: resource.clone(),
                });
            }
        }
    }
    let answer = ExportTraceServiceResponse::default().encode_to_vec();
    (StatusCode::OK, protobuf, answer)
}

/// The attributes whose values are strings (or shown as one).
fn strings(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .filter_map(|kv| {
            let value = match kv
                .value
                .as_ref()
                .and_then(|v: &AnyValue| v.value.as_ref())?
            {
                any_value::Value::StringValue(s) => s.clone(),
                any_value::Value::BoolValue(b) => b.to_string(),
                any_value::Value::IntValue(i) => i.to_string(),
                other => format!("{other:?}"),
            };
            Some((kv.key.clone(), value))
        })
        .collect()
}

/// Whether `span` descends from `ancestor` (through the spans received).
fn descends(spans: &[Received], span: &Received, ancestor: &Received) -> bool {
    let mut at = span;
    for _ in 0..32 {
        if at.parent == ancestor.span_id {
            return true;
        }
        match spans.iter().find(|s| s.span_id == at.parent) {
            Some(parent) => at = parent,
            None => return false,
        }
    }
    false
}

/// The spans received once every name in `wanted` is among them (a batch leaves every 5 s).
async fn received(collector: &Collector, wanted: &[&str]) -> Vec<Received> {
    eventually(Duration::from_secs(20), "the spans of the request", || {
        let spans = collector.spans();
        let all = wanted
            .iter()
            .all(|name| spans.iter().any(|s| s.name == *name));
        async move { all.then_some(spans) }
    })
    .await
}

/// The one span named `name`.
fn named<'a>(spans: &'a [Received], name: &str) -> &'a Received {
    let found: Vec<&Received> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} span: {spans:#?}");
    found[0]
}

/// A collector, and a server that sends it its traces.
async fn traced_app() -> (Collector, TestApp) {
    let collector = Collector::start().await;
    let app = Settings::new()
        .await
        .set("PORTCULLIS_OTLP_ENDPOINT", &collector.base)
        .spawn()
        .await;
    (collector, app)
}

#[tokio::test]
async fn a_token_request_reaches_the_collector_as_one_trace() {
    let (collector, app) = traced_app().await;
    let service = app.service("Traced worker", &["invoices:read"], &[]).await;
    let (status, body) = client_credentials(&app, &service, &[("scope", "invoices:read")]).await;
    assert_eq!(status, 200, "{body}");

    let wanted = ["request", "authenticate", "exchange", "client_credentials"];
    let spans = received(&collector, &wanted).await;
    let named = |name: &str| named(&spans, name);
    let request = named("request");
    assert_eq!(request.attribute("path"), Some("/token"));
    assert_eq!(request.attribute("method"), Some("POST"));
    assert!(request.parent.is_empty(), "the request span is the root");
    assert_eq!(request.trace_id.len(), 16);
    let authenticate = named("authenticate");
    let exchange = named("exchange");
    let grant = named("client_credentials");
    for span in [authenticate, exchange, grant] {
        assert_eq!(
            span.trace_id, request.trace_id,
            "{} is in the trace",
            span.name
        );
        assert!(
            descends(&spans, span, request),
            "{} is under the request",
            span.name
        );
    }
    assert_eq!(exchange.parent, request.span_id);
    assert_eq!(grant.parent, exchange.span_id);
    assert_eq!(grant.attribute("client_id"), Some(service.id.as_str()));
    // The client lookup, a store call, is in the trace too.
    let lookup = named("clients.cache.get");
    assert!(descends(&spans, lookup, request));
    for span in &spans {
        assert_eq!(find(&span.resource, "service.name"), Some("portcullis"));
        assert_eq!(
            find(&span.resource, "portcullis.issuer"),
            Some(app.address.as_str())
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_password_sign_in_shows_its_steps_and_store_calls() {
    let (collector, app) = traced_app().await;
    let user = app.user("traced.person", false).await;
    let response = sign_in(&app, &browser(), &user).await;
    assert_eq!(response.status(), 303);

    let wanted = [
        "sign_in.password",
        "store.users.credentials",
        "verify.password",
        "sign_in.complete",
    ];
    let spans = received(&collector, &wanted).await;
    let step = named(&spans, "sign_in.password");
    let request = spans
        .iter()
        .find(|s| {
            s.name == "request"
                && s.attribute("method") == Some("POST")
                && s.trace_id == step.trace_id
        })
        .expect("the sign-in's request span was exported");
    assert!(descends(&spans, step, request));
    // Where the time went: the user's row, the password check, the session, the audit event.
    for name in [
        "store.users.credentials",
        "verify.password",
        "sign_in.complete",
    ] {
        let span = named(&spans, name);
        assert_eq!(span.trace_id, request.trace_id, "{name} is in the trace");
        assert_eq!(span.parent, step.span_id, "{name} is a step of the sign-in");
    }
    let session_calls = spans
        .iter()
        .filter(|s| s.name.starts_with("store.sessions.") && s.trace_id == request.trace_id)
        .count();
    assert!(
        session_calls > 0,
        "the session's store calls are in the trace: {spans:#?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_collector_that_does_not_answer_costs_the_requests_nothing() {
    // A port that was just free: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let app = Settings::new()
        .await
        .set("PORTCULLIS_OTLP_ENDPOINT", &closed)
        .spawn()
        .await;
    let service = app
        .service("Untraced worker", &["invoices:read"], &[])
        .await;
    let started = Instant::now();
    let attempts = (0..40).map(|_| client_credentials(&app, &service, &[]));
    for (status, body) in futures_util::future::join_all(attempts).await {
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    app.stop().await;
}
