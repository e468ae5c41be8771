//! `passerelle bench charge`: the pages people use most under concurrent users, over real HTTP
//! on loopback (the load generator on the same machine), each beside `/healthz` measured in the
//! same run: throughput, p50 and p99 as the client sees them. On SQLite, the demo territory
//! served by one instance; on PostgreSQL, the demo plus the national generator's territories
//! and persons (`store::scale`), served by two instances sharing the database, requests
//! alternating between them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::bench_orientations::e;

/// One page to drive: who asks, what it is, its address.
struct Target {
    label: &'static str,
    who: usize,
    path: String,
}

/// One page's figures.
struct Figures {
    requests: usize,
    errors: usize,
    seconds: f64,
    p50: f64,
    p99: f64,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// Starts one instance of the service over `db` on a free port of loopback.
async fn instance(db: store::Db) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(e)?;
    let bound = listener.local_addr().map_err(e)?;
    let settings = app::Settings {
        base_url: format!("http://{bound}"),
        // Offline: no address check leaves the machine.
        ban_api_url: "http://127.0.0.1:9".into(),
        // The token's rate limit would measure itself (120 a minute): lifted to its maximum.
        api_requests_per_minute: 100_000,
        ..app::Settings::default()
    };
    let app = app::App::new(db, settings, None).await.map_err(e)?;
    let router = web::router(web::AppState::new(app, false));
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(format!("http://{bound}"))
}

fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    page[start..].split('"').next().map(str::to_string)
}

/// A browser signed in as `email` on every instance (one cookie jar: sessions live in the
/// database, so any instance serves them).
async fn signed_in(
    bases: &[String],
    email: &str,
    password: &str,
) -> Result<reqwest::Client, String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .map_err(e)?;
    let base = &bases[0];
    let page = client
        .get(format!("{base}/connexion"))
        .send()
        .await
        .map_err(e)?
        .text()
        .await
        .map_err(e)?;
    let csrf = hidden(&page, "csrf_token").ok_or("pas de jeton CSRF sur la page de connexion")?;
    let answer = client
        .post(format!("{base}/connexion"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .map_err(e)?;
    if answer.status().as_u16() != 303 {
        return Err(format!(
            "connexion de {email} refusée ({})",
            answer.status()
        ));
    }
    Ok(client)
}

/// The first `/prefix/{id}` link of a page.
async fn first_link(client: &reqwest::Client, url: &str, prefix: &str) -> Result<String, String> {
    let page = client
        .get(url)
        .send()
        .await
        .map_err(e)?
        .text()
        .await
        .map_err(e)?;
    let marker = format!("href=\"{prefix}");
    page.split(&marker)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
        .map(|id| format!("{prefix}{id}"))
        .ok_or_else(|| format!("aucun lien {prefix}… sur {url}"))
}

/// `users` concurrent users asking for one page for `seconds`, spread over the instances.
async fn drive(
    client: &reqwest::Client,
    bases: &[String],
    path: &str,
    bearer: Option<&str>,
    users: usize,
    seconds: f64,
) -> Figures {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for user in 0..users {
        let client = client.clone();
        let url = format!("{}{path}", bases[user % bases.len()]);
        let bearer = bearer.map(str::to_string);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let mut request = client.get(&url);
                if let Some(token) = &bearer {
                    request = request.bearer_auth(token);
                }
                let asked = Instant::now();
                let ok = match request.send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(asked.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((latencies, e)) = task.await {
            all.extend(latencies);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Figures {
        requests: all.len(),
        errors,
        seconds: elapsed,
        p50: at(0.50),
        p99: at(0.99),
    }
}

async fn run_on(
    label: &str,
    url: &str,
    instances: usize,
    national: Option<(usize, usize)>,
    users: usize,
    seconds: f64,
) -> Result<(), String> {
    let db = store::Db::connect(url, &store::PoolSettings::default())
        .await
        .map_err(e)?;
    db.migrate().await.map_err(e)?;
    let seeding = app::App::new(db.clone(), app::Settings::default(), None)
        .await
        .map_err(e)?;
    let started = Instant::now();
    app::demo::seed(&seeding).await.map_err(crate::describe)?;
    if let Some((territories, persons)) = national {
        let mut tx = db.begin().await.map_err(e)?;
        store::scale::generate(
            &mut tx.conn(),
            territories,
            persons,
            seeding.today(),
            seeding.now(),
        )
        .await
        .map_err(e)?;
        tx.commit().await.map_err(e)?;
        let mut pooled = db.acquire().await.map_err(e)?;
        store::scale::settle(&mut pooled.conn()).await.map_err(e)?;
    }
    // The day's counts, as the nightly job `indicateurs` leaves them: pilots and the national
    // level are served from them.
    app::indicators::refresh_snapshots(&seeding)
        .await
        .map_err(crate::describe)?;
    println!(
        "\n{label} : données prêtes en {:.1} s ; {users} utilisateurs simultanés, {seconds:.0} s par page, {instances} instance(s)",
        started.elapsed().as_secs_f64()
    );
    let mut bases = Vec::new();
    for _ in 0..instances {
        // Each instance has its own pool, as separate processes would.
        let own = store::Db::connect(url, &store::PoolSettings::default())
            .await
            .map_err(e)?;
        bases.push(instance(own).await?);
    }
    let password = app::demo::PASSWORD;
    let coordinator = signed_in(&bases, "coordination@demo.passerelle.test", password).await?;
    let professional = signed_in(&bases, "conseil.ft@demo.passerelle.test", password).await?;
    let receiver = signed_in(&bases, "conseil.ml@demo.passerelle.test", password).await?;
    let pilot = signed_in(&bases, "pilotage@demo.passerelle.test", password).await?;
    let admin = signed_in(&bases, "admin@demo.passerelle.test", password).await?;
    let clients = [&coordinator, &professional, &receiver, &pilot, &admin];
    let file = first_link(
        &professional,
        &format!("{}/personnes", bases[0]),
        "/personnes/",
    )
    .await?;
    let cohort = first_link(
        &coordinator,
        &format!("{}/cohortes", bases[0]),
        "/cohortes/",
    )
    .await?;
    let token = {
        let login = app::auth::login(
            &seeding,
            "conseil.ft@demo.passerelle.test",
            password,
            "127.0.0.1",
        )
        .await
        .map_err(|e| e.to_string())?;
        let caller = app::caller::load(&seeding, &login.token)
            .await
            .map_err(crate::describe)?
            .ok_or("session de démonstration absente")?;
        let input = app::api_tokens::TokenInput {
            name: "Banc de charge".into(),
            scopes: vec!["qpv".into()],
            days: "30".into(),
        };
        app::api_tokens::create(&seeding, &caller, &input)
            .await
            .map_err(crate::describe)?
            .token
    };
    let targets = [
        Target {
            label: "Accueil (coordination)",
            who: 0,
            path: "/".into(),
        },
        Target {
            label: "Mes personnes (conseil)",
            who: 1,
            path: "/personnes".into(),
        },
        Target {
            label: "Personnes du territoire",
            who: 0,
            path: "/personnes?tous=1".into(),
        },
        Target {
            label: "Personnes, recherche par nom",
            who: 0,
            path: "/personnes?tous=1&nom=ar".into(),
        },
        Target {
            label: "Dossier d'une personne",
            who: 1,
            path: file,
        },
        Target {
            label: "Annuaire, recherche",
            who: 1,
            path: "/annuaire?q=permis".into(),
        },
        Target {
            label: "Orientations reçues",
            who: 2,
            path: "/orientations/recues".into(),
        },
        Target {
            label: "Une cohorte",
            who: 0,
            path: cohort,
        },
        Target {
            label: "Indicateurs du territoire",
            who: 3,
            path: "/indicateurs".into(),
        },
        Target {
            label: "Vérifier une adresse",
            who: 1,
            path: "/qpv/verifier?adresse=12+rue+de+la+D%C3%A9monstration+Maubeuge".into(),
        },
        Target {
            label: "Indicateurs, France",
            who: 4,
            path: "/indicateurs?perimetre=france".into(),
        },
    ];
    let baseline = drive(&coordinator, &bases, "/healthz", None, users, seconds).await;
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "page", "req/s", "p50 ms", "p99 ms", "/healthz", "erreurs"
    );
    let row = |label: &str, f: &Figures| {
        println!(
            "{:<30} {:>9.0} {:>9.1} {:>9.1} {:>9.1} % {:>8}",
            label,
            f.per_second(),
            f.p50,
            f.p99,
            100.0 * f.per_second() / baseline.per_second(),
            f.errors
        );
    };
    row("/healthz (référence)", &baseline);
    let qpv = drive(
        &coordinator,
        &bases,
        "/api/v1/qpv/lookup?lon=3.9743&lat=50.2779",
        Some(&token),
        users,
        seconds,
    )
    .await;
    row("API QPV (jeton)", &qpv);
    // The national dashboard, the heaviest page, comes last: it cannot starve the others.
    for t in &targets {
        let f = drive(clients[t.who], &bases, &t.path, None, users, seconds).await;
        row(t.label, &f);
    }
    db.close().await;
    Ok(())
}

pub async fn load(
    users: usize,
    seconds: u64,
    territories: usize,
    persons: usize,
    postgres_url: &str,
) -> Result<(), String> {
    let seconds = seconds.max(1) as f64;
    let dir = tempfile::tempdir().map_err(e)?;
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("charge.db").display()
    );
    run_on(
        "SQLite, le territoire de démonstration",
        &sqlite,
        1,
        None,
        users,
        seconds,
    )
    .await?;
    let (url, name) = store::scratch::create_postgres_database_at(postgres_url).await?;
    let outcome = run_on(
        &format!(
            "PostgreSQL, démonstration et {territories} territoires générés ({persons} personnes)"
        ),
        &url,
        2,
        Some((territories, persons)),
        users,
        seconds,
    )
    .await;
    store::scratch::drop_postgres_database(postgres_url, &name);
    outcome
}
