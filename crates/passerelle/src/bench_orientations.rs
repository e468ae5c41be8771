//! `passerelle bench orientations`: « Orientations reçues » with 100 000 orientations in the
//! database, on SQLite and on PostgreSQL, measured at the use case (the server time of the
//! page, without HTML): the inbox of a typical partner (one of twenty) and of the partner that
//! receives the most (a third of everything), unfiltered and filtered on « envoyée », and the
//! sent list of the territory's coordinator. Each figure is printed with its ratio to a
//! baseline measured in the same run on the same database: the home page's two counts of
//! orientations waiting for an answer.

use std::time::{Duration, Instant};

use app::orientations::{ListInput, ListKind};
use domain::orientation::{DeclineReason, Outcome, Status, Step};
use domain::person::OutreachChannel;
use domain::{Field, OrganisationId, Role, UserId};
use store::orientations::{Change, NewOrientation};
use territory::synthetic::Rng;

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn e(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Median and slowest of `runs` measures of `work`, after two to warm the caches.
pub(crate) async fn measure<F, Fut>(runs: usize, mut work: F) -> Result<(f64, f64), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs + 2 {
        let started = Instant::now();
        work().await?;
        if i >= 2 {
            times.push(millis(started.elapsed()));
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() - 1]))
}

/// A professional of `org` (or a coordinator), as a request would load them.
pub(crate) async fn caller(
    db: &store::Db,
    user: UserId,
    territory: &store::territories::Territory,
) -> Result<app::Caller, String> {
    let mut pooled = db.acquire().await.map_err(e)?;
    let memberships = store::memberships::of_user(&mut pooled.conn(), user)
        .await
        .map_err(e)?;
    Ok(app::Caller {
        user_id: user,
        email: String::new(),
        display_name: "mesure".into(),
        memberships,
        territories: vec![territory.clone()],
        active_territory: Some(territory.clone()),
        session: String::new(),
        client_ip: None,
    })
}

async fn run_on(label: &str, url: &str, count: usize) -> Result<(), String> {
    let db = store::Db::connect(url, &store::PoolSettings::default())
        .await
        .map_err(e)?;
    db.migrate().await.map_err(e)?;
    let app = app::App::new(db.clone(), app::Settings::default(), None)
        .await
        .map_err(e)?;
    let now = store::now();
    let today = domain::calendar::france_date(now);
    let started = Instant::now();
    let mut tx = db.begin().await.map_err(e)?;
    let data = store::territories::TerritoryData {
        slug: domain::Slug::parse("bench").map_err(|x| x.0)?,
        name: "Territoire de mesure".into(),
        status: domain::TerritoryStatus::Active,
        epci: None,
        co_pilots: String::new(),
        starts_on: None,
        ends_on: None,
        communes: vec![domain::InseeCode::parse("59392").map_err(|x| x.0)?],
        time_zone: domain::TimeZone::Paris,
    };
    let territory_id = store::territories::create(&mut tx.conn(), &data, now)
        .await
        .map_err(e)?;
    let mut orgs: Vec<(OrganisationId, UserId)> = Vec::new();
    for i in 0..20 {
        let org = store::organisations::create(
            &mut tx.conn(),
            &store::organisations::OrganisationData {
                name: format!("Structure fictive {i:02}"),
                kind: domain::OrganisationKind::Association,
                siret: None,
                address: String::new(),
                postal_code: "59600".into(),
                commune_insee: domain::InseeCode::parse("59392").map_err(|x| x.0)?,
            },
            now,
        )
        .await
        .map_err(e)?;
        store::territories::add_partner(&mut tx.conn(), territory_id, org, None, now)
            .await
            .map_err(e)?;
        let email = domain::Email::parse(&format!("pro{i}@mesure.test")).map_err(|x| x.0)?;
        let user = store::users::create(&mut tx.conn(), &email, "Pro", None, now)
            .await
            .map_err(e)?;
        store::memberships::create(
            &mut tx.conn(),
            &store::memberships::NewMembership {
                user,
                role: Role::Professional,
                organisation: Some(org),
                territory: None,
                created_by: None,
            },
            now,
        )
        .await
        .map_err(e)?;
        orgs.push((org, user));
    }
    let coordinator = {
        let email = domain::Email::parse("coordination@mesure.test").map_err(|x| x.0)?;
        let user = store::users::create(&mut tx.conn(), &email, "Coordination", None, now)
            .await
            .map_err(e)?;
        store::memberships::create(
            &mut tx.conn(),
            &store::memberships::NewMembership {
                user,
                role: Role::Coordinator,
                organisation: None,
                territory: Some(territory_id),
                created_by: None,
            },
            now,
        )
        .await
        .map_err(e)?;
        user
    };
    // Ten orientations per person; the first partner receives a third of them, the others
    // share the rest; half are answered (accepted then entered, or declined).
    let mut rng = Rng::new(7);
    let persons = count / 10;
    let mut made = 0;
    for p in 0..persons {
        let (sender_org, sender) = orgs[p % orgs.len()];
        let person = store::persons::create(
            &mut tx.conn(),
            &store::persons::NewPerson {
                territory: territory_id,
                first_name: format!("Prénom{p}"),
                last_name: format!("Nom{p}"),
                folded_name: format!("prenom{p} nom{p}"),
                phone: None,
                email: None,
                address: String::new(),
                postal_code: "59600".into(),
                commune_insee: None,
                neighbourhood: String::new(),
                qpv: None,
                channel: OutreachChannel::Autre,
                place: String::new(),
                met_on: today,
                met_by: Some(sender),
                needs: String::new(),
                need_fields: Vec::new(),
                age_band: None,
                birth_year: None,
                agrees_recontact: true,
            },
            sender,
            now,
        )
        .await
        .map_err(e)?;
        store::persons::add_member(
            &mut tx.conn(),
            &store::persons::NewMember {
                person,
                user: sender,
                organisation: Some(sender_org),
                is_referent: true,
                health_access: true,
                added_by: sender,
            },
            now,
        )
        .await
        .map_err(e)?;
        for k in 0..10 {
            let draw = (rng.next_u64() % 30) as usize;
            let (receiver, receiver_user) = if draw < 10 {
                orgs[0]
            } else {
                orgs[1 + draw % 19]
            };
            let ago = (rng.next_u64() % 365) as i64;
            let sent_at = now - chrono::Duration::days(ago);
            let id = store::orientations::create(
                &mut tx.conn(),
                &NewOrientation {
                    territory: territory_id,
                    person,
                    previous: None,
                    service: None,
                    service_name: "",
                    receiver_org: Some(receiver),
                    receiver_name: "Structure fictive",
                    receiver_email: None,
                    sender,
                    sender_org: Some(sender_org),
                    consent: None,
                    fields: &[Field::Mobilite],
                    reason: "Mesure",
                    message: "",
                    documents: "",
                    contact_preference: "",
                    availability: "",
                    sent_on: today - chrono::Duration::days(ago),
                },
                sent_at,
            )
            .await
            .map_err(e)?;
            made += 1;
            let steps: &[Step] = match (p + k) % 4 {
                0 | 1 => &[],
                2 => &[Step::Decline],
                _ => &[Step::Accept, Step::Enter],
            };
            let mut status = Status::Envoyee;
            for (n, step) in steps.iter().enumerate() {
                let to = status.after(*step).map_err(|x| x.0)?;
                let ch = Change {
                    id,
                    from: status,
                    version: n as i32,
                    to,
                    step: *step,
                    by: Some(receiver_user),
                    via_link: false,
                    on: today,
                    detail: "",
                    entered_on: (*step == Step::Enter).then_some(today),
                    ended_on: None,
                    outcome: None::<Outcome>,
                    decline_comment: None,
                };
                store::orientations::change(
                    &mut tx.conn(),
                    &ch,
                    sent_at + chrono::Duration::days(2),
                )
                .await
                .map_err(e)?;
                if *step == Step::Decline {
                    store::orientations::set_decline_reasons(
                        &mut tx.conn(),
                        id,
                        &[(DeclineReason::SessionComplete, String::new())],
                    )
                    .await
                    .map_err(e)?;
                }
                status = to;
            }
        }
    }
    tx.commit().await.map_err(e)?;
    store::scratch::analyze(&db).await.map_err(e)?;
    println!(
        "{label} : {made} orientations de {persons} personnes entre 20 structures, écrites en {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let territory = {
        let mut pooled = db.acquire().await.map_err(e)?;
        store::territories::by_id(&mut pooled.conn(), territory_id)
            .await
            .map_err(e)?
            .ok_or("territoire")?
    };
    let biggest = caller(&db, orgs[0].1, &territory).await?;
    let typical = caller(&db, orgs[7].1, &territory).await?;
    let coordination = caller(&db, coordinator, &territory).await?;
    let (baseline, _) = measure(15, || async {
        app::orientations::waiting(&app, &typical)
            .await
            .map(|_| ())
            .map_err(crate::describe)
    })
    .await?;
    println!("{label} : référence (les deux comptes de l'accueil) : {baseline:.2} ms");
    let open = ListInput {
        statut: "envoyee".into(),
        ..ListInput::default()
    };
    let cases: [(&str, &app::Caller, ListKind, &ListInput); 6] = [
        (
            "reçues, structure type (1/20)",
            &typical,
            ListKind::Received,
            &ListInput::default(),
        ),
        (
            "reçues, structure type, « envoyée »",
            &typical,
            ListKind::Received,
            &open,
        ),
        (
            "reçues, plus grosse structure (1/3)",
            &biggest,
            ListKind::Received,
            &ListInput::default(),
        ),
        (
            "reçues, plus grosse structure, « envoyée »",
            &biggest,
            ListKind::Received,
            &open,
        ),
        (
            "envoyées, tout le territoire (coordination)",
            &coordination,
            ListKind::Sent,
            &ListInput::default(),
        ),
        (
            "envoyées, un professionnel (ses 500 personnes)",
            &typical,
            ListKind::Sent,
            &ListInput::default(),
        ),
    ];
    for (name, who, kind, input) in cases {
        let total = app::orientations::list(&app, who, kind, input)
            .await
            .map_err(crate::describe)?
            .total;
        let app = &app;
        let (median, worst) = measure(15, || async move {
            app::orientations::list(app, who, kind, input)
                .await
                .map(|_| ())
                .map_err(crate::describe)
        })
        .await?;
        println!(
            "{label} : {name} ({total} lignes, 50 affichées) : médiane {median:.2} ms, pire {worst:.2} ms, ×{:.1} la référence{}",
            median / baseline.max(0.001),
            if median < 50.0 {
                ""
            } else {
                " — AU-DELÀ DE 50 ms"
            }
        );
    }
    Ok(())
}

pub async fn inbox(count: usize, postgres_url: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "passerelle-bench-orientations-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(e)?;
    let sqlite = run_on(
        "SQLite",
        &format!(
            "sqlite://{}?mode=rwc",
            dir.join("orientations.db").display()
        ),
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
