//! What the migrations do to data already stored, on both backends: rows are written in the
//! schema as it was, then the later migrations run.

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
        exec!(c, |c| sqlx::query("INSERT INTO organisations (id, name, kind, commune_insee, created_at, updated_at) VALUES (1, 'FT', 'france-travail', '59392', $1, $1)").bind(now)).expect("org");
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
    db.migrate().await.expect("the rest of the migrations");
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
