//! Logging: human-readable text or one JSON object per line, filtered by `RUST_LOG` (default
//! `info`). Secrets never become fields: they are wrapped in `Secret`, which prints as
//! `[redacted]`, and request spans record the path without the query string. Colours only when
//! stderr is a terminal, so files and log collectors get plain text. Which requests are logged is
//! `http::access`'s business (`PORTCULLIS_ACCESS_LOG`).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; a second call (tests) is ignored.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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
