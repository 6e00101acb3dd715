//! The dashboard in a real browser: Debian's headless Chromium, driven over WebDriver (plain
//! HTTP to `chromedriver`) — sign in, open a broadcast, read the rendered page.
//!
//! Without `chromium` and `chromedriver` on the PATH the test prints a notice and passes, unless
//! `ENCORE_REQUIRE_BROWSER=1` (CI sets it, after installing them): then it fails and says what
//! to install. No tool here downloads a browser of its own.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::dashboard::seed_broadcasts;
use crate::support::app::{ADMIN, TestApp};

/// The key WebDriver names an element by (W3C).
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The first of `names` found on the PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// `chromedriver` and the Chromium binary, or why the test cannot run.
fn browser() -> Result<(PathBuf, PathBuf), String> {
    let driver = on_path(&["chromedriver"]);
    let chromium = on_path(&["chromium", "chromium-browser"]);
    match (driver, chromium) {
        (Some(driver), Some(chromium)) => Ok((driver, chromium)),
        _ => Err("chromium and chromedriver are not installed: \
                  `apt-get install -y chromium chromium-driver` (Debian)"
            .to_string()),
    }
}

/// `chromedriver`, stopped when the test ends however it ends.
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn start_driver(driver: &Path, http: &reqwest::Client) -> Driver {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if let Ok(response) = http.get(format!("{}/status", driver.base)).send().await
            && let Ok(status) = response.json::<Value>().await
            && status["value"]["ready"] == true
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on port {port} within 10 s");
}

/// One WebDriver session: the few commands this test needs.
struct Browser<'a> {
    http: &'a reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`
    session: String,
}

impl Browser<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("JSON");
        assert!(
            answer["value"]["error"].is_null(),
            "WebDriver {path}: {answer}"
        );
        answer["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (up to 15 s) until the page's address ends with `suffix`.
    async fn wait_for_url(&self, suffix: &str) {
        for _ in 0..150 {
            if self.url().await.ends_with(suffix) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the browser never reached {suffix}: it is at {}",
            self.url().await
        );
    }

    async fn find(&self, using: &str, value: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": using, "value": value })),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {using} {value}: {found}"))
            .to_string()
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, element: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// The page as a person reads it: the rendered text of `<body>`.
    async fn text(&self) -> String {
        let body = self.find("css selector", "body").await;
        self.call(reqwest::Method::GET, &format!("/element/{body}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Opens a headless Chromium session on `driver`.
async fn open<'a>(
    http: &'a reqwest::Client,
    driver: &Driver,
    chromium: &Path,
    profile: &Path,
) -> Browser<'a> {
    let capabilities = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    }}});
    let answer: Value = http
        .post(format!("{}/session", driver.base))
        .json(&capabilities)
        .send()
        .await
        .expect("chromedriver answers")
        .json()
        .await
        .expect("JSON");
    let id = answer["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("Chromium did not start: {answer}"));
    Browser {
        http,
        session: format!("{}/session/{id}", driver.base),
    }
}

impl Browser<'_> {
    async fn close(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

#[tokio::test]
async fn a_host_signs_in_with_chromium_and_reads_a_broadcasts_report() {
    let (driver_bin, chromium) = match browser() {
        Ok(found) => found,
        Err(why) if std::env::var("ENCORE_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("ENCORE_REQUIRE_BROWSER=1 but {why}")
        }
        Err(why) => {
            eprintln!("skipped: the real-browser dashboard test needs Chromium — {why}");
            return;
        }
    };

    let t = TestApp::start().await;
    seed_broadcasts(&t).await;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let driver = start_driver(&driver_bin, &http).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let browser = open(&http, &driver, &chromium, profile.path()).await;

    // Without a session the dashboard leads to the sign-in form.
    browser.go(&format!("{}/dashboard", t.base)).await;
    browser.wait_for_url("/dashboard/login").await;
    assert!(browser.text().await.contains("대시보드 로그인"));

    let token = browser.find("css selector", "#token").await;
    browser.type_into(&token, ADMIN).await;
    let submit = browser.find("css selector", "button[type=submit]").await;
    browser.click(&submit).await;
    browser.wait_for_url("/dashboard").await;
    let list = browser.text().await;
    assert!(
        list.contains("겨울 아우터 라이브"),
        "the broadcast list: {list}"
    );

    let link = browser.find("link text", "겨울 아우터 라이브").await;
    browser.click(&link).await;
    browser.wait_for_url("/dashboard/broadcasts/live-1").await;
    let report = browser.text().await;
    assert!(
        report.contains("「겨울 아우터 라이브」 방송 리포트"),
        "{report}"
    );
    assert!(
        report.contains("구매자 3명"),
        "a figure of the report: {report}"
    );
    assert!(report.contains("다시 왔을까요?"), "{report}");
    assert!(!report.contains(ADMIN));

    browser.close().await;
}
