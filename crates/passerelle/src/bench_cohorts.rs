//! `passerelle bench cohortes`: a territory of national average size (6 000 persons) with a
//! cohort of 300 members who each went through a signed diagnostic, two orientations and a
//! collective action, measured at the use case on SQLite and on PostgreSQL: the cohort page
//! (members' progress and the whole cohort's totals), the same with its candidates (the public
//! evaluated on every person of the coordinator's scope), the page of an action with 300
//! registrations, and the home page's follow-up checks. Each figure is printed beside a
//! baseline measured in the same run on the same database: the home page's orientation counts.

use std::time::Instant;

use domain::cohort::{ActionKind, Attendance, Public, Registration};
use domain::exit::ExitKind;
use domain::person::{FunnelStatus, OutreachChannel, Sex};
use domain::{Role, UserId};
use territory::synthetic::Rng;

use crate::bench_orientations::{caller, e, measure};

async fn run_on(label: &str, url: &str, persons: usize) -> Result<(), String> {
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
    let org = store::organisations::create(
        &mut tx.conn(),
        &store::organisations::OrganisationData {
            name: "Structure fictive".into(),
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
    let mut user = async |email: &str, role: Role| -> Result<UserId, String> {
        let address = domain::Email::parse(email).map_err(|x| x.0)?;
        let id = store::users::create(&mut tx.conn(), &address, email, None, now)
            .await
            .map_err(e)?;
        store::memberships::create(
            &mut tx.conn(),
            &store::memberships::NewMembership {
                user: id,
                role,
                organisation: (role == Role::Professional).then_some(org),
                territory: (role == Role::Coordinator).then_some(territory_id),
                created_by: None,
            },
            now,
        )
        .await
        .map_err(e)?;
        Ok(id)
    };
    let coordinator = user("coordination@mesure.test", Role::Coordinator).await?;
    let pro = user("pro@mesure.test", Role::Professional).await?;
    let mut rng = Rng::new(11);
    let mut members = Vec::new();
    for p in 0..persons {
        let status = [
            FunnelStatus::Repere,
            FunnelStatus::Contacte,
            FunnelStatus::EnAccompagnement,
        ][p % 3];
        let id = store::persons::create(
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
                met_on: today - chrono::Duration::days(200),
                met_by: Some(pro),
                needs: String::new(),
                need_fields: Vec::new(),
                age_band: None,
                birth_year: None,
                agrees_recontact: true,
            },
            pro,
            now,
        )
        .await
        .map_err(e)?;
        store::persons::add_member(
            &mut tx.conn(),
            &store::persons::NewMember {
                person: id,
                user: pro,
                organisation: Some(org),
                is_referent: true,
                health_access: true,
                added_by: pro,
            },
            now,
        )
        .await
        .map_err(e)?;
        let situation = store::persons::Situation {
            birth_date: Some(
                today - chrono::Duration::days(365 * (20 + (rng.next_u64() % 40) as i64)),
            ),
            sex: Some(if p % 2 == 0 { Sex::Femme } else { Sex::Homme }),
            ..store::persons::Situation::default()
        };
        store::persons::set_situation(&mut tx.conn(), id, &situation, now)
            .await
            .map_err(e)?;
        if status != FunnelStatus::Repere {
            store::persons::set_status(
                &mut tx.conn(),
                id,
                status,
                today - chrono::Duration::days(150),
                now,
            )
            .await
            .map_err(e)?;
        }
        if status == FunnelStatus::EnAccompagnement && members.len() < 300 {
            members.push(id);
        }
    }
    let public = Public {
        sex: Some(Sex::Femme),
        age_min: Some(26),
        age_max: Some(55),
        ..Public::default()
    };
    let json = serde_json::to_string(&public).map_err(e)?;
    let cohort = store::cohorts::create(
        &mut tx.conn(),
        &store::cohorts::NewCohort {
            territory: territory_id,
            name: "Cohorte de mesure",
            public: &json,
            starts_on: today - chrono::Duration::days(100),
            ends_on: None,
            capacity: None,
            wave: "",
            referents: &[coordinator],
            created_by: coordinator,
        },
        now,
    )
    .await
    .map_err(e)?;
    store::cohorts::enter(
        &mut tx.conn(),
        cohort,
        &members,
        today - chrono::Duration::days(90),
        coordinator,
        now,
    )
    .await
    .map_err(e)?;
    let action = store::actions::create(
        &mut tx.conn(),
        &store::actions::NewAction {
            territory: territory_id,
            kind: ActionKind::JobDating,
            title: "Job dating de mesure",
            held_on: today - chrono::Duration::days(10),
            starts_at: "09:00",
            ends_at: "",
            place: "Salle",
            capacity: None,
            field: None,
            description: "",
            cohort: Some(cohort),
            organisers: &[org],
            partners: &[],
            employers: &[],
            created_by: pro,
        },
        now,
    )
    .await
    .map_err(e)?;
    store::actions::add(
        &mut tx.conn(),
        action,
        &members,
        Registration::Inscrite,
        pro,
        now,
    )
    .await
    .map_err(e)?;
    let marks: Vec<_> = members
        .iter()
        .enumerate()
        .map(|(n, p)| {
            (
                *p,
                if n % 3 == 0 {
                    Attendance::Absent
                } else {
                    Attendance::Present
                },
            )
        })
        .collect();
    store::actions::set_attendance(&mut tx.conn(), action, &marks, pro, now)
        .await
        .map_err(e)?;
    // A tenth of the members left four months ago: their 3-month check is due.
    for p in members.iter().step_by(10) {
        store::exits::create(
            &mut tx.conn(),
            &store::exits::NewExit {
                person: *p,
                territory: territory_id,
                exited_on: today - chrono::Duration::days(120),
                kind: ExitKind::Cdi,
                employer: None,
                detail: "",
                recorded_by: pro,
            },
            now,
        )
        .await
        .map_err(e)?;
    }
    tx.commit().await.map_err(e)?;
    store::scratch::analyze(&db).await.map_err(e)?;
    println!(
        "{label} : {persons} personnes, une cohorte de {} membres, une action de {} inscrites, écrites en {:.1} s",
        members.len(),
        members.len(),
        started.elapsed().as_secs_f64()
    );
    let territory = {
        let mut pooled = db.acquire().await.map_err(e)?;
        store::territories::by_id(&mut pooled.conn(), territory_id)
            .await
            .map_err(e)?
            .ok_or("territoire")?
    };
    let coordination = caller(&db, coordinator, &territory).await?;
    let professional = caller(&db, pro, &territory).await?;
    let app = &app;
    let (baseline, _) = measure(15, || async {
        app::orientations::waiting(app, &professional)
            .await
            .map(|_| ())
            .map_err(crate::describe)
    })
    .await?;
    println!(
        "{label} : référence (les deux comptes d'orientations de l'accueil) : {baseline:.2} ms"
    );
    let report = |name: &str, (median, worst): (f64, f64)| {
        println!(
            "{label} : {name} : médiane {median:.2} ms, pire {worst:.2} ms, ×{:.1} la référence{}",
            median / baseline.max(0.001),
            if median < 50.0 {
                ""
            } else {
                " — AU-DELÀ DE 50 ms"
            }
        );
    };
    let who = &coordination;
    report(
        "page de la cohorte (300 membres)",
        measure(15, || async move {
            app::cohorts::page(app, who, cohort, false)
                .await
                .map(|_| ())
                .map_err(crate::describe)
        })
        .await?,
    );
    report(
        &format!("page de la cohorte avec ses candidats ({persons} personnes évaluées)"),
        measure(7, || async move {
            app::cohorts::page(app, who, cohort, true)
                .await
                .map(|_| ())
                .map_err(crate::describe)
        })
        .await?,
    );
    report(
        "page de l'action (300 inscrites)",
        measure(15, || async move {
            app::actions::page(app, who, action)
                .await
                .map(|_| ())
                .map_err(crate::describe)
        })
        .await?,
    );
    let pro_ref = &professional;
    report(
        "vérifications de suivi de l'accueil (référent de 30 sorties)",
        measure(15, || async move {
            app::exits::due_checks(app, pro_ref)
                .await
                .map(|_| ())
                .map_err(crate::describe)
        })
        .await?,
    );
    Ok(())
}

pub async fn cohorts(persons: usize, postgres_url: &str) -> Result<(), String> {
    let dir =
        std::env::temp_dir().join(format!("passerelle-bench-cohortes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(e)?;
    let sqlite = run_on(
        "SQLite",
        &format!("sqlite://{}?mode=rwc", dir.join("cohortes.db").display()),
        persons,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    sqlite?;
    let (url, name) = store::scratch::create_postgres_database_at(postgres_url).await?;
    let pg = run_on("PostgreSQL", &url, persons).await;
    store::scratch::drop_postgres_database(postgres_url, &name);
    pg
}
