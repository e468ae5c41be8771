//! Faults the service must live through, on the real binary (docs/design.md, « Pannes de la
//! base »): PostgreSQL going away under load — the connection cut by a relay between the server
//! and the database, as a restart or a network failure does — makes `/healthz` answer 503 and
//! requests a French 503, then the service recovers by itself once the database is back,
//! without a restart.

#[allow(dead_code)]
mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harness::Server;

/// A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones refused) and
/// restored.
struct Relay {
    port: u16,
    open: Arc<AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let open = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (is_open, kept) = (open.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !is_open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                if let Ok(mut all) = kept.lock() {
                    all.push(task.abort_handle());
                }
            }
        });
        Relay {
            port,
            open,
            connections,
        }
    }

    /// The database goes away: live connections are dropped, new ones refused.
    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        if let Ok(mut all) = self.connections.lock() {
            for task in all.drain(..) {
                task.abort();
            }
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Asks until the answer is `status` (or panics after `within`).
async fn until_status(client: &reqwest::Client, url: &str, status: u16, within: Duration) {
    let start = Instant::now();
    loop {
        let seen = client.get(url).send().await.map(|r| r.status().as_u16());
        if seen.as_ref().is_ok_and(|s| *s == status) {
            return;
        }
        assert!(
            start.elapsed() < within,
            "{url} never answered {status} (last: {seen:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_under_load_is_reported_then_recovered_without_a_restart() {
    let (url, admin, name) = store::testing::create_postgres_database().await;
    let upstream = url::Url::parse(&url).expect("database address");
    let relay = Relay::start(format!(
        "{}:{}",
        upstream.host_str().expect("host"),
        upstream.port().unwrap_or(5432)
    ))
    .await;
    let mut relayed = upstream.clone();
    relayed.set_port(Some(relay.port)).expect("port");
    let mut server = Server::on_database(relayed.as_str()).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let health = format!("{}/healthz", server.base);
    let api = format!("{}/api/v1/qpv/lookup?adresse=Maubeuge", server.base);
    until_status(&client, &health, 200, Duration::from_secs(10)).await;

    // Load all along: every answer is one the service means (no dropped connection).
    let stop = Arc::new(AtomicBool::new(false));
    let unexpected = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (client, health, api) = (client.clone(), health.clone(), api.clone());
        let (stop, unexpected, answered) = (stop.clone(), unexpected.clone(), answered.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                for (url, bearer) in [(&health, false), (&api, true)] {
                    let mut request = client.get(url.as_str());
                    if bearer {
                        request = request.bearer_auth("passerelle_un-jeton-inconnu");
                    }
                    match request.send().await.map(|r| r.status().as_u16()) {
                        Ok(200 | 401 | 503) => answered.fetch_add(1, Ordering::SeqCst),
                        _ => unexpected.fetch_add(1, Ordering::SeqCst),
                    };
                }
            }
        }));
    }

    relay.cut();
    until_status(&client, &health, 503, Duration::from_secs(30)).await;
    // A request that needs the database is told so, in French.
    let refused = client
        .get(&api)
        .bearer_auth("passerelle_un-jeton-inconnu")
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status().as_u16(), 503);
    let body = refused.text().await.expect("body");
    assert!(body.contains("La base de données ne répond pas"), "{body}");

    relay.restore();
    until_status(&client, &health, 200, Duration::from_secs(30)).await;
    let back = client
        .get(&api)
        .bearer_auth("passerelle_un-jeton-inconnu")
        .send()
        .await
        .expect("an answer");
    assert_eq!(back.status().as_u16(), 401, "the database answers again");

    stop.store(true, Ordering::SeqCst);
    for task in load {
        task.await.expect("load");
    }
    assert_eq!(
        unexpected.load(Ordering::SeqCst),
        0,
        "every request got an answer"
    );
    assert!(answered.load(Ordering::SeqCst) > 0);
    assert!(server.running(), "the server lived through it");
    drop(server);
    store::testing::drop_postgres_database(&admin, &name);
}
