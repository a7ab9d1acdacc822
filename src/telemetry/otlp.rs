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
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
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

/// The layer that turns Portcullis's spans (and the events inside them) into OTLP spans: its own
/// targets at `debug` and above, so the request span is there though the log leaves it out.
/// Libraries' spans (sqlx, hyper) stay out.
pub(super) fn layer<S>(tracer: SdkTracer) -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(Targets::new().with_target("portcullis", tracing::Level::DEBUG))
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
