//! Eligibility rules (docs/domain.md §9): the facts of a person as the caller may see them,
//! the rules in force for a territory (shipped ones, replaced by the territory's own version
//! of the same code), and the form through which a territory's coordinators write rules.

use chrono::NaiveDate;
use domain::diagnostic::Level;
use domain::eligibility::{self, Criterion, Evaluation, Facts, Flag, Path, Rule};
use domain::person::{QualificationLevel, Sex};
use domain::{Field, RuleId, ServiceId, TerritoryId};
use store::diagnostic::StoredRule;

use crate::persons::PersonFile;
use crate::{App, AppError, Caller, FieldErrors};

/// The confidence written when an address changed and could not be checked.
const UNCHECKED: &str = "non vérifiée";

/// The facts the rules ask about, from the file as the caller sees it and the signed
/// diagnostics' levels (for « problème de mobilité »).
pub fn facts_of(file: &PersonFile, levels: &[(String, Field, Level)]) -> Facts {
    facts_of_person(
        &store::persons::FactsRow::from(&file.person),
        file.health.as_ref(),
        levels,
    )
}

/// The same from a person's facts and, when the caller may read it, their health data.
pub fn facts_of_person(
    p: &store::persons::FactsRow,
    health: Option<&store::persons::Health>,
    levels: &[(String, Field, Level)],
) -> Facts {
    let mut f = Facts {
        birth_date: p
            .birth_date
            .as_deref()
            .and_then(|d| domain::parse_date(d).ok()),
        birth_year: p.birth_year,
        sex: p.sex.as_deref().and_then(Sex::from_code),
        qualification: p
            .qualification
            .as_deref()
            .and_then(QualificationLevel::from_code),
        job_seeker_since: p
            .ft_since
            .as_deref()
            .and_then(|d| domain::parse_date(d).ok()),
        youngest_child_born: p
            .criteria
            .youngest_child_born_on
            .as_deref()
            .and_then(|d| domain::parse_date(d).ok()),
        children_under_12: p.children_under_12,
        health_hidden: health.is_none(),
        ..Facts::default()
    };
    let c = &p.criteria;
    for (flag, value) in [
        (Flag::Rsa, p.brsa),
        (Flag::JobSeeker, p.ft_registered),
        (Flag::SingleParent, p.single_parent),
        (Flag::Student, c.student),
        (Flag::InTraining, c.in_training),
        (Flag::Ass, c.ass),
        (Flag::AseLeaver, c.ase_leaver),
        (Flag::Homeless, c.homeless),
        (Flag::Refugee, c.refugee),
        (Flag::DetentionLeaver, c.detention_leaver),
        (Flag::FrrResident, c.frr_resident),
        (Flag::FleBelowA1, c.fle_below_a1),
        (Flag::JobOrTrainingStart, c.job_or_training_start),
    ] {
        if let Some(v) = value {
            f.flags.insert(flag, v);
        }
    }
    if let Some(h) = health {
        if let Some(v) = h.rqth {
            f.flags.insert(Flag::Rqth, v);
        }
        if let Some(v) = h.aah {
            f.flags.insert(Flag::Aah, v);
        }
    }
    // QPV residence from the stored check, with its map year.
    match (&p.qpv_code, p.qpv_millesime, p.qpv_confidence.as_deref()) {
        (Some(code), Some(year), confidence) => {
            f.flags.insert(Flag::QpvResident, true);
            f.sources.insert(
                Flag::QpvResident,
                format!(
                    "{code}, géographie prioritaire {year}{}",
                    confidence.map(|c| format!(", {c}")).unwrap_or_default()
                ),
            );
        }
        (None, Some(year), Some(confidence)) if confidence != UNCHECKED => {
            f.flags.insert(Flag::QpvResident, false);
            f.sources.insert(
                Flag::QpvResident,
                format!("adresse vérifiée hors QPV, géographie prioritaire {year}"),
            );
        }
        _ => {}
    }
    // « Problème de mobilité »: the Mobilité level of the latest signed diagnostic.
    if let Some((on, _, level)) = levels.iter().rev().find(|(_, f, _)| *f == Field::Mobilite) {
        f.flags.insert(Flag::MobilityProblem, level.is_barrier());
        f.sources.insert(
            Flag::MobilityProblem,
            format!(
                "diagnostic du {}, mobilité : {}",
                domain::parse_date(on)
                    .map(|d| d.format("%d/%m/%Y").to_string())
                    .unwrap_or_else(|_| on.clone()),
                level.label()
            ),
        );
    }
    f
}

/// Every rule a territory knows: the shipped ones, then its own (which win for a code).
async fn all_rules(app: &App, territory: TerritoryId) -> Result<Vec<Rule>, AppError> {
    let mut pooled = app.db.acquire().await?;
    let own = store::diagnostic::rules(&mut pooled.conn(), territory).await?;
    let mut rules = eligibility::shipped();
    rules.extend(own.into_iter().map(|r| r.rule));
    Ok(rules)
}

/// The rules in force at `on` for a territory, one per code.
pub async fn rules_in_force(
    app: &App,
    territory: TerritoryId,
    on: NaiveDate,
) -> Result<Vec<Rule>, AppError> {
    let rules = all_rules(app, territory).await?;
    Ok(eligibility::in_force(&rules, on)
        .into_iter()
        .cloned()
        .collect())
}

/// Every rule in force evaluated against the facts at `on`: eligible ones first.
pub(super) async fn evaluate_all(
    app: &App,
    territory: TerritoryId,
    facts: &Facts,
    on: NaiveDate,
) -> Result<Vec<Evaluation>, AppError> {
    let mut out: Vec<Evaluation> = rules_in_force(app, territory, on)
        .await?
        .iter()
        .map(|r| eligibility::evaluate(r, facts, on))
        .collect();
    out.sort_by_key(|e| e.answer);
    Ok(out)
}

/// A rule as a coordinator's list shows it.
#[derive(Debug, Clone)]
pub struct RuleRow {
    pub rule: Rule,
    /// `None` for a shipped rule.
    pub stored: Option<(RuleId, String)>,
    /// A territory version replaces it (for a shipped rule).
    pub replaced: bool,
}

#[derive(Debug, Clone)]
pub struct RuleList {
    pub shipped: Vec<RuleRow>,
    pub own: Vec<RuleRow>,
}

fn coordinator_territory(caller: &Caller) -> Result<TerritoryId, AppError> {
    let territory = caller.active_territory.as_ref().ok_or(AppError::NotFound)?;
    if !caller.is_coordinator_of(territory.id) {
        return Err(AppError::Forbidden);
    }
    Ok(territory.id)
}

/// The rules of the caller's territory (every professional may read them; coordinators
/// write the territory's own).
pub async fn rules(app: &App, caller: &Caller) -> Result<RuleList, AppError> {
    let territory = caller.active_territory.as_ref().ok_or(AppError::NotFound)?;
    if !caller.may_enter(territory.id) {
        return Err(AppError::NotFound);
    }
    let mut pooled = app.db.acquire().await?;
    let own: Vec<StoredRule> = store::diagnostic::rules(&mut pooled.conn(), territory.id).await?;
    let shipped = eligibility::shipped()
        .into_iter()
        .map(|rule| RuleRow {
            replaced: own.iter().any(|o| o.rule.code == rule.code),
            rule,
            stored: None,
        })
        .collect();
    let own = own
        .into_iter()
        .map(|o| RuleRow {
            stored: Some((o.id, o.author_name.unwrap_or_default())),
            rule: o.rule,
            replaced: false,
        })
        .collect();
    Ok(RuleList { shipped, own })
}

/// How many paths the form offers.
pub const RULE_PATHS: usize = 3;

/// The rule form as name–value pairs (no script: every criterion kind has its inputs).
#[derive(Debug, Clone, Default)]
pub struct RuleForm(pub Vec<(String, String)>);

fn path_error(i: usize) -> &'static str {
    ["voie1", "voie2", "voie3"][i.min(RULE_PATHS - 1)]
}

impl RuleForm {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn set(&mut self, name: String, value: String) {
        self.0.push((name, value));
    }

    /// The form of an existing rule (to adapt a shipped one, or edit the territory's).
    pub fn from_rule(r: &Rule) -> RuleForm {
        let mut f = RuleForm::default();
        f.set("code".into(), r.code.clone());
        f.set("name".into(), r.name.clone());
        f.set("reference".into(), r.reference.clone());
        f.set("valid_from".into(), domain::iso_date(r.valid_from));
        f.set(
            "valid_until".into(),
            r.valid_until.map(domain::iso_date).unwrap_or_default(),
        );
        for field in &r.fields {
            f.set("fields".into(), field.as_str().into());
        }
        for (i, p) in r.paths.iter().take(RULE_PATHS).enumerate() {
            let k = |s: &str| format!("voie{}-{s}", i + 1);
            f.set(k("label"), p.label.clone());
            f.set(
                k("n"),
                p.at_least.map(|n| n.to_string()).unwrap_or_default(),
            );
            let mut ages = 0;
            let mut declared = Vec::new();
            for c in &p.criteria {
                match c {
                    Criterion::Age { min, max } => {
                        let name = if ages == 0 { "age" } else { "age2" };
                        ages += 1;
                        f.set(
                            k(&format!("{name}-min")),
                            min.map(|n| n.to_string()).unwrap_or_default(),
                        );
                        f.set(
                            k(&format!("{name}-max")),
                            max.map(|n| n.to_string()).unwrap_or_default(),
                        );
                    }
                    Criterion::Flag { flag, expected } => {
                        f.set(
                            k(flag.as_str()),
                            if *expected { "oui" } else { "non" }.into(),
                        );
                    }
                    Criterion::QualificationAtMost { level } => {
                        f.set(k("qualification"), level.as_str().into());
                    }
                    Criterion::JobSeekerMonths { min, max } => {
                        f.set(k("ft-min"), min.map(|n| n.to_string()).unwrap_or_default());
                        f.set(k("ft-max"), max.map(|n| n.to_string()).unwrap_or_default());
                    }
                    Criterion::YoungestChildUnder { years } => {
                        f.set(k("enfant"), years.to_string());
                    }
                    Criterion::Sex { sex } => f.set(k("sexe"), sex.as_str().into()),
                    Criterion::Declared { label } => declared.push(label.clone()),
                }
            }
            f.set(k("autres"), declared.join("\n"));
        }
        let mut declared = Vec::new();
        for c in &r.priority {
            match c {
                Criterion::Flag {
                    flag,
                    expected: true,
                } => {
                    f.set("priorite".into(), flag.as_str().into());
                }
                other => declared.push(other.describe()),
            }
        }
        f.set("priorite-autres".into(), declared.join("\n"));
        f
    }

    /// The rule the form describes, or the French errors, part by part.
    pub fn parse(&self) -> Result<Rule, FieldErrors> {
        let mut errors = FieldErrors::default();
        let code = errors.check("code", eligibility::check_code(self.get("code")));
        let name = self.get("name").trim().to_string();
        if name.is_empty() {
            errors.add("name", "Indiquez le nom du dispositif.");
        }
        let reference = self.get("reference").trim().to_string();
        if reference.is_empty() {
            errors.add(
                "reference",
                "Indiquez la référence du texte (loi, décret, délibération, règlement local).",
            );
        }
        let valid_from = match self.get("valid_from").trim() {
            "" => {
                errors.add("valid_from", "Indiquez la date d'entrée en vigueur.");
                None
            }
            d => errors.check("valid_from", domain::parse_date(d)),
        };
        let valid_until = match self.get("valid_until").trim() {
            "" => None,
            d => errors.check("valid_until", domain::parse_date(d)),
        };
        let mut fields = Vec::new();
        for v in self.all("fields") {
            if let Some(field) = errors.check("fields", Field::parse(v)) {
                fields.push(field);
            }
        }
        let mut paths = Vec::new();
        for i in 0..RULE_PATHS {
            let name = path_error(i);
            let k = |s: &str| format!("voie{}-{s}", i + 1);
            let mut criteria = Vec::new();
            let number =
                |errors: &mut FieldErrors, key: &str, what: &str, max: u32| -> Option<u32> {
                    match self.get(&k(key)).trim() {
                        "" => None,
                        v => match v.parse::<u32>() {
                            Ok(n) if n <= max => Some(n),
                            _ => {
                                errors.add(
                                    name,
                                    format!(
                                        "Voie {} : {what} doit être un nombre entre 0 et {max}.",
                                        i + 1
                                    ),
                                );
                                None
                            }
                        },
                    }
                };
            for age in ["age", "age2"] {
                let min = number(&mut errors, &format!("{age}-min"), "l'âge minimum", 120);
                let max = number(&mut errors, &format!("{age}-max"), "l'âge maximum", 120);
                if min.is_some() || max.is_some() {
                    criteria.push(Criterion::Age {
                        min: min.and_then(|n| u8::try_from(n).ok()),
                        max: max.and_then(|n| u8::try_from(n).ok()),
                    });
                }
            }
            for flag in Flag::ALL {
                match self.get(&k(flag.as_str())) {
                    "" => {}
                    "oui" => criteria.push(Criterion::Flag {
                        flag: *flag,
                        expected: true,
                    }),
                    "non" => criteria.push(Criterion::Flag {
                        flag: *flag,
                        expected: false,
                    }),
                    _ => errors.add(name, format!("Voie {} : répondez par oui ou non.", i + 1)),
                }
            }
            match self.get(&k("qualification")).trim() {
                "" => {}
                q => {
                    if let Some(level) = errors.check(name, QualificationLevel::parse(q)) {
                        criteria.push(Criterion::QualificationAtMost { level });
                    }
                }
            }
            let ft_min = number(&mut errors, "ft-min", "la durée minimum d'inscription", 600);
            let ft_max = number(&mut errors, "ft-max", "la durée maximum d'inscription", 600);
            if ft_min.is_some() || ft_max.is_some() {
                criteria.push(Criterion::JobSeekerMonths {
                    min: ft_min,
                    max: ft_max,
                });
            }
            if let Some(years) = number(&mut errors, "enfant", "l'âge de l'enfant", 18) {
                criteria.push(Criterion::YoungestChildUnder {
                    years: u8::try_from(years).unwrap_or(18),
                });
            }
            match self.get(&k("sexe")).trim() {
                "" => {}
                s => {
                    if let Some(sex) = errors.check(name, Sex::parse(s)) {
                        criteria.push(Criterion::Sex { sex });
                    }
                }
            }
            for line in self
                .get(&k("autres"))
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                criteria.push(Criterion::Declared {
                    label: line.to_string(),
                });
            }
            let at_least = match self.get(&k("n")).trim() {
                "" => None,
                n => match n.parse::<u8>() {
                    Ok(n) if n >= 1 && usize::from(n) <= criteria.len() => Some(n),
                    _ => {
                        errors.add(
                            name,
                            format!(
                                "Voie {} : le nombre de critères requis doit être entre 1 et {} (le nombre de critères cochés).",
                                i + 1,
                                criteria.len()
                            ),
                        );
                        None
                    }
                },
            };
            if criteria.is_empty() {
                continue;
            }
            let label = match self.get(&k("label")).trim() {
                "" => format!("Voie {}", i + 1),
                l => l.to_string(),
            };
            paths.push(Path {
                label,
                at_least,
                criteria,
            });
        }
        if paths.is_empty() {
            errors.add(
                "voie1",
                "Indiquez au moins un critère dans une voie d'accès.",
            );
        }
        let mut priority: Vec<Criterion> = self
            .all("priorite")
            .into_iter()
            .filter_map(Flag::from_code)
            .map(|flag| Criterion::Flag {
                flag,
                expected: true,
            })
            .collect();
        for line in self
            .get("priorite-autres")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            priority.push(Criterion::Declared {
                label: line.to_string(),
            });
        }
        let (Some(code), Some(valid_from)) = (code, valid_from) else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let rule = Rule {
            code,
            name,
            reference,
            valid_from,
            valid_until,
            fields,
            paths,
            priority,
        };
        if let Err(e) = rule.check() {
            errors.add("valid_until", e.0);
            return Err(errors);
        }
        Ok(rule)
    }
}

/// The form for a rule: empty, a shipped rule to adapt, or the territory's own.
pub async fn rule_form(
    app: &App,
    caller: &Caller,
    code: Option<&str>,
) -> Result<RuleForm, AppError> {
    let territory = coordinator_territory(caller)?;
    let Some(code) = code else {
        return Ok(RuleForm::default());
    };
    let mut pooled = app.db.acquire().await?;
    let own = store::diagnostic::rules(&mut pooled.conn(), territory).await?;
    // The latest version, the territory's own first.
    let found = own
        .into_iter()
        .map(|o| o.rule)
        .rfind(|r| r.code == code)
        .or_else(|| eligibility::shipped().into_iter().rfind(|r| r.code == code))
        .ok_or(AppError::NotFound)?;
    Ok(RuleForm::from_rule(&found))
}

/// Writes a territory's rule (a new one, its version of a shipped one, or a correction of the
/// version with the same code and start). Coordinators only; audited.
pub async fn save_rule(app: &App, caller: &Caller, form: &RuleForm) -> Result<Rule, AppError> {
    let territory = coordinator_territory(caller)?;
    let rule = form.parse().map_err(AppError::Invalid)?;
    let mut tx = app.db.begin_write().await?;
    let now = app.now();
    store::diagnostic::save_rule(&mut tx.conn(), territory, &rule, caller.user_id, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "rule.save",
            ("territory", Some(territory.0)),
            Some(territory),
            &format!(
                "règle « {} » en vigueur au {}",
                rule.code,
                rule.valid_from.format("%d/%m/%Y")
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(rule)
}

pub async fn delete_rule(app: &App, caller: &Caller, id: RuleId) -> Result<(), AppError> {
    let territory = coordinator_territory(caller)?;
    let mut tx = app.db.begin_write().await?;
    if !store::diagnostic::delete_rule(&mut tx.conn(), territory, id).await? {
        return Err(AppError::NotFound);
    }
    let now = app.now();
    caller
        .audit(
            &mut tx.conn(),
            now,
            "rule.delete",
            ("territory", Some(territory.0)),
            Some(territory),
            &format!("règle {} supprimée", id.0),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The rules a service of the territory requires (coordinators; codes of rules known to the
/// territory only).
pub async fn set_service_rules(
    app: &App,
    caller: &Caller,
    service: ServiceId,
    codes: &[String],
) -> Result<(), AppError> {
    let territory = coordinator_territory(caller)?;
    let known = all_rules(app, territory).await?;
    let mut chosen: Vec<String> = Vec::new();
    for code in codes {
        if !known.iter().any(|r| &r.code == code) {
            return Err(AppError::field(
                "rules",
                "Choisissez parmi les règles du territoire.",
            ));
        }
        if !chosen.contains(code) {
            chosen.push(code.clone());
        }
    }
    let mut tx = app.db.begin_write().await?;
    let stored = store::directory::service(&mut tx.conn(), service)
        .await?
        .filter(|s| s.territory_id == territory)
        .ok_or(AppError::NotFound)?;
    store::diagnostic::set_service_rules(&mut tx.conn(), stored.id, &chosen).await?;
    let now = app.now();
    caller
        .audit(
            &mut tx.conn(),
            now,
            "service.rules",
            ("service", Some(stored.id.0)),
            Some(territory),
            &format!(
                "conditions d'éligibilité : {}",
                if chosen.is_empty() {
                    "aucune".to_string()
                } else {
                    chosen.join(", ")
                }
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
