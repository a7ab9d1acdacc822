//! The trace export: OTLP over HTTP with protobuf bodies (OTLP specification, "OTLP/HTTP"), POSTed
//! to `<PORTCULLIS_OTLP_ENDPOINT>/v1/traces` by a batch processor running on Tokio. Spans wait in
//! a bounded queue (the SDK's default, 2048; beyond it they are dropped and counted, never held)
//! and leave every 5 s or every 512 spans. The HTTP client is reqwest on OpenSSL, so an `https`
//! collector works with the system's roots; its answer is read up to [`MAX_ANSWER`] bytes.
//!
//! The resource says who speaks: `service.name` = `portcullis`, `service.version`, and the
//! issuer (`portcullis.issuer`), which tells deployments apart in one collector.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Subscriber, span};
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// How long one export may take before it is given up (and its spans with it).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the flush at shutdown may take.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// A collector answers an export with a small message; more is not read.
pub const MAX_ANSWER: usize = 64 * 1024;

/// The export, as long as it runs; [`Traces::shutdown`] sends what is still queued.
#[must_use = "the queued spans are sent by `shutdown`"]
pub struct Traces {
    provider: Option<SdkTracerProvider>,
}

impl Traces {
    /// No export (`PORTCULLIS_OTLP_ENDPOINT` unset, or not the server).
    pub fn off() -> Traces {
        Traces { provider: None }
    }

    /// Whether spans are being exported.
    pub fn is_on(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports the spans still queued and stops the exporter, waiting at most a few seconds (an
    /// unreachable collector does not hold up the exit).
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        // The SDK blocks its thread until the exporting task answers: not on a runtime worker.
        let done =
            tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT));
        match tokio::time::timeout(SHUTDOWN_TIMEOUT, done).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "the last traces were not exported"),
            Ok(Err(_)) | Err(_) => tracing::warn!("the last traces were not exported in time"),
        }
    }
}

/// The exporter and its tracer, for `endpoint` (the collector's base URL).
pub(super) fn pipeline(
    endpoint: &url::Url,
    issuer: &str,
) -> Result<(Traces, SdkTracer), opentelemetry_otlp::ExporterBuildError> {
    let client = reqwest::Client::builder()
        .timeout(EXPORT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| opentelemetry_otlp::ExporterBuildError::InternalFailure(e.to_string()))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(Client(client))
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces_url(endpoint))
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    let processor =
        BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio).build();
    let resource = Resource::builder()
        .with_service_name("portcullis")
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("portcullis.issuer", issuer.to_owned()),
        ])
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("portcullis");
    Ok((
        Traces {
            provider: Some(provider),
        },
        tracer,
    ))
}

/// The layer that turns Portcullis's spans (and the events inside them) into OTLP spans. It sees
/// what [`Wanted`] lets through.
pub(super) fn layer<S>(tracer: SdkTracer) -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(tracer)
}

/// Portcullis's own spans and events at `debug` and above (the request span is `debug` unless
/// the access log is on); libraries' (sqlx, hyper) only as far as the log wants them.
fn ours(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("portcullis") && *metadata.level() <= Level::DEBUG
}

/// The subscriber's filter while traces are exported: what the log asks for, and [`ours`].
pub(super) struct Wanted {
    log: EnvFilter,
}

impl Wanted {
    pub(super) fn new(log: EnvFilter) -> Wanted {
        Wanted { log }
    }
}

impl<S: Subscriber> Layer<S> for Wanted {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if ours(metadata) {
            // The log's filter still records the callsite (its per-span directives).
            let _ = Layer::<S>::register_callsite(&self.log, metadata);
            Interest::always()
        } else {
            Layer::<S>::register_callsite(&self.log, metadata)
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        ours(metadata) || self.log.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let log = Layer::<S>::max_level_hint(&self.log).unwrap_or(LevelFilter::TRACE);
        Some(log.max(LevelFilter::DEBUG))
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.log.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.log.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.log.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.log.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.log.on_close(id, ctx);
    }
}

/// The log layer, given only the events its own filter (`RUST_LOG`) wants: the `debug` events
/// let through for the export stay out of the log.
pub(super) struct LogOnly<L> {
    log: L,
    filter: EnvFilter,
}

impl<L> LogOnly<L> {
    pub(super) fn new(log: L, filter: EnvFilter) -> LogOnly<L> {
        LogOnly { log, filter }
    }
}

impl<S, L> Layer<S> for LogOnly<L>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.log.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.log.on_layer(subscriber);
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.filter.on_new_span(attrs, id, ctx.clone());
        self.log.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.filter.on_record(id, values, ctx.clone());
        self.log.on_record(id, values, ctx);
    }

    fn on_follows_from(&self, span: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        self.log.on_follows_from(span, follows, ctx);
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if self.filter.enabled(event.metadata(), ctx.clone()) {
            self.log.on_event(event, ctx);
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.filter.on_enter(id, ctx.clone());
        self.log.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.filter.on_exit(id, ctx.clone());
        self.log.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.filter.on_close(id.clone(), ctx.clone());
        self.log.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &span::Id, new: &span::Id, ctx: Context<'_, S>) {
        self.log.on_id_change(old, new, ctx);
    }
}

/// `http://collector:4318` → `http://collector:4318/v1/traces` (the OTLP/HTTP path of traces).
pub fn traces_url(endpoint: &url::Url) -> String {
    format!("{}/v1/traces", endpoint.as_str().trim_end_matches('/'))
}

/// reqwest 0.12 as the exporter's HTTP client.
#[derive(Debug)]
struct Client(reqwest::Client);

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let mut response = self.0.execute(request).await?;
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(format!("the collector answered more than {MAX_ANSWER} bytes").into());
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = http::Response::new(body.freeze());
        *answer.status_mut() = response.status();
        *answer.headers_mut() = std::mem::take(response.headers_mut());
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_to_the_base_url() {
        let url = |raw: &str| traces_url(&url::Url::parse(raw).unwrap());
        assert_eq!(
            url("http://127.0.0.1:4318"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            url("http://127.0.0.1:4318/"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            url("https://otel.example.com/collector/"),
            "https://otel.example.com/collector/v1/traces"
        );
    }
}
