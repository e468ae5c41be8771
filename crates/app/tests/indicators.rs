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
        let table = |code: &str| figures.tables.iter().find(|t| t.breakdown.as_str() == code).expect("table");
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
        for t in &figures.tables {
            assert_eq!(t.published.column_totals, funnel, "{:?} shows the same totals", t.breakdown);
        }
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
        dataset(&f).await;
        let pilot = f.caller("pilote@test.fr").await;
        let figures = indicators::indicators(&f.app, &pilot, &period(&f)).await.expect("a pilot's territory");
        assert_eq!(figures.funnel[0].1, Some(14));
        let national = IndicatorInput { perimetre: "france".into(), ..period(&f) };
        assert!(matches!(indicators::indicators(&f.app, &pilot, &national).await, Err(app::AppError::Forbidden)));
        let admin = f.caller("admin@test.fr").await;
        let figures = indicators::indicators(&f.app, &admin, &national).await.expect("national");
        assert_eq!(figures.funnel[0].1, Some(16), "both territories");
        let pro = f.caller("conseil@test.fr").await;
        assert!(matches!(indicators::indicators(&f.app, &pro, &period(&f)).await, Err(app::AppError::Forbidden)));
        let backwards = IndicatorInput { du: period(&f).au, au: period(&f).du, perimetre: String::new() };
        let e = indicators::indicators(&f.app, &pilot, &backwards).await.expect_err("refused").into_field_errors();
        assert!(e.get("au").expect("why").contains("précède"));
    }
}
