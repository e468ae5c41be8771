//! `passerelle bench annuaire`: « Trouver un relais » on a generated directory of 20 000
//! services, on SQLite and on PostgreSQL, measured at the use case (the server time of a search
//! page, without HTML rendering), then the relays suggested for one person with three barriers
//! (`app::diagnostic::suggestions`). Each figure is printed with its ratio to a baseline measured
//! in the same run on the same database: counting the territory's services.

use std::time::{Duration, Instant};

use app::directory::SearchInput;
use domain::inclusion::Vocabulary;
use serde_json::json;
use territory::synthetic::Rng;

const WORDS: [&str; 16] = [
    "permis",
    "garde",
    "enfants",
    "numérique",
    "budget",
    "logement",
    "santé",
    "français",
    "atelier",
    "emploi",
    "formation",
    "mobilité",
    "accompagnement",
    "entretien",
    "parrainage",
    "CV",
];

fn below(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

fn pick<'a>(rng: &mut Rng, items: &'a [domain::inclusion::Term]) -> &'a str {
    &items[below(rng, items.len())].value
}

/// A data·inclusion file of `count` fictional services in the communes of an EPCI.
fn directory(count: usize, communes: &[(String, String)]) -> String {
    let mut rng = Rng::new(42);
    let structures: Vec<_> = (0..count / 10)
        .map(|i| json!({"source": "bench", "id": format!("bench--s{i}"), "nom": format!("Structure fictive {i}"), "date_maj": "2026-10-01"}))
        .collect();
    let thematiques = Vocabulary::Thematique.terms();
    let publics = Vocabulary::Public.terms();
    let types = Vocabulary::TypeService.terms();
    let services: Vec<_> = (0..count)
        .map(|i| {
            let (code, postcode) = &communes[below(&mut rng, communes.len())];
            let zone = match below(&mut rng, 10) {
                0..=4 => json!(["200043396"]),
                5 | 6 => json!(["59"]),
                7 | 8 => json!([code]),
                _ => json!(["france"]),
            };
            let public = pick(&mut rng, publics);
            let publics = if public == "tous-publics" { json!([public]) } else { json!([public, "demandeurs-emploi"].iter().collect::<std::collections::BTreeSet<_>>()) };
            let mut themes: Vec<&str> = (0..1 + below(&mut rng, 3)).map(|_| pick(&mut rng, thematiques)).collect();
            themes.sort_unstable();
            themes.dedup();
            let words: Vec<&str> = (0..12).map(|_| WORDS[below(&mut rng, WORDS.len())]).collect();
            json!({
                "source": "bench", "structure_id": format!("bench--s{}", i / 10), "id": format!("bench--{i}"),
                "nom": format!("Service fictif {i} {}", words[0]), "description": format!("Service fictif : {}.", words.join(" ")),
                "date_maj": "2026-10-01", "type": pick(&mut rng, types), "thematiques": themes, "publics": publics,
                "frais": if below(&mut rng, 3) == 0 { "payant" } else { "gratuit" },
                "code_insee": code, "code_postal": postcode,
                "longitude": 3.85 + rng.range(0.0, 1.0) * 0.25, "latitude": 50.18 + rng.range(0.0, 1.0) * 0.18,
                "modes_accueil": if below(&mut rng, 5) == 0 { json!(["a-distance"]) } else { json!(["en-presentiel"]) },
                "zone_eligibilite": zone,
            })
        })
        .collect();
    json!({"structures": structures, "services": services}).to_string()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median and slowest of `runs` searches, after two to warm the caches.
async fn measure(
    app: &app::App,
    caller: &app::Caller,
    input: &SearchInput,
    runs: usize,
) -> Result<(f64, f64, usize), String> {
    let mut times = Vec::with_capacity(runs);
    let mut total = 0;
    for i in 0..runs + 2 {
        let started = Instant::now();
        let found = app::directory::search(app, caller, input)
            .await
            .map_err(crate::describe)?;
        if i >= 2 {
            times.push(millis(started.elapsed()));
        }
        total = found.total;
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() - 1], total))
}

async fn run_on(label: &str, url: &str, count: usize) -> Result<(), String> {
    let db = store::Db::connect(url, &store::PoolSettings::default())
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let settings = app::Settings {
        ban_api_url: "http://127.0.0.1:9".into(),
        ..app::Settings::default()
    };
    let app = app::App::new(db.clone(), settings, None)
        .await
        .map_err(|e| e.to_string())?;
    let epci = domain::EpciCode::parse("200043396").map_err(|e| e.0)?;
    let communes: Vec<(String, String)> = app
        .referential
        .epci_members(&epci)
        .iter()
        .map(|c| {
            (
                c.code.as_str().to_string(),
                c.postal_codes
                    .first()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let territory = {
        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
        let data = store::territories::TerritoryData {
            slug: domain::Slug::parse("bench").map_err(|e| e.0)?,
            name: "Territoire de mesure".into(),
            status: domain::TerritoryStatus::Active,
            epci: Some(epci),
            co_pilots: String::new(),
            starts_on: None,
            ends_on: None,
            communes: communes
                .iter()
                .filter_map(|(c, _)| domain::InseeCode::parse(c).ok())
                .collect(),
            time_zone: domain::TimeZone::Paris,
        };
        let id = store::territories::create(&mut tx.conn(), &data, store::now())
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        let mut pooled = db.acquire().await.map_err(|e| e.to_string())?;
        store::territories::by_id(&mut pooled.conn(), id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("territoire")?
    };
    let file = directory(count, &communes);
    let started = Instant::now();
    let report = app::directory_file::import(
        &app,
        territory.id,
        std::io::Cursor::new(file.into_bytes()),
        None,
    )
    .await
    .map_err(crate::describe)?;
    println!(
        "{label} : {} services et {} structures importés en {:.1} s ({} rejetés)",
        count,
        count / 10,
        started.elapsed().as_secs_f64(),
        report.rejected.len()
    );
    let caller = app::Caller {
        user_id: domain::UserId(0),
        email: String::new(),
        display_name: "mesure".into(),
        memberships: Vec::new(),
        territories: vec![territory.clone()],
        active_territory: Some(territory.clone()),
        session: String::new(),
        client_ip: None,
    };
    // Baseline: counting the territory's services (one indexed query).
    let mut base = Vec::new();
    for _ in 0..12 {
        let started = Instant::now();
        let mut pooled = db.acquire().await.map_err(|e| e.to_string())?;
        store::directory::count_services(&mut pooled.conn(), territory.id)
            .await
            .map_err(|e| e.to_string())?;
        base.push(millis(started.elapsed()));
    }
    base.sort_by(f64::total_cmp);
    let baseline = base[base.len() / 2];
    println!("{label} : référence (compter les {count} services du territoire) : {baseline:.2} ms");
    let cases = [
        (
            "sans critère, page 1",
            SearchInput {
                page: 1,
                ..SearchInput::default()
            },
        ),
        (
            "champ Mobilité depuis 59600",
            SearchInput {
                field: "mobilite".into(),
                place: "59600".into(),
                page: 1,
                ..SearchInput::default()
            },
        ),
        (
            "mots « permis garde »",
            SearchInput {
                text: "permis garde".into(),
                page: 1,
                ..SearchInput::default()
            },
        ),
        (
            "mot + public + lieu, page 3",
            SearchInput {
                text: "atelier".into(),
                public: "jeunes".into(),
                place: "Louvroil".into(),
                page: 3,
                ..SearchInput::default()
            },
        ),
        (
            "thématique + gratuit + lieu",
            SearchInput {
                thematique: "numerique--acceder-a-des-services-en-ligne".into(),
                frais: "gratuit".into(),
                place: "Maubeuge".into(),
                page: 1,
                ..SearchInput::default()
            },
        ),
    ];
    let mut worst: f64 = 0.0;
    for (name, input) in &cases {
        let (median, max, total) = measure(&app, &caller, input, 20).await?;
        worst = worst.max(median);
        println!(
            "{label} : {name:<32} {total:>6} résultats, médiane {median:>6.1} ms, max {max:>6.1} ms ({:.1} × la référence)",
            median / baseline
        );
    }
    println!("{label} : recherche la plus lente (médiane) : {worst:.1} ms — objectif < 50 ms");
    suggestions(label, &app, &territory, baseline, &cases[1].1).await?;
    db.close().await;
    Ok(())
}

/// A coordinator of the bench territory, logged in through the real use case.
async fn coordinator(
    app: &app::App,
    territory: &store::territories::Territory,
) -> Result<app::Caller, String> {
    let password = "mesure-mesure-mesure";
    let hash = app::secrets::hash_password(password)
        .await
        .map_err(crate::describe)?;
    let email = domain::Email::parse("mesure@bench.test").map_err(|e| e.0)?;
    let mut tx = app.db.begin().await.map_err(|e| e.to_string())?;
    let user = store::users::create(&mut tx.conn(), &email, "Mesure", Some(&hash), store::now())
        .await
        .map_err(|e| e.to_string())?;
    store::memberships::create(
        &mut tx.conn(),
        &store::memberships::NewMembership {
            user,
            role: domain::Role::Coordinator,
            organisation: None,
            territory: Some(territory.id),
            created_by: None,
        },
        store::now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    let login = app::auth::login(app, email.as_str(), password, "127.0.0.1")
        .await
        .map_err(|e| format!("{e:?}"))?;
    app::caller::load(app, &login.token)
        .await
        .map_err(crate::describe)?
        .ok_or_else(|| "session de mesure absente".to_string())
}

/// The relays suggested for one person with three barriers (mobility, childcare, digital
/// skills) among the directory's services, beside the plain search for one field from the
/// same place, measured in the same run on the same database.
async fn suggestions(
    label: &str,
    app: &app::App,
    territory: &store::territories::Territory,
    baseline: f64,
    plain: &SearchInput,
) -> Result<(), String> {
    use app::persons::{EntryInput, OutreachInput, Recorded, SituationInput};
    use domain::Field;
    let caller = coordinator(app, territory).await?;
    let today = domain::iso_date(app.today());
    let input = OutreachInput {
        first_name: "Personne".into(),
        last_name: "Fictive".into(),
        phone: "0600000000".into(),
        channel: "pied-d-immeuble".into(),
        met_on: today.clone(),
        postal_code: "59600".into(),
        commune: "Maubeuge".into(),
        agrees_recontact: "oui".into(),
        ..OutreachInput::default()
    };
    let Recorded::Created(id) = app::persons::record(app, &caller, &input)
        .await
        .map_err(crate::describe)?
    else {
        return Err("doublon inattendu".into());
    };
    let entry = EntryInput {
        given_on: today.clone(),
        method: "oral".into(),
        purposes: vec!["accompagnement".into()],
        organisations: Vec::new(),
        referent: String::new(),
        situation: SituationInput {
            birth_date: "1999-05-12".into(),
            sex: "femme".into(),
            single_parent: "oui".into(),
            ..SituationInput::default()
        },
    };
    app::persons::enter_accompaniment(app, &caller, id, &entry)
        .await
        .map_err(crate::describe)?;
    let mut diagnostic = app::diagnostic::DiagnosticInput {
        held_on: today,
        distance_km: "15".into(),
        ..Default::default()
    };
    for f in Field::ALL {
        let level = match f {
            Field::Mobilite => "3",
            Field::ContraintesFamiliales | Field::CompetencesNumeriques => "2",
            _ => "0",
        };
        diagnostic.levels.insert(*f, level.into());
    }
    app::diagnostic::save_diagnostic(app, &caller, id, &diagnostic, true)
        .await
        .map_err(crate::describe)?;
    let mut times = Vec::new();
    let mut shown = (0, 0, 0);
    for i in 0..22 {
        let started = Instant::now();
        let found = app::diagnostic::suggestions(app, &caller, id)
            .await
            .map_err(crate::describe)?;
        if i >= 2 {
            times.push(millis(started.elapsed()));
        }
        shown = (
            found.len(),
            found
                .iter()
                .map(|f| f.suggestions.len() + f.more)
                .sum::<usize>(),
            found.iter().map(|f| f.excluded).sum::<usize>(),
        );
    }
    times.sort_by(f64::total_cmp);
    let (median, max) = (times[times.len() / 2], times[times.len() - 1]);
    let (search, _, _) = measure(app, &caller, plain, 20).await?;
    println!(
        "{label} : relais proposés pour une personne ({} freins, {} relais possibles, {} écartés) : médiane {median:.1} ms, max {max:.1} ms ({:.1} × la référence, {:.1} × la recherche « champ Mobilité depuis 59600 » à {search:.1} ms) — objectif < 100 ms",
        shown.0,
        shown.1,
        shown.2,
        median / baseline,
        median / search
    );
    Ok(())
}

pub async fn directory_search(count: usize, postgres_url: &str) -> Result<(), String> {
    let dir =
        std::env::temp_dir().join(format!("passerelle-bench-annuaire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let sqlite = run_on(
        "SQLite",
        &format!("sqlite://{}?mode=rwc", dir.join("annuaire.db").display()),
        count,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    sqlite?;
    let (url, name) = store::scratch::create_postgres_database_at(postgres_url).await?;
    let pg = run_on("PostgreSQL", &url, count).await;
    store::scratch::drop_postgres_database(postgres_url, &name);
    pg
}
