//! Opening the database, building the application and serving it.

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::Config;

pub async fn open(config: &Config) -> Result<store::Db, String> {
    let settings = store::PoolSettings {
        max_connections: config.max_connections,
        ..store::PoolSettings::default()
    };
    let db = store::Db::connect(&config.database_url, &settings)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate()
        .await
        .map_err(|e| format!("mise à jour du schéma impossible : {e}"))?;
    Ok(db)
}

/// The database and the application for a command that serves no page (its links, if it
/// writes any, use the configured base address).
pub async fn offline_app(config: &Config) -> Result<(store::Db, app::App), String> {
    let db = open(config).await?;
    let bound = SocketAddr::from(([127, 0, 0, 1], 0));
    let app = app(config, db.clone(), bound).await?;
    Ok((db, app))
}

pub async fn app(config: &Config, db: store::Db, bound: SocketAddr) -> Result<app::App, String> {
    let settings = config.settings(bound);
    app::mail::check_settings(&settings.mail)?;
    let secret = config
        .secret_key
        .as_deref()
        .map(app::secrets::SecretKey::from_text)
        .transpose()
        .map_err(|e| e.to_string())?;
    app::App::new(db, settings, secret)
        .await
        .map_err(|e| format!("démarrage impossible : {e}"))
}

pub async fn serve(config: Config, demo: bool) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("impossible d'écouter sur {} : {e}", config.addr))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let db = open(&config).await?;
    let app = app(&config, db.clone(), bound).await?;
    if demo {
        let report = app::demo::seed(&app).await.map_err(crate::describe)?;
        println!("Passerelle — démonstration (données fictives)");
        println!("Base de données : {}", store::redact(&config.database_url));
        println!(
            "{} territoires, {} structures, {} QPV fictifs, {} services dans l'annuaire, {} personnes, {} comptes. Mot de passe de tous les comptes : « {} »",
            report.territories,
            report.organisations,
            report.qpv,
            report.services,
            report.persons,
            report.accounts,
            app::demo::PASSWORD
        );
        for account in &app::demo::ACCOUNTS {
            println!("  {:<36} {}", account.email, account.description);
        }
    }
    println!("Passerelle écoute sur http://{bound}");
    spawn_housekeeping(app.clone());
    spawn_worker(app.clone());
    let trust = config.trust_forwarded_for;
    let router = web::router(web::AppState::new(app, trust));
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .map_err(|e| format!("le serveur s'est arrêté : {e}"))?;
    db.close().await;
    Ok(())
}

/// Every instance keeps its in-memory QPV index up to date with the database (another process
/// may have imported a map); everything else is work for the job queue.
fn spawn_housekeeping(app: app::App) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = app::qpv::refresh_if_changed(&app).await {
                tracing::warn!(error = %e, "QPV index refresh failed");
            }
        }
    });
}

/// The job worker of this instance (mail, purges, retention), polling every second.
fn spawn_worker(app: app::App) {
    let name = app::jobs::worker_name();
    tracing::info!(worker = %name, "job worker started");
    tokio::spawn(app::jobs::work_forever(app, name, Duration::from_secs(1)));
}

/// `passerelle worker`: the job queue alone, until interrupted.
pub async fn work(config: Config) -> Result<(), String> {
    let db = open(&config).await?;
    let bound: SocketAddr = config
        .addr
        .parse()
        .map_err(|e| format!("adresse d'écoute invalide : {e}"))?;
    let app = app(&config, db.clone(), bound).await?;
    let name = app::jobs::worker_name();
    println!("Passerelle exécute les tâches de fond ({name}). Ctrl-C pour arrêter.");
    tokio::select! {
        () = app::jobs::work_forever(app, name, Duration::from_secs(1)) => {},
        () = shutdown() => {},
    }
    db.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
