//! Relays for each barrier (a field at level 2 or 3 in the latest signed diagnostic): the
//! services of the directory for that field whose zone covers the person's commune, whose
//! publics and required rules the person fits (or may fit: « à vérifier », saying what), ranked
//! by eligibility, the person's barriers they cover, the distance accepted and the distance.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use domain::diagnostic::Level;
use domain::eligibility::{self, Answer, Facts, Rule};
use domain::{Field, PersonId, ServiceId};

use crate::directory::mapping;
use crate::persons::{PersonFile, Sight, file};
use crate::{App, AppError, Caller};

/// At most this many relays per barrier on the page.
pub const SUGGESTIONS_PER_FIELD: usize = 5;

#[derive(Debug, Clone)]
pub struct Suggestion {
    pub service: ServiceId,
    pub nom: String,
    pub structure: String,
    pub answer: Answer,
    /// What to check, when « à vérifier ».
    pub to_check: Vec<String>,
    /// The person's barriers this service answers.
    pub fields: Vec<Field>,
    pub distance_m: Option<f64>,
    /// Farther than the distance the person accepts.
    pub beyond_distance: bool,
    pub remote: bool,
    pub specific: bool,
}

#[derive(Debug, Clone)]
pub struct FieldSuggestions {
    pub field: Field,
    pub level: Level,
    pub suggestions: Vec<Suggestion>,
    /// Relays of the field the person may use (eligible or to check), beyond those shown.
    pub more: usize,
    /// Relays of the field the person is not eligible for.
    pub excluded: usize,
    /// The person's commune is not known: zones could not be checked.
    pub zone_unknown: bool,
}

/// Suggestions for a person (one audited read): for the benchmark and the API.
pub async fn suggestions(
    app: &App,
    caller: &Caller,
    id: PersonId,
) -> Result<Vec<FieldSuggestions>, AppError> {
    let file = file(app, caller, id, &format!("/personnes/{}/plan", id.0)).await?;
    if file.access.sight() != Sight::Full {
        return Err(AppError::NotFound);
    }
    let mut pooled = app.db.acquire().await?;
    let levels = store::diagnostic::levels(&mut pooled.conn(), id, file.access.health()).await?;
    drop(pooled);
    let facts = super::eligibility::facts_of(&file, &levels);
    suggest(
        app,
        &file,
        &facts,
        &levels,
        app.today_in(file.access.zone()),
    )
    .await
}

/// The barriers of the latest signed diagnostic, and the distance the person accepts.
fn barriers(levels: &[(String, Field, Level)]) -> Vec<(Field, Level)> {
    let Some(last) = levels.last().map(|(on, _, _)| on.clone()) else {
        return Vec::new();
    };
    levels
        .iter()
        .filter(|(on, _, level)| *on == last && level.is_barrier())
        .map(|(_, f, l)| (*f, *l))
        .collect()
}

pub(super) async fn suggest(
    app: &App,
    file: &PersonFile,
    facts: &Facts,
    levels: &[(String, Field, Level)],
    today: NaiveDate,
) -> Result<Vec<FieldSuggestions>, AppError> {
    let barriers = barriers(levels);
    if barriers.is_empty() {
        return Ok(Vec::new());
    }
    let territory = file.access.territory();
    let person = &file.person;
    let mapping = mapping(app).await?;
    let mut thematiques: Vec<String> = barriers
        .iter()
        .flat_map(|(f, _)| mapping.thematiques_of(*f))
        .collect();
    thematiques.sort();
    thematiques.dedup();
    let place = person
        .commune_insee
        .as_deref()
        .and_then(|c| domain::InseeCode::parse(c).ok())
        .and_then(|c| app.referential.place(&c));
    let zone_codes = place.as_ref().map(|p| p.zone_codes());
    let mut pooled = app.db.acquire().await?;
    let origin = match store::persons::home_position(&mut pooled.conn(), person.id).await? {
        Some(p) => Some(p),
        None => match &person.commune_insee {
            Some(c) => store::directory::commune_position(&mut pooled.conn(), c).await?,
            None => None,
        },
    };
    let accepted_km = store::diagnostic::accepted_distance(&mut pooled.conn(), person.id).await?;
    let relays = store::directory::relays(
        &mut pooled.conn(),
        territory,
        &thematiques,
        zone_codes.as_deref(),
    )
    .await?;
    let required =
        store::diagnostic::territory_service_rules(&mut pooled.conn(), territory).await?;
    let rules = super::eligibility::rules_in_force(app, territory, today).await?;
    let by_code: BTreeMap<&str, &Rule> = rules.iter().map(|r| (r.code.as_str(), r)).collect();
    let mut required_of: BTreeMap<ServiceId, Vec<&str>> = BTreeMap::new();
    for (s, code) in &required {
        required_of.entry(*s).or_default().push(code.as_str());
    }
    let barrier_fields: Vec<Field> = barriers.iter().map(|(f, _)| *f).collect();
    // Many services share their publics and rules: each combination is judged once.
    let mut verdicts: HashMap<(&str, Option<&Vec<&str>>), Verdict> = HashMap::new();
    let mut judged = Vec::with_capacity(relays.len());
    for r in &relays {
        let mut fields: Vec<Field> = r
            .thematiques
            .split('|')
            .filter(|t| !t.is_empty())
            .flat_map(|t| mapping.fields_of(t).iter().copied())
            .filter(|f| barrier_fields.contains(f))
            .collect();
        fields.sort();
        fields.dedup();
        if fields.is_empty() {
            continue;
        }
        let required = required_of.get(&r.id);
        let verdict = verdicts
            .entry((r.publics.as_str(), required))
            .or_insert_with(|| {
                let mut verdict = Verdict::default();
                let publics: Vec<String> = r
                    .publics
                    .split('|')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect();
                if let Some(rule) = eligibility::publics_rule(&publics) {
                    verdict.judge(&rule, "publics", facts, today);
                }
                for code in required.into_iter().flatten() {
                    match by_code.get(code) {
                        Some(rule) => verdict.judge(rule, &rule.name, facts, today),
                        None => {
                            verdict.uncertain(format!("règle « {code} » sans version en vigueur"))
                        }
                    }
                }
                verdict
            })
            .clone();
        let mut verdict = verdict;
        if place.is_none() && r.zone.is_some() {
            verdict.uncertain("zone d'éligibilité : commune de résidence non renseignée".into());
        }
        let distance_m = match (origin, r.longitude, r.latitude) {
            (Some(o), Some(lon), Some(lat)) => Some(territory::distance_m(o, (lon, lat))),
            _ => None,
        };
        let remote = r.modes_accueil.contains("|a-distance|");
        let beyond_distance = match (accepted_km, distance_m) {
            (Some(km), Some(m)) => !remote && m > km as f64 * 1000.0,
            _ => false,
        };
        judged.push(Suggestion {
            service: r.id,
            nom: String::new(),
            structure: String::new(),
            answer: verdict.answer,
            to_check: verdict.missing,
            fields,
            distance_m,
            beyond_distance,
            remote,
            specific: r.offer == "specifique",
        });
    }
    let mut out = Vec::new();
    for (field, level) in barriers {
        let mut mine: Vec<&Suggestion> = judged
            .iter()
            .filter(|s| s.fields.contains(&field))
            .collect();
        let excluded = mine
            .iter()
            .filter(|s| s.answer == Answer::NotEligible)
            .count();
        mine.retain(|s| s.answer != Answer::NotEligible);
        let key = |s: &Suggestion| {
            (
                s.answer,
                s.beyond_distance,
                std::cmp::Reverse(s.fields.len()),
                !s.specific,
            )
        };
        let distance = |s: &Suggestion| s.distance_m.unwrap_or(f64::MAX);
        // The first few in order, without sorting thousands of candidates.
        let shown = SUGGESTIONS_PER_FIELD.min(mine.len());
        if shown > 0 {
            mine.select_nth_unstable_by(shown - 1, |a, b| {
                key(a)
                    .cmp(&key(b))
                    .then_with(|| distance(a).total_cmp(&distance(b)))
                    .then_with(|| a.service.cmp(&b.service))
            });
        }
        let mut top: Vec<Suggestion> = mine[..shown].iter().map(|s| (*s).clone()).collect();
        top.sort_by(|a, b| {
            key(a)
                .cmp(&key(b))
                .then_with(|| distance(a).total_cmp(&distance(b)))
                .then_with(|| a.service.cmp(&b.service))
        });
        out.push(FieldSuggestions {
            field,
            level,
            more: mine.len() - shown,
            suggestions: top,
            excluded,
            zone_unknown: place.is_none(),
        });
    }
    // The names of those shown only (one statement).
    let ids: Vec<ServiceId> = out
        .iter()
        .flat_map(|f| f.suggestions.iter().map(|s| s.service))
        .collect();
    let names = store::directory::names(&mut pooled.conn(), &ids).await?;
    drop(pooled);
    for s in out.iter_mut().flat_map(|f| f.suggestions.iter_mut()) {
        if let Some((_, nom, structure)) = names.iter().find(|(id, _, _)| *id == s.service) {
            s.nom = nom.clone();
            s.structure = structure.clone();
        }
    }
    Ok(out)
}

/// A relay's eligibility for the person, over its publics and the rules it requires: « non »
/// as soon as one says no, else « à vérifier » as soon as one cannot decide.
#[derive(Clone)]
struct Verdict {
    answer: Answer,
    missing: Vec<String>,
}

impl Default for Verdict {
    fn default() -> Verdict {
        Verdict {
            answer: Answer::Eligible,
            missing: Vec::new(),
        }
    }
}

impl Verdict {
    fn judge(&mut self, rule: &Rule, name: &str, facts: &Facts, on: NaiveDate) {
        let e = eligibility::evaluate(rule, facts, on);
        match e.answer {
            Answer::NotEligible => self.answer = Answer::NotEligible,
            Answer::ToCheck => self.uncertain(format!("{name} : {}", e.missing.join(", "))),
            Answer::Eligible => {}
        }
    }

    fn uncertain(&mut self, what: String) {
        if self.answer == Answer::Eligible {
            self.answer = Answer::ToCheck;
        }
        self.missing.push(what);
    }
}
