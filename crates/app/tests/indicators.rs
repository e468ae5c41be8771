//! Indicators on a small hand-built dataset whose right answers are written here, on both
//! backends: every step of the funnel, the breakdowns, the masking of small cells shared across
//! the tables shown together, the exports, and who may see what.

use app::indicators::{self, IndicatorInput, Reach};
use app::testing::Fixture;
use chrono::Duration;
use domain::exit::ExitKind;
use domain::person::{FunnelStatus, OutreachChannel, Sex};
use domain::{PersonId, TerritoryId, UserId};

macro_rules! tests {
    ($($t:tt)*) => { app::fixture_tests! { offline; $($t)* } };
}

/// One fictional person of the dataset, dates in days before today.
struct P {
    territory: TerritoryId,
    met: i64,
    channel: OutreachChannel,
    qpv: Option<&'static str>,
    sex: Sex,
    born_years_ago: i64,
    contacted: Option<i64>,
    accompanied: Option<i64>,
    diagnosed: Option<i64>,
    oriented: Option<i64>,
    entered: Option<i64>,
    exit: Option<(ExitKind, i64)>,
}

async fn make(f: &Fixture, by: UserId, n: usize, p: &P) -> PersonId {
    let now = f.app.now();
    let today = f.app.today();
    let days = |d: i64| today - Duration::days(d);
    let mut tx = f.app.db.begin().await.expect("tx");
    let c = &mut tx.conn();
    let id = store::persons::create(
        c,
        &store::persons::NewPerson {
            territory: p.territory,
            first_name: format!("Personne{n}"),
            last_name: "Fictive".into(),
            folded_name: format!("personne{n} fictive"),
            phone: None,
            email: None,
            address: String::new(),
            postal_code: "59600".into(),
            commune_insee: None,
            neighbourhood: String::new(),
            qpv: p.qpv.map(|code| store::persons::QpvCheck {
                code: Some(code.to_string()),
                millesime: 2024,
                confidence: "exacte".into(),
                checked_at: now,
                position: None,
            }),
            channel: p.channel,
            place: String::new(),
            met_on: days(p.met),
            met_by: Some(by),
            needs: String::new(),
            need_fields: Vec::new(),
            age_band: None,
            birth_year: None,
            agrees_recontact: true,
        },
        by,
        now,
    )
    .await
    .expect("person");
    store::persons::add_member(
        c,
        &store::persons::NewMember {
            person: id,
            user: by,
            organisation: Some(f.france_travail),
            is_referent: true,
            health_access: true,
            added_by: by,
        },
        now,
    )
    .await
    .expect("referent");
    let situation = store::persons::Situation {
        sex: Some(p.sex),
        birth_date: Some(today - Duration::days(365 * p.born_years_ago + 30)),
        ..Default::default()
    };
    store::persons::set_situation(c, id, &situation, now)
        .await
        .expect("situation");
    if let Some(d) = p.contacted {
        store::persons::set_status(c, id, FunnelStatus::Contacte, days(d), now)
            .await
            .expect("contacted");
    }
    if let Some(d) = p.accompanied {
        store::persons::set_status(c, id, FunnelStatus::EnAccompagnement, days(d), now)
            .await
            .expect("accompanied");
    }
    if let Some(d) = p.diagnosed {
        let w = store::diagnostic::DiagnosticWrite {
            held_on: days(d),
            words: String::new(),
            priorities: String::new(),
            availability: None,
            distance_km: None,
            content: store::diagnostic::DiagnosticContent {
                answers: vec![],
                ticks: vec![],
                jobs: vec![],
                hours: vec![],
            },
        };
        store::diagnostic::save(c, id, &w, true, true, by, now)
            .await
            .expect("diagnostic");
    }
    if let Some(d) = p.oriented {
        let o = store::orientations::create(
            c,
            &store::orientations::NewOrientation {
                territory: p.territory,
                person: id,
                previous: None,
                service: None,
                service_name: "",
                receiver_org: None,
                receiver_name: "Structure fictive",
                receiver_email: None,
                sender: by,
                sender_org: None,
                consent: None,
                fields: &[domain::Field::Mobilite],
                reason: "Mesure",
                message: "",
                documents: "",
                contact_preference: "",
                availability: "",
                sent_on: days(d),
            },
            now - Duration::days(d),
        )
        .await
        .expect("orientation");
        if let Some(e) = p.entered {
            use domain::orientation::{Status, Step};
            for (v, (from, to, step)) in [
                (Status::Envoyee, Status::Acceptee, Step::Accept),
                (Status::Acceptee, Status::Entree, Step::Enter),
            ]
            .into_iter()
            .enumerate()
            {
                let ch = store::orientations::Change {
                    id: o,
                    from,
                    version: v as i32,
                    to,
                    step,
                    by: Some(by),
                    via_link: false,
                    on: days(e),
                    detail: "",
                    entered_on: (step == Step::Enter).then_some(days(e)),
                    ended_on: None,
                    outcome: None,
                    decline_comment: None,
                };
                assert!(
                    store::orientations::change(c, &ch, now)
                        .await
                        .expect("change")
                );
            }
        }
    }
    if let Some((kind, d)) = p.exit {
        store::exits::create(
            c,
            &store::exits::NewExit {
                person: id,
                territory: p.territory,
                exited_on: days(d),
                kind,
                employer: None,
                detail: "",
                recorded_by: by,
            },
            now,
        )
        .await
        .expect("exit");
    }
    tx.commit().await.expect("commit");
    id
}

/// 8 women of 26–49 in a QPV met through outreach at the foot of buildings, all contacted and
/// accompanied, 6 diagnosed, 5 oriented, 2 entered, 1 left for a CDI; 6 young men out of QPV met
/// through an association, 5 contacted and accompanied; 3 women met long ago (before the
/// period), one of whom left for a long CDD during it; 2 persons of another territory.
async fn dataset(f: &Fixture) {
    let by = f.professional;
    let mut n = 0;
    for i in 0..8 {
        n += 1;
        make(
            f,
            by,
            n,
            &P {
                territory: f.territory,
                met: 50,
                channel: OutreachChannel::PiedImmeuble,
                qpv: Some("QN05990N"),
                sex: Sex::Femme,
                born_years_ago: 35,
                contacted: Some(40),
                accompanied: Some(30),
                diagnosed: (i < 6).then_some(20),
                oriented: (i < 5).then_some(15),
                entered: (i < 2).then_some(10),
                exit: (i == 0).then_some((ExitKind::Cdi, 5)),
            },
        )
        .await;
    }
    for i in 0..6 {
        n += 1;
        make(
            f,
            by,
            n,
            &P {
                territory: f.territory,
                met: 60,
                channel: OutreachChannel::Association,
                qpv: None,
                sex: Sex::Homme,
                born_years_ago: 20,
                contacted: (i < 5).then_some(45),
                accompanied: (i < 5).then_some(35),
                diagnosed: None,
                oriented: None,
                entered: None,
                exit: None,
            },
        )
        .await;
    }
    for i in 0..3 {
        n += 1;
        make(
            f,
            by,
            n,
            &P {
                territory: f.territory,
                met: 300,
                channel: OutreachChannel::PiedImmeuble,
                qpv: None,
                sex: Sex::Femme,
                born_years_ago: 40,
                contacted: Some(290),
                accompanied: Some(280),
                diagnosed: None,
                oriented: None,
                entered: None,
                exit: (i == 0).then_some((ExitKind::CddLong, 50)),
            },
        )
        .await;
    }
    for _ in 0..2 {
        n += 1;
        make(
            f,
            by,
            n,
            &P {
                territory: f.other_territory,
                met: 50,
                channel: OutreachChannel::Autre,
                qpv: None,
                sex: Sex::Femme,
                born_years_ago: 30,
                contacted: Some(40),
                accompanied: None,
                diagnosed: None,
                oriented: None,
                entered: None,
                exit: None,
            },
        )
        .await;
    }
}

fn period(f: &Fixture) -> IndicatorInput {
    IndicatorInput {
        du: domain::iso_date(f.app.today() - Duration::days(100)),
        au: domain::iso_date(f.app.today() - Duration::days(1)),
        perimetre: String::new(),
    }
}

tests! {
    async fn every_step_is_counted_as_defined_and_small_cells_are_masked_alike_everywhere(f) {
        dataset(&f).await;
        let coordinator = f.caller("coordination@test.fr").await;
        let figures = indicators::indicators(&f.app, &coordinator, &period(&f)).await.expect("figures");
        assert_eq!(figures.reach, Reach::Territory(f.territory));
        let funnel: Vec<Option<i64>> = figures.funnel.iter().map(|(_, v)| *v).collect();
        // repérés, contactés, accompagnés, diagnostiqués, orientés, entrées, then the exits by
        // category: 2 in « emploi durable » (a CDI, and a long CDD of someone met before the
        // period) — under 5, masked.
        assert_eq!(funnel, vec![Some(14), Some(13), Some(13), Some(6), Some(5), None, None, Some(0), Some(0), Some(0)]);
        let table = |code: &str| figures.tables.iter().find(|t| t.key == format!("parcours-{code}")).expect("table");
        let row = |code: &str, value: &str| {
            let t = table(code);
            let i = t.rows.iter().position(|(c, _)| *c == value).expect("row");
            t.published.cells[i].clone()
        };
        assert_eq!(row("sexe", "femme"), vec![Some(8), Some(8), Some(8), Some(6), Some(5), None, None, Some(0), Some(0), Some(0)]);
        assert_eq!(row("sexe", "homme"), vec![Some(6), Some(5), Some(5), Some(0), Some(0), Some(0), Some(0), Some(0), Some(0), Some(0)]);
        assert_eq!(row("age", "moins-26"), row("sexe", "homme"));
        assert_eq!(row("age", "26-49"), row("sexe", "femme"));
        assert_eq!(row("canal", "association"), row("sexe", "homme"));
        // The QPV table: the durable exits split 1 (in QPV) and 1 (address unchecked): both
        // masked, and the tables all hide the same totals.
        assert_eq!(row("qpv", "qpv")[6], None);
        assert_eq!(row("qpv", "inconnu")[6], None);
        for t in figures.tables.iter().filter(|t| t.column_totals && t.key.starts_with("parcours-")) {
            assert_eq!(t.published.column_totals, funnel, "{} shows the same totals", t.key);
        }
        // Each person has one referent, of France Travail.
        assert_eq!(row("organisation", "france_travail")[0], Some(14));
        assert_eq!(row("organisation", "sans-referent")[0], Some(0));
        assert_eq!(row("deld", "inconnu")[0], Some(14), "no registration recorded");
        assert_eq!(row("rqth", "inconnu")[0], Some(14));
        // Exports mask as the page does.
        let csv = figures.csv();
        assert!(csv.starts_with('\u{feff}'), "a byte-order mark for Excel");
        assert!(csv.contains("Femmes;8;8;8;6;5;s;s;0;0;0\r\n"), "{csv}");
        // The workbook holds the same lines, read back by Passerelle's own reader.
        let book = figures.xlsx().expect("xlsx");
        let table = app::spreadsheet::read_table(&book, &app::spreadsheet::LIMITS).expect("read back");
        assert_eq!(table.header[0], "Indicateurs");
        let women: Vec<String> = table.rows.iter().find(|r| r.first().map(String::as_str) == Some("Femmes")).expect("row").clone();
        assert_eq!(women.join(";"), "Femmes;8;8;8;6;5;s;s;0;0;0");
        let json = figures.json();
        assert_eq!(json["entonnoir"][5]["valeur"], serde_json::Value::Null);
        assert_eq!(json["entonnoir"][5]["masque"], true);
        assert_eq!(json["entonnoir"][0]["valeur"], 14);
        // Reading the figures is audited.
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let events = store::audit::recent(&mut pooled.conn(), Some(f.territory), 50).await.expect("audit");
        assert!(events.iter().any(|e| e.action == "indicators_read"));
    }

    async fn pilots_see_their_territory_national_pilots_the_country_professionals_nothing(f) {
        f.clock.set(chrono::DateTime::parse_from_rfc3339("2026-06-15T10:00:00Z").expect("instant").to_utc());
        dataset(&f).await;
        let pilot = f.caller("pilote@test.fr").await;
        // Readers of aggregates read whole months already over.
        let months = IndicatorInput { du: "2026-03-01".into(), au: "31/05/2026".into(), perimetre: String::new() };
        let figures = indicators::indicators(&f.app, &pilot, &months).await.expect("a pilot's territory");
        assert_eq!(figures.funnel[0].1, Some(14), "met on 26 April");
        let e = indicators::indicators(&f.app, &pilot, &period(&f)).await.expect_err("days").into_field_errors();
        assert!(e.get("du").expect("why").contains("premier jour d'un mois"), "{e:?}");
        let june = IndicatorInput { du: "2026-06-01".into(), au: "2026-06-30".into(), perimetre: String::new() };
        let e = indicators::indicators(&f.app, &pilot, &june).await.expect_err("not over").into_field_errors();
        assert!(e.get("au").expect("why").contains("au plus tard le 31/05/2026"), "{e:?}");
        let default = indicators::indicators(&f.app, &pilot, &IndicatorInput::default()).await.expect("default");
        assert_eq!((default.from, default.to), (domain::parse_date("2026-01-01").expect("d"), domain::parse_date("2026-05-31").expect("d")));
        // The coordinator, who may open the files, chooses any days.
        let coordinator = f.caller("coordination@test.fr").await;
        assert!(indicators::indicators(&f.app, &coordinator, &period(&f)).await.is_ok());
        let national = IndicatorInput { perimetre: "france".into(), ..months.clone() };
        assert!(matches!(indicators::indicators(&f.app, &pilot, &national).await, Err(app::AppError::Forbidden)));
        let admin = f.caller("admin@test.fr").await;
        let figures = indicators::indicators(&f.app, &admin, &national).await.expect("national");
        assert_eq!(figures.funnel[0].1, Some(16), "both territories");
        let pro = f.caller("conseil@test.fr").await;
        assert!(matches!(indicators::indicators(&f.app, &pro, &period(&f)).await, Err(app::AppError::Forbidden)));
        let backwards = IndicatorInput { du: months.au.clone(), au: months.du.clone(), perimetre: String::new() };
        let e = indicators::indicators(&f.app, &pilot, &backwards).await.expect_err("refused").into_field_errors();
        assert!(e.get("au").expect("why").contains("précède"));
    }
}

/// A person of the second dataset: met 50 days ago, contacted and accompanied, followed by
/// France Travail.
async fn plain(f: &Fixture, n: usize) -> PersonId {
    make(
        f,
        f.professional,
        n,
        &P {
            territory: f.territory,
            met: 50,
            channel: OutreachChannel::Association,
            qpv: Some("QN05990N"),
            sex: Sex::Femme,
            born_years_ago: 30,
            contacted: Some(45),
            accompanied: Some(40),
            diagnosed: None,
            oriented: None,
            entered: None,
            exit: None,
        },
    )
    .await
}

async fn diagnose(f: &Fixture, person: PersonId, days_ago: i64, levels: &[(domain::Field, Level)]) {
    let mut tx = f.app.db.begin().await.expect("tx");
    let w = store::diagnostic::DiagnosticWrite {
        held_on: f.app.today() - Duration::days(days_ago),
        words: String::new(),
        priorities: String::new(),
        availability: None,
        distance_km: None,
        content: store::diagnostic::DiagnosticContent {
            answers: levels
                .iter()
                .map(|(field, level)| store::diagnostic::FieldAnswer {
                    field: *field,
                    level: *level,
                    comment: String::new(),
                })
                .collect(),
            ticks: vec![],
            jobs: vec![],
            hours: vec![],
        },
    };
    store::diagnostic::save(
        &mut tx.conn(),
        person,
        &w,
        true,
        true,
        f.professional,
        f.app.now(),
    )
    .await
    .expect("diagnostic");
    tx.commit().await.expect("commit");
}

/// Sends an orientation 15 days ago, then moves it along the given steps (answered now).
async fn orient(
    f: &Fixture,
    person: PersonId,
    receiver: Option<OrganisationId>,
    name: &str,
    steps: &[(Status, Status, Step)],
) -> OrientationId {
    let now = f.app.now();
    let today = f.app.today();
    let mut tx = f.app.db.begin().await.expect("tx");
    let c = &mut tx.conn();
    let o = store::orientations::create(
        c,
        &store::orientations::NewOrientation {
            territory: f.territory,
            person,
            previous: None,
            service: None,
            service_name: "",
            receiver_org: receiver,
            receiver_name: name,
            receiver_email: None,
            sender: f.professional,
            sender_org: Some(f.france_travail),
            consent: None,
            fields: &[domain::Field::Mobilite],
            reason: "Mesure",
            message: "",
            documents: "",
            contact_preference: "",
            availability: "",
            sent_on: today - Duration::days(15),
        },
        now - Duration::days(15),
    )
    .await
    .expect("orientation");
    for (v, (from, to, step)) in steps.iter().enumerate() {
        let entered = (*step == Step::Enter).then_some(today - Duration::days(10));
        let ch = store::orientations::Change {
            id: o,
            from: *from,
            version: v as i32,
            to: *to,
            step: *step,
            by: Some(f.professional),
            via_link: false,
            on: entered.unwrap_or(today),
            detail: "",
            entered_on: entered,
            ended_on: None,
            outcome: None,
            decline_comment: None,
        };
        assert!(
            store::orientations::change(c, &ch, now)
                .await
                .expect("change")
        );
    }
    tx.commit().await.expect("commit");
    o
}

/// The rows of a table by code, its cells as published.
fn rows_of(t: &indicators::Table) -> Vec<(String, Vec<Option<i64>>)> {
    t.rows
        .iter()
        .map(|(code, _)| code.clone())
        .zip(t.published.cells.iter().cloned())
        .collect()
}

fn cells(t: &indicators::Table, code: &str) -> Vec<Option<i64>> {
    let i = t
        .rows
        .iter()
        .position(|(c, _)| c == code)
        .unwrap_or_else(|| panic!("no row {code} in {}", t.key));
    t.published.cells[i].clone()
}

fn extra(t: &indicators::Table, label: &str, code: &str) -> String {
    let i = t
        .rows
        .iter()
        .position(|(c, _)| c == code)
        .unwrap_or_else(|| panic!("no row {code} in {}", t.key));
    t.extras
        .iter()
        .find(|e| e.column.label == label)
        .unwrap_or_else(|| panic!("no {label} in {}", t.key))
        .values[i]
        .clone()
}

fn some(v: &[i64]) -> Vec<Option<i64>> {
    v.iter().map(|n| Some(*n)).collect()
}

use domain::diagnostic::Level;
use domain::orientation::{DeclineReason, Status, Step};
use domain::{OrganisationId, OrientationId};

/// Ten persons first diagnosed in the period (a barrier in mobility for all, lifted for five
/// by a second diagnostic; in housing for six, never lifted) and one first diagnosed before
/// it; eight orientations (five entered, one declined for two reasons, two waiting); an
/// atelier of six registered (three present, one absent, one excused, one not marked) and a
/// forum without registrations; an employer's two sponsorships and an immersion; two exits
/// whose 3-month check fell due in the period, one answered « même emploi »; a cohort of six.
async fn second_dataset(f: &Fixture) -> Vec<PersonId> {
    use domain::Field::{Logement, Mobilite};
    let mut persons = Vec::new();
    for i in 0..10 {
        let p = plain(f, 100 + i).await;
        let housing = if i < 6 {
            Level::Important
        } else {
            Level::Aucun
        };
        diagnose(
            f,
            p,
            30,
            &[(Mobilite, Level::Bloquant), (Logement, housing)],
        )
        .await;
        if i < 5 {
            diagnose(
                f,
                p,
                10,
                &[(Mobilite, Level::Leger), (Logement, Level::Important)],
            )
            .await;
        }
        persons.push(p);
    }
    let before = plain(f, 200).await;
    diagnose(f, before, 200, &[(Mobilite, Level::Bloquant)]).await;
    diagnose(f, before, 30, &[(Mobilite, Level::Bloquant)]).await;

    let enter = [
        (Status::Envoyee, Status::Acceptee, Step::Accept),
        (Status::Acceptee, Status::Entree, Step::Enter),
    ];
    for p in &persons[..5] {
        orient(
            f,
            *p,
            Some(f.mission_locale),
            "Mission locale Roubaix",
            &enter,
        )
        .await;
    }
    let declined = orient(
        f,
        persons[5],
        Some(f.mission_locale),
        "Mission locale Roubaix",
        &[(Status::Envoyee, Status::Declinee, Step::Decline)],
    )
    .await;
    let mut c = f.app.db.acquire().await.expect("connection");
    store::orientations::set_decline_reasons(
        &mut c.conn(),
        declined,
        &[
            (DeclineReason::NonMobile, String::new()),
            (DeclineReason::EnEmploi, String::new()),
        ],
    )
    .await
    .expect("reasons");
    drop(c);
    orient(
        f,
        persons[6],
        Some(f.mission_locale),
        "Mission locale Roubaix",
        &[],
    )
    .await;
    orient(f, persons[7], None, "Structure libre", &[]).await;

    let now = f.app.now();
    let day = |d: i64| f.app.today() - Duration::days(d);
    let mut tx = f.app.db.begin().await.expect("tx");
    let c = &mut tx.conn();
    let action = |kind, title| store::actions::NewAction {
        territory: f.territory,
        kind,
        title,
        held_on: day(20),
        starts_at: "09:00",
        ends_at: "12:00",
        place: "Salle",
        capacity: None,
        field: None,
        description: "",
        cohort: None,
        organisers: &[],
        partners: &[],
        employers: &[],
        created_by: f.professional,
    };
    let atelier = store::actions::create(
        c,
        &action(domain::cohort::ActionKind::Atelier, "Atelier CV"),
        now,
    )
    .await
    .expect("atelier");
    store::actions::create(c, &action(domain::cohort::ActionKind::Forum, "Forum"), now)
        .await
        .expect("forum");
    store::actions::add(
        c,
        atelier,
        &persons[..6],
        domain::cohort::Registration::Inscrite,
        f.professional,
        now,
    )
    .await
    .expect("registered");
    use domain::cohort::Attendance::*;
    let marks = [
        (persons[0], Present),
        (persons[1], Present),
        (persons[2], Present),
        (persons[3], Absent),
        (persons[4], Excuse),
    ];
    store::actions::set_attendance(c, atelier, &marks, f.professional, now)
        .await
        .expect("attendance");

    let employer = |siret, name| store::employers::NewEmployer {
        territory: f.territory,
        siret,
        name,
        naf: "62.01Z",
        commune_insee: None,
        commune_name: "",
        contact_name: "",
        contact_email: "",
        contact_phone: "",
        notes: "",
        created_by: f.professional,
    };
    let e1 = store::employers::create(c, &employer("73282932000074", "Entreprise A"), now)
        .await
        .expect("employer");
    let e2 = store::employers::create(c, &employer("55208131766522", "Entreprise B"), now)
        .await
        .expect("employer");
    use domain::employer::Engagement;
    for (e, kind, d) in [
        (e1, Engagement::Parrainage, 20),
        (e1, Engagement::Parrainage, 25),
        (e1, Engagement::Immersion, 20),
        (e2, Engagement::Recrutement, 200),
    ] {
        let g = store::employers::NewEngagement {
            employer: e,
            kind,
            on: day(d),
            action: None,
            person: None,
            note: "",
            by: f.professional,
        };
        store::employers::engage(c, &g, now)
            .await
            .expect("engagement");
    }

    for (p, d) in [(persons[8], 100), (persons[9], 95)] {
        store::exits::create(
            c,
            &store::exits::NewExit {
                person: p,
                territory: f.territory,
                exited_on: day(d),
                kind: ExitKind::Cdi,
                employer: None,
                detail: "",
                recorded_by: f.professional,
            },
            now,
        )
        .await
        .expect("exit");
    }
    let checks = store::exits::checks_of_person(c, persons[8])
        .await
        .expect("checks");
    let three = checks.iter().find(|k| k.months == 3).expect("3 months");
    let answer = store::exits::CheckAnswer {
        id: three.id,
        situation: domain::exit::Situation::MemeEmploi,
        employer: None,
        note: "",
        done_on: day(5),
        by: f.professional,
    };
    assert!(store::exits::answer(c, &answer, now).await.expect("answer"));

    let cohort = store::cohorts::create(
        c,
        &store::cohorts::NewCohort {
            territory: f.territory,
            name: "Cohorte A",
            public: "{}",
            starts_on: day(60),
            ends_on: None,
            capacity: None,
            wave: "",
            referents: &[],
            created_by: f.professional,
        },
        now,
    )
    .await
    .expect("cohort");
    store::cohorts::enter(c, cohort, &persons[..6], day(40), f.professional, now)
        .await
        .expect("members");
    tx.commit().await.expect("commit");
    persons
}

tests! {
    async fn every_table_of_the_dashboard_counts_what_its_definition_says(f) {
        second_dataset(&f).await;
        // Up to today: the follow-up groups were formed today.
        let input = IndicatorInput { au: domain::iso_date(f.app.today()), ..period(&f) };
        let (from, to) = (domain::parse_date(&input.du).expect("du"), domain::parse_date(&input.au).expect("au"));
        let label = "Maubeuge".to_string();
        // Threshold 1: nothing masked, every count as computed.
        let raw = indicators::compute_with(&f.app, Reach::Territory(f.territory), label.clone(), (from, to), 1).await.expect("figures");
        let table = |figures: &indicators::Indicators, key: &str| figures.tables.iter().find(|t| t.key == key).cloned().unwrap_or_else(|| panic!("no table {key}"));

        let barriers = table(&raw, "freins");
        assert_eq!(cells(&barriers, "mobilite"), some(&[5, 5, 0]), "lifted, still there, none");
        assert_eq!(cells(&barriers, "logement"), some(&[0, 6, 4]));
        assert_eq!(cells(&barriers, "reseau-professionnel"), some(&[0, 0, 10]));
        assert!(barriers.published.row_totals.iter().all(|t| *t == Some(10)), "ten first diagnosed, not the one diagnosed before");
        assert_eq!(extra(&barriers, "Part des personnes diagnostiquées ayant ce frein", "mobilite"), "100 %");
        assert_eq!(extra(&barriers, "Part des freins levés", "mobilite"), "50 %");
        assert_eq!(extra(&barriers, "Part des personnes diagnostiquées ayant ce frein", "logement"), "60 %");
        assert_eq!(extra(&barriers, "Part des freins levés", "logement"), "0 %");
        assert_eq!(extra(&barriers, "Part des freins levés", "reseau-professionnel"), "–");

        let by_receiver = table(&raw, "orientations-structure");
        let ml = f.mission_locale.0.to_string();
        // Entered, accepted, no-show, declined, waiting, expired, cancelled.
        assert_eq!(cells(&by_receiver, &ml), some(&[5, 0, 0, 1, 1, 0, 0]));
        assert_eq!(cells(&by_receiver, "Structure libre"), some(&[0, 0, 0, 0, 1, 0, 0]));
        assert_eq!(by_receiver.rows.iter().find(|(c, _)| *c == ml).map(|(_, l)| l.as_str()), Some("Mission locale Roubaix"));
        assert_eq!(by_receiver.published.column_totals, some(&[5, 0, 0, 1, 2, 0, 0]), "by status");
        assert_eq!(by_receiver.published.total, Some(8));
        assert_eq!(extra(&by_receiver, "Part d'entrées effectives", &ml), "71,4 %");
        assert_eq!(extra(&by_receiver, "Délai médian de réponse (jours)", &ml), "15", "six answered 15 days after sending");
        assert_eq!(extra(&by_receiver, "Délai médian d'entrée (jours)", &ml), "5");
        assert_eq!(extra(&by_receiver, "Délai médian d'entrée (jours)", "Structure libre"), "–");
        let by_offer = table(&raw, "orientations-offre");
        assert_eq!(cells(&by_offer, "hors-annuaire"), some(&[5, 0, 0, 1, 2, 0, 0]));
        assert_eq!(cells(&by_offer, "droit-commun"), some(&[0; 7]));
        let reasons = table(&raw, "orientations-motifs");
        assert_eq!(cells(&reasons, "non-mobile"), some(&[1]));
        assert_eq!(cells(&reasons, "en-emploi"), some(&[1]));
        assert_eq!(rows_of(&reasons).iter().filter(|(_, c)| c[0] != Some(0)).count(), 2);

        let actions = table(&raw, "actions");
        assert_eq!(cells(&actions, "atelier"), some(&[3, 1, 1, 1]), "present, absent, excused, not marked");
        assert_eq!(cells(&actions, "forum"), some(&[0, 0, 0, 0]));
        assert_eq!(actions.published.total, Some(6));
        assert_eq!(extra(&actions, "Actions tenues", "forum"), "1");
        assert_eq!(extra(&actions, "Taux d'absence", "atelier"), "40 %");
        assert_eq!(extra(&actions, "Taux d'absence", "forum"), "–");

        let employers = table(&raw, "employeurs");
        assert_eq!(cells(&employers, "parrainage"), some(&[1, 2]), "one employer, two sponsorships");
        assert_eq!(cells(&employers, "immersion"), some(&[1, 1]));
        assert_eq!(cells(&employers, "recrutement"), some(&[0, 0]), "before the period");

        let partners = table(&raw, "partenaires");
        assert_eq!(cells(&partners, &f.france_travail.0.to_string()), some(&[11, 8, 0]), "followed, sent, received");
        assert_eq!(cells(&partners, &ml), some(&[0, 0, 7]));

        let follow_up = table(&raw, "suivi");
        assert_eq!(cells(&follow_up, "3"), some(&[1, 0, 0, 0, 0, 1]), "one « même emploi », one still to do");
        assert_eq!(cells(&follow_up, "6"), some(&[0; 6]));
        assert_eq!(extra(&follow_up, "Part en emploi", "3"), "100 %");

        let cohort = table(&raw, "parcours-cohorte");
        assert_eq!(cohort.rows.len(), 1);
        assert_eq!(cohort.rows[0].1, "Cohorte A");
        assert_eq!(cohort.published.cells[0][..5], some(&[6, 6, 6, 6, 6])[..], "met, contacted, accompanied, diagnosed, oriented");

        // The instance's threshold (5): small cells masked, the orientations tables hiding the
        // same totals, no share or median computed from a masked figure.
        let masked = indicators::compute(&f.app, Reach::Territory(f.territory), label, from, to).await.expect("figures");
        let barriers = table(&masked, "freins");
        assert_eq!(cells(&barriers, "mobilite"), some(&[5, 5, 0]));
        assert_eq!(cells(&barriers, "logement"), vec![Some(0), None, None], "4 masked, and 6 that would give it away");
        assert_eq!(extra(&barriers, "Part des freins levés", "logement"), "s");
        let by_receiver = table(&masked, "orientations-structure");
        assert_eq!(cells(&by_receiver, &ml)[3], None);
        assert_eq!(cells(&by_receiver, "Structure libre")[4], None);
        assert_eq!(by_receiver.published.column_totals, table(&masked, "orientations-offre").published.column_totals);
        assert_eq!(by_receiver.published.column_totals[3], None);
        let reasons = table(&masked, "orientations-motifs");
        assert_eq!(cells(&reasons, "non-mobile"), vec![None]);
        let actions = table(&masked, "actions");
        assert_eq!(cells(&actions, "atelier")[1], None);
        assert_eq!(extra(&actions, "Taux d'absence", "atelier"), "s");
        assert_eq!(extra(&actions, "Actions tenues", "atelier"), "1", "events are not people");
        assert_eq!(cells(&table(&masked, "employeurs"), "parrainage"), some(&[1, 2]), "companies are not masked");
        assert_eq!(cells(&table(&masked, "suivi"), "3")[0], None);
        // The exports carry every table.
        let json = masked.json();
        assert_eq!(json["tableaux"].as_array().map(Vec::len), Some(masked.tables.len()));
        let csv = masked.csv();
        assert!(csv.contains("Mobilité;5;5;0;10;100 %;50 %\r\n"), "{csv}");
        assert!(csv.contains("Logement;0;s;s;10;s;s\r\n"), "{csv}");
    }

    async fn a_coordinator_s_own_territories_are_one_territory_and_the_audit_names_the_perimeter(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let input = IndicatorInput { perimetre: "mes-territoires".into(), ..period(&f) };
        let figures = indicators::indicators(&f.app, &coordinator, &input).await.expect("figures");
        assert_eq!(figures.reach, Reach::Territory(f.territory));
        let admin = f.caller("admin@test.fr").await;
        let national = indicators::indicators(&f.app, &admin, &IndicatorInput { perimetre: "france".into(), ..IndicatorInput::default() }).await.expect("national");
        assert!(national.tables.iter().any(|t| t.key == "parcours-territoire"), "territories side by side");
        assert!(!national.tables.iter().any(|t| t.key == "parcours-cohorte"));
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let events = store::audit::recent(&mut pooled.conn(), Some(f.territory), 50).await.expect("audit");
        let read = events.iter().find(|e| e.action == "indicators_read").expect("audited");
        assert!(read.detail.contains(&format!("« {} »", figures.label)), "{}", read.detail);
    }
}

fn months_from(i: &IndicatorInput) -> chrono::NaiveDate {
    domain::parse_date(&i.du).expect("du")
}

fn months_to(i: &IndicatorInput) -> chrono::NaiveDate {
    domain::parse_date(&i.au).expect("au")
}

tests! {
    async fn readers_of_aggregates_are_served_the_day_s_counts_and_the_night_job_takes_them(f) {
        f.clock.set(chrono::DateTime::parse_from_rfc3339("2026-06-15T10:00:00Z").expect("instant").to_utc());
        dataset(&f).await;
        let pilot = f.caller("pilote@test.fr").await;
        let months = IndicatorInput { du: "2026-03-01".into(), au: "2026-05-31".into(), perimetre: String::new() };
        let first = indicators::indicators(&f.app, &pilot, &months).await.expect("figures");
        assert_eq!(first.funnel[0].1, Some(14));
        assert!(first.as_of.is_some(), "a reader of aggregates is told when the counts were taken");
        // Someone records the past: the day's counts stand until tomorrow.
        let late = P { territory: f.territory, met: 40, channel: OutreachChannel::Autre, qpv: None, sex: Sex::Femme, born_years_ago: 30, contacted: None, accompanied: None, diagnosed: None, oriented: None, entered: None, exit: None };
        make(&f, f.professional, 99, &late).await;
        let again = indicators::indicators(&f.app, &pilot, &months).await.expect("figures");
        assert_eq!((again.funnel[0].1, again.as_of), (Some(14), first.as_of));
        // The coordinator, who may open the files, always counts now.
        let coordinator = f.caller("coordination@test.fr").await;
        let now = indicators::indicators(&f.app, &coordinator, &months).await.expect("figures");
        assert_eq!((now.funnel[0].1, now.as_of), (Some(15), None));
        // The next day, the night job takes the default period for the country and each
        // territory; a new period is counted at its first reading.
        f.clock.advance(chrono::Duration::days(1));
        assert_eq!(indicators::refresh_snapshots(&f.app).await.expect("job"), 3, "France and the two territories");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let gone = store::indicators::snapshot(&mut pooled.conn(), &format!("t:{}", f.territory.0), months_from(&months), months_to(&months)).await.expect("read");
        assert_eq!(gone, None, "yesterday's counts are forgotten");
        drop(pooled);
        let tomorrow = indicators::indicators(&f.app, &pilot, &months).await.expect("figures");
        assert_eq!(tomorrow.funnel[0].1, Some(15));
        let default = indicators::indicators(&f.app, &pilot, &IndicatorInput::default()).await.expect("default");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let kept = store::indicators::snapshot(&mut pooled.conn(), &format!("t:{}", f.territory.0), default.from, default.to).await.expect("read");
        assert_eq!(kept.map(|(at, _)| at), default.as_of, "served from the night's snapshot");

    }
}
