//! The browser harness: the real binary, chromedriver, headless Chromium and axe-core.
//! Paths can be overridden with PASSERELLE_CHROMIUM and PASSERELLE_CHROMEDRIVER.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use thirtyfour::common::capabilities::chromium::ChromiumLikeCapabilities;
use thirtyfour::prelude::*;

#[derive(Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `passerelle demo` running on a free port, with a database of its own.
pub struct Server {
    child: Child,
    pub base: String,
    /// The pause points the server announced (app::faults), as it reaches them.
    pauses: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        Server::start_with(backend, "127.0.0.1:0", &[]).await
    }

    /// Registered with a (local) ProConnect: a port chosen beforehand, since the address the
    /// provider sends the browser back to is part of the registration.
    pub async fn with_proconnect(
        backend: Backend,
        provider: &app::fake_proconnect::FakeProConnect,
    ) -> Server {
        let addr = format!("127.0.0.1:{}", free_port());
        let settings = provider.settings();
        let env = [
            ("PASSERELLE_BASE_URL", format!("http://{addr}")),
            ("PASSERELLE_PROCONNECT_ISSUER", settings.issuer),
            ("PASSERELLE_PROCONNECT_CLIENT_ID", settings.client_id),
            (
                "PASSERELLE_PROCONNECT_CLIENT_SECRET",
                settings.client_secret,
            ),
        ];
        Server::start_with(backend, &addr, &env).await
    }

    /// On a database made by the caller (who drops it), at its address (the faults tests).
    #[allow(dead_code)]
    pub async fn on_database(url: &str) -> Server {
        Server::on_database_with("demo", url, &[]).await
    }

    /// `passerelle demo` or `passerelle serve` on a database made by the caller, with more
    /// environment.
    #[allow(dead_code)]
    pub async fn on_database_with(command: &str, url: &str, env: &[(&str, String)]) -> Server {
        Server::launch(command, "127.0.0.1:0", env, url.to_string(), None, None).await
    }

    /// Waits until the server stops at this pause point, then kills it (SIGKILL).
    #[allow(dead_code)]
    pub fn kill_at(&mut self, point: &str) {
        let reached = self
            .pauses
            .recv_timeout(Duration::from_secs(60))
            .expect("the server reaches its pause point");
        assert_eq!(reached, point);
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// Whether the server is still running.
    #[allow(dead_code)]
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    async fn start_with(backend: Backend, addr: &str, env: &[(&str, String)]) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (url, postgres) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display()),
                None,
            ),
            Backend::Postgres => {
                let (url, admin, name) = store::testing::create_postgres_database().await;
                (url, Some((admin, name)))
            }
        };
        Server::launch("demo", addr, env, url, postgres, Some(dir)).await
    }

    async fn launch(
        command: &str,
        addr: &str,
        env: &[(&str, String)],
        url: String,
        postgres: Option<(String, String)>,
        dir: Option<tempfile::TempDir>,
    ) -> Server {
        let dir = match dir {
            Some(d) => d,
            None => tempfile::tempdir().expect("temporary directory"),
        };
        let ban = app::testing::fake_ban_api().await;
        let mut child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .args([command, "--addr", addr, "--database-url", &url])
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .env("PASSERELLE_BAN_API_URL", ban)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the passerelle binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let (paused, pauses) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Passerelle écoute sur ") {
                    let _ = tx.send(url.trim().to_string());
                }
                if let Some(point) = line.strip_prefix(app::faults::ANNOUNCE) {
                    let _ = paused.send(point.trim().to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the demo server announces its address");
        Server {
            child,
            base,
            pauses,
            _dir: dir,
            postgres,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((admin, name)) = &self.postgres {
            store::testing::drop_postgres_database(admin, name);
        }
    }
}

pub struct Browser {
    pub driver: WebDriver,
    chromedriver: Child,
    profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// Whatever happened (a failed assertion panics before `close`), no browser outlives its
    /// test: every process started with this profile directory is killed.
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg(self.profile.path())
            .status();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn axe_source() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../node_modules/axe-core/axe.min.js"
    );
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("axe-core is required ({path}: {e}); run scripts/setup"))
}

impl Browser {
    pub async fn open() -> Browser {
        Browser::launch(true).await
    }

    pub async fn open_without_javascript() -> Browser {
        Browser::launch(false).await
    }

    async fn launch(javascript: bool) -> Browser {
        let chromium =
            std::env::var("PASSERELLE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver_path = std::env::var("PASSERELLE_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        assert!(
            std::path::Path::new(&chromium).exists(),
            "Chromium is required at {chromium}: run scripts/setup"
        );
        let port = free_port();
        let chromedriver = Command::new(&chromedriver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver is required at {chromedriver_path} ({e}): run scripts/setup")
            });
        let profile = tempfile::tempdir().expect("profile directory");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium).expect("binary");
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1280,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".into());
        }
        for arg in &args {
            caps.add_arg(arg).expect("argument");
        }
        // chromedriver takes a moment to listen: retry the session a bounded number of times.
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(driver) => {
                    return Browser {
                        driver,
                        chromedriver,
                        profile,
                    };
                }
                Err(e) => {
                    last_error = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("no browser session could be opened: {last_error:?}");
    }

    /// Ends the browser session cleanly; dropping the browser then stops chromedriver.
    pub async fn close(self) {
        let _ = self.driver.clone().quit().await;
    }

    pub async fn visit(&self, server: &Server, path: &str) -> WebDriverResult<()> {
        self.driver.goto(format!("{}{path}", server.base)).await
    }

    pub async fn path(&self) -> WebDriverResult<String> {
        Ok(self.driver.current_url().await?.path().to_string())
    }

    /// Waits (bounded) until the page's text contains `text`; navigation after a click is
    /// asynchronous for WebDriver.
    pub async fn expect_text(&self, text: &str) -> WebDriverResult<()> {
        for _ in 0..100 {
            // Between two pages there may be no <body> for a moment: look again.
            let body = match self.driver.find(By::Tag("body")).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if body.contains(text) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let body = self
            .driver
            .find(By::Tag("body"))
            .await?
            .text()
            .await
            .unwrap_or_default();
        panic!(
            "« {text} » never appeared on {:?}; the page says:\n{body}",
            self.driver.current_url().await.ok()
        );
    }

    /// Runs axe-core on the current page; serious and critical violations fail the test.
    pub async fn check_accessibility(&self, page: &str) {
        let grave = self.grave_violations().await;
        assert!(
            grave.is_empty(),
            "accessibility violations on « {page} »: {}",
            serde_json::to_string_pretty(&grave).unwrap_or_default()
        );
    }

    /// The serious and critical violations axe-core finds on the current page.
    pub async fn grave_violations(&self) -> Vec<Value> {
        self.driver
            .execute(axe_source(), Vec::<Value>::new())
            .await
            .expect("axe-core loads");
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
              .then(r => done(JSON.stringify(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.html).slice(0, 3) })))))
              .catch(e => done(JSON.stringify([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }])));";
        let result = self
            .driver
            .execute_async(script, Vec::<Value>::new())
            .await
            .expect("axe-core runs");
        let text = result.json().as_str().unwrap_or("[]").to_string();
        let violations: Vec<Value> = serde_json::from_str(&text).expect("axe-core answers JSON");
        violations
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect()
    }

    pub async fn check_no_horizontal_scroll(&self, page: &str) -> WebDriverResult<()> {
        let ret = self
            .driver
            .execute(
                "const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 4).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
                 return [document.documentElement.scrollWidth, window.innerWidth, wide.join(' ')];",
                Vec::<Value>::new(),
            )
            .await?;
        let widths = ret.json().as_array().cloned().unwrap_or_default();
        let (scroll, inner) = (
            widths.first().and_then(Value::as_i64).unwrap_or(0),
            widths.get(1).and_then(Value::as_i64).unwrap_or(0),
        );
        let culprits = widths.get(2).and_then(Value::as_str).unwrap_or_default();
        assert!(
            scroll <= inner,
            "« {page} » is wider ({scroll}px) than the phone screen ({inner}px): {culprits}"
        );
        Ok(())
    }
}
