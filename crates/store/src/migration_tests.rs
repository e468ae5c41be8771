//! What the migrations do to data already stored, on both backends: rows are written in the
//! schema as it was, then the later migrations run.

use domain::diagnostic::{ActionStatus, Availability, DiagnosticStatus, Level, WorkingHours};
use domain::person::{
    AgeBand, ConsentMethod, ConsentPurpose, ContactChannel, ContactOutcome, FunnelStatus,
    JournalKind, MemberEndReason, OutreachChannel, QualificationLevel, Sex, Visibility,
};
use domain::{Code, Field, OrganisationKind, Role, TerritoryStatus, TimeZone};

use crate::Backend;
use crate::testing::TestDb;

async fn hardening_carries_health_needs_and_professional_territories_over(backend: Backend) {
    let test_db = TestDb::at_version(backend, 6).await;
    let db = test_db.db.clone();
    let now = crate::now();
    {
        let mut pooled = db.acquire().await.expect("connection");
        let c = &mut pooled.conn();
        for (i, email) in ["coord@x.fr", "pro@x.fr"].iter().enumerate() {
            exec!(c, |c| sqlx::query(
                "INSERT INTO users (id, email, display_name, created_at) VALUES ($1, $2, $2, $3)"
            )
            .bind(i as i64 + 1)
            .bind(*email)
            .bind(now))
            .expect("user");
        }
        exec!(c, |c| sqlx::query("INSERT INTO organisations (id, name, kind, commune_insee, created_at, updated_at) VALUES (1, 'FT', 'france_travail', '59392', $1, $1)").bind(now)).expect("org");
        exec!(c, |c| sqlx::query("INSERT INTO territories (id, slug, name, status, created_at, updated_at) VALUES (1, 'a', 'A', 'active', $1, $1)").bind(now)).expect("territory");
        exec!(c, |c| sqlx::query("INSERT INTO invitations (token_hash, email, display_name, role, organisation_id, territory_id, invited_by, created_at, expires_at, accepted_at) VALUES ('h', 'pro@x.fr', 'Pro', 'professional', 1, 1, 1, $1, $1, $1)").bind(now)).expect("invitation");
        exec!(c, |c| sqlx::query("INSERT INTO memberships (user_id, role, organisation_id, territory_id, created_at, created_by) VALUES (2, 'professional', 1, NULL, $1, 1)").bind(now)).expect("membership");
        for (id, fields) in [
            (1_i64, "|mobilite|sante-handicap|logement|"),
            (2, "|sante-handicap|"),
            (3, "|mobilite|"),
        ] {
            exec!(c, |c| sqlx::query(
                "INSERT INTO persons (id, territory_id, first_name, last_name, folded_name, channel, place, met_on, needs, need_fields, agrees_recontact, status, created_at, updated_at)
                 VALUES ($1, 1, 'P', '', 'p', 'autre', '', '2026-01-01', '', $2, FALSE, 'repere', $3, $3)")
                .bind(id).bind(fields).bind(now)).expect("person");
        }
    }
    db.migrate_to(8).await.expect("the hardening migrations");
    let mut pooled = db.acquire().await.expect("connection");
    let c = &mut pooled.conn();
    let fields: Vec<(i64, String)> = run!(c, |c| sqlx::query_as(
        "SELECT id, need_fields FROM persons ORDER BY id"
    )
    .fetch_all(&mut **c)
    .await)
    .expect("persons");
    assert_eq!(
        fields,
        vec![
            (1, "|mobilite|logement|".to_string()),
            (2, String::new()),
            (3, "|mobilite|".to_string())
        ],
        "the health need leaves the list the group sees"
    );
    let needs: Vec<(i64, bool, bool)> = run!(c, |c| sqlx::query_as(
        "SELECT person_id, need, need_shared FROM person_health ORDER BY person_id"
    )
    .fetch_all(&mut **c)
    .await)
    .expect("health");
    assert_eq!(
        needs,
        vec![(1, true, false), (2, true, false)],
        "…and is kept behind the health gate"
    );
    let territory: Option<i64> = run!(c, |c| sqlx::query_scalar(
        "SELECT territory_id FROM memberships WHERE user_id = 2"
    )
    .fetch_one(&mut **c)
    .await)
    .expect("membership");
    assert_eq!(
        territory,
        Some(1),
        "the membership learns the territory of its invitation"
    );
    drop(pooled);
    db.close().await;
}

#[tokio::test]
async fn hardening_carries_health_needs_and_professional_territories_over_on_sqlite() {
    hardening_carries_health_needs_and_professional_territories_over(Backend::Sqlite).await;
}

#[tokio::test]
async fn hardening_carries_health_needs_and_professional_territories_over_on_postgres() {
    hardening_carries_health_needs_and_professional_territories_over(Backend::Postgres).await;
}

async fn codes_consents_and_needs_move_to_rows_of_their_own(backend: Backend) {
    let test_db = TestDb::at_version(backend, 8).await;
    let db = test_db.db.clone();
    let now = crate::now();
    {
        let mut pooled = db.acquire().await.expect("connection");
        let c = &mut pooled.conn();
        exec!(c, |c| sqlx::query(
            "INSERT INTO users (id, email, display_name, created_at) VALUES (1, 'a@x.fr', 'A', $1)"
        )
        .bind(now))
        .expect("user");
        for (id, kind) in [(1_i64, "france_travail"), (2, "association"), (3, "ccas")] {
            exec!(c, |c| sqlx::query("INSERT INTO organisations (id, name, kind, commune_insee, created_at, updated_at) VALUES ($1, 'O', $2, '59392', $3, $3)").bind(id).bind(kind).bind(now)).expect("organisation");
        }
        for (id, slug, commune) in [
            (1_i64, "maubeuge", "59392"),
            (2, "le-port", "97407"),
            (3, "cayenne", "97302"),
        ] {
            exec!(c, |c| sqlx::query("INSERT INTO territories (id, slug, name, status, created_at, updated_at) VALUES ($1, $2, $2, 'active', $3, $3)").bind(id).bind(slug).bind(now)).expect("territory");
            exec!(c, |c| sqlx::query(
                "INSERT INTO territory_communes (territory_id, insee_code) VALUES ($1, $2)"
            )
            .bind(id)
            .bind(commune))
            .expect("commune");
        }
        for (id, fields) in [
            (1_i64, "|mobilite|logement|"),
            (2, ""),
            (3, "|sante-handicap|"),
        ] {
            exec!(c, |c| sqlx::query(
                "INSERT INTO persons (id, territory_id, first_name, last_name, folded_name, channel, place, met_on, needs, need_fields, agrees_recontact, status, created_at, updated_at)
                 VALUES ($1, 1, 'P', '', 'p', 'autre', '', '2026-01-01', '', $2, FALSE, 'en-accompagnement', $3, $3)")
                .bind(id).bind(fields).bind(now)).expect("person");
        }
        for (id, person, purposes, organisations, revoked) in [
            (
                1_i64,
                1_i64,
                "|accompagnement|partage|recontact|",
                "|1|3|",
                false,
            ),
            (2, 1, "|accompagnement|", "", true),
            (3, 2, "|accompagnement|partage|", "|2|", false),
        ] {
            exec!(c, |c| sqlx::query(
                "INSERT INTO person_consents (id, person_id, given_on, method, purposes, organisations, recorded_by, recorded_at, revoked_at)
                 VALUES ($1, $2, '2026-02-01', 'ecrit', $3, $4, 1, $5, $6)")
                .bind(id).bind(person).bind(purposes).bind(organisations).bind(now).bind(revoked.then_some(now))).expect("consent");
        }
    }
    db.migrate().await.expect("the rest of the migrations");
    let mut pooled = db.acquire().await.expect("connection");
    let c = &mut pooled.conn();
    let needs: Vec<(i64, String)> = run!(c, |c| sqlx::query_as(
        "SELECT person_id, field FROM person_needs ORDER BY person_id, field"
    )
    .fetch_all(&mut **c)
    .await)
    .expect("needs");
    assert_eq!(
        needs,
        vec![
            (1, "logement".to_string()),
            (1, "mobilite".to_string()),
            (3, "sante-handicap".to_string())
        ]
    );
    let purposes: Vec<(i64, String)> = run!(c, |c| sqlx::query_as(
        "SELECT consent_id, purpose FROM person_consent_purposes ORDER BY consent_id, purpose"
    )
    .fetch_all(&mut **c)
    .await)
    .expect("purposes");
    assert_eq!(
        purposes,
        [
            (1, "accompagnement"),
            (1, "partage"),
            (1, "recontact"),
            (2, "accompagnement"),
            (3, "accompagnement"),
            (3, "partage")
        ]
        .map(|(k, p)| (k, p.to_string()))
        .to_vec()
    );
    let organisations: Vec<(i64, i64)> = run!(c, |c| sqlx::query_as("SELECT consent_id, organisation_id FROM person_consent_organisations ORDER BY consent_id, organisation_id").fetch_all(&mut **c).await).expect("organisations");
    assert_eq!(
        organisations,
        vec![(1, 1), (1, 3), (3, 2)],
        "« |1|3| » is 1 and 3, never 13"
    );
    let zones: Vec<(i64, String)> = run!(c, |c| sqlx::query_as(
        "SELECT id, time_zone FROM territories ORDER BY id"
    )
    .fetch_all(&mut **c)
    .await)
    .expect("zones");
    assert_eq!(
        zones,
        [
            (1, "Europe/Paris"),
            (2, "Indian/Reunion"),
            (3, "America/Cayenne")
        ]
        .map(|(t, z)| (t, z.to_string()))
        .to_vec()
    );
    // Read back through the store: typed values.
    let consents = crate::persons::consents(c, domain::PersonId(1))
        .await
        .expect("consents");
    let in_force = consents
        .iter()
        .find(|k| k.revoked_at.is_none())
        .expect("in force");
    assert_eq!(
        in_force.purposes,
        vec![
            ConsentPurpose::Accompagnement,
            ConsentPurpose::Partage,
            ConsentPurpose::Recontact
        ]
    );
    assert_eq!(
        in_force.organisations,
        vec![domain::OrganisationId(1), domain::OrganisationId(3)]
    );
    let person = crate::persons::get(c, domain::PersonId(1))
        .await
        .expect("query")
        .expect("person");
    assert_eq!(person.need_fields.0, vec![Field::Mobilite, Field::Logement]);
    drop(pooled);
    db.close().await;
}

#[tokio::test]
async fn codes_consents_and_needs_move_to_rows_of_their_own_on_sqlite() {
    codes_consents_and_needs_move_to_rows_of_their_own(Backend::Sqlite).await;
}

#[tokio::test]
async fn codes_consents_and_needs_move_to_rows_of_their_own_on_postgres() {
    codes_consents_and_needs_move_to_rows_of_their_own(Backend::Postgres).await;
}

/// Every code column accepts each code of its list in the domain and nothing else: the
/// migrations' lists and the `codes!` enums cannot drift apart.
async fn code_columns_accept_their_codes_and_only_them(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.db.clone();
    let now = crate::now();
    let mut pooled = db.acquire().await.expect("connection");
    let c = &mut pooled.conn();
    for sql in [
        "INSERT INTO users (id, email, display_name, created_at) VALUES (1, 'a@x.fr', 'A', $1)",
        "INSERT INTO organisations (id, name, kind, commune_insee, created_at, updated_at) VALUES (1, 'O', 'autre', '59392', $1, $1)",
        "INSERT INTO territories (id, slug, name, status, created_at, updated_at) VALUES (1, 't', 'T', 'active', $1, $1)",
        "INSERT INTO memberships (id, user_id, role, created_at) VALUES (1, 1, 'admin', $1)",
        "INSERT INTO invitations (id, token_hash, email, display_name, role, invited_by, created_at, expires_at) VALUES (1, 'h', 'b@x.fr', 'B', 'pilot', 1, $1, $1)",
        "INSERT INTO persons (id, territory_id, first_name, folded_name, channel, met_on, agrees_recontact, status, created_at, updated_at) VALUES (1, 1, 'P', 'p', 'autre', '2026-01-01', FALSE, 'repere', $1, $1)",
        "INSERT INTO person_consents (id, person_id, given_on, method, recorded_at) VALUES (1, 1, '2026-01-02', 'oral', $1)",
        "INSERT INTO person_members (id, person_id, user_id, is_referent, health_access, started_at) VALUES (1, 1, 1, TRUE, TRUE, $1)",
        "INSERT INTO person_journal (id, person_id, at, occurred_on, kind, body, visibility) VALUES (1, 1, $1, '2026-01-02', 'note', '', 'groupe')",
        "INSERT INTO diagnostics (id, person_id, status, held_on, created_at, updated_at) VALUES (1, 1, 'signe', '2026-01-03', $1, $1)",
        "INSERT INTO plan_objectives (id, person_id, field, title, created_at) VALUES (1, 1, 'mobilite', 'O', $1)",
        "INSERT INTO plan_actions (id, objective_id, person_id, title, due_on, status, created_at, updated_at) VALUES (1, 1, 1, 'A', '2026-02-01', 'a-faire', $1, $1)",
        "INSERT INTO orientations (id, territory_id, person_id, receiver_name, status, status_on, reason, sent_at, updated_at) VALUES (1, 1, 1, 'R', 'envoyee', '2026-02-01', 'M', $1, $1)",
        "INSERT INTO orientation_events (id, orientation_id, at, to_status) VALUES (1, 1, $1, 'envoyee')",
        "INSERT INTO employers (id, territory_id, siret, name, created_at, updated_at) VALUES (1, 1, '90123456700013', 'E', $1, $1)",
        "INSERT INTO person_exits (id, person_id, territory_id, exited_on, kind, recorded_at) VALUES (1, 1, 1, '2026-03-01', 'cdi', $1)",
        "INSERT INTO follow_up_checks (id, exit_id, person_id, territory_id, months, due_on, status) VALUES (1, 1, 1, 1, 3, '2026-06-01', 'a-faire')",
        "INSERT INTO cohorts (id, territory_id, name, public, starts_on, created_at, updated_at) VALUES (1, 1, 'K', '{}', '2026-01-01', $1, $1)",
        "INSERT INTO cohort_members (id, cohort_id, person_id, entered_on, added_at) VALUES (1, 1, 1, '2026-01-02', $1)",
        "INSERT INTO collective_actions (id, territory_id, kind, title, held_on, starts_at, place, created_at, updated_at) VALUES (1, 1, 'forum', 'F', '2026-02-01', '09:00', 'P', $1, $1)",
        "INSERT INTO action_registrations (action_id, person_id, status, invited_at) VALUES (1, 1, 'inscrite', $1)",
        "INSERT INTO employer_engagements (id, employer_id, kind, happened_on, recorded_at) VALUES (1, 1, 'visite', '2026-02-01', $1)",
        "INSERT INTO job_offers (id, employer_id, territory_id, title, rome_code, positions, status, opened_on, created_at) VALUES (1, 1, 1, 'O', 'N1103', 1, 'ouverte', '2026-02-01', $1)",
    ] {
        exec!(c, |c| sqlx::query(sql).bind(now)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    fn all<T: Code>() -> Vec<&'static str> {
        T::ALL.iter().map(|v| v.as_str()).collect()
    }
    let columns: Vec<(&str, &str, Vec<&str>)> = vec![
        ("persons", "status", all::<FunnelStatus>()),
        ("persons", "channel", all::<OutreachChannel>()),
        ("persons", "sex", all::<Sex>()),
        ("persons", "qualification", all::<QualificationLevel>()),
        ("person_consents", "method", all::<ConsentMethod>()),
        ("person_members", "end_reason", all::<MemberEndReason>()),
        ("person_journal", "kind", all::<JournalKind>()),
        ("person_journal", "channel", all::<ContactChannel>()),
        ("person_journal", "outcome", all::<ContactOutcome>()),
        ("person_journal", "visibility", all::<Visibility>()),
        ("memberships", "role", all::<Role>()),
        ("invitations", "role", all::<Role>()),
        ("organisations", "kind", all::<OrganisationKind>()),
        ("territories", "status", all::<TerritoryStatus>()),
        ("territories", "time_zone", all::<TimeZone>()),
        ("persons", "age_band", all::<AgeBand>()),
        ("diagnostic_situations", "field", all::<Field>()),
        ("diagnostics", "status", all::<DiagnosticStatus>()),
        ("diagnostics", "availability", all::<Availability>()),
        ("plan_objectives", "field", all::<Field>()),
        ("plan_actions", "status", all::<ActionStatus>()),
        (
            "orientations",
            "status",
            all::<domain::orientation::Status>(),
        ),
        (
            "orientations",
            "outcome",
            all::<domain::orientation::Outcome>(),
        ),
        ("person_exits", "kind", all::<domain::exit::ExitKind>()),
        (
            "follow_up_checks",
            "status",
            all::<domain::exit::CheckStatus>(),
        ),
        (
            "follow_up_checks",
            "situation",
            all::<domain::exit::Situation>(),
        ),
        (
            "cohort_members",
            "leave_reason",
            all::<domain::cohort::LeaveReason>(),
        ),
        (
            "collective_actions",
            "kind",
            all::<domain::cohort::ActionKind>(),
        ),
        ("collective_actions", "field", all::<Field>()),
        (
            "employer_engagements",
            "kind",
            all::<domain::employer::Engagement>(),
        ),
        (
            "job_offers",
            "status",
            all::<domain::employer::OfferStatus>(),
        ),
    ];
    for (table, column, codes) in &columns {
        for code in codes {
            let sql = format!("UPDATE {table} SET {column} = $1 WHERE id = 1");
            exec!(c, |c| sqlx::query(&sql).bind(*code))
                .unwrap_or_else(|e| panic!("{table}.{column} = {code}: {e}"));
        }
        let sql = format!("UPDATE {table} SET {column} = 'inconnu' WHERE id = 1");
        let refused = exec!(c, |c| sqlx::query(&sql));
        assert!(
            refused.is_err(),
            "{table}.{column} accepted an unknown code"
        );
    }
    // The registrations' codes (a table keyed by action and person).
    for (column, codes) in [
        ("status", all::<domain::cohort::Registration>()),
        ("attendance", all::<domain::cohort::Attendance>()),
    ] {
        for code in &codes {
            let sql = format!("UPDATE action_registrations SET {column} = $1 WHERE action_id = 1");
            exec!(c, |c| sqlx::query(&sql).bind(*code))
                .unwrap_or_else(|e| panic!("action_registrations.{column} = {code}: {e}"));
        }
        let sql =
            format!("UPDATE action_registrations SET {column} = 'inconnu' WHERE action_id = 1");
        assert!(
            exec!(c, |c| sqlx::query(&sql)).is_err(),
            "action_registrations.{column}"
        );
    }
    // One open stay per person and cohort; a stay cannot end before it began.
    assert!(
        exec!(c, |c| sqlx::query("INSERT INTO cohort_members (cohort_id, person_id, entered_on, added_at) VALUES (1, 1, '2026-01-03', $1)").bind(now)).is_err(),
        "a second open stay"
    );
    assert!(
        exec!(c, |c| sqlx::query(
            "UPDATE cohort_members SET left_on = '2026-01-01' WHERE id = 1"
        ))
        .is_err(),
        "a stay ending before its entry"
    );
    assert!(
        exec!(c, |c| sqlx::query("INSERT INTO employers (territory_id, siret, name, created_at, updated_at) VALUES (1, '90123456700013', 'Twin', $1, $1)").bind(now)).is_err(),
        "a SIRET twice in a territory"
    );
    for purpose in all::<ConsentPurpose>() {
        exec!(c, |c| sqlx::query(
            "INSERT INTO person_consent_purposes (consent_id, purpose) VALUES (1, $1)"
        )
        .bind(purpose))
        .expect("purpose");
    }
    assert!(
        exec!(c, |c| sqlx::query(
            "INSERT INTO person_consent_purposes (consent_id, purpose) VALUES (1, 'inconnu')"
        ))
        .is_err()
    );
    for field in all::<Field>() {
        exec!(c, |c| sqlx::query(
            "INSERT INTO person_needs (person_id, field) VALUES (1, $1)"
        )
        .bind(field))
        .expect("need");
    }
    assert!(
        exec!(c, |c| sqlx::query(
            "INSERT INTO person_needs (person_id, field) VALUES (1, 'inconnu')"
        ))
        .is_err()
    );
    // Rows of lists: every code goes in, an unknown one is refused.
    for (table, column, codes) in [
        ("diagnostic_fields", "field", all::<Field>()),
        ("diagnostic_fields", "level", all::<Level>()),
        ("diagnostic_hours", "hours", all::<WorkingHours>()),
    ] {
        let other = if column == "field" { "level" } else { "field" };
        let other_value = if column == "field" { "0" } else { "mobilite" };
        let sql = if table == "diagnostic_hours" {
            format!("INSERT INTO {table} (diagnostic_id, {column}) VALUES (1, $1)")
        } else {
            format!(
                "INSERT INTO {table} (diagnostic_id, {column}, {other}) VALUES (1, $1, '{other_value}')"
            )
        };
        exec!(c, |c| sqlx::query("DELETE FROM diagnostic_fields")).expect("reset");
        for code in &codes {
            if column == "level" {
                exec!(c, |c| sqlx::query("DELETE FROM diagnostic_fields")).expect("reset");
            }
            exec!(c, |c| sqlx::query(&sql).bind(*code))
                .unwrap_or_else(|e| panic!("{table}.{column} = {code}: {e}"));
        }
        assert!(
            exec!(c, |c| sqlx::query(&sql).bind("inconnu")).is_err(),
            "{table}.{column} accepted an unknown code"
        );
    }
    drop(pooled);
    db.close().await;
}

#[tokio::test]
async fn code_columns_accept_their_codes_and_only_them_on_sqlite() {
    code_columns_accept_their_codes_and_only_them(Backend::Sqlite).await;
}

#[tokio::test]
async fn code_columns_accept_their_codes_and_only_them_on_postgres() {
    code_columns_accept_their_codes_and_only_them(Backend::Postgres).await;
}

async fn attempts_no_longer_count_as_the_last_contact(backend: Backend) {
    let test_db = TestDb::at_version(backend, 9).await;
    let db = test_db.db.clone();
    let now = crate::now();
    {
        let mut pooled = db.acquire().await.expect("connection");
        let c = &mut pooled.conn();
        exec!(c, |c| sqlx::query("INSERT INTO territories (id, slug, name, status, created_at, updated_at) VALUES (1, 't', 'T', 'active', $1, $1)").bind(now)).expect("territory");
        // Person 1: reached on 3 March, then two unanswered calls; person 2: only attempts.
        for (id, contacted, last) in [
            (1_i64, Some("2026-03-03"), "2026-03-20"),
            (2, None, "2026-04-02"),
        ] {
            exec!(c, |c| sqlx::query(
                "INSERT INTO persons (id, territory_id, first_name, folded_name, channel, met_on, agrees_recontact, status, contacted_on, last_contact_on, created_at, updated_at)
                 VALUES ($1, 1, 'P', 'p', 'autre', '2026-03-01', TRUE, $2, $3, $4, $5, $5)")
                .bind(id).bind(if contacted.is_some() { "contacte" } else { "repere" }).bind(contacted).bind(last).bind(now)).expect("person");
        }
        for (person, on, outcome) in [
            (1_i64, "2026-03-03", "joint"),
            (1, "2026-03-10", "non-joint"),
            (1, "2026-03-20", "non-joint"),
            (2, "2026-04-02", "non-joint"),
        ] {
            exec!(c, |c| sqlx::query(
                "INSERT INTO person_journal (person_id, at, occurred_on, kind, channel, outcome, body, visibility) VALUES ($1, $2, $3, 'contact', 'telephone', $4, '', 'groupe')")
                .bind(person).bind(now).bind(on).bind(outcome)).expect("entry");
        }
    }
    db.migrate().await.expect("the rest of the migrations");
    let mut pooled = db.acquire().await.expect("connection");
    let c = &mut pooled.conn();
    let last: Vec<(i64, String)> = run!(c, |c| sqlx::query_as(
        "SELECT id, last_contact_on FROM persons ORDER BY id"
    )
    .fetch_all(&mut **c)
    .await)
    .expect("persons");
    assert_eq!(
        last,
        vec![(1, "2026-03-03".to_string()), (2, "2026-03-01".to_string())],
        "attempts do not count; without a contact, the repérage does"
    );
    drop(pooled);
    db.close().await;
}

#[tokio::test]
async fn attempts_no_longer_count_as_the_last_contact_on_sqlite() {
    attempts_no_longer_count_as_the_last_contact(Backend::Sqlite).await;
}

#[tokio::test]
async fn attempts_no_longer_count_as_the_last_contact_on_postgres() {
    attempts_no_longer_count_as_the_last_contact(Backend::Postgres).await;
}

/// The log of orientations takes codes of the lists only, and no row of it is ever changed.
async fn the_orientation_log_is_append_only(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.db.clone();
    let now = crate::now();
    let mut pooled = db.acquire().await.expect("connection");
    let c = &mut pooled.conn();
    for sql in [
        "INSERT INTO territories (id, slug, name, status, created_at, updated_at) VALUES (1, 't', 'T', 'active', $1, $1)",
        "INSERT INTO persons (id, territory_id, first_name, folded_name, channel, met_on, agrees_recontact, status, created_at, updated_at) VALUES (1, 1, 'P', 'p', 'autre', '2026-01-01', FALSE, 'repere', $1, $1)",
        "INSERT INTO orientations (id, territory_id, person_id, receiver_name, status, status_on, reason, sent_at, updated_at) VALUES (1, 1, 1, 'R', 'envoyee', '2026-02-01', 'M', $1, $1)",
    ] {
        exec!(c, |c| sqlx::query(sql).bind(now)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let insert = "INSERT INTO orientation_events (orientation_id, at, from_status, to_status, step) VALUES (1, $1, $2, $3, $4)";
    for step in domain::orientation::Step::ALL {
        exec!(c, |c| sqlx::query(insert)
            .bind(now)
            .bind("envoyee")
            .bind("a-l-etude")
            .bind(step.as_str()))
        .unwrap_or_else(|e| panic!("{step:?}: {e}"));
    }
    for (from, to, step) in [
        ("inconnu", "envoyee", "etude"),
        ("envoyee", "inconnu", "etude"),
        ("envoyee", "a-l-etude", "inconnue"),
    ] {
        assert!(
            exec!(c, |c| sqlx::query(insert)
                .bind(now)
                .bind(from)
                .bind(to)
                .bind(step))
            .is_err(),
            "{from} {to} {step}"
        );
    }
    let refused = exec!(c, |c| sqlx::query(
        "UPDATE orientation_events SET detail = 'réécrit'"
    ));
    assert!(refused.is_err(), "an event was rewritten");
    // Deleting the person (retention) still takes their orientations and log with them.
    exec!(c, |c| sqlx::query("DELETE FROM persons WHERE id = 1")).expect("cascade");
}

#[tokio::test]
async fn the_orientation_log_is_append_only_on_sqlite() {
    the_orientation_log_is_append_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_orientation_log_is_append_only_on_postgres() {
    the_orientation_log_is_append_only(Backend::Postgres).await;
}
