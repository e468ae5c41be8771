//! `/personnes/{id}/diagnostic`: the form (a draft to finish, or a new diagnostic starting from
//! the last one), the history of signed diagnostics, and the levels over time.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::FieldErrors;
use app::diagnostic::{self, DiagnosticInput, DiagnosticPage, Saved};
use domain::diagnostic::{Availability, Level, RomeCode, WorkingHours};
use domain::{Field as ActionField, PersonId};

use super::Message;
use crate::chart;
use crate::flash;
use crate::forms::{Checkboxes, Field, Pairs, one};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::persons::full_name;
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

/// One field of the form.
pub struct Block {
    pub number: u8,
    pub label: &'static str,
    pub level_name: &'static str,
    pub comment_name: &'static str,
    pub ticks: String,
    pub level: String,
    pub comment: String,
    pub level_error: Option<String>,
    pub comment_error: Option<String>,
    pub levels: Vec<(String, String)>,
    pub health: bool,
}

/// One signed diagnostic, as the history shows it.
pub struct Past {
    pub date: String,
    pub signer: String,
    pub levels: Vec<(&'static str, String, String)>,
    pub jobs: Vec<String>,
    pub hours: Vec<&'static str>,
    pub availability: String,
    pub distance: String,
    pub words: String,
    pub priorities: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "diagnostic/diagnostic.html")]
pub struct DiagnosticTemplate {
    layout: Layout,
    id: i64,
    name: String,
    writable: bool,
    not_accompanied: bool,
    has_errors: bool,
    draft_of: Option<String>,
    prefilled_from: Option<String>,
    blocks: Vec<Block>,
    held_on: Field,
    jobs: Vec<(usize, String)>,
    jobs_error: Option<String>,
    rome: Vec<String>,
    project: Vec<Field>,
    hours: Checkboxes,
    words: Field,
    priorities: Field,
    history: Vec<Past>,
    chart: String,
    legend: Vec<(&'static str, &'static str)>,
    dates: Vec<String>,
    rows: Vec<(&'static str, Vec<String>)>,
    lifted: Vec<String>,
    health_hidden: bool,
}

fn level_text(l: Option<Level>) -> String {
    l.map_or_else(|| "—".to_string(), |l| l.value().to_string())
}

fn render(
    page: DiagnosticPage,
    user: &CurrentUser,
    message: Option<&str>,
    refused: Option<(&Pairs, &FieldErrors)>,
) -> DiagnosticTemplate {
    let p = &page.file.person;
    let name = full_name(&p.first_name, &p.last_name);
    let none = FieldErrors::default();
    let errors = refused.map_or(&none, |(_, e)| e);
    let (input, draft_of, prefilled_from) = match (refused, &page.draft, page.signed.last()) {
        (Some((pairs, _)), d, _) => (
            DiagnosticInput::from_pairs(pairs),
            d.as_ref().map(|d| d.held_on.format("%d/%m/%Y").to_string()),
            None,
        ),
        (None, Some(d), _) => (
            DiagnosticInput::from_view(d, d.held_on),
            Some(d.held_on.format("%d/%m/%Y").to_string()),
            None,
        ),
        (None, None, Some(last)) => (
            DiagnosticInput::from_view(last, page.today),
            None,
            Some(last.held_on.format("%d/%m/%Y").to_string()),
        ),
        (None, None, None) => (
            DiagnosticInput {
                held_on: domain::iso_date(page.today),
                ..DiagnosticInput::default()
            },
            None,
            None,
        ),
    };
    let fields = page.fields();
    let blocks = fields
        .iter()
        .map(|f| {
            let (level_name, comment_name, ticks_name) = diagnostic::input_names(*f);
            let ticked = input.ticks.get(f).cloned().unwrap_or_default();
            let options: Vec<(String, String)> = page
                .situations
                .iter()
                .filter(|s| s.field == *f && (s.active || ticked.contains(&s.id.0.to_string())))
                .map(|s| (s.id.0.to_string(), s.label.clone()))
                .collect();
            Block {
                number: f.number(),
                label: f.label(),
                level_name,
                comment_name,
                ticks: Checkboxes::new(ticks_name, "Situations constatées", options, &ticked)
                    .errors(errors)
                    .to_string(),
                level: input.levels.get(f).cloned().unwrap_or_default(),
                comment: input.comments.get(f).cloned().unwrap_or_default(),
                level_error: errors.get(level_name).map(str::to_string),
                comment_error: errors.get(comment_name).map(str::to_string),
                levels: Level::ALL
                    .iter()
                    .map(|l| (l.as_str().to_string(), l.label().to_string()))
                    .collect(),
                health: *f == ActionField::SanteHandicap,
            }
        })
        .collect();
    let mut jobs: Vec<(usize, String)> = input.jobs.iter().cloned().enumerate().collect();
    while jobs.len() < diagnostic::DIAGNOSTIC_MAX_JOBS {
        jobs.push((jobs.len(), String::new()));
    }
    let history = page
        .signed
        .iter()
        .rev()
        .map(|d| {
            let label_of = |id: &domain::SituationId| {
                page.situations
                    .iter()
                    .find(|s| s.id == *id)
                    .map(|s| s.label.clone())
                    .unwrap_or_default()
            };
            Past {
                date: d.held_on.format("%d/%m/%Y").to_string(),
                signer: d.row.signer_name.clone().unwrap_or_default(),
                levels: d
                    .content
                    .answers
                    .iter()
                    .map(|a| {
                        let ticks: Vec<String> = d
                            .ticks_by_field
                            .get(&a.field)
                            .into_iter()
                            .flatten()
                            .map(label_of)
                            .collect();
                        let mut detail = ticks.join(" ; ");
                        if !a.comment.is_empty() {
                            if !detail.is_empty() {
                                detail.push_str(" — ");
                            }
                            detail.push_str(&a.comment);
                        }
                        (a.field.label(), a.level.label().to_string(), detail)
                    })
                    .collect(),
                jobs: d.content.jobs.iter().map(RomeCode::display).collect(),
                hours: d.content.hours.iter().map(|h| h.label()).collect(),
                availability: d
                    .row
                    .availability
                    .as_deref()
                    .and_then(Availability::from_code)
                    .map(|a| a.label().to_string())
                    .unwrap_or_default(),
                distance: d
                    .row
                    .distance_km
                    .map(|k| format!("{k} km"))
                    .unwrap_or_default(),
                words: d.row.words.clone(),
                priorities: d.row.priorities.clone(),
            }
        })
        .collect();
    let progress = &page.progress;
    let lifted = progress
        .lifted
        .iter()
        .map(|(l, by)| {
            let mut s = format!(
                "{} : de {} le {} à {} le {}",
                l.field.label(),
                l.from.level.value(),
                l.from.on.format("%d/%m/%Y"),
                l.to.level.value(),
                l.to.on.format("%d/%m/%Y")
            );
            if by.is_empty() {
                s.push_str(" (aucune action du plan de ce champ réalisée entre les deux)");
            } else {
                s.push_str(&format!(", après : {}", by.join(" ; ")));
            }
            s
        })
        .collect();
    let writable = page.writable();
    let not_accompanied = page.file.access.sight() == app::persons::Sight::Full && !writable;
    DiagnosticTemplate {
        layout: Layout::for_user(&format!("Diagnostic de {name}"), user, Nav::Persons)
            .crumbs(&[
                ("Accueil", "/"),
                ("Personnes", "/personnes"),
                (&name, &format!("/personnes/{}", p.id.0)),
                ("Diagnostic", ""),
            ])
            .with_message(message),
        id: p.id.0,
        name,
        writable,
        not_accompanied,
        has_errors: refused.is_some(),
        draft_of,
        prefilled_from,
        blocks,
        held_on: Field::typed(
            "held_on",
            "Date de l'entretien de diagnostic",
            &input.held_on,
            "date",
            "off",
        )
        .required()
        .errors(errors),
        jobs,
        jobs_error: errors.get("jobs").map(str::to_string),
        rome: RomeCode::all().map(|c| c.display()).collect(),
        project: vec![
            Field::select(
                "availability",
                "Disponibilité",
                &input.availability,
                Availability::options(),
            )
            .errors(errors),
            Field::text(
                "distance_km",
                "Distance acceptée pour un emploi ou une formation (km)",
                &input.distance_km,
            )
            .hint("Un nombre entre 0 et 200")
            .errors(errors),
        ],
        hours: Checkboxes::new(
            "hours",
            "Horaires possibles",
            WorkingHours::options(),
            &input.hours,
        )
        .inline()
        .errors(errors),
        words: Field::textarea(
            "words",
            "Ce que dit la personne, avec ses mots",
            &input.words,
        )
        .errors(errors),
        priorities: Field::textarea(
            "priorities",
            "Ses priorités (ce qu'elle veut régler d'abord)",
            &input.priorities,
        )
        .errors(errors),
        history,
        chart: chart::levels(&progress.dates, &progress.series),
        legend: chart::legend(&progress.series),
        dates: progress
            .dates
            .iter()
            .map(|d| d.format("%d/%m/%Y").to_string())
            .collect(),
        rows: progress
            .series
            .iter()
            .map(|(f, levels)| (f.label(), levels.iter().map(|l| level_text(*l)).collect()))
            .collect(),
        lifted,
        health_hidden: !page.file.access.health(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    Query(q): Query<MessageQuery>,
) -> Result<DiagnosticTemplate, WebError> {
    let page = diagnostic::diagnostic_page(&state.app, &user.caller, id).await?;
    Ok(render(page, &user, q.message.as_deref(), None))
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input = DiagnosticInput::from_pairs(&pairs);
    let sign = one(&pairs, "action") == "signer";
    match diagnostic::save_diagnostic(&state.app, &user.caller, id, &input, sign).await {
        Ok(Saved::Signed(_)) => Ok(flash::redirect(
            &format!("/personnes/{}/diagnostic", id.0),
            Message::Signed,
        )
        .into_response()),
        Ok(Saved::Draft(_)) => Ok(flash::redirect(
            &format!("/personnes/{}/diagnostic", id.0),
            Message::DraftSaved,
        )
        .into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let page = diagnostic::diagnostic_page(&state.app, &user.caller, id).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(page, &user, None, Some((&pairs, &errors))),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn discard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(_): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    diagnostic::discard_draft(&state.app, &user.caller, id).await?;
    Ok(flash::redirect(
        &format!("/personnes/{}/diagnostic", id.0),
        Message::DraftDiscarded,
    )
    .into_response())
}
