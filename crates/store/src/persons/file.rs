//! The file itself: repérage, identity, situation, the funnel.

use chrono::{DateTime, NaiveDate, Utc};
use domain::person::{AgeBand, FunnelStatus, OutreachChannel, QualificationLevel, Sex};
use domain::{Field, PersonId, TerritoryId, UserId};

use super::{HEALTH_NEED, Needs, needs_column};
use crate::sql::{Sql, iso};
use crate::{Backend, Conn, OptionalExt, StoreError, exec, run};

/// What repérage records.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub territory: TerritoryId,
    pub first_name: String,
    pub last_name: String,
    pub folded_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub commune_insee: Option<String>,
    pub neighbourhood: String,
    pub qpv: Option<QpvCheck>,
    pub channel: OutreachChannel,
    pub place: String,
    pub met_on: NaiveDate,
    pub met_by: Option<UserId>,
    pub needs: String,
    /// The fields the whole group may see (never the health need: it goes to person_health).
    pub need_fields: Vec<Field>,
    /// Asked at the repérage when the birth date is not known.
    pub age_band: Option<AgeBand>,
    pub birth_year: Option<i32>,
    pub agrees_recontact: bool,
}

/// The outcome of the QPV check of an address, with its date.
#[derive(Debug, Clone)]
pub struct QpvCheck {
    pub code: Option<String>,
    pub millesime: i32,
    pub confidence: String,
    pub checked_at: DateTime<Utc>,
    /// Where the geocoder placed the address (longitude, latitude): distances to relays.
    pub position: Option<(f64, f64)>,
}

/// A person's file without health data.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Person {
    #[sqlx(try_from = "i64")]
    pub id: PersonId,
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    pub first_name: String,
    pub last_name: String,
    pub folded_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub commune_insee: Option<String>,
    pub neighbourhood: String,
    pub qpv_code: Option<String>,
    pub qpv_millesime: Option<i32>,
    pub qpv_confidence: Option<String>,
    pub qpv_checked_at: Option<DateTime<Utc>>,
    pub channel: String,
    pub place: String,
    pub met_on: String,
    pub met_by: Option<i64>,
    pub met_by_name: Option<String>,
    pub needs: String,
    /// What the whole group sees (the health need only when the référent shared it).
    #[sqlx(try_from = "String")]
    pub need_fields: Needs,
    pub agrees_recontact: bool,
    #[sqlx(try_from = "String")]
    pub status: FunnelStatus,
    pub contacted_on: Option<String>,
    pub accompanied_on: Option<String>,
    pub exited_on: Option<String>,
    pub last_contact_on: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub single_parent: Option<bool>,
    pub children_under_12: Option<i32>,
    pub ft_registered: Option<bool>,
    pub ft_since: Option<String>,
    pub brsa: Option<bool>,
    pub cej_pacea: Option<bool>,
    pub qualification: Option<String>,
    pub languages: String,
    pub driving_licence: Option<bool>,
    pub vehicle: Option<bool>,
    pub merged_into: Option<i64>,
    pub archived_on: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub age_band: Option<String>,
    pub birth_year: Option<i32>,
    #[sqlx(flatten)]
    pub criteria: Criteria,
}

/// The columns of [`Person`] over `persons p` joined with `users u` (the one who met them).
fn person_columns(backend: Backend) -> String {
    format!("{PERSON_COLUMNS_TEXT}, {}", needs_column(backend))
}

const PERSON_COLUMNS_TEXT: &str = "p.id, p.territory_id, p.first_name, p.last_name, p.folded_name, p.phone, p.email, p.address,
    p.postal_code, p.commune_insee, p.neighbourhood, p.qpv_code, p.qpv_millesime, p.qpv_confidence, p.qpv_checked_at,
    p.channel, p.place, p.met_on, p.met_by, u.display_name AS met_by_name, p.needs, p.agrees_recontact,
    p.status, p.contacted_on, p.accompanied_on, p.exited_on, p.last_contact_on, p.birth_date, p.sex,
    p.single_parent, p.children_under_12, p.ft_registered, p.ft_since, p.brsa, p.cej_pacea, p.qualification, p.languages,
    p.driving_licence, p.vehicle, p.merged_into, p.archived_on, p.created_at, p.updated_at, p.age_band, p.birth_year,
    p.student, p.in_training, p.ass, p.ase_leaver, p.homeless, p.refugee, p.detention_leaver, p.frr_resident,
    p.fle_below_a1, p.job_or_training_start, p.youngest_child_born_on";

const INSERT_PERSON: &str = "INSERT INTO persons (territory_id, first_name, last_name, folded_name, phone, email,
    address, postal_code, commune_insee, neighbourhood, qpv_code, qpv_millesime, qpv_confidence, qpv_checked_at,
    channel, place, met_on, met_by, needs, agrees_recontact, status, last_contact_on, created_at, created_by,
    updated_at, age_band, birth_year, home_longitude, home_latitude, import_key, import_digest, birth_date) VALUES ";

/// Where a file created by an import came from (docs/imports.md): the row's key and digest,
/// and the birth date it gives.
#[derive(Debug, Clone, Copy)]
pub struct ImportMark<'a> {
    pub key: &'a str,
    pub digest: &'a str,
    pub birth_date: Option<NaiveDate>,
}

/// The `(…)` of one person in [`INSERT_PERSON`].
fn person_values(
    q: &mut Sql,
    p: &NewPerson,
    mark: Option<&ImportMark<'_>>,
    created_by: UserId,
    now: DateTime<Utc>,
) {
    let qpv = p.qpv.as_ref();
    let position = qpv.and_then(|q| q.position);
    q.push("(")
        .bind(p.territory)
        .push(", ")
        .bind(p.first_name.as_str())
        .push(", ")
        .bind(p.last_name.as_str())
        .push(", ")
        .bind(p.folded_name.as_str())
        .push(", ")
        .bind_or_null(p.phone.as_deref(), "TEXT")
        .push(", ")
        .bind_or_null(p.email.as_deref(), "TEXT")
        .push(", ")
        .bind(p.address.as_str())
        .push(", ")
        .bind(p.postal_code.as_str())
        .push(", ")
        .bind_or_null(p.commune_insee.as_deref(), "TEXT")
        .push(", ")
        .bind(p.neighbourhood.as_str())
        .push(", ")
        .bind_or_null(qpv.and_then(|q| q.code.as_deref()), "TEXT")
        .push(", ")
        .bind_or_null(qpv.map(|q| i64::from(q.millesime)), "INTEGER")
        .push(", ")
        .bind_or_null(qpv.map(|q| q.confidence.as_str()), "TEXT")
        .push(", ")
        .bind_or_null(qpv.map(|q| q.checked_at), "TIMESTAMPTZ")
        .push(", ")
        .bind(p.channel.as_str())
        .push(", ")
        .bind(p.place.as_str())
        .push(", ")
        .bind(p.met_on)
        .push(", ")
        .bind_or_null(p.met_by, "BIGINT")
        .push(", ")
        .bind(p.needs.as_str())
        .push(", ")
        .bind(p.agrees_recontact)
        .push(", 'repere', ")
        .bind(p.met_on)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(created_by)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind_or_null(p.age_band.map(AgeBand::as_str), "TEXT")
        .push(", ")
        .bind_or_null(p.birth_year.map(i64::from), "INTEGER")
        .push(", ")
        .bind_or_null(position.map(|p| p.0), "DOUBLE PRECISION")
        .push(", ")
        .bind_or_null(position.map(|p| p.1), "DOUBLE PRECISION")
        .push(", ")
        .bind_or_null(mark.map(|m| m.key), "TEXT")
        .push(", ")
        .bind_or_null(mark.map(|m| m.digest), "TEXT")
        .push(", ")
        .bind_or_null(mark.and_then(|m| m.birth_date).map(iso), "TEXT")
        .push(")");
}

pub async fn create(
    c: &mut Conn<'_>,
    p: &NewPerson,
    created_by: UserId,
    now: DateTime<Utc>,
) -> Result<PersonId, StoreError> {
    let mut q = Sql::new(INSERT_PERSON);
    person_values(&mut q, p, None, created_by, now);
    q.push(" RETURNING id");
    let id = PersonId(q.fetch_scalar::<i64>(c).await?);
    set_needs(c, id, &p.need_fields).await?;
    Ok(id)
}

/// Placeholders per statement of a batch: SQLite's driver looks each one up by name among all
/// of them (quadratic in their number), so batches stay at about a thousand.
pub(crate) const MAX_BINDS: usize = 1000;
/// Persons per INSERT of a batch (32 values each).
const ROWS_PER_INSERT: usize = MAX_BINDS / 32;

/// Creates the files of imported rows in a few statements (and their fields of action in one
/// more); answers each file's id with its import key.
pub async fn create_imported(
    c: &mut Conn<'_>,
    rows: &[(&NewPerson, ImportMark<'_>)],
    created_by: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<(PersonId, String)>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut created: Vec<(i64, String)> = Vec::with_capacity(rows.len());
    for part in rows.chunks(ROWS_PER_INSERT) {
        let mut q = Sql::new(INSERT_PERSON);
        q.join(part, ", ", |q, (p, mark)| {
            person_values(q, p, Some(mark), created_by, now);
        });
        q.push(" RETURNING id, import_key");
        created.extend(q.fetch_all::<(i64, String)>(c).await?);
    }
    let fields: std::collections::HashMap<&str, &[Field]> = rows
        .iter()
        .map(|(p, m)| (m.key, p.need_fields.as_slice()))
        .collect();
    let needs: Vec<(i64, Field)> = created
        .iter()
        .flat_map(|(id, key)| {
            fields
                .get(key.as_str())
                .copied()
                .unwrap_or_default()
                .iter()
                .filter(|f| **f != Field::SanteHandicap)
                .map(move |f| (*id, *f))
        })
        .collect();
    for part in needs.chunks(MAX_BINDS / 2) {
        let mut q = Sql::new("INSERT INTO person_needs (person_id, field) VALUES ");
        q.join(part, ", ", |q, (id, f)| {
            q.push("(").bind(*id).push(", ").bind(f.as_str()).push(")");
        });
        q.execute(c).await?;
    }
    Ok(created
        .into_iter()
        .map(|(id, key)| (PersonId(id), key))
        .collect())
}

/// Records the fields the whole group may see (replacing the previous list; the health need,
/// when shared, is kept by [`set_health`]).
pub async fn set_needs(c: &mut Conn<'_>, id: PersonId, fields: &[Field]) -> Result<(), StoreError> {
    let mut q = Sql::new("DELETE FROM person_needs WHERE person_id = ");
    q.bind(id).push(" AND field <> ").bind(HEALTH_NEED);
    q.execute(c).await?;
    let listed: Vec<Field> = fields
        .iter()
        .copied()
        .filter(|f| *f != Field::SanteHandicap)
        .collect();
    if listed.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new("INSERT INTO person_needs (person_id, field) VALUES ");
    q.join(listed, ", ", |q, f| {
        q.push("(").bind(id).push(", ").bind(f.as_str()).push(")");
    });
    q.execute(c).await?;
    Ok(())
}

/// One person's file, by id — callers check access first ([`access`]).
pub async fn get(c: &mut Conn<'_>, id: PersonId) -> Result<Option<Person>, StoreError> {
    let sql = format!(
        "SELECT {} FROM persons p LEFT JOIN users u ON u.id = p.met_by WHERE p.id = $1",
        person_columns(c.backend())
    );
    run!(c, |c| sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

/// Whether the person agrees to be recontacted (the consent's « recontact » purpose, once
/// recorded, is the answer).
pub async fn set_agrees_recontact(
    c: &mut Conn<'_>,
    id: PersonId,
    agrees: bool,
) -> Result<(), StoreError> {
    exec!(c, |c| sqlx::query(
        "UPDATE persons SET agrees_recontact = $2 WHERE id = $1"
    )
    .bind(id.0)
    .bind(agrees))?;
    Ok(())
}

/// The stored address and postcode of a file (never shown: the caller compares it with what
/// was typed before checking the new one).
pub async fn address_of(
    c: &mut Conn<'_>,
    id: PersonId,
) -> Result<Option<(String, String)>, StoreError> {
    run!(c, |c| sqlx::query_as(
        "SELECT address, postal_code FROM persons WHERE id = $1"
    )
    .bind(id.0)
    .fetch_one(&mut **c)
    .await)
    .optional()
}

/// Contact and address, as corrected on the file.
#[derive(Debug, Clone)]
pub struct Identity {
    pub first_name: String,
    pub last_name: String,
    pub folded_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub commune_insee: Option<String>,
    pub neighbourhood: String,
    /// `None` keeps the previous check (the address did not change).
    pub qpv: Option<QpvCheck>,
    pub agrees_recontact: bool,
}

pub async fn update_identity(
    c: &mut Conn<'_>,
    id: PersonId,
    p: &Identity,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let qpv = p.qpv.as_ref();
    exec!(c, |c| {
        sqlx::query(
        "UPDATE persons SET first_name = $2, last_name = $3, folded_name = $4, phone = $5, email = $6, address = $7,
           postal_code = $8, commune_insee = $9, neighbourhood = $10, agrees_recontact = $11, updated_at = $12,
           qpv_code = CASE WHEN $13 THEN $14 ELSE qpv_code END,
           qpv_millesime = CASE WHEN $13 THEN $15 ELSE qpv_millesime END,
           qpv_confidence = CASE WHEN $13 THEN $16 ELSE qpv_confidence END,
           qpv_checked_at = CASE WHEN $13 THEN $17 ELSE qpv_checked_at END,
           home_longitude = CASE WHEN $13 THEN $18 ELSE home_longitude END,
           home_latitude = CASE WHEN $13 THEN $19 ELSE home_latitude END
         WHERE id = $1"
    )
    .bind(id.0)
    .bind(&p.first_name)
    .bind(&p.last_name)
    .bind(&p.folded_name)
    .bind(&p.phone)
    .bind(&p.email)
    .bind(&p.address)
    .bind(&p.postal_code)
    .bind(&p.commune_insee)
    .bind(&p.neighbourhood)
    .bind(p.agrees_recontact)
    .bind(now)
    .bind(qpv.is_some())
    .bind(qpv.and_then(|q| q.code.clone()))
    .bind(qpv.map(|q| q.millesime))
    .bind(qpv.map(|q| q.confidence.clone()))
    .bind(qpv.map(|q| q.checked_at))
    .bind(qpv.and_then(|q| q.position).map(|p| p.0))
    .bind(qpv.and_then(|q| q.position).map(|p| p.1))
    })?;
    Ok(())
}

/// The situation recorded at the entry into accompaniment (no health data here).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Situation {
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub single_parent: Option<bool>,
    pub children_under_12: Option<i32>,
    pub ft_registered: Option<bool>,
    pub ft_since: Option<NaiveDate>,
    pub brsa: Option<bool>,
    pub cej_pacea: Option<bool>,
    pub qualification: Option<QualificationLevel>,
    pub languages: String,
    pub driving_licence: Option<bool>,
    pub vehicle: Option<bool>,
    /// What the eligibility rules ask (docs/domain.md §9).
    pub criteria: Criteria,
}

/// The facts of the situation the eligibility rules ask about, beyond the situation itself.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Criteria {
    pub student: Option<bool>,
    pub in_training: Option<bool>,
    pub ass: Option<bool>,
    pub ase_leaver: Option<bool>,
    pub homeless: Option<bool>,
    pub refugee: Option<bool>,
    pub detention_leaver: Option<bool>,
    pub frr_resident: Option<bool>,
    pub fle_below_a1: Option<bool>,
    pub job_or_training_start: Option<bool>,
    pub youngest_child_born_on: Option<String>,
}

impl Criteria {
    /// The yes-or-no facts, in the order of `app::persons::CRITERIA`.
    pub fn flags(&self) -> [Option<bool>; 10] {
        [
            self.student,
            self.in_training,
            self.ass,
            self.ase_leaver,
            self.homeless,
            self.refugee,
            self.detention_leaver,
            self.frr_resident,
            self.fle_below_a1,
            self.job_or_training_start,
        ]
    }
}

/// Where the QPV check placed the person's address, if it did.
pub async fn home_position(
    c: &mut Conn<'_>,
    id: PersonId,
) -> Result<Option<(f64, f64)>, StoreError> {
    let row: Option<(Option<f64>, Option<f64>)> = run!(c, |c| sqlx::query_as(
        "SELECT home_longitude, home_latitude FROM persons WHERE id = $1"
    )
    .bind(id.0)
    .fetch_optional(&mut **c)
    .await)?;
    Ok(match row {
        Some((Some(lon), Some(lat))) => Some((lon, lat)),
        _ => None,
    })
}

pub async fn set_situation(
    c: &mut Conn<'_>,
    id: PersonId,
    s: &Situation,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "UPDATE persons SET birth_date = $2, sex = $3, single_parent = $4, children_under_12 = $5, ft_registered = $6,
           ft_since = $7, brsa = $8, cej_pacea = $9, qualification = $10, languages = $11, driving_licence = $12,
           vehicle = $13, updated_at = $14, student = $15, in_training = $16, ass = $17, ase_leaver = $18,
           homeless = $19, refugee = $20, detention_leaver = $21, frr_resident = $22, fle_below_a1 = $23,
           job_or_training_start = $24, youngest_child_born_on = $25 WHERE id = $1"
    )
    .bind(id.0)
    .bind(s.birth_date.map(iso))
    .bind(s.sex.map(Sex::as_str))
    .bind(s.single_parent)
    .bind(s.children_under_12)
    .bind(s.ft_registered)
    .bind(s.ft_since.map(iso))
    .bind(s.brsa)
    .bind(s.cej_pacea)
    .bind(s.qualification.map(QualificationLevel::as_str))
    .bind(&s.languages)
    .bind(s.driving_licence)
    .bind(s.vehicle)
    .bind(now)
    .bind(s.criteria.student)
    .bind(s.criteria.in_training)
    .bind(s.criteria.ass)
    .bind(s.criteria.ase_leaver)
    .bind(s.criteria.homeless)
    .bind(s.criteria.refugee)
    .bind(s.criteria.detention_leaver)
    .bind(s.criteria.frr_resident)
    .bind(s.criteria.fle_below_a1)
    .bind(s.criteria.job_or_training_start)
    .bind(&s.criteria.youngest_child_born_on)
    })?;
    Ok(())
}

/// Moves a person along the funnel, dating the step (an exit's detail is in `person_exits`; a
/// return into accompaniment clears the current exit's date).
pub async fn set_status(
    c: &mut Conn<'_>,
    id: PersonId,
    status: FunnelStatus,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let column = match status {
        FunnelStatus::Contacte => "contacted_on",
        FunnelStatus::EnAccompagnement => "accompanied_on",
        FunnelStatus::Sorti => "exited_on",
        // Nobody goes back to « repéré ».
        FunnelStatus::Repere => return Err(StoreError::Conflict),
    };
    let sql = format!(
        "UPDATE persons SET status = $2, {column} = $3, updated_at = $4{} WHERE id = $1",
        if status == FunnelStatus::EnAccompagnement {
            ", exited_on = NULL"
        } else {
            ""
        }
    );
    exec!(c, |c| sqlx::query(&sql)
        .bind(id.0)
        .bind(status.as_str())
        .bind(iso(on))
        .bind(now))?;
    Ok(())
}

pub async fn touch_contact(
    c: &mut Conn<'_>,
    id: PersonId,
    on: NaiveDate,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "UPDATE persons SET last_contact_on = $2 WHERE id = $1 AND (last_contact_on IS NULL OR last_contact_on < $2)"
    )
    .bind(id.0)
    .bind(iso(on))
    })?;
    Ok(())
}

/// What the eligibility rules are evaluated on (docs/domain.md §9), and what names the person
/// in a list: the lean row of [`facts_in_scope`], also made from a whole [`Person`].
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FactsRow {
    #[sqlx(try_from = "i64")]
    pub id: PersonId,
    pub first_name: String,
    pub last_name: String,
    #[sqlx(try_from = "String")]
    pub status: FunnelStatus,
    pub met_on: String,
    pub accompanied_on: Option<String>,
    pub birth_date: Option<String>,
    pub birth_year: Option<i32>,
    pub sex: Option<String>,
    pub qualification: Option<String>,
    pub ft_registered: Option<bool>,
    pub ft_since: Option<String>,
    pub brsa: Option<bool>,
    pub single_parent: Option<bool>,
    pub children_under_12: Option<i32>,
    pub qpv_code: Option<String>,
    pub qpv_millesime: Option<i32>,
    pub qpv_confidence: Option<String>,
    #[sqlx(flatten)]
    pub criteria: Criteria,
}

impl From<&Person> for FactsRow {
    fn from(p: &Person) -> FactsRow {
        FactsRow {
            id: p.id,
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            status: p.status,
            met_on: p.met_on.clone(),
            accompanied_on: p.accompanied_on.clone(),
            birth_date: p.birth_date.clone(),
            birth_year: p.birth_year,
            sex: p.sex.clone(),
            qualification: p.qualification.clone(),
            ft_registered: p.ft_registered,
            ft_since: p.ft_since.clone(),
            brsa: p.brsa,
            single_parent: p.single_parent,
            children_under_12: p.children_under_12,
            qpv_code: p.qpv_code.clone(),
            qpv_millesime: p.qpv_millesime,
            qpv_confidence: p.qpv_confidence.clone(),
            criteria: p.criteria.clone(),
        }
    }
}

/// The facts of the live persons of a scope whose status is one of `statuses`, ordered by name
/// (a cohort's candidates are evaluated on them: a territory holds thousands, not millions).
pub async fn facts_in_scope(
    c: &mut Conn<'_>,
    scope: &super::Scope,
    statuses: &[FunnelStatus],
) -> Result<Vec<FactsRow>, StoreError> {
    let mut q = crate::sql::Sql::new(
        "SELECT p.id, p.first_name, p.last_name, p.status, p.met_on, p.accompanied_on, p.birth_date, p.birth_year,
           p.sex, p.qualification, p.ft_registered, p.ft_since, p.brsa, p.single_parent, p.children_under_12,
           p.qpv_code, p.qpv_millesime, p.qpv_confidence, p.student, p.in_training, p.ass, p.ase_leaver, p.homeless,
           p.refugee, p.detention_leaver, p.frr_resident, p.fle_below_a1, p.job_or_training_start,
           p.youngest_child_born_on
         FROM persons p WHERE ",
    );
    scope.rows(&mut q);
    if statuses.is_empty() {
        return Ok(Vec::new());
    }
    q.push(" AND p.status IN ")
        .bind_list(statuses.iter().map(|s| s.as_str()))
        .push(" ORDER BY p.folded_name, p.id");
    q.fetch_all(c).await
}
