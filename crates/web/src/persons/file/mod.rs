//! A person's file page: its head (status, identity, contact), then its panels, each built by
//! its own module from the file as the caller may see it (`app::persons::PersonFile`, which
//! the use case loads within the caller's capabilities). A later feature adds its part to
//! `PersonFile`, then a panel here: a module with a template and one line in [`PANELS`]; the
//! others are untouched.

mod barriers;
mod consent;
mod group;
mod health;
mod journal;
mod journey;
mod orientations;
mod situation;
mod status;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use app::FieldErrors;
use app::models::Person;
use app::models::TeamMember;
use app::persons::{self, PersonFile};
use domain::person::{FunnelStatus, OutreachChannel};
use domain::{Field as ActionField, PersonId};

use super::{Message, field_labels, file_path, full_name, qpv_label};
use crate::flash;
use crate::forms::{Pairs, date_fr, one};
use crate::layout::{Layout, Nav};
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// The forms of the file page, each posted to its own route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileForm {
    Status,
    Journal,
    Group,
    Referent,
    Consent,
    Health,
    Check,
}

/// A refused form, to show again with its errors and what was typed.
pub(super) struct Refused {
    pub form: FileForm,
    pub errors: FieldErrors,
    pub pairs: Pairs,
}

/// What every panel is built from.
pub(super) struct FileContext<'a> {
    pub file: &'a PersonFile,
    pub refused: Option<&'a Refused>,
    pub team: &'a [TeamMember],
    pub today: NaiveDate,
    pub csrf: &'a str,
    /// The territory's employers (value, label), for the exit and the checks.
    pub employers: &'a [(String, String)],
}

impl FileContext<'_> {
    pub fn id(&self) -> i64 {
        self.file.person.id.0
    }

    pub fn person(&self) -> &Person {
        &self.file.person
    }

    /// The errors of `form` when it is the one refused.
    pub fn errors(&self, form: FileForm) -> FieldErrors {
        match self.refused {
            Some(r) if r.form == form => r.errors.clone(),
            _ => FieldErrors::default(),
        }
    }

    /// What was typed in `form`'s field `key` when it was refused (else `None`).
    pub fn typed(&self, form: FileForm, key: &str) -> Option<String> {
        match self.refused {
            Some(r) if r.form == form => Some(one(&r.pairs, key)),
            _ => None,
        }
    }

    pub fn is_refused(&self, form: FileForm) -> bool {
        self.refused.is_some_and(|r| r.form == form)
    }
}

/// Where a panel goes on the page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Beside the person's identity.
    Side,
    /// Across the page, below.
    Wide,
}

/// A panel: its HTML for this caller, or `None` when it has nothing to show them.
type Build = fn(&FileContext) -> Option<askama::Result<String>>;

/// The panels of the file page, in their order.
const PANELS: &[(Place, Build)] = &[
    (Place::Side, status::panel),
    (Place::Side, situation::panel),
    (Place::Side, health::panel),
    (Place::Wide, barriers::panel),
    (Place::Wide, orientations::panel),
    (Place::Wide, journey::panel),
    (Place::Wide, group::panel),
    (Place::Wide, consent::panel),
    (Place::Wide, journal::panel),
];

#[derive(Template, WebTemplate)]
#[template(path = "persons/file.html")]
pub struct FilePage {
    layout: Layout,
    id: i64,
    name: String,
    p: Person,
    status: &'static str,
    lost: bool,
    lost_after_days: u32,
    channel: &'static str,
    met_on: String,
    need_fields: Vec<String>,
    /// « Les Tilleuls (QN05990N) ».
    qpv_label: Option<String>,
    qpv_checked: String,
    /// The QPV check could not be done (no answer from the geocoder, no address).
    qpv_unverified: bool,
    phone: Option<String>,
    commune: String,
    may_enter: bool,
    manages: bool,
    coordinator: bool,
    /// Rendered panels (escaped by their own templates).
    side: Vec<String>,
    wide: Vec<String>,
}

async fn file_page(
    state: &AppState,
    user: &CurrentUser,
    f: PersonFile,
    message: Option<&str>,
    refused: Option<Refused>,
) -> Result<FilePage, WebError> {
    let team = persons::team(&state.app, f.access.territory()).await?;
    let employers = if f.access.sight() == persons::Sight::Full {
        app::employers::options(&state.app, f.access.territory()).await?
    } else {
        Vec::new()
    };
    let layout = Layout::for_user(
        &format!(
            "Dossier de {}",
            full_name(&f.person.first_name, &f.person.last_name)
        ),
        user,
        Nav::Persons,
    );
    let ctx = FileContext {
        file: &f,
        refused: refused.as_ref(),
        team: &team,
        today: state.app.today(),
        csrf: &layout.csrf,
        employers: &employers,
    };
    let (mut side, mut wide) = (Vec::new(), Vec::new());
    for (place, build) in PANELS {
        if let Some(html) = build(&ctx) {
            let html = html.map_err(|e| app::AppError::Internal(e.to_string()))?;
            match place {
                Place::Side => side.push(html),
                Place::Wide => wide.push(html),
            }
        }
    }
    let p = &f.person;
    let name = full_name(&p.first_name, &p.last_name);
    let status = p.status;
    Ok(FilePage {
        layout: layout
            .crumbs(&[("Accueil", "/"), ("Personnes", "/personnes"), (&name, "")])
            .with_message(message),
        id: p.id.0,
        status: status.label(),
        lost: f.lost_from_view,
        lost_after_days: state.app.settings.lost_after_days,
        channel: OutreachChannel::from_code(&p.channel).map_or("?", OutreachChannel::label),
        met_on: date_fr(&p.met_on),
        need_fields: {
            let mut labels = field_labels(&p.need_fields);
            // Those who may read health data see the health need even when it is not shared.
            if f.health.as_ref().is_some_and(|h| h.need && !h.need_shared) {
                labels.push(format!(
                    "{} (confidentiel)",
                    ActionField::SanteHandicap.label()
                ));
            }
            labels
        },
        qpv_label: p.qpv_code.as_deref().map(|c| qpv_label(state, c)),
        qpv_unverified: p.qpv_code.is_none()
            && p.qpv_confidence
                .as_deref()
                .is_none_or(|c| c == "non vérifiée"),
        phone: p.phone.as_deref().map(|t| {
            domain::person::Phone::parse(t).map_or_else(|_| t.to_string(), |p| p.display())
        }),
        qpv_checked: match (&p.qpv_checked_at, &p.qpv_confidence, p.qpv_millesime) {
            (Some(at), Some(conf), Some(year)) => format!(
                "vérifié le {} (carte {year}, confiance : {conf})",
                at.format("%d/%m/%Y")
            ),
            _ => "adresse non vérifiée".into(),
        },
        commune: p
            .commune_insee
            .as_deref()
            .and_then(|c| domain::InseeCode::parse(c).ok())
            .and_then(|c| state.app.referential.commune(&c))
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        may_enter: status < FunnelStatus::EnAccompagnement,
        manages: f.access.manages_group(),
        coordinator: f.access.is_coordinator(),
        side,
        wide,
        name,
        p: f.person.clone(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    Query(m): Query<crate::layout::MessageQuery>,
) -> Result<FilePage, WebError> {
    let f = persons::file(&state.app, &user.caller, id, &file_path(id)).await?;
    file_page(&state, &user, f, m.message.as_deref(), None).await
}

/// After a form of the file page: back to the file with its message, or the file again with
/// the form's errors and inputs.
pub(super) async fn after(
    state: &AppState,
    user: &CurrentUser,
    id: PersonId,
    form: FileForm,
    pairs: Pairs,
    outcome: Result<(), app::AppError>,
    message: Message,
) -> Result<Response, WebError> {
    match outcome {
        Ok(()) => Ok(flash::redirect(&file_path(id), message).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let f = persons::file(&state.app, &user.caller, id, &file_path(id)).await?;
            let refused = Refused {
                form,
                errors,
                pairs,
            };
            let page = file_page(state, user, f, None, Some(refused)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
