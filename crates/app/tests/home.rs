//! The home pages' figures on both backends: each role gets its own part, a pilot aggregates
//! with small cells masked, a coordinator the territory and the first steps that tick
//! themselves.

use app::persons::{self, EntryForm, OutreachInput, Recorded};
use app::testing::Fixture;
use app::{Caller, fixture_tests};

fn outreach(first: &str, phone: &str, days_ago: i64) -> OutreachInput {
    OutreachInput {
        first_name: first.into(),
        phone: phone.into(),
        channel: "association".into(),
        met_on: domain::iso_date(
            domain::calendar::france_date(chrono::Utc::now()) - chrono::Duration::days(days_ago),
        ),
        agrees_recontact: "oui".into(),
        confirm: true,
        ..OutreachInput::default()
    }
}

async fn record(f: &Fixture, who: &Caller, input: OutreachInput) -> domain::PersonId {
    match persons::record(&f.app, who, &input)
        .await
        .expect("recorded")
    {
        Recorded::Created(id) => id,
        Recorded::Duplicates(d) => panic!("{d:?}"),
    }
}

fixture_tests! {
    async fn each_role_gets_the_week_s_work_that_is_theirs(f) {
        let professional = f.caller("conseil@test.fr").await;
        let coordinator = f.caller("coordination@test.fr").await;
        let pilot = f.caller("pilote@test.fr").await;
        let admin = f.caller("admin@test.fr").await;
        // Before anything: the coordinator's first steps are shown, the repérage not done.
        let week = app::home::week(&f.app, &coordinator).await.expect("home");
        let steps = week.territory.as_ref().and_then(|t| t.checklist.clone()).expect("first steps");
        let first = steps.iter().find(|s| s.label.contains("repérage")).expect("repérage step");
        assert!(!first.done);
        // The professional meets two people long ago and one this week, and calls one in vain.
        let a = record(&f, &professional, outreach("Aïcha", "0650000001", 45)).await;
        record(&f, &professional, outreach("Bruno", "0650000002", 40)).await;
        record(&f, &professional, outreach("Chloé", "0650000003", 2)).await;
        let attempt = EntryForm { kind: "contact".into(), occurred_on: domain::iso_date(f.app.today()), channel: "telephone".into(), outcome: "non-joint".into(), visibility: "groupe".into(), ..EntryForm::default() };
        persons::add_entry(&f.app, &professional, a, &attempt).await.expect("attempt");
        let (week, statements) = store::queries::counted(app::home::week(&f.app, &professional)).await;
        let week = week.expect("home");
        let mine = week.mine.expect("a professional follows people");
        assert_eq!((mine.total, mine.to_call_back, mine.not_contacted, mine.silent_30), (3, 1, 3, 2));
        assert!(week.territory.is_none() && week.pilot.is_none() && week.admin.is_none());
        assert_eq!(statements, 5, "one statement each for the professional's figures, their overdue actions, the orientations waiting, the follow-up checks due and the action items of meetings");
        assert!(week.meeting_actions.is_empty(), "no meeting yet");
        assert!(week.checks.as_ref().is_some_and(|c| c.mine.is_empty() && c.territory.is_none()), "no check due, and no territory count for a professional");
        assert_eq!(week.orientations, Some(app::orientations::Waiting::default()), "nothing waits for an answer yet");
        assert_eq!(week.overdue.map(|(n, _)| n), Some(0), "no action in any plan yet");
        // The coordinator: their own (none) and the territory's, nobody without référent (the
        // recorder is), the week's repérages; the first repérage is ticked.
        let week = app::home::week(&f.app, &coordinator).await.expect("home");
        assert_eq!(week.mine.expect("own").total, 0);
        let territory = week.territory.expect("the territory");
        assert_eq!((territory.counts.total, territory.counts.without_referent, territory.counts.new_this_week), (3, 0, 1), "whoever records is the référent");
        let steps = territory.checklist.expect("steps left");
        assert!(steps.iter().find(|s| s.label.contains("repérage")).expect("step").done);
        // The pilot: aggregates only, and 3 people is under the threshold: masked.
        let week = app::home::week(&f.app, &pilot).await.expect("home");
        assert!(week.mine.is_none() && week.territory.is_none());
        let figures = week.pilot.expect("aggregates");
        assert_eq!(figures.total, None, "3 people: « moins de 5 »");
        assert!(figures.by_status.iter().all(|(_, v)| v.is_none()));
        for i in 0..4 {
            record(&f, &professional, outreach("Dan", &format!("06500000{}", 10 + i), 10)).await;
        }
        let figures = app::home::week(&f.app, &pilot).await.expect("home").pilot.expect("aggregates");
        assert_eq!(figures.total, Some(7));
        assert_eq!(figures.by_status.first().map(|(_, v)| *v), Some(Some(7)), "7 repérées");
        assert_eq!(figures.new_this_week, None, "1 this week: masked");
        // The administrator: what waits (nothing failed in a fresh fixture).
        let waiting = app::home::week(&f.app, &admin).await.expect("home").admin.expect("admin");
        assert_eq!((waiting.failed_mail, waiting.failed_jobs), (0, 0));
    }

    async fn a_figure_opens_the_list_it_counts(f) {
        let professional = f.caller("conseil@test.fr").await;
        let a = record(&f, &professional, outreach("Aïcha", "0650000001", 45)).await;
        let b = record(&f, &professional, outreach("Bruno", "0650000002", 2)).await;
        let attempt = EntryForm { kind: "contact".into(), occurred_on: domain::iso_date(f.app.today()), channel: "telephone".into(), outcome: "message-laisse".into(), visibility: "groupe".into(), ..EntryForm::default() };
        persons::add_entry(&f.app, &professional, a, &attempt).await.expect("attempt");
        let list = |input: persons::CaseloadInput| {
            let (app, caller) = (f.app.clone(), professional.clone());
            async move { persons::caseload(&app, &caller, &persons::CaseloadInput { page: 1, ..input }).await.expect("caseload").rows.iter().map(|r| r.id).collect::<Vec<_>>() }
        };
        assert_eq!(list(persons::CaseloadInput { to_call_back: true, ..Default::default() }).await, vec![a]);
        assert_eq!(list(persons::CaseloadInput { new_days: "7".into(), ..Default::default() }).await, vec![b]);
    }
}
