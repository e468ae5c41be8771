//! Closed-loop orientations through the use cases, on both backends: the consent gate, the
//! receiver's limited view, the lifecycle and its log, decline reasons, re-orientation,
//! reminders and expiry with the clock moved by hand, magic links, notices (immediate and
//! digest), and — on PostgreSQL — two decisions at the same instant.

use app::orientations::{self, DecisionInput, LinkState, ListInput, ListKind, SendInput};
use app::persons::{self, EntryForm, HealthInput};
use app::testing::{Fixture, link_token};
use app::{AppError, Caller};
use chrono::Duration;
use domain::orientation::Status;
use domain::{OrganisationId, OrientationId, PersonId};
use serde_json::json;

macro_rules! tests {
    ($($t:tt)*) => { app::fixture_tests! { offline; $($t)* } };
}

fn day(days: i64) -> String {
    domain::iso_date(domain::calendar::france_date(chrono::Utc::now()) + Duration::days(days))
}

/// The sender (France Travail), and a receiving association of the same territory.
struct Cast {
    sender: Caller,
    receiver: Caller,
    receiver_org: OrganisationId,
}

async fn cast(f: &Fixture) -> Cast {
    let sender = f.caller("conseil@test.fr").await;
    let receiver = f
        .caller_in_new_organisation("accueil@asso.fr", f.territory)
        .await;
    let receiver_org = receiver.organisations_in(f.territory)[0];
    Cast {
        sender,
        receiver,
        receiver_org,
    }
}

/// A person accompanied by `sender`, who agreed to share with `shared`.
async fn person(f: &Fixture, sender: &Caller, shared: &[OrganisationId]) -> PersonId {
    person_called(f, sender, shared, "Awa", "Diallo").await
}

static PHONES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(10);

async fn person_called(
    f: &Fixture,
    sender: &Caller,
    shared: &[OrganisationId],
    first: &str,
    last: &str,
) -> PersonId {
    let phone = format!(
        "06010203{:02}",
        PHONES.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 100
    );
    f.accompanied_person(sender, shared, (first, last, &phone))
        .await
}

fn to_org(org: OrganisationId) -> SendInput {
    SendInput {
        receiver: format!("organisation:{}", org.0),
        fields: vec!["mobilite".into(), "savoirs-de-base".into()],
        reason: "Préparer le permis B avec un atelier de code.".into(),
        message: "Personne très motivée.".into(),
        documents: "Pièce d'identité".into(),
        contact_preference: "Téléphone, après 17 h".into(),
        availability: "Lundi et jeudi".into(),
        ..SendInput::default()
    }
}

fn step(step: &str) -> DecisionInput {
    DecisionInput {
        step: step.into(),
        ..DecisionInput::default()
    }
}

fn error_text(e: AppError) -> String {
    e.into_field_errors()
        .iter()
        .map(|(f, m)| format!("{f}: {m}"))
        .collect::<Vec<_>>()
        .join(" | ")
}

async fn audit_count(f: &Fixture, id: PersonId, action: &str) -> usize {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::audit::for_target(&mut pooled.conn(), "person", id.0, 1000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action == action)
        .count()
}

async fn row(f: &Fixture, id: OrientationId) -> store::orientations::OrientationRow {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::orientations::get(&mut pooled.conn(), id)
        .await
        .expect("read")
        .expect("row")
}

async fn events(f: &Fixture, id: OrientationId) -> Vec<store::orientations::EventRow> {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::orientations::events(&mut pooled.conn(), &[id])
        .await
        .expect("events")
}

/// Every change is one log row whose « from » is the previous « to », ending at the status.
async fn assert_log_consistent(f: &Fixture, id: OrientationId) {
    let log = events(f, id).await;
    assert_eq!(log[0].from(), None);
    assert_eq!(log[0].to_status, Status::Envoyee);
    for pair in log.windows(2) {
        assert_eq!(pair[1].from(), Some(pair[0].to_status), "{log:?}");
    }
    assert_eq!(
        log.last().map(|e| e.to_status),
        Some(row(f, id).await.status)
    );
}

tests! {
    async fn without_consent_to_share_with_the_receiver_nothing_is_sent(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[]).await;
        let before = f.outbox().await.len();
        let e = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect_err("refused");
        let text = error_text(e);
        assert!(text.contains("n'a pas accepté que ses informations soient partagées"), "{text}");
        assert!(text.contains("Consentement"), "says what to do: {text}");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        assert!(store::orientations::of_person(&mut pooled.conn(), id).await.expect("list").is_empty());
        assert_eq!(f.outbox().await.len(), before, "no mail");
        assert_eq!(audit_count(&f, id, "person.orientation").await, 0);
    }

    async fn bad_input_is_refused_field_by_field(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let input = SendInput { receiver: "organisation:99999".into(), fields: vec![], reason: " ".into(), ..SendInput::default() };
        let errors = orientations::send(&f.app, &c.sender, id, &input).await.expect_err("refused").into_field_errors();
        for field in ["receiver", "fields", "reason"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        // An outsider of the group learns nothing.
        let Err(AppError::NotFound) = orientations::send(&f.app, &c.receiver, id, &to_org(c.receiver_org)).await else { panic!("outsider") };
    }

    async fn a_request_sent_twice_with_its_key_makes_one_orientation(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let keyed = SendInput { idempotency_key: "9f1c-envoi-1".into(), ..to_org(c.receiver_org) };
        let first = orientations::send(&f.app, &c.sender, id, &keyed).await.expect("sent");
        let mails = f.outbox().await.len();
        let again = orientations::send(&f.app, &c.sender, id, &keyed).await.expect("repeated");
        assert_eq!(again, first, "the repetition finds the first orientation");
        assert_eq!(f.outbox().await.len(), mails, "and announces nothing again");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        assert_eq!(store::orientations::of_person(&mut pooled.conn(), id).await.expect("list").len(), 1);
        drop(pooled);
        // The same key on another request: refused, and nothing is sent.
        let other = SendInput { reason: "Autre motif".into(), ..keyed.clone() };
        let errors = orientations::send(&f.app, &c.sender, id, &other).await.expect_err("reused").into_field_errors();
        assert!(errors.get("idempotency_key").is_some_and(|m| m.contains(&format!("n° {}", first.0))), "{errors:?}");
        // A key is the sender's: another sender's same key is another request.
        let colleague = f.caller_in_organisation("collegue@test.fr", f.france_travail).await;
        assert!(matches!(orientations::send(&f.app, &colleague, id, &keyed).await, Err(AppError::NotFound)), "not in the group");
        // Without a key, each request sends; an ill-formed key is refused.
        orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("sent");
        let bad = SendInput { idempotency_key: "deux mots".into(), ..to_org(c.receiver_org) };
        let errors = orientations::send(&f.app, &c.sender, id, &bad).await.expect_err("ill-formed").into_field_errors();
        assert!(errors.get("idempotency_key").is_some(), "{errors:?}");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        assert_eq!(store::orientations::of_person(&mut pooled.conn(), id).await.expect("list").len(), 2);
    }

    async fn send_study_accept_enter_finish_across_two_organisations(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let o = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("sent");
        assert_eq!(audit_count(&f, id, "person.orientation").await, 1, "one audit row per write");
        let mail = f.outbox().await.into_iter().find(|m| m.recipient == "accueil@asso.fr").expect("the receiver is told");
        assert!(mail.body.contains(&format!("/orientations/{}", o.0)));
        assert!(!mail.body.contains("Diallo"), "no personal data in mails");

        // The inbox shows it, with the person's name (audited as a list).
        let inbox = orientations::list(&f.app, &c.receiver, ListKind::Received, &ListInput::default()).await.expect("inbox");
        assert_eq!(inbox.rows.len(), 1);
        assert_eq!(inbox.rows[0].first_name.as_deref(), Some("Awa"));
        assert_eq!(inbox.counts, vec![(Status::Envoyee, 1)]);
        // Before accepting: the referral view, and no file.
        let page = orientations::orientation(&f.app, &c.receiver, o).await.expect("referral view");
        assert!(page.referral_view() && page.events.is_empty() && page.chain.is_empty());
        assert_eq!(page.steps.iter().map(|s| s.as_str()).collect::<Vec<_>>(), vec!["etude", "accepter", "decliner"]);
        let Err(AppError::NotFound) = persons::file(&f.app, &c.receiver, id, "/personnes").await else { panic!("no file before acceptance") };
        // The sender may not answer for the receiver, the receiver may not cancel.
        let Err(AppError::Forbidden) = orientations::decide(&f.app, &c.sender, o, &step("accepter")).await else { panic!("sender accepts") };
        let Err(AppError::Forbidden) = orientations::decide(&f.app, &c.receiver, o, &step("annuler")).await else { panic!("receiver cancels") };

        assert_eq!(orientations::decide(&f.app, &c.receiver, o, &step("etude")).await.expect("study"), Status::AEtude);
        let e = orientations::decide(&f.app, &c.receiver, o, &step("etude")).await.expect_err("twice");
        assert!(error_text(e).contains("ne peut plus être mise à l'étude"));
        assert_eq!(orientations::decide(&f.app, &c.receiver, o, &step("accepter")).await.expect("accept"), Status::Acceptee);
        // Accepted: the receiving professional is in the group, within the consent.
        let file = persons::file(&f.app, &c.receiver, id, "/personnes").await.expect("member now");
        assert!(file.members.iter().any(|m| m.user_id == c.receiver.user_id.0 && m.ended_at.is_none() && !m.health_access));
        let told = f.outbox().await.into_iter().filter(|m| m.recipient == "conseil@test.fr").count();
        assert!(told >= 2, "the sender hears of each decision");

        let e = orientations::decide(&f.app, &c.receiver, o, &DecisionInput { on: day(2), ..step("entree") }).await.expect_err("future");
        assert!(error_text(e).contains("futur"));
        orientations::decide(&f.app, &c.receiver, o, &DecisionInput { on: day(0), ..step("entree") }).await.expect("entered");
        let e = orientations::decide(&f.app, &c.sender, o, &DecisionInput { on: day(0), ..step("terminer") }).await.expect_err("no outcome");
        assert!(error_text(e).contains("outcome"));
        orientations::decide(&f.app, &c.sender, o, &DecisionInput { on: day(0), outcome: "parcours-realise".into(), ..step("terminer") }).await.expect("finished");
        let r = row(&f, o).await;
        assert_eq!(r.status, Status::Terminee);
        assert_eq!(r.outcome.as_deref(), Some("parcours-realise"));
        assert_eq!(r.entered_on.as_deref(), Some(day(0).as_str()));
        assert_log_consistent(&f, o).await;
        assert_eq!(events(&f, o).await.len(), 5);
        assert_eq!(audit_count(&f, id, "person.orientation").await, 5, "one per change");
        let e = orientations::decide(&f.app, &c.receiver, o, &step("decliner")).await.expect_err("final");
        assert!(error_text(e).contains("« terminée »"));
    }

    async fn a_refusal_has_typed_reasons_and_a_reorientation_keeps_the_chain(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let o = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("sent");
        let e = orientations::decide(&f.app, &c.receiver, o, &DecisionInput { reasons: vec!["autre".into()], ..step("decliner") }).await.expect_err("autre without text");
        assert!(error_text(e).contains("other_reason"));
        let e = orientations::decide(&f.app, &c.receiver, o, &step("decliner")).await.expect_err("no reason");
        assert!(error_text(e).contains("au moins un motif"));
        orientations::decide(&f.app, &c.receiver, o, &DecisionInput {
            reasons: vec!["session-complete".into(), "autre".into()],
            other_reason: "Prochaine session en mars".into(),
            comment: "Rappelez-nous en février.".into(),
            ..step("decliner")
        }).await.expect("declined");
        let page = orientations::orientation(&f.app, &c.sender, o).await.expect("sender view");
        assert_eq!(page.reasons.len(), 2);
        assert_eq!(page.row.decline_comment, "Rappelez-nous en février.");
        assert!(page.may_reorient);
        // Declined: the receiver no longer sees who it was.
        let inbox = orientations::list(&f.app, &c.receiver, ListKind::Received, &ListInput::default()).await.expect("inbox");
        assert_eq!(inbox.rows[0].first_name, None);
        let Err(AppError::NotFound) = orientations::orientation(&f.app, &c.receiver, o).await else { panic!("closed for the receiver") };

        let next = orientations::send(&f.app, &c.sender, id, &SendInput { previous: o.0.to_string(), ..to_org(f.france_travail) }).await.expect("re-oriented");
        let page = orientations::orientation(&f.app, &c.sender, next).await.expect("page");
        assert_eq!(page.chain.iter().map(|l| l.id).collect::<Vec<_>>(), vec![o, next]);
        assert_eq!(row(&f, next).await.previous_id, Some(o.0));
        // Only after a refusal or an outcome.
        let e = orientations::send(&f.app, &c.sender, id, &SendInput { previous: next.0.to_string(), ..to_org(c.receiver_org) }).await.expect_err("still open");
        assert!(error_text(e).contains("previous"));
    }

    async fn the_receivers_limited_view_never_holds_journal_or_health_data(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        persons::add_entry(&f.app, &c.sender, id, &EntryForm { kind: "note".into(), occurred_on: day(0), body: "Note confidentielle du groupe".into(), visibility: "groupe".into(), ..EntryForm::default() }).await.expect("note");
        persons::set_health(&f.app, &c.sender, id, &HealthInput { rqth: "oui".into(), need: "oui".into(), need_note: "Suivi psychiatrique".into(), ..HealthInput::default() }).await.expect("health");
        let other = orientations::send(&f.app, &c.sender, id, &to_org(f.france_travail)).await.expect("other");
        let mut input = to_org(c.receiver_org);
        input.fields.push("sante-handicap".into());
        let o = orientations::send(&f.app, &c.sender, id, &input).await.expect("sent");
        let reads = audit_count(&f, id, "person.read").await;
        let page = orientations::orientation(&f.app, &c.receiver, o).await.expect("view");
        assert!(page.referral_view());
        let shown = format!("{page:?}");
        for secret in ["Note confidentielle", "Suivi psychiatrique", "rqth", "SanteHandicap", &format!("id: OrientationId({})", other.0)] {
            assert!(!shown.contains(secret), "{secret} leaked into the referral view");
        }
        assert_eq!(page.person.first_name, "Awa");
        assert!(page.person.phone.is_some(), "the contact is what the receiver needs");
        // The sender's référent sees the health field.
        let page = orientations::orientation(&f.app, &c.sender, o).await.expect("sender");
        assert!(page.fields.contains(&domain::Field::SanteHandicap));
        assert_eq!(audit_count(&f, id, "person.read").await, reads + 2, "each view audited");
    }

    async fn reminders_on_day_10_and_20_expiry_at_30_and_nothing_after(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let o = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("sent");
        let reminders = async || f.outbox().await.iter().filter(|m| m.subject.starts_with("Relance") && m.recipient == "accueil@asso.fr").count();
        let mut seen = Vec::new();
        for n in 1..=40 {
            f.clock.advance(Duration::days(1));
            let swept = orientations::sweep(&f.app).await.expect("sweep");
            // A second sweep the same day does nothing more.
            assert_eq!(orientations::sweep(&f.app).await.expect("again"), Default::default());
            if swept.reminded > 0 { seen.push((n, "relance")); }
            if swept.expired > 0 { seen.push((n, "expiration")); }
        }
        assert_eq!(seen, vec![(10, "relance"), (20, "relance"), (30, "expiration")]);
        assert_eq!(reminders().await, 2);
        assert_eq!(row(&f, o).await.status, Status::Expiree);
        assert_log_consistent(&f, o).await;
        assert!(f.outbox().await.iter().any(|m| m.recipient == "conseil@test.fr" && m.subject.contains("expirée")), "the sender is told");
        let e = orientations::decide(&f.app, &c.sender, o, &step("annuler")).await.expect_err("expired");
        assert!(error_text(e).contains("« expirée »"));
    }

    async fn a_territory_sets_its_own_delays_and_under_study_counts_from_the_study(f) {
        let c = cast(&f).await;
        let coordinator = f.caller("coordination@test.fr").await;
        let bad = orientations::DelaysInput { unanswered_days: "3".into(), study_days: "20".into(), reminder_days: "5".into() };
        assert!(orientations::set_delays(&f.app, &coordinator, &bad).await.expect_err("too short").into_field_errors().get("unanswered_days").is_some());
        let Err(AppError::Forbidden) = orientations::set_delays(&f.app, &c.sender, &bad).await else { panic!("coordinators only") };
        orientations::set_delays(&f.app, &coordinator, &orientations::DelaysInput { unanswered_days: "15".into(), study_days: "20".into(), reminder_days: "5".into() }).await.expect("set");
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let o = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("sent");
        f.clock.advance(Duration::days(3));
        orientations::decide(&f.app, &c.receiver, o, &step("etude")).await.expect("study");
        let mut expired_on = None;
        for n in 1..=30 {
            f.clock.advance(Duration::days(1));
            if orientations::sweep(&f.app).await.expect("sweep").expired > 0 { expired_on = Some(n); }
        }
        assert_eq!(expired_on, Some(20), "20 days after the study began");
    }

    async fn a_receiver_without_an_account_answers_through_a_magic_link(f) {
        let c = cast(&f).await;
        let file = json!({
            "structures": [{"source": "dora", "id": "dora--s1", "nom": "Auto-école sociale", "date_maj": "2026-10-01", "courriel": "contact@autoecole.fr"}],
            "services": [{"source": "dora", "structure_id": "dora--s1", "id": "dora--permis", "nom": "Permis accompagné",
                "description": "Un service fictif.", "date_maj": "2026-10-15", "thematiques": ["mobilite--preparer-un-permis"],
                "courriel": "permis@autoecole.fr", "conditions_acces": "Avoir le code de la route"}],
        });
        app::directory_file::import(&f.app, f.territory, std::io::Cursor::new(file.to_string().into_bytes()), None).await.expect("imported");
        let service = {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::directory::service_id_by_key(&mut pooled.conn(), f.territory, "dora", "dora--permis").await.expect("lookup").expect("service")
        };
        let id = person(&f, &c.sender, &[]).await;
        let input = SendInput { receiver: format!("service:{}", service.0), ..to_org(c.receiver_org) };
        let e = orientations::send(&f.app, &c.sender, id, &input).await.expect_err("structure consent unconfirmed");
        assert!(error_text(e).contains("structure_consent"));
        let o = orientations::send(&f.app, &c.sender, id, &SendInput { structure_consent: true, ..input }).await.expect("sent");
        let mail = f.outbox().await.into_iter().find(|m| m.recipient == "permis@autoecole.fr").expect("link mailed to the service");
        let path = format!("/orientations/{}/lien/", o.0);
        let token = link_token(&mail.body, &path);
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            let stored = store::orientations::link(&mut pooled.conn(), &token).await.expect("lookup");
            assert!(stored.is_none(), "only the hash is stored");
        }
        let page = orientations::link_page(&f.app, o, &token, None).await.expect("page");
        assert_eq!(page.state, LinkState::Valid);
        assert_eq!(page.person.as_ref().map(|p| p.first_name.as_str()), Some("Awa"));
        assert!(page.requirements.iter().any(|(_, v)| v == "Avoir le code de la route"));
        // Tampered with, or another orientation's: invalid, and it says nothing more.
        let mut tampered = token.clone();
        tampered.replace_range(0..1, if tampered.starts_with('A') { "B" } else { "A" });
        assert_eq!(orientations::link_page(&f.app, o, &tampered, None).await.expect("page").state, LinkState::Invalid);
        let other = orientations::send(&f.app, &c.sender, id, &to_org(f.france_travail)).await.expect("other");
        assert_eq!(orientations::link_page(&f.app, other, &token, None).await.expect("page").state, LinkState::Invalid);
        let Err(AppError::NotFound) = orientations::link_decide(&f.app, other, &token, &step("accepter"), None).await else { panic!("other orientation") };
        // A receiver's step, once per link.
        let Err(AppError::Forbidden) = orientations::link_decide(&f.app, o, &token, &step("annuler"), None).await else { panic!("sender's step") };
        orientations::link_decide(&f.app, o, &token, &step("etude"), None).await.expect("study");
        let page = orientations::link_page(&f.app, o, &token, None).await.expect("page");
        assert!(!page.steps.iter().any(|s| s.as_str() == "etude"));
        orientations::link_decide(&f.app, o, &token, &step("accepter"), None).await.expect("accepted");
        let e = orientations::link_decide(&f.app, o, &token, &step("accepter"), None).await.expect_err("reused");
        assert!(error_text(e).contains("déjà servi"), "reused");
        let log = events(&f, o).await;
        assert!(log.iter().skip(1).all(|e| e.via_link && e.user_id.is_none()));
        assert!(f.outbox().await.iter().any(|m| m.recipient == "conseil@test.fr" && m.subject.contains("acceptée")));
        // Nobody joined the group (no account), and the sender records the entry.
        orientations::decide(&f.app, &c.sender, o, &DecisionInput { on: day(0), ..step("entree") }).await.expect("entry");
        // Expired after 7 days: the page offers a new link, sent to the service's address only.
        f.clock.advance(Duration::days(8));
        assert_eq!(orientations::link_page(&f.app, o, &token, None).await.expect("page").state, LinkState::Expired);
        let e = orientations::link_decide(&f.app, o, &token, &DecisionInput { on: day(0), outcome: "abandon".into(), ..step("terminer") }, None).await.expect_err("expired");
        assert!(error_text(e).contains("expiré"));
        let before = f.outbox().await.len();
        orientations::renew_link(&f.app, o, &token).await.expect("renewed");
        let mails = f.outbox().await;
        assert_eq!(mails.len(), before + 1);
        assert_eq!(mails[0].recipient, "permis@autoecole.fr");
        let fresh = link_token(&mails[0].body, &path);
        assert_ne!(fresh, token);
        orientations::renew_link(&f.app, o, &token).await.expect("asked again");
        assert_eq!(f.outbox().await.len(), before + 1, "at most one new link an hour");
        orientations::link_decide(&f.app, o, &fresh, &DecisionInput { on: day(0), outcome: "abandon".into(), ..step("terminer") }, None).await.expect("outcome by link");
        assert_eq!(row(&f, o).await.status, Status::Terminee);
        assert_log_consistent(&f, o).await;
        // Once over, the link shows nothing of the person.
        assert!(orientations::link_page(&f.app, o, &fresh, None).await.expect("page").person.is_none());
    }

    async fn a_professional_may_choose_a_daily_digest(f) {
        let c = cast(&f).await;
        orientations::set_notice_mode(&f.app, &c.receiver, "quotidien").await.expect("digest");
        assert!(orientations::set_notice_mode(&f.app, &c.receiver, "jamais").await.is_err());
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("one");
        orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("two");
        assert!(!f.outbox().await.iter().any(|m| m.recipient == "accueil@asso.fr"), "nothing immediate");
        // The digest goes out once a day (from 7 o'clock, Paris), through the job queue.
        let noon = domain::calendar::france_midnight(domain::calendar::france_date(f.app.now()) + Duration::days(1)) + Duration::hours(12);
        f.clock.set(noon);
        app::jobs::schedule_periodic(&f.app).await.expect("scheduled");
        app::jobs::drain(&f.app, "test").await.expect("ran");
        let digests: Vec<_> = f.outbox().await.into_iter().filter(|m| m.recipient == "accueil@asso.fr").collect();
        assert_eq!(digests.len(), 1);
        assert_eq!(digests[0].body.matches("Nouvelle orientation").count(), 2);
        app::jobs::schedule_periodic(&f.app).await.expect("again");
        app::jobs::drain(&f.app, "test").await.expect("ran");
        assert_eq!(f.outbox().await.iter().filter(|m| m.recipient == "accueil@asso.fr").count(), 1, "once a day");
    }

    async fn withdrawing_consent_cancels_open_orientations_and_the_receivers_view(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let o = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("sent");
        orientations::orientation(&f.app, &c.receiver, o).await.expect("referral view");
        persons::revoke_consent(&f.app, &c.sender, id).await.expect("revoked");
        assert_eq!(row(&f, o).await.status, Status::Annulee);
        assert_log_consistent(&f, o).await;
        let Err(AppError::NotFound) = orientations::orientation(&f.app, &c.receiver, o).await else { panic!("view ended") };
        assert!(f.outbox().await.iter().any(|m| m.recipient == "accueil@asso.fr" && m.subject.contains("annulée")));
    }

    async fn the_lists_and_the_page_run_the_same_statements_whatever_they_hold(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let first = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("sent");
        let count = async |who: &Caller, kind| store::queries::counted(orientations::list(&f.app, who, kind, &ListInput::default())).await.1;
        let (few_in, few_out) = (count(&c.receiver, ListKind::Received).await, count(&c.sender, ListKind::Sent).await);
        let (_, page_few) = store::queries::counted(orientations::orientation(&f.app, &c.sender, first)).await;
        let mut last = first;
        for _ in 0..12 {
            last = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("sent");
            orientations::decide(&f.app, &c.receiver, last, &DecisionInput { reasons: vec!["doublon".into()], ..step("decliner") }).await.expect("declined");
            last = orientations::send(&f.app, &c.sender, id, &SendInput { previous: last.0.to_string(), ..to_org(c.receiver_org) }).await.expect("again");
        }
        assert_eq!(count(&c.receiver, ListKind::Received).await, few_in, "received list");
        assert_eq!(count(&c.sender, ListKind::Sent).await, few_out, "sent list");
        let (_, page_many) = store::queries::counted(orientations::orientation(&f.app, &c.sender, last)).await;
        assert_eq!(page_many, page_few, "one orientation's page, with a chain of 25");
        let (form, statements) = store::queries::counted(orientations::send_form(&f.app, &c.sender, id, None, None, None)).await;
        assert!(form.expect("form").receivers.len() >= 2);
        assert!(statements <= 8, "{statements} statements for the send form");
    }

    async fn lists_filter_and_home_pages_show_what_waits(f) {
        let c = cast(&f).await;
        let id = person(&f, &c.sender, &[c.receiver_org]).await;
        let a = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("a");
        orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org)).await.expect("b");
        orientations::decide(&f.app, &c.receiver, a, &DecisionInput { reasons: vec!["doublon".into()], ..step("decliner") }).await.expect("declined");
        let w = orientations::waiting(&f.app, &c.receiver).await.expect("waiting");
        assert_eq!((w.received, w.sent), (1, 0));
        let w = orientations::waiting(&f.app, &c.sender).await.expect("waiting");
        assert_eq!((w.received, w.sent), (0, 1));
        let sent = orientations::list(&f.app, &c.sender, ListKind::Sent, &ListInput { statut: "declinee".into(), ..ListInput::default() }).await.expect("sent");
        assert_eq!(sent.rows.len(), 1);
        assert_eq!(sent.total, 1);
        assert_eq!(sent.counts.iter().map(|(_, n)| n).sum::<i64>(), 2);
        let e = orientations::list(&f.app, &c.sender, ListKind::Sent, &ListInput { du: day(1), au: day(0), ..ListInput::default() }).await.expect_err("period");
        assert!(error_text(e).contains("au:"));
        // The pilot sees no person in any list.
        let pilot = f.caller("pilote@test.fr").await;
        assert!(orientations::list(&f.app, &pilot, ListKind::Sent, &ListInput::default()).await.expect("pilot").rows.is_empty());
        // An outsider of another territory sees nothing of it.
        let outsider = f.caller("ailleurs@test.fr").await;
        let Err(AppError::NotFound) = orientations::orientation(&f.app, &outsider, a).await else { panic!("outsider") };
    }
}

/// Two receivers decide at the same instant on PostgreSQL: exactly one decision is recorded,
/// the other is told what happened, and the log holds one change.
#[tokio::test]
async fn two_simultaneous_decisions_leave_one_state_and_one_log_row_on_postgres() {
    let f = Fixture::offline(store::Backend::Postgres).await;
    let c = cast(&f).await;
    let colleague = f
        .caller_in_organisation("collegue@asso.fr", c.receiver_org)
        .await;
    let names = [
        ("Inès", "Moreau"),
        ("Yanis", "Lefebvre"),
        ("Chloé", "Garnier"),
        ("Samir", "Rousseau"),
        ("Léa", "Fontaine"),
    ];
    for (round, (first, last)) in names.iter().enumerate() {
        let id = person_called(&f, &c.sender, &[c.receiver_org], first, last).await;
        let o = orientations::send(&f.app, &c.sender, id, &to_org(c.receiver_org))
            .await
            .expect("sent");
        let version = row(&f, o).await.version.to_string();
        let accept = DecisionInput {
            version: version.clone(),
            ..step("accepter")
        };
        let decline = DecisionInput {
            version,
            reasons: vec!["session-complete".into()],
            ..step("decliner")
        };
        let (a, b) = tokio::join!(
            orientations::decide(&f.app, &c.receiver, o, &accept),
            orientations::decide(&f.app, &colleague, o, &decline),
        );
        let outcomes = [a.is_ok(), b.is_ok()];
        assert_eq!(
            outcomes.iter().filter(|ok| **ok).count(),
            1,
            "round {round}: {outcomes:?}"
        );
        let refused = if a.is_ok() { b } else { a };
        let text = error_text(refused.expect_err("one refused"));
        assert!(text.contains("a changé entre-temps"), "{text}");
        assert_eq!(events(&f, o).await.len(), 2, "one change logged");
        assert_log_consistent(&f, o).await;
    }
}
