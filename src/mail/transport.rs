//! Handing a composed mail to the world: SMTP through `lettre` (plain on loopback, STARTTLS with
//! `?tls=required`, or implicit TLS with `smtps://`, optionally with a user and password in the
//! URL; TLS through OpenSSL like everything else here), or, without `PORTCULLIS_SMTP_URL` (and in
//! `--demo`), the log: each mail written as one log line marked `MAIL NOT SENT`, so the flows can
//! be tried without a mail server. Recipients are plain addresses; names never go into a header,
//! and lettre encodes the subject (RFC 2047), so nothing from an account can add a header.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use super::compose::Composed;
use crate::secret::{Secret, redact_url};

/// How long one SMTP conversation may take before it counts as a failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Written to the log (no SMTP server configured).
    Log,
}

/// The sender of every mail.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server refused it for good (5xx: no such mailbox, relaying denied): retrying will not help.
    #[error("refused: {0}")]
    Permanent(String),
    /// The server is down, slow or said try later (4xx): retried with backoff.
    #[error("{0}")]
    Transient(String),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Log => "log",
        };
        f.debug_struct("Mailer")
            .field("transport", &transport)
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// Parses `PORTCULLIS_MAIL_FROM` (`Name <address>` or an address).
pub fn parse_from(raw: &str) -> Result<Mailbox, String> {
    raw.trim().parse::<Mailbox>().map_err(|e| {
        format!("`{raw}` is not a sender address ({e}); write `Name <no-reply@example.com>` or an address")
    })
}

/// The sender when none is configured: `Portcullis <no-reply@HOST>` for the issuer's host (or
/// `localhost` when the host is an IP address, which an address cannot hold unbracketed).
pub fn default_from(issuer: &str) -> Mailbox {
    let host = url::Url::parse(issuer)
        .ok()
        .and_then(|u| match u.host() {
            Some(url::Host::Domain(d)) => Some(d.to_owned()),
            _ => None,
        })
        .unwrap_or_else(|| "localhost".to_owned());
    // `no-reply@localhost` is a constant, valid address.
    let address = lettre::Address::new("no-reply", &host)
        .unwrap_or_else(|_| lettre::Address::new_dangerous("no-reply", "localhost"));
    Mailbox::new(Some("Portcullis".into()), address)
}

/// Checks `PORTCULLIS_SMTP_URL`: `smtp://` or `smtps://`, with an optional `?tls=required` or
/// `?tls=opportunistic`.
pub fn parse_smtp_url(raw: &str) -> Result<Secret<String>, String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(raw).map_err(|e| {
        format!(
            "`{}` is not an SMTP URL ({e}); use smtp://host:port (plain, for a relay on loopback), \
             smtp://host:587?tls=required (STARTTLS) or smtps://user:password@host:465",
            redact_url(raw)
        )
    })?;
    Ok(Secret::new(raw.to_owned()))
}

impl Mailer {
    /// The mailer for `smtp_url` (already checked by [`parse_smtp_url`]); `None`: the log.
    pub fn new(smtp_url: Option<&Secret<String>>, from: Mailbox) -> anyhow::Result<Self> {
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("PORTCULLIS_SMTP_URL: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => Transport::Log,
        };
        Ok(Self { transport, from })
    }

    /// Whether mails really leave (SMTP) or only reach the log.
    pub fn sends(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    /// Sends `mail` to `to`.
    pub async fn send(&self, to: &str, mail: &Composed) -> Result<(), SendError> {
        let to_box: Mailbox = to
            .parse()
            .map_err(|e| SendError::Permanent(format!("`{to}` is not an address: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(mail.subject.as_str())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                Err(e) => Err(SendError::Transient(e.to_string())),
            },
            Transport::Log => {
                tracing::warn!(
                    to,
                    subject = %mail.subject,
                    text = %mail.text,
                    "MAIL NOT SENT (no PORTCULLIS_SMTP_URL): written here instead"
                );
                Ok(())
            }
        }
    }
}
