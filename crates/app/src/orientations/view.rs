//! The page of one orientation. The follow-up group and the coordinators see it whole (its log,
//! its chain); the receiving organisation, before it accepted, sees only what it needs to decide
//! (`Sight::Referral`): the person's name and contact, the reason, the barriers concerned — never
//! the journal, health data or the person's other orientations.

use domain::orientation::{Actor, DeclineReason, Status, Step};
use domain::{Field, OrientationId};
use store::orientations::{EventRow, OrientationRow};

use super::{load, path, receives, receiving};
use crate::persons::{Capabilities, Sight};
use crate::{App, AppError, Caller};

/// What the receiver may know of the person.
#[derive(Debug, Clone)]
pub struct PersonHead {
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postal_code: String,
    pub commune_insee: Option<String>,
}

/// One orientation of the chain a re-orientation keeps.
#[derive(Debug, Clone)]
pub struct ChainLink {
    pub id: OrientationId,
    pub receiver_name: String,
    pub status: Status,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct OrientationPage {
    pub row: OrientationRow,
    pub caps: Capabilities,
    pub person: PersonHead,
    /// The barriers concerned, without santé-handicap for whoever may not know it.
    pub fields: Vec<Field>,
    /// The log (empty in the referral view: the receiver sees the status only).
    pub events: Vec<EventRow>,
    pub reasons: Vec<(DeclineReason, String)>,
    /// What the caller may do now.
    pub steps: Vec<Step>,
    /// The chain (empty in the referral view).
    pub chain: Vec<ChainLink>,
    /// What the service asks of the people it receives (from the directory).
    pub requirements: Vec<(&'static str, String)>,
    pub answers_within: Option<i64>,
    pub is_receiver: bool,
    /// The group may send a new orientation from this one.
    pub may_reorient: bool,
}

impl OrientationPage {
    pub fn referral_view(&self) -> bool {
        self.caps.sight() == Sight::Referral
    }
}

/// The requirements a data·inclusion service states.
pub(crate) fn requirements(service: &domain::inclusion::Service) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut add = |label: &'static str, value: &Option<String>| {
        if let Some(v) = value.as_ref().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            out.push((label, v.to_string()));
        }
    };
    add("Conditions d'accès", &service.conditions_acces);
    add("Publics (précisions)", &service.publics_precisions);
    add("Frais (précisions)", &service.frais_precisions);
    add("Modalités d'orientation", &service.mobilisation_precisions);
    add("Horaires d'accueil", &service.horaires_accueil);
    out
}

/// The steps `caller` may take, as receiver or as the person's group.
fn steps(row: &OrientationRow, caps: &Capabilities, is_receiver: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if is_receiver {
        steps.extend(row.status.steps_for(Actor::Receiver));
    }
    if caps.sight() == Sight::Full {
        for s in row.status.steps_for(Actor::Sender) {
            if !steps.contains(&s) {
                steps.push(s);
            }
        }
    }
    steps
}

/// The page (one audit row on the person's file).
pub async fn orientation(
    app: &App,
    caller: &Caller,
    id: OrientationId,
) -> Result<OrientationPage, AppError> {
    let row = load(app, id).await?;
    let page = path(id);
    let caps = if receiving(caller, &row) {
        crate::persons::read_receiving(app, caller, row.person_id, &page).await?
    } else {
        crate::persons::read(app, caller, row.person_id, &page).await?
    };
    let is_receiver = receives(caller, &row);
    let full = caps.sight() == Sight::Full;
    let mut pooled = app.db.acquire().await?;
    let c = &mut pooled.conn();
    let person = store::persons::get(c, row.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let fields = row
        .fields()
        .into_iter()
        .filter(|f| *f != Field::SanteHandicap || caps.health())
        .collect();
    let events = if full {
        store::orientations::events(c, &[id]).await?
    } else {
        Vec::new()
    };
    let reasons = store::orientations::decline_reasons(c, &[id])
        .await?
        .into_iter()
        .map(|(_, r, d)| (r, d))
        .collect();
    let chain = if full {
        let all = store::orientations::of_person(c, row.person_id).await?;
        chain_of(&all, id)
    } else {
        Vec::new()
    };
    let (requirements, answers_within) = match row.service_id {
        Some(s) => {
            let service = store::directory::service(c, domain::ServiceId(s)).await?;
            let reqs = match service {
                Some(stored) => serde_json::from_str::<domain::inclusion::Service>(&stored.record)
                    .map(|s| requirements(&s))
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let within = super::lists::answers_within_in(
                c,
                store::orientations::Answering::Service(domain::ServiceId(s)),
                app.now(),
            )
            .await?;
            (reqs, within)
        }
        None => (Vec::new(), None),
    };
    let steps = steps(&row, &caps, is_receiver);
    Ok(OrientationPage {
        may_reorient: full && row.status.may_reorient(),
        person: PersonHead {
            first_name: person.first_name,
            last_name: person.last_name,
            phone: person.phone,
            email: person.email,
            postal_code: person.postal_code,
            commune_insee: person.commune_insee,
        },
        row,
        caps,
        fields,
        events,
        reasons,
        steps,
        chain,
        requirements,
        answers_within,
        is_receiver,
    })
}

/// The chain `id` belongs to: its ancestors and its descendants, oldest first.
pub(crate) fn chain_of(all: &[OrientationRow], id: OrientationId) -> Vec<ChainLink> {
    let by_id = |i: i64| all.iter().find(|o| o.id.0 == i);
    // Up to the first of the chain…
    let mut root = all.iter().find(|o| o.id == id);
    let mut guard = 0;
    while let Some(prev) = root.and_then(|r| r.previous_id).and_then(by_id) {
        root = Some(prev);
        guard += 1;
        if guard > all.len() {
            break;
        }
    }
    // …then down the orientations that follow each one.
    let mut out = Vec::new();
    let mut at = root;
    while let Some(o) = at {
        if out.iter().any(|l: &ChainLink| l.id == o.id) {
            break;
        }
        out.push(ChainLink {
            id: o.id,
            receiver_name: o.receiver_name.clone(),
            status: o.status,
            sent_at: o.sent_at,
            current: o.id == id,
        });
        at = all.iter().find(|n| n.previous_id == Some(o.id.0));
    }
    if out.len() <= 1 { Vec::new() } else { out }
}
