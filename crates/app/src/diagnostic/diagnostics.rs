//! The diagnostic: a level per field (0 to 3), situations ticked, a comment, the person's own
//! words and priorities, the professional project. Saved as a draft (not counted) or signed
//! (dated, never changed again); each signed one is a new row, so progress can be shown.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::diagnostic::{
    Availability, DiagnosticStatus, Level, MAX_DISTANCE_KM, Reading, RomeCode, WorkingHours, lifted,
};
use domain::person::{FileEvent, FunnelStatus};
use domain::{DiagnosticId, Field, PersonId, SituationId};
use store::diagnostic::{
    DiagnosticContent, DiagnosticRow, DiagnosticWrite, FieldAnswer, SituationRow,
};

use crate::persons::{PersonFile, Sight, file};
use crate::{App, AppError, Caller, FieldErrors};

/// At most this many target jobs in a professional project.
pub const DIAGNOSTIC_MAX_JOBS: usize = 3;

/// The names of a field's inputs: (level, comment, situations).
pub fn input_names(f: Field) -> (&'static str, &'static str, &'static str) {
    match f {
        Field::ReseauProfessionnel => (
            "niveau-reseau-professionnel",
            "commentaire-reseau-professionnel",
            "situations-reseau-professionnel",
        ),
        Field::SavoirsDeBase => (
            "niveau-savoirs-de-base",
            "commentaire-savoirs-de-base",
            "situations-savoirs-de-base",
        ),
        Field::CompetencesNumeriques => (
            "niveau-competences-numeriques",
            "commentaire-competences-numeriques",
            "situations-competences-numeriques",
        ),
        Field::ContraintesFamiliales => (
            "niveau-contraintes-familiales",
            "commentaire-contraintes-familiales",
            "situations-contraintes-familiales",
        ),
        Field::Mobilite => (
            "niveau-mobilite",
            "commentaire-mobilite",
            "situations-mobilite",
        ),
        Field::Logement => (
            "niveau-logement",
            "commentaire-logement",
            "situations-logement",
        ),
        Field::PrecariteFinanciere => (
            "niveau-precarite-financiere",
            "commentaire-precarite-financiere",
            "situations-precarite-financiere",
        ),
        Field::SanteHandicap => (
            "niveau-sante-handicap",
            "commentaire-sante-handicap",
            "situations-sante-handicap",
        ),
    }
}

/// The diagnostic form as typed (names from [`input_names`] for the fields).
#[derive(Debug, Clone, Default)]
pub struct DiagnosticInput {
    pub held_on: String,
    pub words: String,
    pub priorities: String,
    pub availability: String,
    pub distance_km: String,
    pub jobs: Vec<String>,
    pub hours: Vec<String>,
    pub levels: BTreeMap<Field, String>,
    pub comments: BTreeMap<Field, String>,
    pub ticks: BTreeMap<Field, Vec<String>>,
}

impl DiagnosticInput {
    /// From the form's name–value pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> DiagnosticInput {
        let mut input = DiagnosticInput::default();
        for (k, v) in pairs {
            match k.as_str() {
                "held_on" => input.held_on = v.clone(),
                "words" => input.words = v.clone(),
                "priorities" => input.priorities = v.clone(),
                "availability" => input.availability = v.clone(),
                "distance_km" => input.distance_km = v.clone(),
                "jobs" => input.jobs.push(v.clone()),
                "hours" => input.hours.push(v.clone()),
                name => {
                    for f in Field::ALL {
                        let (level, comment, ticks) = input_names(*f);
                        if name == level {
                            input.levels.insert(*f, v.clone());
                        } else if name == comment {
                            input.comments.insert(*f, v.clone());
                        } else if name == ticks {
                            input.ticks.entry(*f).or_default().push(v.clone());
                        }
                    }
                }
            }
        }
        input
    }

    /// A new form from a diagnostic (the draft, or the last signed one to start from).
    pub fn from_view(d: &DiagnosticView, held_on: NaiveDate) -> DiagnosticInput {
        let mut input = DiagnosticInput {
            held_on: domain::iso_date(held_on),
            words: d.row.words.clone(),
            priorities: d.row.priorities.clone(),
            availability: d.row.availability.clone().unwrap_or_default(),
            distance_km: d.row.distance_km.map(|n| n.to_string()).unwrap_or_default(),
            jobs: d.content.jobs.iter().map(RomeCode::display).collect(),
            hours: d
                .content
                .hours
                .iter()
                .map(|h| h.as_str().to_string())
                .collect(),
            ..DiagnosticInput::default()
        };
        for a in &d.content.answers {
            input.levels.insert(a.field, a.level.as_str().to_string());
            input.comments.insert(a.field, a.comment.clone());
        }
        for (field, ids) in &d.ticks_by_field {
            input
                .ticks
                .insert(*field, ids.iter().map(|i| i.0.to_string()).collect());
        }
        input
    }
}

/// A diagnostic as the caller may see it (the health field only through the gate).
#[derive(Debug, Clone)]
pub struct DiagnosticView {
    pub row: DiagnosticRow,
    pub held_on: NaiveDate,
    pub content: DiagnosticContent,
    pub ticks_by_field: BTreeMap<Field, Vec<SituationId>>,
}

impl DiagnosticView {
    pub fn level(&self, f: Field) -> Option<Level> {
        self.content
            .answers
            .iter()
            .find(|a| a.field == f)
            .map(|a| a.level)
    }
}

/// Each field's level over the signed diagnostics, and the barriers lifted.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub dates: Vec<NaiveDate>,
    /// Per field, its level at each date (`None`: not assessed that time).
    pub series: Vec<(Field, Vec<Option<Level>>)>,
    /// A barrier lifted, and the plan's actions of that field done in between.
    pub lifted: Vec<(domain::diagnostic::Lifted, Vec<String>)>,
}

/// Everything the diagnostic page shows.
#[derive(Debug, Clone)]
pub struct DiagnosticPage {
    pub file: PersonFile,
    pub situations: Vec<SituationRow>,
    /// Signed ones, oldest first.
    pub signed: Vec<DiagnosticView>,
    pub draft: Option<DiagnosticView>,
    pub progress: Progress,
    pub today: NaiveDate,
}

impl DiagnosticPage {
    /// May this caller write a diagnostic (the file fully open, the person accompanied)?
    pub fn writable(&self) -> bool {
        self.file.access.sight() == Sight::Full
            && self.file.status == FunnelStatus::EnAccompagnement
    }

    /// The fields this caller sees (without health access, the seven others).
    pub fn fields(&self) -> Vec<Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(|f| *f != Field::SanteHandicap || self.file.access.health())
            .collect()
    }
}

async fn views(
    c: &mut store::Conn<'_>,
    rows: Vec<DiagnosticRow>,
    situations: &[SituationRow],
    health: bool,
) -> Result<Vec<DiagnosticView>, AppError> {
    let ids: Vec<DiagnosticId> = rows.iter().map(|r| r.id).collect();
    let contents = store::diagnostic::contents(c, &ids, health).await?;
    let field_of: BTreeMap<SituationId, Field> =
        situations.iter().map(|s| (s.id, s.field)).collect();
    Ok(rows
        .into_iter()
        .zip(contents)
        .map(|(row, (_, content))| {
            let mut ticks_by_field: BTreeMap<Field, Vec<SituationId>> = BTreeMap::new();
            for t in &content.ticks {
                if let Some(f) = field_of.get(t) {
                    ticks_by_field.entry(*f).or_default().push(*t);
                }
            }
            DiagnosticView {
                held_on: domain::parse_date(&row.held_on).unwrap_or_default(),
                row,
                content,
                ticks_by_field,
            }
        })
        .collect())
}

/// The diagnostic page of a person: history, draft, progress (one audited read).
pub async fn diagnostic_page(
    app: &App,
    caller: &Caller,
    id: PersonId,
) -> Result<DiagnosticPage, AppError> {
    let file = file(app, caller, id, &format!("/personnes/{}/diagnostic", id.0)).await?;
    if file.access.sight() != Sight::Full {
        return Err(AppError::NotFound);
    }
    let health = file.access.health();
    let mut pooled = app.db.acquire().await?;
    let situations = store::diagnostic::situations(&mut pooled.conn()).await?;
    let rows = store::diagnostic::diagnostics(&mut pooled.conn(), id).await?;
    let all = views(&mut pooled.conn(), rows, &situations, health).await?;
    let actions = store::diagnostic::actions(&mut pooled.conn(), id, health).await?;
    drop(pooled);
    let (signed, drafts): (Vec<DiagnosticView>, Vec<DiagnosticView>) = all
        .into_iter()
        .partition(|d| d.row.status == DiagnosticStatus::Signe);
    let progress = progress(&signed, &actions);
    Ok(DiagnosticPage {
        today: app.today_in(file.access.zone()),
        file,
        situations,
        signed,
        draft: drafts.into_iter().next(),
        progress,
    })
}

fn progress(signed: &[DiagnosticView], actions: &[store::diagnostic::ActionRow]) -> Progress {
    let dates: Vec<NaiveDate> = signed.iter().map(|d| d.held_on).collect();
    let mut series = Vec::new();
    let mut readings = Vec::new();
    for f in Field::ALL {
        let levels: Vec<Option<Level>> = signed.iter().map(|d| d.level(*f)).collect();
        if levels.iter().all(Option::is_none) {
            continue;
        }
        readings.push((
            *f,
            signed
                .iter()
                .filter_map(|d| {
                    d.level(*f).map(|level| Reading {
                        on: d.held_on,
                        level,
                    })
                })
                .collect::<Vec<_>>(),
        ));
        series.push((*f, levels));
    }
    let lifted = lifted(&readings)
        .into_iter()
        .map(|l| {
            let by: Vec<String> = actions
                .iter()
                .filter(|a| {
                    a.field == l.field && a.status == domain::diagnostic::ActionStatus::Fait
                })
                .filter(|a| {
                    a.done_on
                        .as_deref()
                        .and_then(|d| domain::parse_date(d).ok())
                        .is_some_and(|d| d > l.from.on && d <= l.to.on)
                })
                .map(|a| a.title.clone())
                .collect();
            (l, by)
        })
        .collect();
    Progress {
        dates,
        series,
        lifted,
    }
}

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Draft(DiagnosticId),
    Signed(DiagnosticId),
}

fn text(errors: &mut FieldErrors, name: &'static str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.chars().count() > max {
        errors.add(name, format!("Le texte dépasse {max} caractères."));
    }
    value.to_string()
}

/// Saves the draft (`sign` false) or signs the diagnostic: every field visible to the caller
/// needs its level to sign; a draft may leave some blank. Refused values are named field by
/// field and nothing is written.
pub async fn save_diagnostic(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &DiagnosticInput,
    sign: bool,
) -> Result<Saved, AppError> {
    let mut w = crate::persons::FileWrite::open(
        app,
        caller,
        id,
        FileEvent::Diagnostic,
        &format!("/personnes/{}/diagnostic", id.0),
    )
    .await?;
    let caps = w.caps();
    if caps.sight() != Sight::Full {
        return Err(AppError::NotFound);
    }
    let person = store::persons::get(&mut w.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if person.status != FunnelStatus::EnAccompagnement {
        return Err(AppError::field(
            "held_on",
            "Le diagnostic suit l'entrée en accompagnement (consentement recueilli) : enregistrez d'abord l'entrée en accompagnement.",
        ));
    }
    let today = app.today_in(caps.zone());
    let mut errors = FieldErrors::default();
    let held_on = crate::persons::past_date(&mut errors, "held_on", &input.held_on, today);
    if let (Some(on), Some(last)) = (
        held_on,
        store::diagnostic::last_signed_on(&mut w.conn(), id)
            .await?
            .and_then(|d| domain::parse_date(&d).ok()),
    ) && sign
        && on < last
    {
        errors.add(
            "held_on",
            format!(
                "Le diagnostic précédent est du {} : un nouveau diagnostic ne peut pas être antérieur.",
                last.format("%d/%m/%Y")
            ),
        );
    }
    let situations = store::diagnostic::situations(&mut w.conn()).await?;
    let mut answers = Vec::new();
    let mut ticks = Vec::new();
    for f in Field::ALL {
        if *f == Field::SanteHandicap && !caps.health() {
            continue;
        }
        let (level_name, comment_name, ticks_name) = input_names(*f);
        let raw = input.levels.get(f).map(String::as_str).unwrap_or_default();
        let comment = text(
            &mut errors,
            comment_name,
            input
                .comments
                .get(f)
                .map(String::as_str)
                .unwrap_or_default(),
            2000,
        );
        let level = if raw.trim().is_empty() {
            if sign {
                errors.add(
                    level_name,
                    format!("Indiquez le niveau du champ « {} » pour signer.", f.label()),
                );
            }
            None
        } else {
            errors.check(level_name, Level::parse_form(raw))
        };
        if let Some(level) = level {
            answers.push(FieldAnswer {
                field: *f,
                level,
                comment,
            });
        }
        for t in input.ticks.get(f).into_iter().flatten() {
            let known = t
                .parse::<i64>()
                .ok()
                .and_then(|n| situations.iter().find(|s| s.id.0 == n && s.field == *f));
            match known {
                Some(s) => ticks.push(s.id),
                None => errors.add(ticks_name, "Choisissez parmi les situations proposées."),
            }
        }
    }
    let mut jobs: Vec<RomeCode> = Vec::new();
    for j in input.jobs.iter().filter(|j| !j.trim().is_empty()) {
        if let Some(code) = errors.check("jobs", RomeCode::parse(j))
            && !jobs.contains(&code)
        {
            jobs.push(code);
        }
    }
    if jobs.len() > DIAGNOSTIC_MAX_JOBS {
        errors.add(
            "jobs",
            format!("Indiquez {DIAGNOSTIC_MAX_JOBS} métiers visés au plus."),
        );
    }
    let mut hours = Vec::new();
    for h in &input.hours {
        if let Some(h) = errors.check("hours", WorkingHours::parse(h))
            && !hours.contains(&h)
        {
            hours.push(h);
        }
    }
    let availability = match input.availability.trim() {
        "" => None,
        a => errors.check("availability", Availability::parse(a)),
    };
    let distance_km = match input.distance_km.trim() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(n) if (0..=MAX_DISTANCE_KM).contains(&n) => Some(n),
            _ => {
                errors.add(
                    "distance_km",
                    format!("Indiquez une distance en kilomètres, entre 0 et {MAX_DISTANCE_KM}."),
                );
                None
            }
        },
    };
    let words = text(&mut errors, "words", &input.words, 5000);
    let priorities = text(&mut errors, "priorities", &input.priorities, 2000);
    let Some(held_on) = held_on else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let write = DiagnosticWrite {
        held_on,
        words,
        priorities,
        availability,
        distance_km,
        content: DiagnosticContent {
            answers,
            ticks,
            jobs,
            hours,
        },
    };
    let now = w.now();
    let diagnostic = store::diagnostic::save(
        &mut w.conn(),
        id,
        &write,
        sign,
        caps.health(),
        caller.user_id,
        now,
    )
    .await?;
    let day = held_on.format("%d/%m/%Y");
    if sign {
        w.commit(&format!("diagnostic du {day} signé")).await?;
        Ok(Saved::Signed(diagnostic))
    } else {
        w.commit(&format!("brouillon de diagnostic du {day} enregistré"))
            .await?;
        Ok(Saved::Draft(diagnostic))
    }
}

/// Drops the draft (what is signed stays as it is).
pub async fn discard_draft(app: &App, caller: &Caller, id: PersonId) -> Result<bool, AppError> {
    let mut w = crate::persons::FileWrite::open(
        app,
        caller,
        id,
        FileEvent::Diagnostic,
        &format!("/personnes/{}/diagnostic", id.0),
    )
    .await?;
    if w.caps().sight() != Sight::Full {
        return Err(AppError::NotFound);
    }
    let dropped = store::diagnostic::discard_draft(&mut w.conn(), id).await?;
    if dropped {
        w.commit("brouillon de diagnostic supprimé").await?;
    }
    Ok(dropped)
}
