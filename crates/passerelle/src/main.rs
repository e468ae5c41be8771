//! `passerelle`: the server and its command line. Thin: parse, configure, call the crates.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli_errors;
mod config;
mod server;

#[derive(Parser)]
#[command(
    name = "passerelle",
    version,
    about = "Passerelle — l'outil de la coopération territoriale pour l'emploi."
)]
struct Cli {
    /// Fichier de configuration TOML (par défaut : passerelle.toml s'il existe).
    #[arg(long, global = true, value_name = "FICHIER")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lance le serveur.
    Serve {
        /// Adresse d'écoute, par exemple 0.0.0.0:8080.
        #[arg(long, value_name = "ADRESSE")]
        addr: Option<String>,
        /// Base de données : sqlite://chemin.db?mode=rwc ou postgres://…
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Crée ou met à jour la base de démonstration (données fictives) et la sert.
    Demo {
        #[arg(long, value_name = "ADRESSE")]
        addr: Option<String>,
        /// Par défaut : sqlite://passerelle-demo.db?mode=rwc
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Met le schéma de la base de données à jour, puis s'arrête.
    Migrate {
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Administration des comptes.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Crée un administrateur national (ou redonne ce rôle et un mot de passe à un compte).
    /// Le mot de passe est lu dans PASSERELLE_ADMIN_PASSWORD, sinon demandé.
    Create {
        #[arg(long, value_name = "COURRIEL")]
        email: String,
        #[arg(long, value_name = "NOM", default_value = "Administration")]
        name: String,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

pub const DEMO_DATABASE_URL: &str = "sqlite://passerelle-demo.db?mode=rwc";

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli_errors::report(e),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("passerelle : impossible de démarrer : {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("passerelle : {message}");
            ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut config = config::Config::load(cli.config.as_deref(), &env)?;
    match cli.command {
        Command::Serve { addr, database_url } => {
            override_with(&mut config, addr, database_url)?;
            server::serve(config, false).await
        }
        Command::Demo { addr, database_url } => {
            if database_url.is_none() && env("PASSERELLE_DATABASE_URL").is_none() {
                config.database_url = DEMO_DATABASE_URL.into();
            }
            override_with(&mut config, addr, database_url)?;
            server::serve(config, true).await
        }
        Command::Migrate { database_url } => {
            override_with(&mut config, None, database_url)?;
            let db = server::open(&config).await?;
            println!("Schéma à jour ({}).", store::redact(&config.database_url));
            db.close().await;
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    name,
                    database_url,
                },
        } => {
            override_with(&mut config, None, database_url)?;
            let password = match env("PASSERELLE_ADMIN_PASSWORD") {
                Some(p) => p,
                None => rpassword::prompt_password("Mot de passe du compte (12 caractères au moins) : ")
                    .map_err(|e| format!("impossible de lire le mot de passe ({e}) : définissez PASSERELLE_ADMIN_PASSWORD"))?,
            };
            let db = server::open(&config).await?;
            let app = server::app(
                &config,
                db.clone(),
                "127.0.0.1:0"
                    .parse()
                    .map_err(|_| "adresse interne".to_string())?,
            )
            .await?;
            let (_, created) = app::auth::create_admin(&app, &email, &name, &password)
                .await
                .map_err(describe)?;
            println!(
                "{} : {email} est administrateur national.",
                if created {
                    "Compte créé"
                } else {
                    "Compte mis à jour"
                }
            );
            db.close().await;
            Ok(())
        }
    }
}

fn override_with(
    config: &mut config::Config,
    addr: Option<String>,
    database_url: Option<String>,
) -> Result<(), String> {
    if let Some(a) = addr {
        config.addr = a;
    }
    if let Some(u) = database_url {
        config.database_url = u;
    }
    config.validate()
}

/// One French line for an application error on the command line.
pub fn describe(e: app::AppError) -> String {
    match e {
        app::AppError::Invalid(errors) => errors
            .iter()
            .map(|(_, m)| m.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}
