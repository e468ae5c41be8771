//! Everything held about one person, table by table, for the right of access (docs/rights.md):
//! every row of every table that refers to the person's file, directly or through another row,
//! as JSON, and the access log of the file. The list of tables is here, in one place; a test
//! compares it with the foreign keys of the schema, so a new table holding a person's data
//! cannot be left out of the export.

use crate::{Backend, Conn, StoreError, run};

/// What a table holds of health data, for a reader without health access.
enum Health {
    /// None: every row of the person.
    None,
    /// Some rows: those matching this condition are kept.
    Keep(&'static str),
    /// Only health data: no row.
    Whole,
}

/// A table of the export: its French title, the rows of the person (`$1`: the person's id),
/// and what of it is health data.
pub struct Part {
    pub table: &'static str,
    pub title: &'static str,
    rows: &'static str,
    health: Health,
}

const fn part(table: &'static str, title: &'static str, rows: &'static str) -> Part {
    Part {
        table,
        title,
        rows,
        health: Health::None,
    }
}

const fn health_part(
    table: &'static str,
    title: &'static str,
    rows: &'static str,
    health: Health,
) -> Part {
    Part {
        table,
        title,
        rows,
        health,
    }
}

/// Every table that holds something of a person, in the order of the document.
pub const PARTS: &[Part] = &[
    part("persons", "Fiche", "t.id = $1 OR t.merged_into = $1"),
    part("person_members", "Groupe de suivi", "t.person_id = $1"),
    health_part(
        "person_needs",
        "Besoins par champ d'action",
        "t.person_id = $1",
        Health::Keep("t.field <> 'sante-handicap'"),
    ),
    health_part(
        "person_health",
        "Santé et handicap",
        "t.person_id = $1",
        Health::Whole,
    ),
    part("person_consents", "Consentements", "t.person_id = $1"),
    part(
        "person_consent_purposes",
        "Objets des consentements",
        "t.consent_id IN (SELECT id FROM person_consents WHERE person_id = $1)",
    ),
    part(
        "person_consent_organisations",
        "Structures couvertes par les consentements",
        "t.consent_id IN (SELECT id FROM person_consents WHERE person_id = $1)",
    ),
    part(
        "person_journal",
        "Journal (contacts et notes)",
        "t.person_id = $1",
    ),
    part("diagnostics", "Diagnostics", "t.person_id = $1"),
    health_part(
        "diagnostic_fields",
        "Diagnostics : niveaux par champ",
        "t.diagnostic_id IN (SELECT id FROM diagnostics WHERE person_id = $1)",
        Health::Keep("t.field <> 'sante-handicap'"),
    ),
    health_part(
        "diagnostic_ticks",
        "Diagnostics : situations relevées",
        "t.diagnostic_id IN (SELECT id FROM diagnostics WHERE person_id = $1)",
        Health::Keep(
            "t.situation_id NOT IN (SELECT id FROM diagnostic_situations WHERE field = 'sante-handicap')",
        ),
    ),
    part(
        "diagnostic_hours",
        "Diagnostics : disponibilités",
        "t.diagnostic_id IN (SELECT id FROM diagnostics WHERE person_id = $1)",
    ),
    part(
        "diagnostic_jobs",
        "Diagnostics : métiers recherchés",
        "t.diagnostic_id IN (SELECT id FROM diagnostics WHERE person_id = $1)",
    ),
    health_part(
        "plan_objectives",
        "Plan d'action : objectifs",
        "t.person_id = $1",
        Health::Keep("t.field <> 'sante-handicap'"),
    ),
    health_part(
        "plan_actions",
        "Plan d'action : actions",
        "t.person_id = $1",
        Health::Keep(
            "(t.objective_id IS NULL OR t.objective_id NOT IN (SELECT id FROM plan_objectives WHERE field = 'sante-handicap'))",
        ),
    ),
    part("orientations", "Orientations", "t.person_id = $1"),
    health_part(
        "orientation_fields",
        "Orientations : freins concernés",
        "t.orientation_id IN (SELECT id FROM orientations WHERE person_id = $1)",
        Health::Keep("t.field <> 'sante-handicap'"),
    ),
    part(
        "orientation_events",
        "Orientations : journal",
        "t.orientation_id IN (SELECT id FROM orientations WHERE person_id = $1)",
    ),
    part(
        "orientation_decline_reasons",
        "Orientations : motifs de refus",
        "t.orientation_id IN (SELECT id FROM orientations WHERE person_id = $1)",
    ),
    part(
        "orientation_links",
        "Orientations : liens envoyés aux structures sans compte",
        "t.orientation_id IN (SELECT id FROM orientations WHERE person_id = $1)",
    ),
    part(
        "orientation_link_uses",
        "Orientations : usages de ces liens",
        "t.link_id IN (SELECT l.id FROM orientation_links l JOIN orientations o ON o.id = l.orientation_id WHERE o.person_id = $1)",
    ),
    part(
        "webhook_deliveries",
        "Orientations : avis envoyés aux systèmes des partenaires",
        "t.orientation_id IN (SELECT id FROM orientations WHERE person_id = $1)",
    ),
    part("cohort_members", "Cohortes", "t.person_id = $1"),
    part(
        "action_registrations",
        "Actions collectives",
        "t.person_id = $1",
    ),
    part(
        "employer_engagements",
        "Rencontres avec des employeurs",
        "t.person_id = $1",
    ),
    part(
        "meeting_cases",
        "Situations examinées en instance",
        "t.person_id = $1",
    ),
    part("person_exits", "Sorties", "t.person_id = $1"),
    part(
        "follow_up_checks",
        "Suivi après la sortie",
        "t.person_id = $1",
    ),
];

/// The rows of one part, as JSON objects.
#[derive(Debug, Clone)]
pub struct Rows {
    pub table: &'static str,
    pub title: &'static str,
    /// Left out: health data the reader may not know.
    pub withheld: bool,
    pub rows: Vec<serde_json::Value>,
}

/// The column names of a table, in their order (one query per backend, side by side).
async fn columns(c: &mut Conn<'_>, table: &str) -> Result<Vec<String>, StoreError> {
    match c.backend() {
        Backend::Sqlite => {
            let sql = "SELECT name FROM pragma_table_info($1) ORDER BY cid";
            Ok(run!(c, |c| sqlx::query_scalar(sql)
                .bind(table)
                .fetch_all(&mut **c)
                .await)?)
        }
        Backend::Postgres => {
            let sql = "SELECT column_name::text FROM information_schema.columns
                       WHERE table_schema = current_schema() AND table_name = $1
                       ORDER BY ordinal_position";
            Ok(run!(c, |c| sqlx::query_scalar(sql)
                .bind(table)
                .fetch_all(&mut **c)
                .await)?)
        }
    }
}

/// Every part for person `person`; health data only when `health`, and journal entries of the
/// visibilities given only.
pub async fn person_data(
    c: &mut Conn<'_>,
    person: i64,
    health: bool,
    visibilities: &[&str],
) -> Result<Vec<Rows>, StoreError> {
    let mut out = Vec::with_capacity(PARTS.len());
    for p in PARTS {
        let mut condition = format!("({})", p.rows);
        let mut withheld = false;
        match (&p.health, health) {
            (Health::None, _) | (_, true) => {}
            (Health::Keep(k), false) => {
                withheld = true;
                condition.push_str(&format!(" AND {k}"));
            }
            (Health::Whole, false) => {
                out.push(Rows {
                    table: p.table,
                    title: p.title,
                    withheld: true,
                    rows: Vec::new(),
                });
                continue;
            }
        }
        if p.table == "person_journal" {
            // Codes of `domain::person::Visibility`, never typed by anyone.
            let allowed = visibilities
                .iter()
                .filter(|v| v.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'))
                .map(|v| format!("'{v}'"))
                .collect::<Vec<_>>();
            withheld |= allowed.len() < 3;
            condition.push_str(&format!(
                " AND t.visibility IN ({})",
                if allowed.is_empty() {
                    "''".to_string()
                } else {
                    allowed.join(", ")
                }
            ));
        }
        let rows = rows_of(c, p.table, &condition, person).await?;
        out.push(Rows {
            table: p.table,
            title: p.title,
            withheld,
            rows,
        });
    }
    Ok(out)
}

/// The rows of `table` matching `condition` (on `t`, `$1` the person), as JSON.
async fn rows_of(
    c: &mut Conn<'_>,
    table: &str,
    condition: &str,
    person: i64,
) -> Result<Vec<serde_json::Value>, StoreError> {
    let sql = match c.backend() {
        Backend::Postgres => {
            format!("SELECT row_to_json(t)::text FROM {table} t WHERE {condition}")
        }
        Backend::Sqlite => {
            let columns = columns(c, table).await?;
            let pairs = columns
                .iter()
                .map(|col| format!("'{col}', t.\"{col}\""))
                .collect::<Vec<_>>()
                .join(", ");
            format!("SELECT json_object({pairs}) FROM {table} t WHERE {condition}")
        }
    };
    let texts: Vec<String> = run!(c, |c| sqlx::query_scalar(&sql)
        .bind(person)
        .fetch_all(&mut **c)
        .await)?;
    Ok(texts
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect())
}

/// The tables that refer to `persons`, directly or through another table's foreign key, read
/// off the schema (one query per backend, side by side).
pub async fn tables_referring_to_persons(c: &mut Conn<'_>) -> Result<Vec<String>, StoreError> {
    let edges: Vec<(String, String)> = match c.backend() {
        Backend::Sqlite => {
            let sql = "SELECT m.name, p.\"table\" FROM sqlite_master m
                       JOIN pragma_foreign_key_list(m.name) p WHERE m.type = 'table'";
            run!(c, |c| sqlx::query_as(sql).fetch_all(&mut **c).await)?
        }
        Backend::Postgres => {
            let sql = "SELECT cl.relname::text, ref.relname::text FROM pg_constraint k
                       JOIN pg_class cl ON cl.oid = k.conrelid
                       JOIN pg_class ref ON ref.oid = k.confrelid
                       JOIN pg_namespace n ON n.oid = cl.relnamespace
                       WHERE k.contype = 'f' AND n.nspname = current_schema()";
            run!(c, |c| sqlx::query_as(sql).fetch_all(&mut **c).await)?
        }
    };
    let mut found = vec!["persons".to_string()];
    loop {
        let before = found.len();
        for (from, to) in &edges {
            if found.contains(to) && !found.contains(from) {
                found.push(from.clone());
            }
        }
        if found.len() == before {
            break;
        }
    }
    Ok(found)
}
