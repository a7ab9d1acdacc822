//! `Mailbox`: a real SMTP server on 127.0.0.1 and a port of its own (`tests/smtp/sink.py`, on
//! Python's aiosmtpd), for the tests of what the app sends by mail: hand its [`Mailbox::url`] to
//! the app ([`crate::helpers::Settings::with_mail`]), then read each message it received, decoded,
//! as a [`Mail`]. Messages are files in a directory of the mailbox's own under the system temp
//! directory, removed with the mailbox; the server can be stopped (the port then refuses
//! connections) and restarted on the same port, keeping what it stored.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long the server may take to listen.
const READY_WITHIN: Duration = Duration::from_secs(10);

pub struct Mailbox {
    port: u16,
    dir: PathBuf,
    server: Option<Child>,
}

/// One message as the server received it (the fields `tests/smtp/sink.py` writes).
#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    /// The envelope's sender (`MAIL FROM`), `<>` for a null sender.
    pub mail_from: String,
    /// The envelope's recipients (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// Header name as received → its raw values as received (folding kept), in order.
    pub headers: BTreeMap<String, Vec<String>>,
    /// The decoded headers (RFC 2047 encoded words undone), "" when absent.
    pub subject: String,
    pub from: String,
    pub to: String,
    /// The decoded text/plain part (lines end in `\n`), "" when there is none.
    pub text: String,
    /// The decoded text/html part.
    pub html: Option<String>,
    /// The whole message, as received.
    pub raw: String,
}

impl Mailbox {
    /// Starts the server on a free loopback port.
    pub async fn start() -> Mailbox {
        let dir = std::env::temp_dir().join(format!("portcullis-mail-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create the mailbox directory");
        let mut mailbox = Mailbox {
            port: crate::cluster::free_port(),
            dir,
            server: None,
        };
        mailbox.restart().await;
        mailbox
    }

    /// `smtp://127.0.0.1:<port>`: plain SMTP, no TLS, no authentication.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The port it listens on (the same after a restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server: its port refuses connections; the messages it stored stay readable.
    pub async fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // Each message is renamed into place whole, so killing loses none that was accepted.
            server.kill().await.expect("kill the SMTP server");
        }
    }

    /// Starts the server again (after [`Mailbox::stop`]) on the same port, into the same
    /// directory; the messages it receives come after those it stored before.
    pub async fn restart(&mut self) {
        self.stop().await;
        let sink = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/sink.py");
        let mut server = Command::new("python3")
            .arg(sink)
            .arg(self.port.to_string())
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start python3 (the SMTP server of the mail tests runs on it)");
        let stdout = server.stdout.take().expect("the server's stdout");
        let mut first = String::new();
        let mut stdout = BufReader::new(stdout);
        let ready = tokio::time::timeout(READY_WITHIN, stdout.read_line(&mut first)).await;
        if !matches!(ready, Ok(Ok(_)) if first.trim() == "ready") {
            let _ = server.kill().await;
            panic!(
                "the SMTP server (python3 {sink}) did not get ready on 127.0.0.1:{} within \
                 {READY_WITHIN:?} (said {first:?}; its error is above): is Python's aiosmtpd \
                 1.4.6 installed? `./test` installs it",
                self.port
            );
        }
        self.server = Some(server);
    }

    /// Every message received so far, in the order received.
    pub fn messages(&self) -> Vec<Mail> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .expect("read the mailbox directory")
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            // Files being written have a dot-name until they are whole.
            .filter(|name| name.ends_with(".json") && !name.starts_with('.'))
            .collect();
        names.sort();
        names
            .iter()
            .map(|name| {
                let json = std::fs::read(self.dir.join(name)).expect("read a stored message");
                serde_json::from_slice(&json)
                    .unwrap_or_else(|e| panic!("stored message {name} does not parse: {e}"))
            })
            .collect()
    }

    /// The first message `what` holds for, once it has arrived; fails the test, naming the
    /// messages received, if none has within `timeout`. Polls every 100 ms.
    pub async fn wait_for(&self, what: impl Fn(&Mail) -> bool, timeout: Duration) -> Mail {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if let Some(mail) = messages.iter().find(|mail| what(mail)) {
                return mail.clone();
            }
            if Instant::now() >= deadline {
                let seen: Vec<String> = messages
                    .iter()
                    .map(|mail| format!("{:?} to {:?}", mail.subject, mail.rcpt_tos))
                    .collect();
                panic!(
                    "no matching mail within {timeout:?}; received {}: [{}]",
                    seen.len(),
                    seen.join(", ")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first message to `address` (an envelope recipient), once it has arrived.
    pub async fn wait_for_to(&self, address: &str, timeout: Duration) -> Mail {
        self.wait_for(|mail| mail.is_to(address), timeout).await
    }

    /// How many messages to `address` (an envelope recipient) have arrived.
    pub fn count_to(&self, address: &str) -> usize {
        self.messages()
            .iter()
            .filter(|mail| mail.is_to(address))
            .count()
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        if let Some(server) = self.server.as_mut() {
            let _ = server.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Mail {
    /// Whether `address` is among the envelope's recipients (ASCII case aside).
    pub fn is_to(&self, address: &str) -> bool {
        self.rcpt_tos
            .iter()
            .any(|r| r.eq_ignore_ascii_case(address))
    }

    /// The address of the `To` header (`bob@example.test` of `Bob <bob@example.test>`), or the
    /// first envelope recipient when the message has no `To`.
    pub fn to_address(&self) -> String {
        let to = self.to.trim();
        match (to.rfind('<'), to.rfind('>')) {
            (Some(open), Some(close)) if open < close => to[open + 1..close].to_owned(),
            _ if to.is_empty() => self.rcpt_tos.first().cloned().unwrap_or_default(),
            _ => to.to_owned(),
        }
    }

    /// The raw values of the header `name` (ASCII case aside), in order; empty when absent.
    pub fn header(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .flat_map(|(_, values)| values.iter().cloned())
            .collect()
    }

    /// The first `http://` or `https://` URL in the text body whose path starts with
    /// `path_prefix` (`/account/confirm`, say); a URL ends at whitespace or `>`.
    pub fn link(&self, path_prefix: &str) -> Option<String> {
        let text = self.text.as_str();
        text.match_indices("http").find_map(|(at, _)| {
            let rest = &text[at..];
            let url = &rest[..rest
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap_or(rest.len())];
            let after_scheme = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"))?;
            let path = &after_scheme[after_scheme
                .find(['/', '?', '#'])
                .unwrap_or(after_scheme.len())..];
            path.starts_with(path_prefix).then(|| url.to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    use super::Mailbox;

    const JUERGEN: &str = "juergen@example.test";

    /// Quoted-printable text (a soft line break inside the link) and html, an RFC 2047 subject.
    const CONFIRM: &str = r#"From: Portcullis <no-reply@example.test>
To: =?utf-8?q?J=C3=BCrgen?= <juergen@example.test>
Subject: =?utf-8?q?Best=C3=A4tigen_Sie_Ihre_Adresse?=
X-Twice: one
X-Twice: two
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Hallo J=C3=BCrgen,
.a line that starts with a dot
<http://127.0.0.1:9/elsewhere>
Best=C3=A4tigen: http://127.0.0.1:9/account/confirm?token=3Dabc&next=3D%2F=
more
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p><a href=3D"http://127.0.0.1:9/account/confirm">Best=C3=A4tigen</a></p>
--b1--
"#;

    /// Sends `message` (lines ending in `\n`) from `from` to `to` in one SMTP session
    /// (RFC 5321 §3.3), dot-stuffed (§4.5.2).
    async fn send(port: u16, from: &str, to: &str, message: &str) {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut data: String = message
            .lines()
            .map(|line| {
                let stuffed = if line.starts_with('.') { "." } else { "" };
                format!("{stuffed}{line}\r\n")
            })
            .collect();
        data.push_str(".\r\n");
        let steps = [
            (None, 220),
            (Some("EHLO client.test\r\n".to_owned()), 250),
            (Some(format!("MAIL FROM:<{from}>\r\n")), 250),
            (Some(format!("RCPT TO:<{to}>\r\n")), 250),
            (Some("DATA\r\n".to_owned()), 354),
            (Some(data), 250),
            (Some("QUIT\r\n".to_owned()), 221),
        ];
        for (request, code) in steps {
            if let Some(request) = request {
                write.write_all(request.as_bytes()).await.unwrap();
            }
            // A reply's lines are `<code>-...` but for the last, `<code> ...` (§4.2.1).
            loop {
                let mut line = String::new();
                read.read_line(&mut line).await.unwrap();
                assert!(line.starts_with(&code.to_string()), "want {code}: {line:?}");
                if line.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
        }
    }

    #[tokio::test]
    async fn mailbox_decodes_messages_and_keeps_them_across_a_restart() {
        let mut mailbox = Mailbox::start().await;
        assert_eq!(
            mailbox.url(),
            format!("smtp://127.0.0.1:{}", mailbox.port())
        );
        send(mailbox.port(), "no-reply@example.test", JUERGEN, CONFIRM).await;
        let second = "Subject: Second\nTo: other@example.test\n\nplain\n";
        send(mailbox.port(), "", "other@example.test", second).await;

        let mail = mailbox.wait_for_to(JUERGEN, Duration::from_secs(5)).await;
        assert_eq!(mail.mail_from, "no-reply@example.test");
        assert_eq!(mail.rcpt_tos, [JUERGEN]);
        assert_eq!(mail.subject, "Bestätigen Sie Ihre Adresse");
        assert_eq!(mail.from, "Portcullis <no-reply@example.test>");
        assert_eq!(mail.to, "Jürgen <juergen@example.test>");
        assert_eq!(mail.to_address(), JUERGEN);
        assert_eq!(
            mail.header("subject"),
            ["=?utf-8?q?Best=C3=A4tigen_Sie_Ihre_Adresse?="]
        );
        assert_eq!(mail.header("X-TWICE"), ["one", "two"]);
        assert!(mail.header("Bcc").is_empty());
        assert!(
            mail.text
                .starts_with("Hallo Jürgen,\n.a line that starts with a dot\n"),
            "{:?}",
            mail.text
        );
        assert_eq!(
            mail.html.as_deref(),
            Some("<p><a href=\"http://127.0.0.1:9/account/confirm\">Bestätigen</a></p>")
        );
        assert!(mail.raw.contains("Subject: =?utf-8?q?Best"), "{}", mail.raw);
        assert_eq!(
            mail.link("/account/confirm").as_deref(),
            Some("http://127.0.0.1:9/account/confirm?token=abc&next=%2Fmore")
        );
        assert_eq!(
            mail.link("/else").as_deref(),
            Some("http://127.0.0.1:9/elsewhere")
        );
        assert_eq!(mail.link("/nowhere"), None);

        let other = mailbox
            .wait_for(|m| m.subject == "Second", Duration::from_secs(5))
            .await;
        assert_eq!(
            (other.mail_from.as_str(), other.html.as_deref()),
            ("<>", None)
        );
        assert_eq!(other.to_address(), "other@example.test");
        assert_eq!(other.text, "plain\n");
        assert_eq!(mailbox.count_to("OTHER@example.test"), 1);

        mailbox.stop().await;
        assert!(
            TcpStream::connect(("127.0.0.1", mailbox.port()))
                .await
                .is_err(),
            "a stopped mailbox refuses connections"
        );
        assert_eq!(
            mailbox.messages().len(),
            2,
            "stored messages outlive the server"
        );

        mailbox.restart().await;
        let third = "Subject: Third\n\nagain\n";
        send(mailbox.port(), "a@example.test", JUERGEN, third).await;
        let subjects: Vec<String> = mailbox.messages().into_iter().map(|m| m.subject).collect();
        assert_eq!(subjects, ["Bestätigen Sie Ihre Adresse", "Second", "Third"]);
        assert_eq!(mailbox.count_to(JUERGEN), 2);
    }

    #[tokio::test]
    #[should_panic(expected = "no matching mail within 300ms; received 0: []")]
    async fn mailbox_wait_for_fails_when_nothing_arrives() {
        let mailbox = Mailbox::start().await;
        mailbox
            .wait_for_to(JUERGEN, Duration::from_millis(300))
            .await;
    }
}
