//! `passerelle`: the server and its command line. Thin: parse, configure, call the crates.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod bench_cohorts;
mod bench_directory;
mod bench_indicators;
mod bench_load;
mod bench_orientations;
mod bench_person_import;
mod bench_uploads;
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
        /// « national » : ajoute 84 territoires générés et 500 000 personnes fictives avec leur
        /// parcours (une fois ; compter quelques minutes).
        #[arg(long, value_name = "ECHELLE")]
        scale: Option<DemoScale>,
    },
    /// Remplit une base avec des territoires générés et leurs personnes fictives (parcours,
    /// diagnostics, orientations, sorties, cohortes), pour mesurer à l'échelle nationale.
    Generate {
        #[arg(long, default_value_t = 84)]
        territories: usize,
        #[arg(long, default_value_t = 500_000)]
        persons: usize,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Exécute les tâches de fond (courriels, purges, durées de conservation) sans servir de
    /// pages : autant de processus que voulu sur la même base.
    Worker {
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
    /// Mesures de performance (jeux de données synthétiques).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Géocodage hors ligne : import des fichiers d'adresses de la BAN.
    Geocode {
        #[command(subcommand)]
        command: GeocodeCommand,
    },
    /// Quartiers prioritaires : import des fichiers officiels, vérification d'un point.
    Qpv {
        #[command(subcommand)]
        command: QpvCommand,
    },
    /// Annuaire des relais : import et export au format data·inclusion.
    Services {
        #[command(subcommand)]
        command: ServicesCommand,
    },
    /// Les indicateurs d'un territoire ou de la France entière sur une période, masqués comme
    /// dans la vue d'un pilote (cellules de 1 à 4 personnes : « s » en CSV, null en JSON).
    Indicators {
        /// Identifiant du territoire (par exemple « demo »).
        #[arg(
            long,
            value_name = "IDENTIFIANT",
            conflicts_with = "national",
            required_unless_present = "national"
        )]
        territory: Option<String>,
        /// Tous les territoires.
        #[arg(long)]
        national: bool,
        /// Premier jour (AAAA-MM-JJ ou JJ/MM/AAAA).
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Dernier jour (compris).
        #[arg(long, value_name = "DATE")]
        to: String,
        #[arg(long, value_enum, default_value = "json")]
        format: IndicatorFormat,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Écrit le document OpenAPI 3.1 de l'API (/api/v1) sur la sortie standard.
    Openapi,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum IndicatorFormat {
    Json,
    Csv,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DirectoryFormat {
    /// Schéma data·inclusion v1 (structures et services).
    DataInclusion,
}

#[derive(Subcommand)]
enum ServicesCommand {
    /// Importe un fichier data·inclusion dans l'annuaire d'un territoire : structures.json,
    /// services.json, un objet JSON avec « structures » et « services », ou leur équivalent CSV.
    /// Les enregistrements valides sont créés ou mis à jour (par source et identifiant), les
    /// autres sont rejetés avec leurs motifs. Code de sortie 2 si le fichier est illisible.
    Import {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: DirectoryFormat,
        /// Identifiant du territoire (par exemple « demo »).
        #[arg(long, value_name = "IDENTIFIANT")]
        territory: String,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Écrit l'annuaire (un territoire ou tous) en JSON data·inclusion sur la sortie standard.
    Export {
        #[arg(long, value_enum)]
        format: DirectoryFormat,
        #[arg(long, value_name = "IDENTIFIANT")]
        territory: Option<String>,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum QpvCommand {
    /// Importe un fichier officiel de l'ANCT : contours (GeoJSON, EPSG:4326) ou liste (CSV « ; »).
    /// Tout le fichier est vérifié avant d'écrire : un fichier refusé ne change rien.
    Import {
        /// Le fichier à importer.
        file: PathBuf,
        /// La carte : 2015 ou 2024.
        #[arg(long, value_name = "ANNÉE")]
        millesime: String,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Dit si un point (longitude, latitude WGS 84) ou une adresse est dans un QPV ; sinon, le
    /// QPV le plus proche. L'adresse est géocodée par la Base Adresse Nationale.
    Lookup {
        #[arg(
            long,
            allow_hyphen_values = true,
            requires = "lat",
            conflicts_with = "address"
        )]
        lon: Option<f64>,
        #[arg(long, allow_hyphen_values = true, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, value_name = "ADRESSE", required_unless_present = "lon")]
        address: Option<String>,
        #[arg(long, value_name = "ANNÉE", default_value = "2024")]
        millesime: String,
        /// Format de sortie : json ou texte.
        #[arg(long, default_value = "texte")]
        format: OutputFormat,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum GeocodeCommand {
    /// Importe un fichier départemental de la BAN (adresses-XX.csv, compressé .gz ou non).
    /// Tout le fichier est vérifié en l'important : une ligne fautive annule l'import.
    ImportBan {
        file: PathBuf,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DemoScale {
    /// Le territoire de démonstration seul.
    Territoire,
    /// Plus 84 territoires générés et 500 000 personnes.
    National,
}

/// Fills the configured database with generated territories (`store::scale`), once.
async fn generate(
    config: &config::Config,
    territories: usize,
    persons: usize,
) -> Result<(), String> {
    let db = server::open(config).await?;
    let today = domain::calendar::france_date(store::now());
    let started = std::time::Instant::now();
    eprintln!("Génération de {territories} territoires et {persons} personnes fictives…");
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let generated =
        store::scale::generate(&mut tx.conn(), territories, persons, today, store::now())
            .await
            .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    if generated.is_some() {
        let mut pooled = db.acquire().await.map_err(|e| e.to_string())?;
        store::scale::settle(&mut pooled.conn())
            .await
            .map_err(|e| e.to_string())?;
    }
    match generated {
        Some(g) => println!(
            "{} territoires, {} personnes, {} diagnostics, {} orientations, {} sorties, {} membres de cohortes générés en {:.0} s ({}).",
            g.territories,
            g.persons,
            g.diagnostics,
            g.orientations,
            g.exits,
            g.cohort_members,
            started.elapsed().as_secs_f64(),
            store::redact(&config.database_url)
        ),
        None => println!("Des territoires générés sont déjà dans cette base : rien n'est ajouté."),
    }
    Ok(())
}

#[derive(Subcommand)]
enum BenchCommand {
    /// « Trouver un relais » et les relais proposés pour une personne, sur un annuaire généré (SQLite puis PostgreSQL), en millisecondes.
    Annuaire {
        #[arg(long, default_value_t = 20_000)]
        services: usize,
        /// Serveur PostgreSQL où créer une base jetable.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
    /// Les tableaux de bord national et d'un territoire sur une base générée (PostgreSQL ; SQLite pour un territoire), en millisecondes.
    Indicateurs {
        #[arg(long, default_value_t = 84)]
        territoires: usize,
        #[arg(long, default_value_t = 500_000)]
        personnes: usize,
        /// Serveur PostgreSQL où créer une base jetable.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
    /// Les pages les plus utilisées sous N utilisateurs simultanés, en HTTP sur la machine, chacune à côté de /healthz mesuré dans la même exécution : SQLite (le territoire de démonstration, une instance) puis PostgreSQL (démonstration et territoires générés, deux instances).
    Charge {
        #[arg(long, default_value_t = 50)]
        utilisateurs: usize,
        /// Durée de la mesure de chaque page, en secondes.
        #[arg(long, default_value_t = 5)]
        secondes: u64,
        #[arg(long, default_value_t = 84)]
        territoires: usize,
        #[arg(long, default_value_t = 500_000)]
        personnes: usize,
        /// Serveur PostgreSQL où créer une base jetable.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
    /// « Orientations reçues » et « envoyées » avec 100 000 orientations en base (SQLite puis PostgreSQL), en millisecondes.
    Orientations {
        #[arg(long, default_value_t = 100_000)]
        orientations: usize,
        /// Serveur PostgreSQL où créer une base jetable.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
    /// La page d'une cohorte (avec ses candidats), d'une action et les vérifications de suivi, sur un territoire de 6 000 personnes (SQLite puis PostgreSQL), en millisecondes.
    Cohortes {
        #[arg(long, default_value_t = 6_000)]
        personnes: usize,
        /// Serveur PostgreSQL où créer une base jetable.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
    /// Géocodage hors ligne sur une BAN synthétique (import, débit, exactitude).
    Geocodage {
        #[arg(long, default_value_t = 1_000_000)]
        lignes: usize,
        #[arg(long, default_value_t = 20_000)]
        requetes: usize,
    },
    /// Les pires téléversements (classeur creux, bombes zip, millions de colonnes) : durée et
    /// mémoire de pointe de chacun, comparées à un fichier honnête de 200 000 lignes.
    Televersements,
    /// Import d'une liste de personnes (dépôt, simulation, import, nouvel import du même
    /// fichier) sur SQLite puis PostgreSQL : durée, lignes/s et mémoire de pointe de chaque phase.
    ImportPersonnes {
        #[arg(long, default_value_t = 100_000)]
        lignes: usize,
        /// Une seule base (« sqlite » ou « postgresql ») ; sinon chacune dans son propre
        /// processus, pour que la mémoire de l'une ne compte pas dans celle de l'autre.
        #[arg(long)]
        base: Option<String>,
        /// Serveur PostgreSQL où créer une base jetable.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
    /// Vérification en masse d'un fichier de coordonnées (lignes/s et mémoire de pointe).
    Masse {
        #[arg(long, default_value_t = 100_000)]
        lignes: usize,
    },
    /// Débit de la recherche point → QPV sur un jeu national synthétique, comparé à PostGIS,
    /// puis géocodage hors ligne sur une BAN synthétique d'un million de lignes.
    Qpv {
        #[arg(long, default_value_t = 1600)]
        quartiers: usize,
        #[arg(long, default_value_t = 1_000_000)]
        points: usize,
        /// Serveur PostgreSQL (avec PostGIS) où créer une base jetable.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Json,
    Texte,
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
    /// Retire la double authentification d'un compte dont la personne a perdu son téléphone et
    /// ses codes de secours (après avoir vérifié son identité) : ses sessions sont fermées, elle
    /// se reconnecte avec son mot de passe et réactive la double authentification.
    ResetSecondFactor {
        #[arg(long, value_name = "COURRIEL")]
        email: String,
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
        Err(Failure { message, code }) => {
            eprintln!("passerelle : {message}");
            ExitCode::from(code)
        }
    }
}

/// Why a command failed, and its exit status (1, or 2 for an unreadable input file).
struct Failure {
    message: String,
    code: u8,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, code: 1 }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let mut config = config::Config::load(cli.config.as_deref(), &env)?;
    match cli.command {
        Command::Serve { addr, database_url } => {
            override_with(&mut config, addr, database_url)?;
            Ok(server::serve(config, false).await?)
        }
        Command::Demo {
            addr,
            database_url,
            scale,
        } => {
            if database_url.is_none() && env("PASSERELLE_DATABASE_URL").is_none() {
                config.database_url = DEMO_DATABASE_URL.into();
            }
            override_with(&mut config, addr, database_url)?;
            if scale == Some(DemoScale::National) {
                generate(&config, 84, 500_000).await?;
            }
            Ok(server::serve(config, true).await?)
        }
        Command::Generate {
            territories,
            persons,
            database_url,
        } => {
            override_with(&mut config, None, database_url)?;
            Ok(generate(&config, territories, persons).await?)
        }
        Command::Worker { database_url } => {
            override_with(&mut config, None, database_url)?;
            Ok(server::work(config).await?)
        }
        Command::Openapi => {
            println!("{}", web::openapi_document());
            Ok(())
        }
        Command::Migrate { database_url } => {
            override_with(&mut config, None, database_url)?;
            let db = server::open(&config).await?;
            println!("Schéma à jour ({}).", store::redact(&config.database_url));
            db.close().await;
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Geocodage { lignes, requetes },
        } => Ok(bench::offline_geocoding(lignes, requetes).await?),
        Command::Bench {
            command:
                BenchCommand::Annuaire {
                    services,
                    postgres_url,
                },
        } => Ok(bench_directory::directory_search(services, &postgres_url).await?),
        Command::Bench {
            command:
                BenchCommand::Orientations {
                    orientations,
                    postgres_url,
                },
        } => Ok(bench_orientations::inbox(orientations, &postgres_url).await?),
        Command::Bench {
            command:
                BenchCommand::Cohortes {
                    personnes,
                    postgres_url,
                },
        } => Ok(bench_cohorts::cohorts(personnes, &postgres_url).await?),
        Command::Bench {
            command:
                BenchCommand::Indicateurs {
                    territoires,
                    personnes,
                    postgres_url,
                },
        } => Ok(bench_indicators::dashboards(territoires, personnes, &postgres_url).await?),
        Command::Bench {
            command:
                BenchCommand::ImportPersonnes {
                    lignes,
                    base,
                    postgres_url,
                },
        } => Ok(bench_person_import::person_import(lignes, base.as_deref(), &postgres_url).await?),
        Command::Bench {
            command:
                BenchCommand::Charge {
                    utilisateurs,
                    secondes,
                    territoires,
                    personnes,
                    postgres_url,
                },
        } => Ok(bench_load::load(
            utilisateurs,
            secondes,
            territoires,
            personnes,
            &postgres_url,
        )
        .await?),
        Command::Bench {
            command: BenchCommand::Masse { lignes },
        } => Ok(bench::mass_check(lignes).await?),
        Command::Bench {
            command: BenchCommand::Televersements,
        } => Ok(bench_uploads::uploads().await?),
        Command::Bench {
            command:
                BenchCommand::Qpv {
                    quartiers,
                    points,
                    postgres_url,
                },
        } => {
            bench::qpv(quartiers, points, &postgres_url).await?;
            // The figures include offline geocoding: measured in the same command.
            Ok(bench::offline_geocoding(1_000_000, 20_000).await?)
        }
        Command::Geocode {
            command: GeocodeCommand::ImportBan { file, database_url },
        } => {
            override_with(&mut config, None, database_url)?;
            let input = std::fs::File::open(&file)
                .map_err(|e| format!("fichier {} illisible : {e}", file.display()))?;
            let db = server::open(&config).await?;
            let app = server::app(&config, db.clone(), internal_addr()).await?;
            let started = std::time::Instant::now();
            let count = app::geocoding::import_ban(&app, input).await.map_err(|e| {
                format!(
                    "{} refusé, rien n'a été modifié. {}",
                    file.display(),
                    describe(e)
                )
            })?;
            println!(
                "{} : {count} adresses importées en {:.1} s. Géocodeur : {}.",
                file.display(),
                started.elapsed().as_secs_f64(),
                app.geocoder.describe()
            );
            db.close().await;
            Ok(())
        }
        Command::Qpv { command } => Ok(run_qpv(&mut config, command).await?),
        Command::Services { command } => run_services(&mut config, command).await,
        Command::Indicators {
            territory,
            national,
            from,
            to,
            format,
            database_url,
        } => {
            override_with(&mut config, None, database_url)?;
            let (db, app) = server::offline_app(&config).await?;
            let mut errors = app::FieldErrors::default();
            let (from, to) = app::indicators::period(
                &mut errors,
                &from,
                &to,
                app.today(),
                app::indicators::PeriodRule::AnyDays,
            )
            .ok_or_else(|| {
                errors
                    .iter()
                    .map(|(f, m)| format!("--{} : {m}", if f == "du" { "from" } else { "to" }))
                    .collect::<Vec<_>>()
                    .join(" ; ")
            })?;
            let (reach, label) = match (territory, national) {
                (_, true) => (
                    app::indicators::Reach::National,
                    "France entière".to_string(),
                ),
                (Some(slug), false) => {
                    let mut pooled = db.acquire().await.map_err(|e| e.to_string())?;
                    let t = store::territories::by_slug(&mut pooled.conn(), &slug)
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("aucun territoire n'a l'identifiant « {slug} »"))?;
                    (app::indicators::Reach::Territory(t.id), t.name)
                }
                (None, false) => {
                    return Err("indiquez --territory IDENTIFIANT ou --national"
                        .to_string()
                        .into());
                }
            };
            let figures = app::indicators::compute(&app, reach, label, from, to)
                .await
                .map_err(describe)?;
            match format {
                IndicatorFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&figures.json()).map_err(|e| e.to_string())?
                ),
                IndicatorFormat::Csv => print!("{}", figures.csv()),
            }
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
            let (db, app) = server::offline_app(&config).await?;
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
        Command::Admin {
            command:
                AdminCommand::ResetSecondFactor {
                    email,
                    database_url,
                },
        } => {
            override_with(&mut config, None, database_url)?;
            let (db, app) = server::offline_app(&config).await?;
            let removed =
                app::second_factor::reset_for(&app, &email)
                    .await
                    .map_err(|e| match e {
                        app::AppError::NotFound => format!("aucun compte n'a l'adresse {email}"),
                        e => describe(e),
                    })?;
            println!(
                "{}",
                if removed {
                    format!(
                        "La double authentification de {email} est retirée ; ses sessions sont fermées."
                    )
                } else {
                    format!(
                        "{email} n'avait pas de double authentification ; ses sessions sont fermées."
                    )
                }
            );
            db.close().await;
            Ok(())
        }
    }
}

async fn run_qpv(config: &mut config::Config, command: QpvCommand) -> Result<(), String> {
    match command {
        QpvCommand::Import {
            file,
            millesime,
            database_url,
        } => {
            let millesime = domain::Millesime::parse(&millesime).map_err(|e| e.0)?;
            override_with(config, None, database_url)?;
            let bytes = std::fs::read(&file)
                .map_err(|e| format!("fichier {} illisible : {e}", file.display()))?;
            let db = server::open(config).await?;
            let app = server::app(config, db.clone(), internal_addr()).await?;
            let report = app::qpv::import(&app, &bytes, millesime)
                .await
                .map_err(|e| {
                    format!(
                        "{} refusé, rien n'a été modifié. {}",
                        file.display(),
                        describe(e)
                    )
                })?;
            println!(
                "{} (carte {millesime}) : {} créés, {} mis à jour, {} inchangés.",
                file.display(),
                report.created,
                report.updated,
                report.unchanged
            );
            db.close().await;
            Ok(())
        }
        QpvCommand::Lookup {
            lon,
            lat,
            address,
            millesime,
            format,
            database_url,
        } => {
            let millesime = domain::Millesime::parse(&millesime).map_err(|e| e.0)?;
            override_with(config, None, database_url)?;
            let db = server::open(config).await?;
            let app = server::app(config, db.clone(), internal_addr()).await?;
            let (json, answer, label) = match (lon, lat, address) {
                (Some(lon), Some(lat), _) => {
                    let answer =
                        app::qpv::lookup_point(&app, lon, lat, millesime).map_err(describe)?;
                    (serde_json::to_string(&answer), answer, None)
                }
                (_, _, Some(address)) => {
                    let found = app::qpv::lookup_address(&app, &address, millesime)
                        .await
                        .map_err(describe)?;
                    let label = Some(match &found.label {
                        Some(l) => format!("{l} (confiance : {})", found.confidence.label()),
                        None => "adresse non reconnue par la Base Adresse Nationale".to_string(),
                    });
                    (serde_json::to_string(&found), found.qpv, label)
                }
                _ => return Err("donnez --lon et --lat, ou --address".into()),
            };
            match format {
                OutputFormat::Json => println!("{}", json.map_err(|e| e.to_string())?),
                OutputFormat::Texte => {
                    if let Some(label) = label {
                        println!("{label}");
                    }
                    match (&answer.code_qp, &answer.qpv_proche) {
                        (Some(code), _) => println!(
                            "Dans le QPV {code} « {} » (carte {millesime}).",
                            answer.lib_qp.as_deref().unwrap_or("")
                        ),
                        (None, Some(near)) => println!(
                            "Hors QPV (carte {millesime}). Le plus proche : {near} « {} », à {} m.",
                            answer.lib_qpv_proche.as_deref().unwrap_or(""),
                            answer.distance_m.unwrap_or_default()
                        ),
                        (None, None) => println!("Hors QPV (carte {millesime})."),
                    }
                }
            }
            db.close().await;
            Ok(())
        }
    }
}

async fn run_services(
    config: &mut config::Config,
    command: ServicesCommand,
) -> Result<(), Failure> {
    match command {
        ServicesCommand::Import {
            file,
            format: DirectoryFormat::DataInclusion,
            territory,
            database_url,
        } => {
            override_with(config, None, database_url)?;
            let input = std::fs::File::open(&file).map_err(|e| Failure {
                message: format!("fichier {} illisible : {e}", file.display()),
                code: 2,
            })?;
            let db = server::open(config).await?;
            let app = server::app(config, db.clone(), internal_addr()).await?;
            let territory = app::directory_file::territory_by_slug(&app, &territory)
                .await
                .map_err(describe)?;
            let report = match app::directory_file::import(&app, territory, input, None).await {
                Ok(r) => r,
                Err(app::AppError::Invalid(e)) if e.get("fichier").is_some() => {
                    return Err(Failure {
                        message: format!(
                            "{} illisible, rien n'a été modifié : {}",
                            file.display(),
                            e.get("fichier").unwrap_or_default()
                        ),
                        code: 2,
                    });
                }
                Err(e) => return Err(describe(e).into()),
            };
            println!(
                "{} : {} créés, {} mis à jour, {} inchangés, {} rejetés.",
                file.display(),
                report.created,
                report.updated,
                report.unchanged,
                report.rejected.len()
            );
            for r in &report.rejected {
                println!("  rejeté — {r}");
            }
            db.close().await;
            Ok(())
        }
        ServicesCommand::Export {
            format: DirectoryFormat::DataInclusion,
            territory,
            database_url,
        } => {
            override_with(config, None, database_url)?;
            let db = server::open(config).await?;
            let app = server::app(config, db.clone(), internal_addr()).await?;
            let territory = match territory {
                Some(slug) => Some(
                    app::directory_file::territory_by_slug(&app, &slug)
                        .await
                        .map_err(describe)?,
                ),
                None => None,
            };
            let mut out = std::io::BufWriter::new(std::io::stdout());
            let (structures, services) = app::directory_file::export(&app, territory, &mut out)
                .await
                .map_err(describe)?;
            std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
            eprintln!("{structures} structures et {services} services exportés.");
            db.close().await;
            Ok(())
        }
    }
}

fn internal_addr() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
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
