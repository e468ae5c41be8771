//! Person files. Every list, search and count takes a [`Scope`]: the need-to-know predicate is
//! written once, here, and no query over persons exists without it — except [`access`], which
//! answers for one person what the caller is to them.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    ConsentId, GroupMemberId, JournalEntryId, OrganisationId, PersonId, TerritoryId, UserId,
};

use domain::Field;
use domain::person::ConsentPurpose;

use crate::sql::Sql;
use crate::{Backend, Conn, OptionalExt, StoreError, exec, run};

/// Fields of action read from `person_needs` (aggregated as `a|b` in one column), in the
/// vademecum's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs(pub Vec<Field>);

impl From<String> for Needs {
    fn from(list: String) -> Needs {
        let mut fields: Vec<Field> = list.split('|').filter_map(Field::from_code).collect();
        fields.sort();
        fields.dedup();
        Needs(fields)
    }
}

impl Needs {
    pub fn contains(&self, f: Field) -> bool {
        self.0.contains(&f)
    }
}

/// `expr` aggregated as `a|b` over the rows of a subquery (each backend has its own function).
fn list_agg(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expr}, '|')"),
        Backend::Postgres => format!("string_agg({expr}, '|')"),
    }
}

/// The needs the whole group sees, as one column over `persons p`.
fn needs_column(backend: Backend) -> String {
    format!(
        "COALESCE((SELECT {} FROM person_needs n WHERE n.person_id = p.id), '') AS need_fields",
        list_agg(backend, "n.field")
    )
}

/// Whose persons a query may return. Ids are bound as parameters by [`Sql`], never written
/// into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The people of one territory whose follow-up group the user belongs to now.
    Group {
        user: UserId,
        territory: TerritoryId,
    },
    /// Every person of the territory: its coordinators.
    Territory {
        user: UserId,
        territory: TerritoryId,
    },
    /// Counts only (pilots): list queries return no row, counts cover the territory.
    Aggregate { territory: TerritoryId },
}

impl Scope {
    pub fn territory(&self) -> TerritoryId {
        match *self {
            Scope::Group { territory, .. }
            | Scope::Territory { territory, .. }
            | Scope::Aggregate { territory } => territory,
        }
    }

    /// The user whose group and health permissions matter (none for aggregates).
    pub fn user(&self) -> Option<UserId> {
        match *self {
            Scope::Group { user, .. } | Scope::Territory { user, .. } => Some(user),
            Scope::Aggregate { .. } => None,
        }
    }

    pub fn whole_territory(&self) -> bool {
        matches!(self, Scope::Territory { .. })
    }

    /// The files of the territory that are live (not merged away, not archived).
    fn live(&self, q: &mut Sql) {
        q.push("p.territory_id = ")
            .bind(self.territory())
            .push(" AND p.merged_into IS NULL AND p.archived_on IS NULL");
    }

    /// The predicate over `persons p` for queries that return persons: an aggregate scope
    /// matches nothing, by construction.
    fn rows(&self, q: &mut Sql) {
        match self {
            Scope::Aggregate { .. } => {
                q.push("1 = 0");
            }
            Scope::Territory { .. } => self.live(q),
            Scope::Group { .. } => {
                self.live(q);
                q.push(" AND ");
                self.member(q);
            }
        }
    }

    /// The predicate for counts: aggregates cover the territory.
    fn counted(&self, q: &mut Sql) {
        match self {
            Scope::Group { .. } => self.rows(q),
            Scope::Territory { .. } | Scope::Aggregate { .. } => self.live(q),
        }
    }

    /// The person has a health need that this user may know of: referent, or a member
    /// explicitly allowed to see health data (coordinators are not, by their role alone).
    fn health_need(&self, q: &mut Sql) {
        let Some(user) = self.user() else {
            q.push("1 = 0");
            return;
        };
        q.push(
            "(EXISTS (SELECT 1 FROM person_health hh WHERE hh.person_id = p.id AND hh.need)
              AND EXISTS (SELECT 1 FROM person_members hm WHERE hm.person_id = p.id AND hm.user_id = ",
        )
        .bind(user)
        .push(" AND hm.ended_at IS NULL AND (hm.is_referent OR hm.health_access)))");
    }

    /// The user belongs to the person's follow-up group now.
    fn member(&self, q: &mut Sql) {
        let Some(user) = self.user() else {
            q.push("1 = 0");
            return;
        };
        q.push(
            "EXISTS (SELECT 1 FROM person_members sm WHERE sm.person_id = p.id AND sm.user_id = ",
        )
        .bind(user)
        .push(" AND sm.ended_at IS NULL)");
    }
}

/// What a user is to one person: enough to decide every access, in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessRow {
    #[sqlx(try_from = "i64")]
    pub territory_id: TerritoryId,
    /// The territory's zone (for the dates typed on the file).
    pub time_zone: String,
    pub merged_into: Option<i64>,
    pub archived_on: Option<String>,
    /// Present when the user is a current member of the person's follow-up group.
    pub member_id: Option<i64>,
    pub is_referent: Option<bool>,
    pub health_access: Option<bool>,
}

pub async fn access(
    c: &mut Conn<'_>,
    person: PersonId,
    user: UserId,
) -> Result<Option<AccessRow>, StoreError> {
    access_row(c, person, user, "").await
}

/// [`access`] inside a write transaction: on PostgreSQL the person's row is locked until the
/// transaction ends, so the check holds for the write it guards (SQLite's `BEGIN IMMEDIATE`
/// already holds the single write lock).
pub async fn access_for_write(
    c: &mut Conn<'_>,
    person: PersonId,
    user: UserId,
) -> Result<Option<AccessRow>, StoreError> {
    let lock = match c {
        Conn::Sqlite(_) => "",
        Conn::Postgres(_) => " FOR UPDATE OF p",
    };
    access_row(c, person, user, lock).await
}

async fn access_row(
    c: &mut Conn<'_>,
    person: PersonId,
    user: UserId,
    lock: &str,
) -> Result<Option<AccessRow>, StoreError> {
    let sql = format!(
        "SELECT p.territory_id, t.time_zone, p.merged_into, p.archived_on, m.id AS member_id, m.is_referent, m.health_access
         FROM persons p JOIN territories t ON t.id = p.territory_id
           LEFT JOIN person_members m ON m.person_id = p.id AND m.user_id = $2 AND m.ended_at IS NULL
         WHERE p.id = $1
         ORDER BY m.is_referent DESC LIMIT 1{lock}"
    );
    run!(c, |c| sqlx::query_as(&sql)
        .bind(person.0)
        .bind(user.0)
        .fetch_one(&mut **c)
        .await)
    .optional()
}

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
    pub channel: String,
    pub place: String,
    pub met_on: String,
    pub met_by: Option<UserId>,
    pub needs: String,
    /// The fields the whole group may see (never the health need: it goes to person_health).
    pub need_fields: Vec<Field>,
    pub agrees_recontact: bool,
}

/// The outcome of the QPV check of an address, with its date.
#[derive(Debug, Clone)]
pub struct QpvCheck {
    pub code: Option<String>,
    pub millesime: i32,
    pub confidence: String,
    pub checked_at: DateTime<Utc>,
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
    pub status: String,
    pub contacted_on: Option<String>,
    pub accompanied_on: Option<String>,
    pub exited_on: Option<String>,
    pub exit_reason: Option<String>,
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
}

/// The columns of [`Person`] over `persons p` joined with `users u` (the one who met them).
fn person_columns(backend: Backend) -> String {
    format!("{PERSON_COLUMNS_TEXT}, {}", needs_column(backend))
}

const PERSON_COLUMNS_TEXT: &str = "p.id, p.territory_id, p.first_name, p.last_name, p.folded_name, p.phone, p.email, p.address,
    p.postal_code, p.commune_insee, p.neighbourhood, p.qpv_code, p.qpv_millesime, p.qpv_confidence, p.qpv_checked_at,
    p.channel, p.place, p.met_on, p.met_by, u.display_name AS met_by_name, p.needs, p.agrees_recontact,
    p.status, p.contacted_on, p.accompanied_on, p.exited_on, p.exit_reason, p.last_contact_on, p.birth_date, p.sex,
    p.single_parent, p.children_under_12, p.ft_registered, p.ft_since, p.brsa, p.cej_pacea, p.qualification, p.languages,
    p.driving_licence, p.vehicle, p.merged_into, p.archived_on, p.created_at, p.updated_at";

pub async fn create(
    c: &mut Conn<'_>,
    p: &NewPerson,
    created_by: UserId,
    now: DateTime<Utc>,
) -> Result<PersonId, StoreError> {
    let qpv = p.qpv.as_ref();
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO persons (territory_id, first_name, last_name, folded_name, phone, email, address, postal_code,
           commune_insee, neighbourhood, qpv_code, qpv_millesime, qpv_confidence, qpv_checked_at, channel, place, met_on,
           met_by, needs, agrees_recontact, status, last_contact_on, created_at, created_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 'repere',
           $17, $21, $22, $21) RETURNING id"
    )
    .bind(p.territory.0)
    .bind(&p.first_name)
    .bind(&p.last_name)
    .bind(&p.folded_name)
    .bind(&p.phone)
    .bind(&p.email)
    .bind(&p.address)
    .bind(&p.postal_code)
    .bind(&p.commune_insee)
    .bind(&p.neighbourhood)
    .bind(qpv.and_then(|q| q.code.clone()))
    .bind(qpv.map(|q| q.millesime))
    .bind(qpv.map(|q| q.confidence.clone()))
    .bind(qpv.map(|q| q.checked_at))
    .bind(&p.channel)
    .bind(&p.place)
    .bind(&p.met_on)
    .bind(p.met_by.map(|u| u.0))
    .bind(&p.needs)
    .bind(p.agrees_recontact)
    .bind(now)
    .bind(created_by.0)
    .fetch_one(&mut **c)
    .await
    })?;
    let id = PersonId(id);
    set_needs(c, id, &p.need_fields).await?;
    Ok(id)
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
           qpv_checked_at = CASE WHEN $13 THEN $17 ELSE qpv_checked_at END
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
    })?;
    Ok(())
}

/// The situation recorded at the entry into accompaniment (no health data here).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Situation {
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
           vehicle = $13, updated_at = $14 WHERE id = $1"
    )
    .bind(id.0)
    .bind(&s.birth_date)
    .bind(&s.sex)
    .bind(s.single_parent)
    .bind(s.children_under_12)
    .bind(s.ft_registered)
    .bind(&s.ft_since)
    .bind(s.brsa)
    .bind(s.cej_pacea)
    .bind(&s.qualification)
    .bind(&s.languages)
    .bind(s.driving_licence)
    .bind(s.vehicle)
    .bind(now)
    })?;
    Ok(())
}

/// Moves a person along the funnel, dating the step (`exit_reason` for an exit).
pub async fn set_status(
    c: &mut Conn<'_>,
    id: PersonId,
    status: &str,
    on: &str,
    exit_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let column = match status {
        "contacte" => "contacted_on",
        "en-accompagnement" => "accompanied_on",
        "sorti" => "exited_on",
        _ => return Err(StoreError::Conflict),
    };
    let sql = format!(
        "UPDATE persons SET status = $2, {column} = $3, exit_reason = COALESCE($4, exit_reason), updated_at = $5 WHERE id = $1"
    );
    exec!(c, |c| sqlx::query(&sql)
        .bind(id.0)
        .bind(status)
        .bind(on)
        .bind(exit_reason)
        .bind(now))?;
    Ok(())
}

pub async fn touch_contact(c: &mut Conn<'_>, id: PersonId, on: &str) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "UPDATE persons SET last_contact_on = $2 WHERE id = $1 AND (last_contact_on IS NULL OR last_contact_on < $2)"
    )
    .bind(id.0)
    .bind(on)
    })?;
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Health {
    pub rqth: Option<bool>,
    pub rqth_until: Option<String>,
    /// A need in the « Santé / handicap » field, and what the person said of it.
    pub need: bool,
    pub need_note: String,
    /// The référent shows the group that a health need exists (never its text).
    pub need_shared: bool,
}

/// The slug of the « Santé / handicap » field, the one need kept behind the health gate.
pub const HEALTH_NEED: &str = "sante-handicap";

/// Health data — callers check the explicit permission first.
pub async fn health(c: &mut Conn<'_>, id: PersonId) -> Result<Health, StoreError> {
    Ok(run!(c, |c| sqlx::query_as(
        "SELECT rqth, rqth_until, need, need_note, need_shared FROM person_health WHERE person_id = $1"
    )
    .bind(id.0)
    .fetch_one(&mut **c)
    .await)
    .optional()?
    .unwrap_or_default())
}

pub async fn set_health(
    c: &mut Conn<'_>,
    id: PersonId,
    h: &Health,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO person_health (person_id, rqth, rqth_until, need, need_note, need_shared, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (person_id) DO UPDATE SET rqth = excluded.rqth, rqth_until = excluded.rqth_until,
           need = excluded.need, need_note = excluded.need_note, need_shared = excluded.need_shared,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by"
    )
    .bind(id.0)
    .bind(h.rqth)
    .bind(&h.rqth_until)
    .bind(h.need)
    .bind(&h.need_note)
    .bind(h.need_shared)
    .bind(now)
    .bind(user.0)
    })?;
    // What the whole group sees follows: the health need is listed there only when shared.
    let sql = if h.need && h.need_shared {
        "INSERT INTO person_needs (person_id, field) VALUES ($1, $2) ON CONFLICT (person_id, field) DO NOTHING"
    } else {
        "DELETE FROM person_needs WHERE person_id = $1 AND field = $2"
    };
    exec!(c, |c| sqlx::query(sql).bind(id.0).bind(HEALTH_NEED))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Lists, always scoped

/// Caseload filters; all optional.
#[derive(Debug, Clone, Default)]
pub struct CaseloadFilter {
    pub status: Option<String>,
    /// `Some(true)`: living in a QPV; `Some(false)`: not (or unknown).
    pub in_qpv: Option<bool>,
    pub need_field: Option<Field>,
    pub without_referent: bool,
    /// Only people whose last contact (or repérage) is on or before this date.
    pub silent_since: Option<NaiveDate>,
    /// Only the people whose group the user belongs to (« Mes personnes »), even for a coordinator.
    pub mine: bool,
    /// Only these ids, best match first: a name search ranked them, and the page keeps that
    /// order.
    pub ranked: Option<Vec<PersonId>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseloadRow {
    #[sqlx(try_from = "i64")]
    pub id: PersonId,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
    pub qpv_code: Option<String>,
    pub met_on: String,
    pub last_contact_on: Option<String>,
    #[sqlx(try_from = "String")]
    pub need_fields: Needs,
    pub referent_name: Option<String>,
    pub total: i64,
}

fn caseload_conditions(q: &mut Sql, scope: &Scope, f: &CaseloadFilter) {
    scope.rows(q);
    if let Some(s) = &f.status {
        q.push(" AND p.status = ").bind(s.as_str());
    }
    match f.in_qpv {
        Some(true) => {
            q.push(" AND p.qpv_code IS NOT NULL");
        }
        Some(false) => {
            q.push(" AND p.qpv_code IS NULL");
        }
        None => {}
    }
    if let Some(field) = f.need_field {
        q.push(
            " AND (EXISTS (SELECT 1 FROM person_needs nf WHERE nf.person_id = p.id AND nf.field = ",
        )
        .bind(field.as_str())
        .push(")");
        // The health need is found for those who may know of it, or when the référent shared it.
        if field == Field::SanteHandicap {
            q.push(" OR ");
            scope.health_need(q);
        }
        q.push(")");
    }
    if f.without_referent {
        q.push(" AND NOT EXISTS (SELECT 1 FROM person_members r WHERE r.person_id = p.id AND r.is_referent AND r.ended_at IS NULL)");
    }
    if let Some(date) = f.silent_since {
        q.push(" AND COALESCE(p.last_contact_on, p.met_on) <= ")
            .bind(date)
            .push(" AND p.status <> 'sorti'");
    }
    if f.mine {
        q.push(" AND ");
        scope.member(q);
    }
    if let Some(ids) = &f.ranked {
        q.push(" AND p.id IN ").bind_list(ids.iter().copied());
    }
}

/// One page of the caseload with the total, the référent's name included (one query). Most
/// recent contact first — or, after a name search, best match first.
pub async fn caseload(
    c: &mut Conn<'_>,
    scope: &Scope,
    f: &CaseloadFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<CaseloadRow>, StoreError> {
    let backend = c.backend();
    // Each row's needs as this user may see them: the health need added where they may know of it.
    let mut q = Sql::new(
        "SELECT p.id, p.first_name, p.last_name, p.status, p.qpv_code, p.met_on, p.last_contact_on,
           COALESCE((SELECT ",
    );
    q.push(&list_agg(backend, "x.field"))
        .push(" FROM (SELECT n.field FROM person_needs n WHERE n.person_id = p.id UNION SELECT ")
        .bind(HEALTH_NEED)
        .push(" WHERE ");
    scope.health_need(&mut q);
    q.push(
        ") x), '') AS need_fields,
           (SELECT u.display_name FROM person_members r JOIN users u ON u.id = r.user_id
             WHERE r.person_id = p.id AND r.is_referent AND r.ended_at IS NULL LIMIT 1) AS referent_name,
           COUNT(*) OVER () AS total
         FROM persons p WHERE ",
    );
    caseload_conditions(&mut q, scope, f);
    q.push(" ORDER BY ");
    match &f.ranked {
        Some(ids) if !ids.is_empty() => {
            q.push("CASE p.id");
            for (rank, id) in ids.iter().enumerate() {
                q.push(" WHEN ")
                    .bind(*id)
                    .push(" THEN ")
                    .bind(i64::try_from(rank).unwrap_or(i64::MAX));
            }
            q.push(" END, p.id");
        }
        _ => {
            q.push("COALESCE(p.last_contact_on, p.met_on) DESC, p.id DESC");
        }
    }
    q.push(" LIMIT ").bind(limit).push(" OFFSET ").bind(offset);
    q.fetch_all(c).await
}

/// Names of the people in scope, for name search and duplicate detection (ranked by the caller).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NameRow {
    #[sqlx(try_from = "i64")]
    pub id: PersonId,
    pub folded_name: String,
    pub birth_date: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

pub async fn names(c: &mut Conn<'_>, scope: &Scope) -> Result<Vec<NameRow>, StoreError> {
    let mut q = Sql::new(
        "SELECT p.id, p.folded_name, p.birth_date, p.phone, p.email FROM persons p WHERE ",
    );
    scope.rows(&mut q);
    q.fetch_all(c).await
}

/// How many people in scope per funnel status (for the caseload's counters; an aggregate scope
/// counts the whole territory).
pub async fn count_by_status(
    c: &mut Conn<'_>,
    scope: &Scope,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut q = Sql::new("SELECT p.status, COUNT(*) FROM persons p WHERE ");
    scope.counted(&mut q);
    q.push(" GROUP BY p.status");
    q.fetch_all(c).await
}

// ---------------------------------------------------------------------------------------------
// Follow-up group

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    #[sqlx(try_from = "i64")]
    pub id: GroupMemberId,
    pub user_id: i64,
    pub user_name: String,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    pub is_referent: bool,
    pub health_access: bool,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
}

pub async fn members(c: &mut Conn<'_>, person: PersonId) -> Result<Vec<Member>, StoreError> {
    Ok(run!(c, |c| {
        sqlx::query_as(
        "SELECT m.id, m.user_id, u.display_name AS user_name, m.organisation_id, o.name AS organisation_name, m.is_referent,
           m.health_access, m.started_at, m.ended_at, m.end_reason
         FROM person_members m JOIN users u ON u.id = m.user_id LEFT JOIN organisations o ON o.id = m.organisation_id
         WHERE m.person_id = $1 ORDER BY m.ended_at IS NOT NULL, m.is_referent DESC, m.started_at, m.id"
    )
    .bind(person.0)
    .fetch_all(&mut **c)
    .await
    })?)
}

pub struct NewMember {
    pub person: PersonId,
    pub user: UserId,
    pub organisation: Option<OrganisationId>,
    pub is_referent: bool,
    pub health_access: bool,
    pub added_by: UserId,
}

pub async fn add_member(
    c: &mut Conn<'_>,
    m: &NewMember,
    now: DateTime<Utc>,
) -> Result<GroupMemberId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO person_members (person_id, user_id, organisation_id, is_referent, health_access, started_at, added_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(m.person.0)
    .bind(m.user.0)
    .bind(m.organisation.map(|o| o.0))
    .bind(m.is_referent)
    .bind(m.health_access)
    .bind(now)
    .bind(m.added_by.0)
    .fetch_one(&mut **c)
    .await
    })?;
    Ok(GroupMemberId(id))
}

/// Ends current memberships of a person (see [`EndWhich`]). Returns how many ended. The SQL
/// never depends on a list being non-empty: who stays is decided by the référent's own row.
pub async fn end_members(
    c: &mut Conn<'_>,
    person: PersonId,
    which: EndWhich,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let condition = match which {
        EndWhich::One(_) => "id = $4",
        EndWhich::Referent => "is_referent",
        EndWhich::All => "1 = 1",
        // Members of the référent's organisation stay; when the référent has no organisation
        // (a coordinator) or there is no référent, every other member leaves.
        EndWhich::OutsideReferentOrganisation => {
            "NOT is_referent AND NOT EXISTS (SELECT 1 FROM person_members r
               WHERE r.person_id = person_members.person_id AND r.is_referent AND r.ended_at IS NULL
                 AND r.organisation_id IS NOT NULL AND r.organisation_id = person_members.organisation_id)"
        }
    };
    let sql = format!(
        "UPDATE person_members SET ended_at = $2, end_reason = $3 WHERE person_id = $1 AND ended_at IS NULL AND {condition}"
    );
    Ok(match which {
        EndWhich::One(id) => exec!(c, |c| sqlx::query(&sql)
            .bind(person.0)
            .bind(now)
            .bind(reason)
            .bind(id.0))?,
        _ => exec!(c, |c| sqlx::query(&sql)
            .bind(person.0)
            .bind(now)
            .bind(reason))?,
    })
}

/// Which current members of a group [`end_members`] ends.
#[derive(Debug, Clone, Copy)]
pub enum EndWhich {
    One(GroupMemberId),
    Referent,
    All,
    /// Everyone but the référent and the members of the référent's organisation.
    OutsideReferentOrganisation,
}

// ---------------------------------------------------------------------------------------------
// Consent

/// A consent as recorded: its purposes and the organisations the person agreed to share with
/// are rows of their own tables.
#[derive(Debug, Clone)]
pub struct Consent {
    pub id: ConsentId,
    pub given_on: String,
    pub method: String,
    pub purposes: Vec<ConsentPurpose>,
    pub organisations: Vec<OrganisationId>,
    pub recorded_by_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by_name: Option<String>,
}

/// A person's consents, newest first (one statement; purposes and organisations aggregated).
pub async fn consents(c: &mut Conn<'_>, person: PersonId) -> Result<Vec<Consent>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        given_on: String,
        method: String,
        purposes: String,
        organisations: String,
        recorded_by_name: Option<String>,
        recorded_at: DateTime<Utc>,
        revoked_at: Option<DateTime<Utc>>,
        revoked_by_name: Option<String>,
    }
    let backend = c.backend();
    let organisation_text = match backend {
        Backend::Sqlite => "CAST(ko.organisation_id AS TEXT)",
        Backend::Postgres => "ko.organisation_id::text",
    };
    let sql = format!(
        "SELECT k.id, k.given_on, k.method,
           COALESCE((SELECT {} FROM person_consent_purposes kp WHERE kp.consent_id = k.id), '') AS purposes,
           COALESCE((SELECT {} FROM person_consent_organisations ko WHERE ko.consent_id = k.id), '') AS organisations,
           u.display_name AS recorded_by_name, k.recorded_at, k.revoked_at, v.display_name AS revoked_by_name
         FROM person_consents k LEFT JOIN users u ON u.id = k.recorded_by LEFT JOIN users v ON v.id = k.revoked_by
         WHERE k.person_id = $1 ORDER BY k.recorded_at DESC, k.id DESC",
        list_agg(backend, "kp.purpose"),
        list_agg(backend, organisation_text),
    );
    let rows: Vec<Row> = run!(c, |c| sqlx::query_as(&sql)
        .bind(person.0)
        .fetch_all(&mut **c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut purposes: Vec<ConsentPurpose> = r
                .purposes
                .split('|')
                .filter_map(ConsentPurpose::from_code)
                .collect();
            purposes.sort();
            let mut organisations: Vec<OrganisationId> = r
                .organisations
                .split('|')
                .filter_map(|o| o.parse().ok())
                .map(OrganisationId)
                .collect();
            organisations.sort();
            Consent {
                id: ConsentId(r.id),
                given_on: r.given_on,
                method: r.method,
                purposes,
                organisations,
                recorded_by_name: r.recorded_by_name,
                recorded_at: r.recorded_at,
                revoked_at: r.revoked_at,
                revoked_by_name: r.revoked_by_name,
            }
        })
        .collect())
}

pub struct NewConsent<'a> {
    pub person: PersonId,
    pub given_on: &'a str,
    pub method: &'a str,
    pub purposes: &'a [ConsentPurpose],
    pub organisations: &'a [OrganisationId],
    pub recorded_by: UserId,
}

/// Records a consent with its purposes and organisations (three statements at most).
pub async fn add_consent(
    c: &mut Conn<'_>,
    k: &NewConsent<'_>,
    now: DateTime<Utc>,
) -> Result<ConsentId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
            "INSERT INTO person_consents (person_id, given_on, method, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(k.person.0)
        .bind(k.given_on)
        .bind(k.method)
        .bind(k.recorded_by.0)
        .bind(now)
        .fetch_one(&mut **c)
        .await
    })?;
    let id = ConsentId(id);
    if !k.purposes.is_empty() {
        let mut q = Sql::new("INSERT INTO person_consent_purposes (consent_id, purpose) VALUES ");
        q.join(k.purposes, ", ", |q, p| {
            q.push("(").bind(id).push(", ").bind(p.as_str()).push(")");
        });
        q.execute(c).await?;
    }
    if !k.organisations.is_empty() {
        let mut q = Sql::new(
            "INSERT INTO person_consent_organisations (consent_id, organisation_id) VALUES ",
        );
        q.join(k.organisations, ", ", |q, o| {
            q.push("(").bind(id).push(", ").bind(*o).push(")");
        });
        q.execute(c).await?;
    }
    Ok(id)
}

/// Revokes every consent in force; returns how many were.
pub async fn revoke_consents(
    c: &mut Conn<'_>,
    person: PersonId,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(exec!(c, |c| {
        sqlx::query(
        "UPDATE person_consents SET revoked_at = $2, revoked_by = $3 WHERE person_id = $1 AND revoked_at IS NULL"
    )
    .bind(person.0)
    .bind(now)
    .bind(by.0)
    })?)
}

// ---------------------------------------------------------------------------------------------
// Journal

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    #[sqlx(try_from = "i64")]
    pub id: JournalEntryId,
    pub at: DateTime<Utc>,
    pub occurred_on: String,
    pub author_name: Option<String>,
    pub kind: String,
    pub channel: Option<String>,
    pub outcome: Option<String>,
    pub body: String,
    pub visibility: String,
}

/// The entries of the given visibilities only (the caller decides which it may read).
pub async fn journal(
    c: &mut Conn<'_>,
    person: PersonId,
    visibilities: &[&str],
) -> Result<Vec<Entry>, StoreError> {
    let mut q = Sql::new(
        "SELECT j.id, j.at, j.occurred_on, u.display_name AS author_name, j.kind, j.channel, j.outcome, j.body, j.visibility
         FROM person_journal j LEFT JOIN users u ON u.id = j.author_id
         WHERE j.person_id = ",
    );
    q.bind(person)
        .push(" AND j.visibility IN ")
        .bind_list(visibilities.iter().copied())
        .push(" ORDER BY j.occurred_on DESC, j.at DESC, j.id DESC");
    q.fetch_all(c).await
}

pub struct NewEntry<'a> {
    pub person: PersonId,
    pub occurred_on: &'a str,
    pub author: UserId,
    pub kind: &'a str,
    pub channel: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub body: &'a str,
    pub visibility: &'a str,
}

pub async fn add_entry(
    c: &mut Conn<'_>,
    e: &NewEntry<'_>,
    now: DateTime<Utc>,
) -> Result<JournalEntryId, StoreError> {
    let id: i64 = run!(c, |c| {
        sqlx::query_scalar(
        "INSERT INTO person_journal (person_id, at, occurred_on, author_id, kind, channel, outcome, body, visibility)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
    )
    .bind(e.person.0)
    .bind(now)
    .bind(e.occurred_on)
    .bind(e.author.0)
    .bind(e.kind)
    .bind(e.channel)
    .bind(e.outcome)
    .bind(e.body)
    .bind(e.visibility)
    .fetch_one(&mut **c)
    .await
    })?;
    Ok(JournalEntryId(id))
}

// ---------------------------------------------------------------------------------------------
// Merging duplicates

/// Moves everything of `from` onto `into` (group, consents, journal, health when `into` has
/// none), keeps the earliest funnel dates, and marks `from` as merged: it leaves every list.
pub async fn merge(
    c: &mut Conn<'_>,
    into: PersonId,
    from: PersonId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec!(c, |c| {
        sqlx::query(
        "INSERT INTO person_needs (person_id, field) SELECT $1, field FROM person_needs WHERE person_id = $2
         ON CONFLICT (person_id, field) DO NOTHING"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    for table in ["person_members", "person_consents", "person_journal"] {
        let sql = format!("UPDATE {table} SET person_id = $1 WHERE person_id = $2");
        exec!(c, |c| sqlx::query(&sql).bind(into.0).bind(from.0))?;
    }
    exec!(c, |c| {
        sqlx::query(
        "UPDATE person_health SET person_id = $1 WHERE person_id = $2 AND NOT EXISTS (SELECT 1 FROM person_health h WHERE h.person_id = $1)"
    )
    .bind(into.0)
    .bind(from.0)
    })?;
    exec!(c, |c| sqlx::query(
        "UPDATE persons SET
           met_on = (SELECT MIN(x.met_on) FROM persons x WHERE x.id IN ($1, $2)),
           contacted_on = (SELECT MIN(x.contacted_on) FROM persons x WHERE x.id IN ($1, $2)),
           accompanied_on = (SELECT MIN(x.accompanied_on) FROM persons x WHERE x.id IN ($1, $2)),
           last_contact_on = (SELECT MAX(x.last_contact_on) FROM persons x WHERE x.id IN ($1, $2)),
           phone = COALESCE(phone, (SELECT x.phone FROM persons x WHERE x.id = $2)),
           email = COALESCE(email, (SELECT x.email FROM persons x WHERE x.id = $2)),
           birth_date = COALESCE(birth_date, (SELECT x.birth_date FROM persons x WHERE x.id = $2)),
           updated_at = $3
         WHERE id = $1"
    )
    .bind(into.0)
    .bind(from.0)
    .bind(now))?;
    exec!(c, |c| sqlx::query(
        "UPDATE persons SET merged_into = $1, updated_at = $3 WHERE id = $2"
    )
    .bind(into.0)
    .bind(from.0)
    .bind(now))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Retention

/// Archives the files whose last contact (or repérage) is before `before`; returns how many.
pub async fn archive_silent(c: &mut Conn<'_>, before: &str, on: &str) -> Result<u64, StoreError> {
    Ok(exec!(c, |c| {
        sqlx::query(
        "UPDATE persons SET archived_on = $2 WHERE archived_on IS NULL AND COALESCE(last_contact_on, met_on) < $1"
    )
    .bind(before)
    .bind(on)
    })?)
}

/// Deletes the files whose last contact is before `before`, with everything attached to them
/// (group, consents, journal, health data) and the duplicates merged into them.
pub async fn delete_expired(c: &mut Conn<'_>, before: &str) -> Result<u64, StoreError> {
    let merged = exec!(c, |c| {
        sqlx::query(
        "DELETE FROM persons WHERE merged_into IN (SELECT id FROM persons WHERE COALESCE(last_contact_on, met_on) < $1)"
    )
    .bind(before)
    })?;
    let expired = exec!(c, |c| sqlx::query(
        "DELETE FROM persons WHERE COALESCE(last_contact_on, met_on) < $1"
    )
    .bind(before))?;
    Ok(merged + expired)
}
