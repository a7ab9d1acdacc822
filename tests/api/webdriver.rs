//! A small W3C WebDriver client (over reqwest, no extra crate) driving headless Chromium through
//! chromedriver, for the tests that need a real browser. Screenshots go to
//! `target/artifacts/screenshots/`. The WebAuthn extension (virtual authenticators) is in
//! [`webauthn`].

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

mod webauthn;

pub use webauthn::AuthenticatorOptions;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    http: reqwest::Client,
    _profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session with a fresh
    /// profile and no background networking.
    pub async fn start() -> Browser {
        Self::start_sized(900, 1000).await
    }

    /// A browser with a window of this size (CSS pixels).
    pub async fn start_sized(width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect(
                "chromedriver is installed (Debian package chromium-driver; .ci/run installs it)",
            );
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        crate::helpers::eventually(Duration::from_secs(20), "chromedriver answers", || async {
            http.get(format!("{base}/status"))
                .send()
                .await
                .ok()
                .map(|_| ())
        })
        .await;
        let profile =
            std::env::temp_dir().join(format!("portcullis-chromium-{}", uuid::Uuid::new_v4()));
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
        }}});
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"))
            .to_owned();
        Browser {
            driver,
            base: format!("{base}/session/{session}"),
            http,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        // WebDriver §6.6: an error is a 4xx or 5xx answer; a 200 may carry any value, a script's
        // `{error: ...}` too.
        let failed = !response.status().is_success();
        let response: Value = response.json().await.unwrap();
        if failed {
            panic!(
                "WebDriver {path}: {} {}",
                response["value"]["error"], response["value"]["message"]
            );
        }
        response["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Empties a text field.
    pub async fn clear(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks and waits until the browser is at a URL containing `expected`.
    pub async fn click_to(&self, css: &str, expected: &str) {
        self.click(css).await;
        self.wait_for_url(expected).await;
    }

    /// Waits until the browser is at a URL containing `expected` and the page has loaded (the URL
    /// changes when the new page is committed, before it has loaded: wait for both).
    pub async fn wait_for_url(&self, expected: &str) {
        crate::helpers::eventually(
            Duration::from_secs(10),
            &format!("the browser reaches {expected}"),
            || async { (self.url().await.contains(expected) && self.loaded().await).then_some(()) },
        )
        .await;
    }

    /// Whether the current page has loaded (`document.readyState`); false while the driver
    /// cannot tell (a navigation in progress).
    async fn loaded(&self) -> bool {
        let script = json!({ "script": "return document.readyState", "args": [] });
        let request = self
            .http
            .post(format!("{}/execute/sync", self.base))
            .json(&script);
        let Ok(response) = request.send().await else {
            return false;
        };
        let value: Value = response.json().await.unwrap_or_default();
        value["value"] == "complete"
    }

    /// Clicks and waits until the page shows `text` (for a form that answers on the same URL).
    pub async fn click_until_text(&self, css: &str, text: &str) {
        self.click(css).await;
        self.wait_for_text(text).await;
    }

    /// Waits until the page shows `text` (after a navigation the page itself starts).
    pub async fn wait_for_text(&self, text: &str) {
        crate::helpers::eventually(
            Duration::from_secs(10),
            &format!("the page shows {text}"),
            || async { self.source().await.contains(text).then_some(()) },
        )
        .await;
    }

    /// Runs `script` as the body of a function called with `args` (WebDriver §13.2.1 "Execute
    /// Script") and returns what it returns.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        let body = json!({ "script": script, "args": args });
        self.call(reqwest::Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// Runs `script` with `args` and one more argument, a callback; returns the value the script
    /// passes to it (WebDriver §13.2.2 "Execute Async Script"), within the session's script
    /// timeout (30 s).
    pub async fn execute_async(&self, script: &str, args: Value) -> Value {
        let body = json!({ "script": script, "args": args });
        self.call(reqwest::Method::POST, "/execute/async", Some(body))
            .await
    }

    /// Saves a PNG of the page as `target/artifacts/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/artifacts/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.base).send().await;
        let _ = self.driver.kill().await;
    }
}
