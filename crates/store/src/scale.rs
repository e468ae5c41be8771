//! A national-scale database for benchmarks and the demo (docs/domain.md §5): N generated
//! territories (`national-1`…), each with a France Travail agency and a Mission locale as
//! partners and an adviser, and P fictional persons spread over them with their path — met
//! over the last two years, contacted, accompanied, diagnosed (eight fields, a second
//! diagnostic for a third of them), oriented to the Mission locale (every outcome), declined
//! with reasons, exited with their 3/6/12-month checks, in two cohorts per territory.
//!
//! Everything is set-based: one `INSERT … SELECT` per table over a generated sequence, so the
//! database does the work and the generator's memory does not grow with P. Values are
//! deterministic (arithmetic on the row number), the same on both backends; only date
//! arithmetic is written per dialect.

use chrono::{DateTime, NaiveDate, Utc};

use crate::sql::Sql;
use crate::{Backend, Conn, StoreError};

/// The generated territories' slugs start with this.
pub const PREFIX: &str = "national-";

/// What the generator wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    pub territories: i64,
    pub persons: i64,
    pub diagnostics: i64,
    pub orientations: i64,
    pub exits: i64,
    pub cohort_members: i64,
}

struct Dialect(Backend);

impl Dialect {
    /// `date` (an ISO text expression) plus `days` (an integer expression), as ISO text.
    fn plus(&self, date: &str, days: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("date({date}, printf('%+d days', {days}))"),
            Backend::Postgres => {
                format!("to_char(CAST({date} AS DATE) + CAST({days} AS INTEGER), 'YYYY-MM-DD')")
            }
        }
    }

    /// The earlier of two ISO dates.
    fn least(&self, a: &str, b: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("min({a}, {b})"),
            Backend::Postgres => format!("LEAST({a}, {b})"),
        }
    }

    /// An instant on an ISO date (10:00 UTC), as the backend stores instants.
    fn instant(&self, date: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("({date} || 'T10:00:00+00:00')"),
            Backend::Postgres => {
                format!("((CAST({date} AS TIMESTAMP) + INTERVAL '10 hours') AT TIME ZONE 'UTC')")
            }
        }
    }
}

/// A per-mille drawn from a row number: the same for the same number and salt, spread evenly
/// (each multiplier is prime to 1000), and, one multiplier per salt, not a shift of another
/// draw (a shared multiplier would make « oriented » and « exited » the same persons).
fn mix(expr: &str, salt: usize) -> String {
    const MULTIPLIERS: [u64; 6] = [
        2654435761, 2246822519, 3266489917, 668265263, 374761393, 2869860233,
    ];
    let m = MULTIPLIERS[salt % MULTIPLIERS.len()];
    format!("(((({expr}) * {m}) % 1000003) % 1000)")
}

fn sequence(n: usize) -> String {
    format!(
        "WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
    )
}

const NATIONAL: &str = "t.slug LIKE 'national-%'";

async fn count(c: &mut Conn<'_>, sql: &str) -> Result<i64, StoreError> {
    Sql::new(sql).fetch_scalar(c).await
}

/// Fills the database with `territories` × their share of `persons`, their path dated up to
/// `today`. Refused (`Ok(None)`) when generated territories are already there.
pub async fn generate(
    c: &mut Conn<'_>,
    territories: usize,
    persons: usize,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<Generated>, StoreError> {
    let d = Dialect(c.backend());
    let existing = count(
        c,
        "SELECT COUNT(*) FROM territories t WHERE t.slug LIKE 'national-%'",
    )
    .await?;
    if existing > 0 || territories == 0 {
        return Ok(None);
    }
    let base = today - chrono::Duration::days(730);
    let base = format!("'{}'", base.format("%Y-%m-%d"));
    let today_sql = format!("'{}'", today.format("%Y-%m-%d"));
    let t = territories;

    let mut q = Sql::new(&sequence(t));
    q.push("INSERT INTO territories (slug, name, status, co_pilots, created_at, updated_at) SELECT 'national-' || CAST(i AS TEXT), 'Territoire ' || CAST(i AS TEXT) || ' (généré)', 'active', '', ")
        .bind(now).push(", ").bind(now).push(" FROM n");
    q.execute(c).await?;
    for (kind, label) in [
        ("france_travail", "France Travail"),
        ("mission_locale", "Mission locale"),
    ] {
        let mut q = Sql::new(
            "INSERT INTO organisations (name, kind, commune_insee, created_at, updated_at) SELECT ",
        );
        q.push(&format!("'{label} ' || t.name, '{kind}', '59392', "))
            .bind(now)
            .push(", ")
            .bind(now)
            .push(&format!(" FROM territories t WHERE {NATIONAL}"));
        q.execute(c).await?;
    }
    let mut q = Sql::new(
        "INSERT INTO territory_partners (territory_id, organisation_id, added_at) SELECT t.id, o.id, ",
    );
    q.bind(now).push(&format!(
        " FROM territories t JOIN organisations o ON o.name IN ('France Travail ' || t.name, 'Mission locale ' || t.name) WHERE {NATIONAL}"
    ));
    q.execute(c).await?;
    let mut q = Sql::new(
        "INSERT INTO users (email, display_name, created_at) SELECT 'conseil@' || t.slug || '.national.test', 'Conseiller de ' || t.name, ",
    );
    q.bind(now)
        .push(&format!(" FROM territories t WHERE {NATIONAL}"));
    q.execute(c).await?;

    // Persons: h spreads the values, m is the day met (0 to 689 after `base`).
    let met = "((n.i * 7919) % 690)";
    let stage = "((n.i * 31) % 10)";
    let mut q = Sql::new(&sequence(persons));
    q.push(
        "INSERT INTO persons (territory_id, first_name, last_name, folded_name, postal_code, channel, met_on, agrees_recontact, status,
           contacted_on, accompanied_on, birth_date, sex, ft_registered, ft_since, brsa, qpv_code, qpv_millesime, qpv_confidence,
           created_at, updated_at) SELECT t.id, 'Personne', 'N' || CAST(n.i AS TEXT), 'personne n' || CAST(n.i AS TEXT), '59600', ",
    );
    q.push("CASE n.i % 7 WHEN 0 THEN 'pied-d-immeuble' WHEN 1 THEN 'porte-a-porte' WHEN 2 THEN 'association' WHEN 3 THEN 'partenaire' WHEN 4 THEN 'evenement-quartier' WHEN 5 THEN 'permanence-bailleur' ELSE 'demarche-spontanee' END, ");
    q.push(&d.plus(&base, met)).push(", TRUE, ");
    q.push(&format!("CASE WHEN {stage} < 6 THEN 'en-accompagnement' WHEN {stage} < 8 THEN 'contacte' ELSE 'repere' END, "));
    q.push(&format!(
        "CASE WHEN {stage} < 8 THEN {} END, ",
        d.plus(&base, &format!("{met} + 3 + n.i % 17"))
    ));
    q.push(&format!(
        "CASE WHEN {stage} < 6 THEN {} END, ",
        d.plus(&base, &format!("{met} + 25 + n.i % 13"))
    ));
    q.push(&d.plus(&base, "-(6570 + (n.i * 104729) % 16425)"))
        .push(", ");
    q.push("CASE (n.i * 17) % 20 WHEN 0 THEN 'non-precise' WHEN 1 THEN NULL ELSE CASE n.i % 2 WHEN 0 THEN 'femme' ELSE 'homme' END END, ");
    q.push("CASE WHEN n.i % 5 < 3 THEN TRUE WHEN n.i % 5 = 3 THEN FALSE END, ");
    q.push(&format!(
        "CASE WHEN n.i % 5 < 3 THEN {} END, ",
        d.plus(&base, "(n.i * 13) % 700 - 400")
    ));
    q.push("CASE WHEN n.i % 4 = 0 THEN TRUE WHEN n.i % 4 = 1 THEN NULL ELSE FALSE END, ");
    q.push("CASE WHEN (n.i * 7) % 10 < 7 THEN 'QN0' || CAST(59000 + (n.i % 90) AS TEXT) || 'M' END, CASE WHEN (n.i * 7) % 10 < 9 THEN 2024 END, CASE WHEN (n.i * 7) % 10 < 9 THEN 'exacte' END, ");
    q.bind(now).push(", ").bind(now);
    q.push(&format!(
        " FROM n JOIN territories t ON t.slug = 'national-' || CAST(n.i % {t} + 1 AS TEXT)"
    ));
    q.execute(c).await?;

    let from_national =
        format!(" FROM persons p JOIN territories t ON t.id = p.territory_id AND {NATIONAL}");
    let mut q = Sql::new(
        "INSERT INTO person_members (person_id, user_id, organisation_id, is_referent, health_access, started_at, added_by) SELECT p.id, u.id, o.id, TRUE, TRUE, ",
    );
    q.bind(now).push(", u.id").push(&from_national).push(
        " JOIN users u ON u.email = 'conseil@' || t.slug || '.national.test'
          JOIN organisations o ON o.name = 'France Travail ' || t.name",
    );
    q.execute(c).await?;

    // Diagnostics: one a week after the accompaniment, a second four months later for a third.
    let first = d.least(&d.plus("p.accompanied_on", "7"), &today_sql);
    let second = d.plus(&first, "120");
    for (held_on, only) in [
        (first.clone(), String::new()),
        (
            second.clone(),
            format!(" AND {} < 333 AND {second} <= {today_sql}", mix("p.id", 5)),
        ),
    ] {
        let mut q = Sql::new(
            "INSERT INTO diagnostics (person_id, status, held_on, author_id, signed_at, created_at, updated_at) SELECT p.id, 'signe', ",
        );
        q.push(&held_on)
            .push(", NULL, ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(&from_national)
            .push(" WHERE p.accompanied_on IS NOT NULL")
            .push(&only);
        q.execute(c).await?;
    }
    // Eight fields per diagnostic; at the second, half the barriers are lifted.
    let mut q = Sql::new(
        "WITH f(field, k) AS (VALUES ('reseau-professionnel', 1), ('savoirs-de-base', 2), ('competences-numeriques', 3),
           ('contraintes-familiales', 4), ('mobilite', 5), ('logement', 6), ('precarite-financiere', 7), ('sante-handicap', 8))
         INSERT INTO diagnostic_fields (diagnostic_id, field, level) SELECT d.id, f.field,
           CASE WHEN d.held_on > ",
    );
    q.push(&first).push(
        " AND (p.id + f.k) % 2 = 0 AND (p.id * 7 + f.k * 13) % 4 >= 2 THEN '1'
           ELSE CAST((p.id * 7 + f.k * 13) % 4 AS TEXT) END
         FROM diagnostics d JOIN persons p ON p.id = d.person_id JOIN territories t ON t.id = p.territory_id AND t.slug LIKE 'national-%'
         CROSS JOIN f",
    );
    q.execute(c).await?;

    // Orientations to the territory's Mission locale, a fortnight after the accompaniment.
    let sent = d.least(&d.plus("p.accompanied_on", "14"), &today_sql);
    let h = format!("({} / 50)", mix("p.id", 2));
    let status = format!(
        "CASE WHEN {h} < 7 THEN 'entree' WHEN {h} < 9 THEN 'acceptee' WHEN {h} < 12 THEN 'declinee' WHEN {h} < 14 THEN 'envoyee'
              WHEN {h} < 16 THEN 'expiree' WHEN {h} < 19 THEN 'terminee' ELSE 'absente' END"
    );
    let answered = d.least(&d.plus(&sent, "2 + p.id % 15"), &today_sql);
    let entered = d.least(&d.plus(&sent, "10 + p.id % 30"), &today_sql);
    let mut q = Sql::new(
        "INSERT INTO orientations (territory_id, person_id, receiver_org_id, receiver_name, sender_id, sender_org_id, status, status_on,
           reason, sent_at, answered_at, entered_on, updated_at) SELECT t.id, p.id, ml.id, ml.name, u.id, ft.id, ",
    );
    q.push(&status)
        .push(", ")
        .push(&today_sql)
        .push(", 'Orientation générée', ");
    q.push(&d.instant(&sent)).push(", ");
    q.push(&format!(
        "CASE WHEN {h} >= 12 AND {h} < 16 THEN NULL ELSE {} END, ",
        d.instant(&answered)
    ));
    q.push(&format!(
        "CASE WHEN {h} < 7 OR ({h} >= 16 AND {h} < 19) THEN {entered} END, "
    ));
    q.bind(now).push(&from_national).push(
        " JOIN users u ON u.email = 'conseil@' || t.slug || '.national.test'
          JOIN organisations ft ON ft.name = 'France Travail ' || t.name
          JOIN organisations ml ON ml.name = 'Mission locale ' || t.name
          WHERE p.accompanied_on IS NOT NULL AND ",
    );
    q.push(&mix("p.id", 1)).push(" < 700");
    q.execute(c).await?;
    let q = Sql::new(
        "INSERT INTO orientation_decline_reasons (orientation_id, reason) SELECT o.id,
           CASE o.id % 6 WHEN 0 THEN 'injoignable' WHEN 1 THEN 'non-mobile' WHEN 2 THEN 'non-interesse' WHEN 3 THEN 'en-emploi'
                WHEN 4 THEN 'freins-incompatibles' ELSE 'session-complete' END
         FROM orientations o JOIN territories t ON t.id = o.territory_id AND t.slug LIKE 'national-%' WHERE o.status = 'declinee'",
    );
    q.execute(c).await?;

    // Exits: a third of those who entered, three months later, with their checks.
    let exited = d.least(&d.plus("o.entered_on", "90"), &today_sql);
    let mut q = Sql::new(
        "INSERT INTO person_exits (person_id, territory_id, exited_on, kind, detail, recorded_at) SELECT o.person_id, o.territory_id, ",
    );
    q.push(&exited).push(
        ", CASE o.person_id % 7 WHEN 0 THEN 'cdi' WHEN 1 THEN 'cdd-long' WHEN 2 THEN 'cdd-court' WHEN 3 THEN 'contrat-aide'
              WHEN 4 THEN 'formation-qualifiante' WHEN 5 THEN 'alternance' ELSE 'sans-nouvelles' END, '', ",
    );
    q.bind(now).push(
        " FROM orientations o JOIN territories t ON t.id = o.territory_id AND t.slug LIKE 'national-%'
          WHERE o.entered_on IS NOT NULL AND ",
    );
    q.push(&mix("o.person_id", 3)).push(" < 333");
    q.execute(c).await?;
    let due = d.plus("x.exited_on", "m.days");
    let mut q = Sql::new(
        "WITH m(months, days) AS (VALUES (3, 91), (6, 182), (12, 365))
         INSERT INTO follow_up_checks (exit_id, person_id, territory_id, months, due_on, status, situation) SELECT x.id, x.person_id, x.territory_id, m.months, ",
    );
    q.push(&due).push(&format!(
        ", CASE WHEN {due} < {today_sql} AND x.id % 3 <> 0 THEN 'fait' ELSE 'a-faire' END,
           CASE WHEN {due} < {today_sql} AND x.id % 3 <> 0 THEN
             CASE x.id % 5 WHEN 0 THEN 'meme-emploi' WHEN 1 THEN 'autre-emploi' WHEN 2 THEN 'formation' WHEN 3 THEN 'recherche-emploi' ELSE 'inconnue' END END
         FROM person_exits x JOIN territories t ON t.id = x.territory_id AND {NATIONAL} CROSS JOIN m"
    ));
    q.execute(c).await?;
    let q = Sql::new(
        "UPDATE persons SET status = 'sorti', exited_on = (SELECT MAX(x.exited_on) FROM person_exits x WHERE x.person_id = persons.id)
         WHERE id IN (SELECT x.person_id FROM person_exits x JOIN territories t ON t.id = x.territory_id AND t.slug LIKE 'national-%')",
    );
    q.execute(c).await?;

    // Two cohorts per territory, a twenty-fifth of the accompanied in each.
    for (letter, from) in [("A", 0), ("B", 40)] {
        let mut q = Sql::new(
            "INSERT INTO cohorts (territory_id, name, public, starts_on, created_at, updated_at) SELECT t.id, ",
        );
        q.push(&format!("'Cohorte {letter} — ' || t.name, '{{}}', "))
            .push(&d.plus(&base, "400"))
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(&format!(" FROM territories t WHERE {NATIONAL}"));
        q.execute(c).await?;
        let mut q = Sql::new(
            "INSERT INTO cohort_members (cohort_id, person_id, entered_on, added_at) SELECT k.id, p.id, ",
        );
        q.push(&d.least(&d.plus("p.accompanied_on", "30"), &today_sql))
            .push(", ")
            .bind(now)
            .push(&from_national)
            .push(&format!(
                " JOIN cohorts k ON k.territory_id = t.id AND k.name = 'Cohorte {letter} — ' || t.name
                  WHERE p.accompanied_on IS NOT NULL AND {} BETWEEN {from} AND {}",
                mix("p.id", 4),
                from + 39
            ));
        q.execute(c).await?;
    }

    // Fresh statistics, or the planner would read half a million rows as an empty table.
    Sql::new("ANALYZE").execute(c).await?;
    let of = |table: &str, key: &str| {
        format!(
            "SELECT COUNT(*) FROM {table} r JOIN territories t ON t.id = r.{key} AND t.slug LIKE 'national-%'"
        )
    };
    Ok(Some(Generated {
        territories: count(c, "SELECT COUNT(*) FROM territories t WHERE t.slug LIKE 'national-%'").await?,
        persons: count(c, &of("persons", "territory_id")).await?,
        diagnostics: count(
            c,
            "SELECT COUNT(*) FROM diagnostics d JOIN persons r ON r.id = d.person_id JOIN territories t ON t.id = r.territory_id AND t.slug LIKE 'national-%'",
        )
        .await?,
        orientations: count(c, &of("orientations", "territory_id")).await?,
        exits: count(c, &of("person_exits", "territory_id")).await?,
        cohort_members: count(
            c,
            "SELECT COUNT(*) FROM cohort_members m JOIN cohorts r ON r.id = m.cohort_id JOIN territories t ON t.id = r.territory_id AND t.slug LIKE 'national-%'",
        )
        .await?,
    }))
}

/// After the generator's transaction: vacuum and analyse what it wrote (outside any
/// transaction), so that measures do not compete with the database's own catching up and
/// index-only scans find the pages all visible.
pub async fn settle(c: &mut Conn<'_>) -> Result<(), StoreError> {
    let sql = match c.backend() {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite => "ANALYZE",
    };
    Sql::new(sql).execute(c).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    /// Generates a small country on both backends: the sizes add up, every row is dated up
    /// to today, and a second run changes nothing.
    async fn small_country(backend: Backend) {
        let test = TestDb::new(backend).await;
        let mut pooled = test.db.acquire().await.expect("connection");
        let c = &mut pooled.conn();
        let today = NaiveDate::from_ymd_opt(2026, 6, 15).expect("date");
        let now = crate::now();
        let g = generate(c, 3, 600, today, now)
            .await
            .expect("generated")
            .expect("first run");
        assert_eq!((g.territories, g.persons), (3, 600));
        // 60 % accompanied (360), all diagnosed once, about a third twice when the second falls
        // by today; about 70 % of them oriented.
        assert!(g.diagnostics >= 360 && g.diagnostics <= 480, "{g:?}");
        assert!((200..=300).contains(&g.orientations), "{g:?}");
        assert!(g.exits > 0 && g.cohort_members > 0, "{g:?}");
        let later = |sql: &str| Sql::new(sql);
        for sql in [
            "SELECT COUNT(*) FROM persons WHERE met_on > '2026-06-15' OR accompanied_on > '2026-06-15'",
            "SELECT COUNT(*) FROM diagnostics WHERE held_on > '2026-06-15'",
            "SELECT COUNT(*) FROM orientations WHERE entered_on > '2026-06-15'",
            "SELECT COUNT(*) FROM person_exits WHERE exited_on > '2026-06-15'",
            "SELECT COUNT(*) FROM orientations o JOIN persons p ON p.id = o.person_id WHERE p.territory_id <> o.territory_id",
            "SELECT COUNT(*) FROM diagnostics d WHERE (SELECT COUNT(*) FROM diagnostic_fields f WHERE f.diagnostic_id = d.id) <> 8",
        ] {
            let n: i64 = later(sql).fetch_scalar(c).await.expect("count");
            assert_eq!(n, 0, "{sql}");
        }
        let sent: i64 = later("SELECT COUNT(*) FROM orientations WHERE sent_at >= '2024-01-01'")
            .fetch_scalar(c)
            .await
            .expect("instants compare");
        assert_eq!(
            sent, g.orientations,
            "instants stored as the backend stores them"
        );
        assert_eq!(
            generate(c, 3, 600, today, now).await.expect("second run"),
            None
        );
    }

    #[tokio::test]
    async fn a_small_country_on_sqlite() {
        small_country(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn a_small_country_on_postgres() {
        small_country(Backend::Postgres).await;
    }
}
