//! The caseload: « Mes personnes » and, for coordinators, the whole territory — filtered,
//! searched by name (best match first), paged, each person shown recorded in the audit trail.

use chrono::{Duration, NaiveDate};
use domain::person::{FileEvent, FunnelStatus, name_similarity};
use domain::text::fold;
use domain::{Field, PersonId};
use store::persons::{CaseloadFilter, CaseloadRow, NameRow, Scope};

use super::access::scope;
use crate::{App, AppError, Caller, FieldErrors};

/// « Mes personnes » as typed in its filters.
#[derive(Debug, Clone, Default)]
pub struct CaseloadInput {
    pub status: String,
    pub qpv: String,
    pub field: String,
    pub without_referent: bool,
    /// 30, 60 or 90 days without contact.
    pub silent_days: String,
    pub name: String,
    /// Only people with attempts since their last contact (« à rappeler »).
    pub to_call_back: bool,
    /// Only people with an action of the plan past its due date.
    pub overdue: bool,
    /// Only people met in the last N days (7: « repérés cette semaine »).
    pub new_days: String,
    /// « tous » for a coordinator: the whole territory; otherwise only my people.
    pub everyone: bool,
    pub page: usize,
}

pub const CASELOAD_PAGE: usize = 50;

pub struct Caseload {
    pub rows: Vec<CaseloadRow>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub coordinator: bool,
    pub lost_after_days: u32,
    pub today: NaiveDate,
}

/// The scope, the filter and « today » of a caseload request, the name search ranked.
async fn filter_of(
    app: &App,
    caller: &Caller,
    input: &CaseloadInput,
    c: &mut store::Conn<'_>,
) -> Result<(Scope, CaseloadFilter, NaiveDate), AppError> {
    let scope = scope(caller)?;
    let mut errors = FieldErrors::default();
    let today = app.today_in(caller.zone());
    let mut filter = CaseloadFilter {
        status: match input.status.as_str() {
            "" => None,
            s => errors.check("statut", FunnelStatus::parse(s)),
        },
        in_qpv: match input.qpv.as_str() {
            "oui" => Some(true),
            "non" => Some(false),
            _ => None,
        },
        need_field: match input.field.as_str() {
            "" => None,
            f => errors.check("champ", Field::parse(f)),
        },
        without_referent: input.without_referent,
        silent_since: match input.silent_days.as_str() {
            "" => None,
            d => match d.parse::<i64>() {
                Ok(n @ (30 | 60 | 90)) => Some(today - Duration::days(n)),
                _ => {
                    errors.add("sans_contact", "Choisissez 30, 60 ou 90 jours.");
                    None
                }
            },
        },
        to_call_back: input.to_call_back,
        met_after: match input.new_days.trim() {
            "" => None,
            d => match d.parse::<i64>() {
                Ok(n @ 1..=366) => Some(today - Duration::days(n)),
                _ => {
                    errors.add("nouveaux", "Indiquez un nombre de jours entre 1 et 366.");
                    None
                }
            },
        },
        mine: !(scope.whole_territory() && input.everyone),
        ranked: None,
        overdue: input.overdue,
        today,
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let name = fold(input.name.trim());
    if !name.is_empty() {
        let names = store::persons::names(c, &scope).await?;
        filter.ranked = Some(rank_names(&names, &name));
    }
    Ok((scope, filter, today))
}

/// The caller's people in their active territory, filtered; a constant number of queries
/// whatever the number of people shown (access audit rows are written in one statement).
pub async fn caseload(
    app: &App,
    caller: &Caller,
    input: &CaseloadInput,
) -> Result<Caseload, AppError> {
    let mut pooled = app.db.acquire().await?;
    let (scope, filter, today) = filter_of(app, caller, input, &mut pooled.conn()).await?;
    let page = input.page.max(1);
    let offset = domain::page_offset(
        i64::try_from(page).unwrap_or(i64::MAX),
        CASELOAD_PAGE as i64,
    );
    let rows = store::persons::caseload(
        &mut pooled.conn(),
        &scope,
        &filter,
        offset,
        CASELOAD_PAGE as i64,
    )
    .await?;
    let total = rows
        .first()
        .map_or(0, |r| usize::try_from(r.total).unwrap_or(0));
    shown(app, caller, &scope, &rows, "/personnes", &mut pooled.conn()).await?;
    Ok(Caseload {
        rows,
        total,
        page,
        pages: total.div_ceil(CASELOAD_PAGE).max(1),
        coordinator: scope.whole_territory(),
        lost_after_days: app.settings.lost_after_days,
        today,
    })
}

/// Records that these people were shown (one statement, one row each).
async fn shown(
    app: &App,
    caller: &Caller,
    scope: &Scope,
    rows: &[CaseloadRow],
    detail: &str,
    c: &mut store::Conn<'_>,
) -> Result<(), AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
    shown_in_list(app, caller, scope, &ids, detail, c).await
}

/// Records that these people (ids) were shown in a list of `scope`'s territory: one
/// statement, one audit row each. Every page that names people goes through here.
pub(crate) async fn shown_in_list(
    app: &App,
    caller: &Caller,
    scope: &Scope,
    ids: &[i64],
    detail: &str,
    c: &mut store::Conn<'_>,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let event = store::audit::NewEvent {
        user: Some(caller.user_id),
        action: FileEvent::List.as_str(),
        target_kind: "person",
        target_id: None,
        territory: Some(scope.territory()),
        detail,
        client_ip: caller.client_ip.as_deref(),
        api_token: caller.api_token(),
    };
    store::audit::record_each(c, &event, ids, app.now()).await?;
    Ok(())
}

/// At most this many people in one export (a territory's whole caseload fits).
pub const EXPORT_MAX: i64 = 20_000;

/// The whole filtered list for a CSV export, within the caller's rights: the same scope and
/// filters as the page, every person exported recorded in the audit trail.
pub async fn caseload_export(
    app: &App,
    caller: &Caller,
    input: &CaseloadInput,
) -> Result<Vec<CaseloadRow>, AppError> {
    let mut pooled = app.db.acquire().await?;
    let (scope, filter, _) = filter_of(app, caller, input, &mut pooled.conn()).await?;
    let rows = store::persons::caseload(&mut pooled.conn(), &scope, &filter, 0, EXPORT_MAX).await?;
    shown(
        app,
        caller,
        &scope,
        &rows,
        "export CSV de /personnes",
        &mut pooled.conn(),
    )
    .await?;
    Ok(rows)
}

/// The files whose name matches a search, best first (accents and typos forgiven): the whole
/// name, its best word, or a word it starts with; at most 200.
pub fn rank_names(names: &[NameRow], folded_query: &str) -> Vec<PersonId> {
    let mut ranked: Vec<(f64, PersonId)> = names
        .iter()
        .map(|n| {
            let whole = name_similarity(&n.folded_name, folded_query);
            let words = n.folded_name.split_whitespace();
            let best_word = words
                .clone()
                .map(|w| name_similarity(w, folded_query))
                .fold(0.0, f64::max);
            let prefix = if words.clone().any(|w| w.starts_with(folded_query)) {
                1.0
            } else {
                0.0
            };
            (whole.max(best_word).max(prefix), n.id)
        })
        .filter(|(s, _)| *s >= 0.45)
        .collect();
    // Best first; equal scores by file number, so pages are stable.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().take(200).map(|(_, id)| id).collect()
}
