//! Repérage: a person met in outreach is recorded in the caller's territory, after the likely
//! duplicates among the files the caller may see were shown.

use chrono::{Datelike, NaiveDate};
use domain::PersonId;
use domain::person::{AgeBand, FileEvent, OutreachChannel, name_similarity};
use domain::text::fold;
use store::persons::{CaseloadFilter, Health, NewMember, NewPerson, QpvCheck};

use super::access::{may_record, organisation_in, scope};

use super::{contact, need_fields, past_date};
use crate::{App, AppError, Caller, FieldErrors};

/// The repérage form, as typed (decoded from the form: field names are the inputs' names;
/// ticked « need_fields » boxes come as a list).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct OutreachInput {
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub postal_code: String,
    pub commune: String,
    pub neighbourhood: String,
    pub channel: String,
    pub place: String,
    pub met_on: String,
    pub needs: String,
    pub need_fields: Vec<String>,
    /// What the person said of a health need: kept behind the health gate.
    pub health_needs: String,
    /// « oui » or « non ».
    pub agrees_recontact: String,
    /// An age band (`16-25`, `26-49`, `50-plus`) and/or a year of birth, when the birth date
    /// is not known yet.
    pub age_band: String,
    pub birth_year: String,
    /// The QPV the person says they live in (a code from the territory's list), when the
    /// address is not known.
    pub declared_qpv: String,
    /// The user saw the likely duplicates and records the person anyway.
    #[serde(deserialize_with = "crate::form::ticked")]
    pub confirm: bool,
}

/// A file that may be the same person, as shown before saving.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub id: PersonId,
    pub name: String,
    pub status: String,
    pub why: String,
}

pub enum Recorded {
    Created(PersonId),
    /// Nothing was saved: these files look like the same person.
    Duplicates(Vec<Duplicate>),
}

/// What the geocoder is asked for a person's address: the street, postal code and commune's
/// name (`None` without a street).
pub(crate) fn qpv_query(
    app: &App,
    address: &str,
    postal_code: &str,
    commune: Option<&str>,
) -> Option<String> {
    if address.trim().is_empty() {
        return None;
    }
    let name = commune
        .and_then(|c| domain::InseeCode::parse(c).ok())
        .and_then(|c| app.referential.commune(&c))
        .map(|c| c.name.clone())
        .unwrap_or_default();
    Some(format!("{address} {postal_code} {name}"))
}

/// What a file records of the geocoder's answer: nothing when the address was not found.
pub(crate) fn qpv_check(
    answer: crate::qpv::AddressAnswer,
    millesime: domain::Millesime,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<QpvCheck> {
    answer.label.as_ref()?;
    Some(QpvCheck {
        code: answer.qpv.code_qp,
        millesime: millesime.year(),
        confidence: answer.confidence.label().to_string(),
        checked_at: now,
        position: answer.lon.zip(answer.lat),
    })
}

/// Checks an address against the QPV map (briefly: repérage does not wait on the network).
pub(crate) async fn check_qpv(
    app: &App,
    address: &str,
    postal_code: &str,
    commune: Option<&str>,
) -> Option<QpvCheck> {
    let query = qpv_query(app, address, postal_code, commune)?;
    let millesime = domain::Millesime::CURRENT;
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        crate::qpv::lookup_address(app, &query, millesime),
    )
    .await;
    match answer {
        Ok(Ok(a)) => qpv_check(a, millesime, app.now()),
        _ => None,
    }
}

/// Likely duplicates of a person among the files the caller may see.
pub async fn duplicates_of(
    app: &App,
    caller: &Caller,
    folded_name: &str,
    phone: Option<&str>,
    email: Option<&str>,
    birth: Option<&str>,
    except: Option<PersonId>,
) -> Result<Vec<Duplicate>, AppError> {
    let scope = scope(caller)?;
    let mut pooled = app.db.acquire().await?;
    let names = store::persons::names(&mut pooled.conn(), &scope).await?;
    let mut found: Vec<(PersonId, String)> = Vec::new();
    for n in names.iter().filter(|n| Some(n.id) != except) {
        let similarity = name_similarity(&n.folded_name, folded_name);
        let why = if phone.is_some() && n.phone.as_deref() == phone {
            "même téléphone"
        } else if email.is_some() && n.email.as_deref() == email {
            "même courriel"
        } else if birth.is_some() && n.birth_date.as_deref() == birth && similarity > 0.5 {
            "même nom et même date de naissance"
        } else if n.folded_name == folded_name {
            "même nom"
        } else if similarity >= 0.7 {
            "nom très proche"
        } else {
            continue;
        };
        found.push((n.id, why.to_string()));
    }
    found.truncate(10);
    let ids: Vec<PersonId> = found.iter().map(|(id, _)| *id).collect();
    let rows = store::persons::caseload(
        &mut pooled.conn(),
        &scope,
        &CaseloadFilter {
            ranked: Some(ids),
            ..CaseloadFilter::default()
        },
        0,
        10,
    )
    .await?;
    // Showing a possible duplicate discloses that person: each one shown is audited.
    let shown: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
    store::audit::record_each(
        &mut pooled.conn(),
        &store::audit::NewEvent {
            user: Some(caller.user_id),
            action: FileEvent::Duplicate.as_str(),
            target_kind: "person",
            target_id: None,
            territory: Some(scope.territory()),
            detail: "montré comme doublon possible",
            client_ip: caller.client_ip.as_deref(),
            api_token: caller.api_token(),
        },
        &shown,
        app.now(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Duplicate {
            why: found
                .iter()
                .find(|(id, _)| *id == r.id)
                .map(|(_, w)| w.clone())
                .unwrap_or_default(),
            id: r.id,
            name: format!("{} {}", r.first_name, r.last_name)
                .trim()
                .to_string(),
            status: r.status.label().to_string(),
        })
        .collect())
}

/// How a QPV named by the person (not checked against the map) is recorded.
pub const DECLARED: &str = "déclaré par la personne";

/// The age band and year of birth typed at the repérage: the year must make sense at the date
/// of the meeting, and agree with the band when both are given (the band follows the year).
fn age_of(
    errors: &mut FieldErrors,
    input: &OutreachInput,
    on: NaiveDate,
) -> (Option<AgeBand>, Option<i32>) {
    let band = match input.age_band.trim() {
        "" => None,
        b => errors.check("age_band", AgeBand::parse(b)),
    };
    let year = match input.birth_year.trim() {
        "" => None,
        y => match y.parse::<i32>() {
            Ok(y) if (on.year() - 100..=on.year() - 14).contains(&y) => Some(y),
            _ => {
                errors.add(
                    "birth_year",
                    format!(
                        "Indiquez l'année de naissance sur quatre chiffres, entre {} et {}.",
                        on.year() - 100,
                        on.year() - 14
                    ),
                );
                None
            }
        },
    };
    match (band, year) {
        (Some(b), Some(y)) => {
            // Born in that year, the person is one of two ages on the day of the meeting.
            let ages = [on.year() - y - 1, on.year() - y];
            if !ages.iter().any(|a| AgeBand::of_age(*a) == Some(b)) {
                errors.add(
                    "age_band",
                    "La tranche d'âge ne correspond pas à l'année de naissance.",
                );
            }
            (Some(b), Some(y))
        }
        (None, Some(y)) => (AgeBand::of_age(on.year() - y), Some(y)),
        other => other,
    }
}

/// Records a person met in outreach, in the caller's active territory. The caller joins the
/// person's follow-up group as their référent (everyone who may record may be one).
pub async fn record(
    app: &App,
    caller: &Caller,
    input: &OutreachInput,
) -> Result<Recorded, AppError> {
    let territory = caller.active_territory.clone().ok_or(AppError::NotFound)?;
    if !may_record(caller, territory.id) {
        return Err(AppError::Forbidden);
    }
    let today = app.today_in(territory.zone());
    let mut errors = FieldErrors::default();
    let first_name = input.first_name.trim();
    if first_name.is_empty() {
        errors.add("first_name", "Indiquez au moins le prénom.");
    }
    let c = contact(app, &mut errors, input);
    let channel = errors.check("channel", OutreachChannel::parse(&input.channel));
    let met_on = past_date(&mut errors, "met_on", &input.met_on, today);
    let (need_fields, health_need) = need_fields(&mut errors, &input.need_fields);
    let health_note = input.health_needs.trim();
    if health_note.chars().count() > 1000 {
        errors.add("health_needs", "Les précisions dépassent 1 000 caractères.");
    }
    if !health_note.is_empty() && !health_need {
        errors.add(
            "health_needs",
            "Cochez « Santé et handicap » pour enregistrer ces précisions, ou effacez-les.",
        );
    }
    let agrees = match input.agrees_recontact.as_str() {
        "oui" => Some(true),
        "non" => Some(false),
        _ => {
            errors.add(
                "agrees_recontact",
                "Indiquez si la personne accepte d'être recontactée.",
            );
            None
        }
    };
    if agrees == Some(true) && c.phone.is_none() && c.email.is_none() && c.address.is_empty() {
        errors.add(
            "phone",
            "Pour recontacter la personne, notez un téléphone, un courriel ou une adresse.",
        );
    }
    let (age_band, birth_year) = age_of(&mut errors, input, met_on.unwrap_or(today));
    let declared = match input.declared_qpv.trim() {
        "" => None,
        code => {
            let known = crate::qpv::of_territory(app, caller, domain::Millesime::CURRENT).await?;
            match known.into_iter().find(|(c, _)| c == code) {
                Some((c, _)) => Some(c),
                None => {
                    errors.add(
                        "declared_qpv",
                        "Choisissez un quartier de la liste du territoire.",
                    );
                    None
                }
            }
        }
    };
    let (Some(channel), Some(met_on), Some(agrees)) = (channel, met_on, agrees) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let folded_name = fold(&format!("{} {}", first_name, input.last_name.trim()))
        .trim()
        .to_string();
    if !input.confirm {
        let found = duplicates_of(
            app,
            caller,
            &folded_name,
            c.phone.as_deref(),
            c.email.as_deref(),
            None,
            None,
        )
        .await?;
        if !found.is_empty() {
            return Ok(Recorded::Duplicates(found));
        }
    }
    let now = app.now();
    // The address checked against the map wins; without one (or when it cannot be checked),
    // the quartier the person names is kept, said to be declared.
    let qpv = match check_qpv(app, &c.address, &c.postal_code, c.commune.as_deref()).await {
        Some(checked) if checked.code.is_some() || declared.is_none() => Some(checked),
        other => declared
            .map(|code| QpvCheck {
                code: Some(code),
                millesime: domain::Millesime::CURRENT.year(),
                confidence: DECLARED.into(),
                checked_at: now,
                position: None,
            })
            .or(other),
    };
    let new = NewPerson {
        territory: territory.id,
        first_name: first_name.to_string(),
        last_name: input.last_name.trim().to_string(),
        folded_name,
        phone: c.phone,
        email: c.email,
        address: c.address,
        postal_code: c.postal_code,
        commune_insee: c.commune,
        neighbourhood: input.neighbourhood.trim().to_string(),
        qpv,
        channel,
        place: input.place.trim().to_string(),
        met_on,
        met_by: Some(caller.user_id),
        needs: input.needs.trim().to_string(),
        need_fields,
        agrees_recontact: agrees,
        age_band,
        birth_year,
    };
    let mut tx = app.db.begin_write().await?;
    let organisation = organisation_in(&mut tx.conn(), caller, territory.id).await?;
    let id = store::persons::create(&mut tx.conn(), &new, caller.user_id, now).await?;
    if health_need {
        // Recorded behind the health gate: the référent and the members allowed will read it.
        store::persons::set_health(
            &mut tx.conn(),
            id,
            &Health {
                need: true,
                need_note: health_note.to_string(),
                ..Health::default()
            },
            caller.user_id,
            now,
        )
        .await?;
    }
    store::persons::add_member(
        &mut tx.conn(),
        &NewMember {
            person: id,
            user: caller.user_id,
            organisation,
            // Whoever records the person becomes their référent by default (the coordination
            // can name another one); the référent reads the health need they noted.
            is_referent: true,
            health_access: true,
            added_by: caller.user_id,
        },
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            FileEvent::Create.as_str(),
            ("person", Some(id.0)),
            Some(territory.id),
            "/personnes/nouvelle",
        )
        .await?;
    tx.commit().await?;
    Ok(Recorded::Created(id))
}
