//! Logging: human-readable text or one JSON object per line, filtered by `RUST_LOG` (default
//! `info`). Secrets never become fields: they are wrapped in `Secret`, which prints as
//! `[redacted]`, and request spans record the path without the query string. Colours only when
//! stderr is a terminal, so files and log collectors get plain text. Which requests are logged is
//! `http::access`'s business (`PORTCULLIS_ACCESS_LOG`).
//!
//! Traces: with `PORTCULLIS_OTLP_ENDPOINT` set, a second layer exports Portcullis's own spans (the
//! request, grants, client authentication, sign-in steps, store calls; `debug` and above, whatever
//! `RUST_LOG` says) over OTLP ([`otlp`]); the log still shows only what `RUST_LOG` asks for. Unset, the
//! subscriber is exactly the logging one: a `debug` span costs nothing when nobody listens.

pub mod otlp;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{Config, LogFormat};
pub use otlp::Traces;

/// Installs the global logging subscriber, without traces; a second call (tests) is ignored.
pub fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Installs the global subscriber for `config`: the log and, when `PORTCULLIS_OTLP_ENDPOINT` is
/// set, the trace export. Must run inside the Tokio runtime (the exporter is a task on it). Only
/// the first call in a process installs anything; the answer's [`Traces::shutdown`] flushes.
pub fn start(config: &Config) -> Traces {
    let Some(endpoint) = &config.otlp_endpoint else {
        init(config.log_format);
        return Traces::off();
    };
    // Built only if it can be installed: a pipeline dropped unused would block on its own flush.
    if tracing::dispatcher::has_been_set() {
        return Traces::off();
    }
    let (traces, tracer) = match otlp::pipeline(endpoint, &config.issuer) {
        Ok(pipeline) => pipeline,
        Err(error) => {
            init(config.log_format);
            tracing::error!(%error, "traces are off: the OTLP exporter could not be built");
            return Traces::off();
        }
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let log = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let log = match config.log_format {
        LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
        LogFormat::Text => log.boxed(),
    };
    // One filter for the whole subscriber, and the log's level checked again by the log alone:
    // per-layer filters lost spans here (a span enabled for one layer and not the other).
    let installed = tracing_subscriber::registry()
        .with(otlp::Wanted::new(env_filter()))
        .with(otlp::LogOnly::new(log, env_filter()))
        .with(otlp::layer(tracer))
        .try_init();
    match installed {
        Ok(()) => {
            tracing::info!(endpoint = %endpoint, "exporting traces over OTLP");
            traces
        }
        // Another subscriber was installed first (a second app in one test process).
        Err(_) => Traces::off(),
    }
}

fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"))
}
