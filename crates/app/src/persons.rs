//! Person files: repérage, the funnel, consent, the follow-up group, the journal, the caseload
//! and duplicates. Need-to-know is decided in one function, [`open`]: a person is readable by
//! the current members of their follow-up group and by the coordinators of their territory —
//! national administration and pilots included, everyone else gets `NotFound`, exactly as for a
//! person who does not exist. Health data and restricted notes need more: being the référent, or
//! a member explicitly allowed. Every read and write of a file writes an audit row. Lists go
//! through `store::persons::Scope`, the same rule written as SQL.

use chrono::{Duration, NaiveDate};
use domain::person::{
    ConsentMethod, ConsentPurpose, ContactChannel, ContactOutcome, ExitReason, FunnelStatus,
    JournalKind, MemberEndReason, OutreachChannel, Phone, QualificationLevel, Sex, Visibility,
    birth_date, name_similarity,
};
use domain::text::fold;
use domain::{
    Email, Field, GroupMemberId, OrganisationId, PersonId, PostalCode, TerritoryId, UserId,
};
use store::persons::{
    CaseloadFilter, CaseloadRow, Consent, EndWhich, Entry, Health, Identity, Member, NewConsent,
    NewEntry, NewMember, NewPerson, Person, QpvCheck, Scope, Situation,
};

use crate::{App, AppError, Caller, FieldErrors};

// ---------------------------------------------------------------------------------------------
// Need-to-know: the one place

/// What the caller may do with one person's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub person: PersonId,
    pub territory: TerritoryId,
    pub coordinator: bool,
    pub member: bool,
    pub referent: bool,
    /// May read and write health/disability data and health-restricted notes.
    pub health: bool,
}

impl Access {
    /// The journal visibilities this caller may read and write.
    pub fn visibilities(&self) -> Vec<Visibility> {
        let mut v = vec![Visibility::Groupe];
        if self.referent {
            v.push(Visibility::Referent);
        }
        if self.health {
            v.push(Visibility::Sante);
        }
        v
    }

    /// Référent or coordinator: manages the group, consent and merges.
    pub fn manages(&self) -> bool {
        self.referent || self.coordinator
    }
}

/// Opens a person's file for the caller, or says it does not exist; writes the audit row (who,
/// when, what, from which page) in the same step, so no access goes unrecorded.
pub async fn open(
    app: &App,
    caller: &Caller,
    person: PersonId,
    what: &str,
    page: &str,
) -> Result<Access, AppError> {
    let mut pooled = app.db.acquire().await?;
    let row = store::persons::access(&mut pooled.conn(), person, caller.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.merged_into.is_some() {
        return Err(AppError::NotFound);
    }
    let coordinator = caller.is_coordinator_of(row.territory_id);
    // An archived file (intermediate archive) is the coordinators' only.
    let member =
        row.member_id.is_some() && caller.may_enter(row.territory_id) && row.archived_on.is_none();
    if !(coordinator || member) {
        // The caller sees « introuvable », as for a file that does not exist; the refusal goes
        // to the security log the territory's coordinators and the administrators read.
        caller
            .audit(
                &mut pooled.conn(),
                app.now(),
                "person.denied",
                ("person", Some(person.0)),
                Some(row.territory_id),
                &format!("{what} refusé ({page})"),
            )
            .await?;
        return Err(AppError::NotFound);
    }
    let referent = member && row.is_referent == Some(true);
    let access = Access {
        person,
        territory: row.territory_id,
        coordinator,
        member,
        referent,
        health: referent || (member && row.health_access == Some(true)),
    };
    caller
        .audit(
            &mut pooled.conn(),
            app.now(),
            what,
            ("person", Some(person.0)),
            Some(row.territory_id),
            page,
        )
        .await?;
    Ok(access)
}

/// The caller's scope in their active territory (`NotFound` without one).
pub fn scope(caller: &Caller) -> Result<Scope, AppError> {
    let territory = caller.active_territory.as_ref().ok_or(AppError::NotFound)?;
    Ok(Scope {
        user: caller.user_id,
        territory: territory.id,
        coordinator: caller.is_coordinator_of(territory.id),
    })
}

/// Who may record and follow persons: the territory's coordinators and its partners'
/// professionals.
pub fn may_record(caller: &Caller, territory: TerritoryId) -> bool {
    caller.is_coordinator_of(territory) || !caller.organisations_in(territory).is_empty()
}

/// The organisation a professional works for in a territory (for group membership).
async fn organisation_in(
    app: &App,
    caller: &Caller,
    territory: TerritoryId,
) -> Result<Option<OrganisationId>, AppError> {
    let mine = caller.organisations_in(territory);
    if mine.is_empty() {
        return Ok(None);
    }
    let mut pooled = app.db.acquire().await?;
    let partners = store::organisations::partners_of(&mut pooled.conn(), territory).await?;
    Ok(partners.iter().map(|o| o.id).find(|o| mine.contains(o)))
}

fn today(app: &App) -> NaiveDate {
    app.today()
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A date typed in a form (JJ/MM/AAAA or AAAA-MM-JJ), not in the future.
fn past_date(
    errors: &mut FieldErrors,
    field: &'static str,
    input: &str,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let input = input.trim();
    if input.is_empty() {
        errors.add(field, "Indiquez la date.");
        return None;
    }
    match domain::parse_date(input) {
        Ok(d) if d > today => {
            errors.add(field, "La date est dans le futur.");
            None
        }
        Ok(d) if d < today - Duration::days(366 * 5) => {
            errors.add(field, "La date a plus de cinq ans : vérifiez l'année.");
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.add(field, e.0);
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Repérage

/// The repérage form, as typed.
#[derive(Debug, Clone, Default)]
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
    /// The user saw the likely duplicates and records the person anyway.
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

struct Contact {
    phone: Option<String>,
    email: Option<String>,
    address: String,
    postal_code: String,
    commune: Option<String>,
}

fn contact(app: &App, errors: &mut FieldErrors, i: (&str, &str, &str, &str, &str)) -> Contact {
    let (phone, email, address, postal_code, commune) = i;
    let phone = match phone.trim() {
        "" => None,
        p => errors
            .check("phone", Phone::parse(p))
            .map(|p| p.as_str().to_string()),
    };
    let email = match email.trim() {
        "" => None,
        e => errors
            .check("email", Email::parse(e))
            .map(|e| e.as_str().to_string()),
    };
    let commune = if postal_code.trim().is_empty() {
        if !commune.trim().is_empty() {
            errors.add("postal_code", "Indiquez le code postal de la commune.");
        }
        None
    } else {
        match PostalCode::parse(postal_code) {
            Ok(p) => match crate::organisations::resolve_commune(app.referential, &p, commune) {
                Ok(code) => Some(code.as_str().to_string()),
                Err(e) => {
                    errors.add("commune", e);
                    None
                }
            },
            Err(e) => {
                errors.add("postal_code", e.0);
                None
            }
        }
    };
    Contact {
        phone,
        email,
        address: address.trim().to_string(),
        postal_code: postal_code.trim().to_string(),
        commune,
    }
}

/// Checks an address against the QPV map (briefly: repérage does not wait on the network).
async fn check_qpv(
    app: &App,
    address: &str,
    postal_code: &str,
    commune: Option<&str>,
) -> Option<QpvCheck> {
    if address.trim().is_empty() {
        return None;
    }
    let name = commune
        .and_then(|c| domain::InseeCode::parse(c).ok())
        .and_then(|c| app.referential.commune(&c))
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let query = format!("{address} {postal_code} {name}");
    let millesime = domain::Millesime::CURRENT;
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        crate::qpv::lookup_address(app, &query, millesime),
    )
    .await;
    match answer {
        Ok(Ok(a)) if a.label.is_some() => Some(QpvCheck {
            code: a.qpv.code_qp,
            millesime: millesime.year(),
            confidence: a.confidence.label().to_string(),
            checked_at: app.now(),
        }),
        _ => None,
    }
}

/// The needs ticked, as the group may see them, and whether « Santé / handicap » was among
/// them (that one is health data: it goes behind the health gate, not in the list).
fn need_fields(errors: &mut FieldErrors, values: &[String]) -> (String, bool) {
    let mut fields = Vec::new();
    let mut health = false;
    for v in values {
        match Field::parse(v) {
            Ok(Field::SanteHandicap) => health = true,
            Ok(f) => fields.push(f.slug()),
            Err(_) => errors.add("need_fields", "Choisissez parmi les huit champs d'action."),
        }
    }
    let listed = if fields.is_empty() {
        String::new()
    } else {
        format!("|{}|", fields.join("|"))
    };
    (listed, health)
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
            ids: Some(ids),
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
            action: "person.duplicate",
            target_kind: "person",
            target_id: None,
            territory: Some(scope.territory),
            detail: "montré comme doublon possible",
            client_ip: caller.client_ip.as_deref(),
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
            status: FunnelStatus::parse(&r.status)
                .map_or("?", FunnelStatus::label)
                .to_string(),
        })
        .collect())
}

/// Records a person met in outreach, in the caller's active territory. The caller joins the
/// person's follow-up group (not as référent: that comes with the entry into accompaniment).
pub async fn record(
    app: &App,
    caller: &Caller,
    input: &OutreachInput,
) -> Result<Recorded, AppError> {
    let territory = caller.active_territory.clone().ok_or(AppError::NotFound)?;
    if !may_record(caller, territory.id) {
        return Err(AppError::Forbidden);
    }
    let today = today(app);
    let mut errors = FieldErrors::default();
    let first_name = input.first_name.trim();
    if first_name.is_empty() {
        errors.add("first_name", "Indiquez au moins le prénom.");
    }
    let c = contact(
        app,
        &mut errors,
        (
            &input.phone,
            &input.email,
            &input.address,
            &input.postal_code,
            &input.commune,
        ),
    );
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
    let qpv = check_qpv(app, &c.address, &c.postal_code, c.commune.as_deref()).await;
    let organisation = organisation_in(app, caller, territory.id).await?;
    let now = app.now();
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
        channel: channel.as_str().to_string(),
        place: input.place.trim().to_string(),
        met_on: iso(met_on),
        met_by: Some(caller.user_id),
        needs: input.needs.trim().to_string(),
        need_fields,
        agrees_recontact: agrees,
    };
    let mut tx = app.db.begin().await?;
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
            is_referent: false,
            health_access: false,
            added_by: caller.user_id,
        },
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.create",
            ("person", Some(id.0)),
            Some(territory.id),
            "/personnes/nouvelle",
        )
        .await?;
    tx.commit().await?;
    Ok(Recorded::Created(id))
}

// ---------------------------------------------------------------------------------------------
// The file

/// A person's file as the caller may see it.
#[derive(Debug, Clone)]
pub struct PersonFile {
    pub access: Access,
    pub person: Person,
    /// `None` unless the caller may read health data.
    pub health: Option<Health>,
    pub members: Vec<Member>,
    pub consents: Vec<Consent>,
    pub journal: Vec<Entry>,
    /// No contact for longer than the configured silence, and not exited.
    pub lost_from_view: bool,
    pub status: FunnelStatus,
}

impl PersonFile {
    pub fn consent_in_force(&self) -> Option<&Consent> {
        self.consents.iter().find(|c| c.revoked_at.is_none())
    }
}

pub async fn file(
    app: &App,
    caller: &Caller,
    id: PersonId,
    page: &str,
) -> Result<PersonFile, AppError> {
    let access = open(app, caller, id, "person.read", page).await?;
    let mut pooled = app.db.acquire().await?;
    let person = store::persons::get(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let health = if access.health {
        Some(store::persons::health(&mut pooled.conn(), id).await?)
    } else {
        None
    };
    let members = store::persons::members(&mut pooled.conn(), id).await?;
    let consents = store::persons::consents(&mut pooled.conn(), id).await?;
    let visibilities: Vec<&str> = access.visibilities().iter().map(|v| v.as_str()).collect();
    let journal = store::persons::journal(&mut pooled.conn(), id, &visibilities).await?;
    let status = FunnelStatus::parse(&person.status).unwrap_or(FunnelStatus::Repere);
    let silence = i64::from(app.settings.lost_after_days);
    let last = person.last_contact_on.as_deref().unwrap_or(&person.met_on);
    let lost_from_view =
        status != FunnelStatus::Sorti && last < iso(today(app) - Duration::days(silence)).as_str();
    Ok(PersonFile {
        access,
        person,
        health,
        members,
        consents,
        journal,
        lost_from_view,
        status,
    })
}

/// Moves the person to « contacté » or « sorti » (the entry into accompaniment has its own form).
pub async fn set_status(
    app: &App,
    caller: &Caller,
    id: PersonId,
    status: &str,
    on: &str,
    exit_reason: &str,
) -> Result<(), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.status",
        &format!("/personnes/{}/statut", id.0),
    )
    .await?;
    let mut errors = FieldErrors::default();
    let next = errors.check("status", FunnelStatus::parse(status));
    let on = past_date(&mut errors, "on", on, today(app));
    let reason = if next == Some(FunnelStatus::Sorti) {
        errors.check("exit_reason", ExitReason::parse(exit_reason))
    } else {
        None
    };
    if next == Some(FunnelStatus::EnAccompagnement) {
        errors.add(
            "status",
            "L'entrée en accompagnement se fait avec le recueil du consentement.",
        );
    }
    let (Some(next), Some(on)) = (next, on) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // The exit ends every membership of the group: the référent's or a coordinator's call.
    if next == FunnelStatus::Sorti && !access.manages() {
        return Err(AppError::Forbidden);
    }
    let mut tx = app.db.begin().await?;
    let person = store::persons::get(&mut tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = FunnelStatus::parse(&person.status).unwrap_or(FunnelStatus::Repere);
    if !current.may_become(next) {
        return Err(AppError::field(
            "status",
            format!(
                "Une personne « {} » ne peut pas redevenir « {} ».",
                current.label(),
                next.label()
            ),
        ));
    }
    let now = app.now();
    store::persons::set_status(
        &mut tx.conn(),
        id,
        next.as_str(),
        &iso(on),
        reason.map(ExitReason::as_str),
        now,
    )
    .await?;
    store::persons::touch_contact(&mut tx.conn(), id, &iso(on)).await?;
    if next == FunnelStatus::Sorti {
        // The group's work ends with the exit; the file stays readable by coordinators.
        store::persons::end_members(
            &mut tx.conn(),
            id,
            EndWhich::All,
            MemberEndReason::Sortie.as_str(),
            now,
        )
        .await?;
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.update",
            ("person", Some(id.0)),
            Some(access.territory),
            &format!("statut : {}", next.label()),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The form of the entry into accompaniment: consent, référent, situation.
#[derive(Debug, Clone, Default)]
pub struct EntryInput {
    pub given_on: String,
    pub method: String,
    pub purposes: Vec<String>,
    /// Organisations (ids) the person agrees to share with.
    pub organisations: Vec<String>,
    /// The référent (a user id of the territory's team); empty: the caller.
    pub referent: String,
    pub situation: SituationInput,
}

#[derive(Debug, Clone, Default)]
pub struct SituationInput {
    pub birth_date: String,
    pub sex: String,
    pub single_parent: String,
    pub children_under_12: String,
    pub ft_registered: String,
    pub ft_since: String,
    pub brsa: String,
    pub cej_pacea: String,
    pub qualification: String,
    pub languages: String,
    pub driving_licence: String,
    pub vehicle: String,
}

fn yes_no(errors: &mut FieldErrors, field: &'static str, value: &str) -> Option<bool> {
    match value {
        "oui" => Some(true),
        "non" => Some(false),
        "" => None,
        _ => {
            errors.add(field, "Répondez par oui ou non.");
            None
        }
    }
}

impl SituationInput {
    pub fn from_person(p: &Person) -> SituationInput {
        let yn = |b: Option<bool>| match b {
            Some(true) => "oui".to_string(),
            Some(false) => "non".to_string(),
            None => String::new(),
        };
        SituationInput {
            birth_date: p.birth_date.clone().unwrap_or_default(),
            sex: p.sex.clone().unwrap_or_default(),
            single_parent: yn(p.single_parent),
            children_under_12: p
                .children_under_12
                .map(|n| n.to_string())
                .unwrap_or_default(),
            ft_registered: yn(p.ft_registered),
            ft_since: p.ft_since.clone().unwrap_or_default(),
            brsa: yn(p.brsa),
            cej_pacea: yn(p.cej_pacea),
            qualification: p.qualification.clone().unwrap_or_default(),
            languages: p.languages.clone(),
            driving_licence: yn(p.driving_licence),
            vehicle: yn(p.vehicle),
        }
    }

    fn validate(&self, errors: &mut FieldErrors, today: NaiveDate) -> Situation {
        let birth = match self.birth_date.trim() {
            "" => None,
            b => errors.check("birth_date", birth_date(b, today)).map(iso),
        };
        let children = match self.children_under_12.trim() {
            "" => None,
            n => match n.parse::<i32>() {
                Ok(n) if (0..=20).contains(&n) => Some(n),
                _ => {
                    errors.add(
                        "children_under_12",
                        "Indiquez un nombre d'enfants entre 0 et 20.",
                    );
                    None
                }
            },
        };
        let ft_registered = yes_no(errors, "ft_registered", &self.ft_registered);
        let ft_since = match self.ft_since.trim() {
            "" => None,
            d => {
                let since = past_date(errors, "ft_since", d, today).map(iso);
                if ft_registered != Some(true) && since.is_some() {
                    errors.add(
                        "ft_since",
                        "Une date d'inscription suppose une inscription à France Travail.",
                    );
                }
                since
            }
        };
        Situation {
            birth_date: birth,
            sex: match self.sex.trim() {
                "" => None,
                s => errors
                    .check("sex", Sex::parse(s))
                    .map(|s| s.as_str().to_string()),
            },
            single_parent: yes_no(errors, "single_parent", &self.single_parent),
            children_under_12: children,
            ft_registered,
            ft_since,
            brsa: yes_no(errors, "brsa", &self.brsa),
            cej_pacea: yes_no(errors, "cej_pacea", &self.cej_pacea),
            qualification: match self.qualification.trim() {
                "" => None,
                q => errors
                    .check("qualification", QualificationLevel::parse(q))
                    .map(|q| q.as_str().to_string()),
            },
            languages: self.languages.trim().to_string(),
            driving_licence: yes_no(errors, "driving_licence", &self.driving_licence),
            vehicle: yes_no(errors, "vehicle", &self.vehicle),
        }
    }
}

/// Long-term job seeker (DELD): registered at France Travail for more than a year.
pub fn is_deld(p: &Person, today: NaiveDate) -> bool {
    p.ft_registered == Some(true)
        && p.ft_since
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .is_some_and(|d| today - d > Duration::days(365))
}

/// The people and organisations a référent may be chosen among: the territory's professionals.
pub async fn team(
    app: &App,
    territory: TerritoryId,
) -> Result<Vec<store::memberships::TeamMember>, AppError> {
    let mut pooled = app.db.acquire().await?;
    Ok(store::memberships::team_of(&mut pooled.conn(), territory)
        .await?
        .into_iter()
        .filter(|m| m.role == "professional" || m.role == "coordinator")
        .collect())
}

/// Entry into accompaniment: the consent (date, method, purposes, organisations), the référent,
/// and the situation, in one transaction.
pub async fn enter_accompaniment(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &EntryInput,
) -> Result<(), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.accompaniment",
        &format!("/personnes/{}/accompagnement", id.0),
    )
    .await?;
    let today = today(app);
    let mut errors = FieldErrors::default();
    let given_on = past_date(&mut errors, "given_on", &input.given_on, today);
    let method = errors.check("method", ConsentMethod::parse(&input.method));
    let purposes: Vec<ConsentPurpose> = input
        .purposes
        .iter()
        .filter_map(|p| ConsentPurpose::parse(p).ok())
        .collect();
    if !purposes.contains(&ConsentPurpose::Accompagnement) {
        errors.add(
            "purposes",
            "L'accompagnement suppose l'accord de la personne pour être accompagnée.",
        );
    }
    let team = team(app, access.territory).await?;
    let partner_ids: Vec<i64> = {
        let mut pooled = app.db.acquire().await?;
        store::organisations::partners_of(&mut pooled.conn(), access.territory)
            .await?
            .iter()
            .map(|o| o.id.0)
            .collect()
    };
    let organisations: Vec<i64> = input
        .organisations
        .iter()
        .filter_map(|o| o.parse().ok())
        .filter(|o| partner_ids.contains(o))
        .collect();
    if purposes.contains(&ConsentPurpose::Partage) && organisations.is_empty() {
        errors.add(
            "organisations",
            "Choisissez les structures avec lesquelles la personne accepte le partage.",
        );
    }
    let referent = match input.referent.trim() {
        "" => team.iter().find(|m| m.user_id == caller.user_id).cloned(),
        r => team
            .iter()
            .find(|m| Some(m.user_id.0) == r.parse().ok())
            .cloned(),
    };
    let Some(referent) = referent else {
        errors.add(
            "referent",
            "Choisissez le référent parmi l'équipe du territoire.",
        );
        return Err(AppError::Invalid(errors));
    };
    if let Some(org) = referent.organisation_id
        && !organisations.contains(&org)
        && purposes.contains(&ConsentPurpose::Partage)
    {
        errors.add(
            "organisations",
            "La structure du référent doit faire partie des structures choisies.",
        );
    }
    let situation = input.situation.validate(&mut errors, today);
    let (Some(given_on), Some(method)) = (given_on, method) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = app.db.begin().await?;
    let person = store::persons::get(&mut tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = FunnelStatus::parse(&person.status).unwrap_or(FunnelStatus::Repere);
    if !current.may_become(FunnelStatus::EnAccompagnement) {
        return Err(AppError::field(
            "given_on",
            format!("La personne est déjà « {} ».", current.label()),
        ));
    }
    let now = app.now();
    let purposes_text = format!(
        "|{}|",
        purposes
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join("|")
    );
    let organisations_text = if organisations.is_empty() {
        String::new()
    } else {
        format!(
            "|{}|",
            organisations
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("|")
        )
    };
    store::persons::add_consent(
        &mut tx.conn(),
        &NewConsent {
            person: id,
            given_on: &iso(given_on),
            method: method.as_str(),
            purposes: &purposes_text,
            organisations: &organisations_text,
            recorded_by: caller.user_id,
        },
        now,
    )
    .await?;
    store::persons::set_status(
        &mut tx.conn(),
        id,
        FunnelStatus::EnAccompagnement.as_str(),
        &iso(given_on),
        None,
        now,
    )
    .await?;
    store::persons::touch_contact(&mut tx.conn(), id, &iso(given_on)).await?;
    store::persons::set_situation(&mut tx.conn(), id, &situation, now).await?;
    set_referent_in(&mut tx.conn(), id, &referent, caller.user_id, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.update",
            ("person", Some(id.0)),
            Some(access.territory),
            "entrée en accompagnement, consentement recueilli",
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes someone the référent: the previous référent's membership ends (history kept) and the
/// new one gets a membership as référent (health data included, as the référent's).
async fn set_referent_in(
    c: &mut store::Conn<'_>,
    person: PersonId,
    who: &store::memberships::TeamMember,
    by: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    store::persons::end_members(
        c,
        person,
        EndWhich::Referent,
        MemberEndReason::ChangementReferent.as_str(),
        now,
    )
    .await?;
    // Their plain membership, if any, is replaced by the référent's one.
    let current = store::persons::members(c, person).await?;
    if let Some(m) = current
        .iter()
        .find(|m| m.user_id == who.user_id.0 && m.ended_at.is_none())
    {
        store::persons::end_members(
            c,
            person,
            EndWhich::One(m.id),
            MemberEndReason::ChangementReferent.as_str(),
            now,
        )
        .await?;
    }
    store::persons::add_member(
        c,
        &NewMember {
            person,
            user: who.user_id,
            organisation: who.organisation_id.map(OrganisationId),
            is_referent: true,
            health_access: true,
            added_by: by,
        },
        now,
    )
    .await?;
    Ok(())
}

/// Organisations the person's consent in force allows sharing with (`None`: no consent yet,
/// only the repérage group).
fn shared_with(consents: &[Consent]) -> Option<Vec<i64>> {
    let c = consents.iter().find(|c| c.revoked_at.is_none())?;
    if !c.purposes.contains("|partage|") {
        return Some(Vec::new());
    }
    Some(
        c.organisations
            .split('|')
            .filter_map(|o| o.parse().ok())
            .collect(),
    )
}

/// Adds a professional of the territory to the group (référent or coordinator only), within what
/// the consent allows.
pub async fn add_member(
    app: &App,
    caller: &Caller,
    id: PersonId,
    user: &str,
    health_access: bool,
) -> Result<(), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.group",
        &format!("/personnes/{}/groupe", id.0),
    )
    .await?;
    if !access.manages() {
        return Err(AppError::Forbidden);
    }
    let team = team(app, access.territory).await?;
    let Some(who) = team
        .iter()
        .find(|m| Some(m.user_id.0) == user.trim().parse().ok())
    else {
        return Err(AppError::field(
            "user",
            "Choisissez un professionnel de l'équipe du territoire.",
        ));
    };
    // Health access is granted by someone else, never by the caller to themself.
    if health_access && who.user_id == caller.user_id {
        return Err(AppError::field(
            "user",
            "Vous ne pouvez pas vous donner à vous-même l'accès aux données de santé : c'est le référent (ou un coordinateur) qui l'accorde.",
        ));
    }
    let mut tx = app.db.begin().await?;
    let consents = store::persons::consents(&mut tx.conn(), id).await?;
    match (shared_with(&consents), who.organisation_id) {
        (None, _) => {
            return Err(AppError::field(
                "user",
                "Recueillez d'abord le consentement de la personne (entrée en accompagnement).",
            ));
        }
        (Some(orgs), Some(org)) if !orgs.contains(&org) => {
            return Err(AppError::field(
                "user",
                format!(
                    "La personne n'a pas accepté le partage avec {} : modifiez d'abord son consentement.",
                    who.organisation_name
                        .as_deref()
                        .unwrap_or("cette structure")
                ),
            ));
        }
        _ => {}
    }
    let members = store::persons::members(&mut tx.conn(), id).await?;
    if members
        .iter()
        .any(|m| m.user_id == who.user_id.0 && m.ended_at.is_none())
    {
        return Err(AppError::field(
            "user",
            format!("{} fait déjà partie du groupe de suivi.", who.display_name),
        ));
    }
    let now = app.now();
    store::persons::add_member(
        &mut tx.conn(),
        &NewMember {
            person: id,
            user: who.user_id,
            organisation: who.organisation_id.map(OrganisationId),
            is_referent: false,
            health_access,
            added_by: caller.user_id,
        },
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.group",
            ("person", Some(id.0)),
            Some(access.territory),
            &format!(
                "ajout de {} au groupe{}",
                who.display_name,
                if health_access {
                    " (avec accès santé)"
                } else {
                    ""
                }
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn end_member(
    app: &App,
    caller: &Caller,
    id: PersonId,
    member: GroupMemberId,
    reason: &str,
) -> Result<(), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.group",
        &format!("/personnes/{}/groupe", id.0),
    )
    .await?;
    if !access.manages() {
        return Err(AppError::Forbidden);
    }
    let reason = MemberEndReason::parse(reason).map_err(|e| AppError::field("reason", e.0))?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let ended = store::persons::end_members(
        &mut tx.conn(),
        id,
        EndWhich::One(member),
        reason.as_str(),
        now,
    )
    .await?;
    if ended == 0 {
        return Err(AppError::NotFound);
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.group",
            ("person", Some(id.0)),
            Some(access.territory),
            &format!("fin de participation : {}", reason.label()),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the référent; the previous one's membership ends, kept in the history.
pub async fn change_referent(
    app: &App,
    caller: &Caller,
    id: PersonId,
    user: &str,
) -> Result<(), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.group",
        &format!("/personnes/{}/groupe", id.0),
    )
    .await?;
    if !access.manages() {
        return Err(AppError::Forbidden);
    }
    let team = team(app, access.territory).await?;
    let Some(who) = team
        .iter()
        .find(|m| Some(m.user_id.0) == user.trim().parse().ok())
    else {
        return Err(AppError::field(
            "referent",
            "Choisissez le nouveau référent dans l'équipe du territoire.",
        ));
    };
    let mut tx = app.db.begin().await?;
    // Becoming référent opens the health data: while someone else is référent, the caller
    // cannot name themself (the référent hands over, or another coordinator decides).
    if who.user_id == caller.user_id && !access.referent {
        let members = store::persons::members(&mut tx.conn(), id).await?;
        if members
            .iter()
            .any(|m| m.is_referent && m.ended_at.is_none() && m.user_id != caller.user_id.0)
        {
            return Err(AppError::field(
                "referent",
                "Vous ne pouvez pas vous désigner vous-même référent à la place du référent actuel : demandez-lui de vous passer le relais.",
            ));
        }
    }
    let consents = store::persons::consents(&mut tx.conn(), id).await?;
    if let (Some(orgs), Some(org)) = (shared_with(&consents), who.organisation_id)
        && !orgs.contains(&org)
    {
        return Err(AppError::field(
            "referent",
            "La personne n'a pas accepté le partage avec la structure de ce professionnel.",
        ));
    }
    let now = app.now();
    set_referent_in(&mut tx.conn(), id, who, caller.user_id, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.group",
            ("person", Some(id.0)),
            Some(access.territory),
            &format!("nouveau référent : {}", who.display_name),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes consent, with the consequences at once: every member outside the référent's
/// organisation leaves the group, and nothing more is shared.
pub async fn revoke_consent(app: &App, caller: &Caller, id: PersonId) -> Result<usize, AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.consent",
        &format!("/personnes/{}/consentement", id.0),
    )
    .await?;
    if !access.manages() {
        return Err(AppError::Forbidden);
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let revoked = store::persons::revoke_consents(&mut tx.conn(), id, caller.user_id, now).await?;
    if revoked == 0 {
        return Err(AppError::field(
            "consent",
            "Aucun consentement en cours à retirer.",
        ));
    }
    let ended = store::persons::end_members(
        &mut tx.conn(),
        id,
        EndWhich::OutsideReferentOrganisation,
        MemberEndReason::RetraitConsentement.as_str(),
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.consent",
            ("person", Some(id.0)),
            Some(access.territory),
            &format!("consentement retiré, {ended} membre(s) retiré(s) du groupe"),
        )
        .await?;
    tx.commit().await?;
    Ok(usize::try_from(ended).unwrap_or(0))
}

/// A journal entry as typed.
#[derive(Debug, Clone, Default)]
pub struct EntryForm {
    pub kind: String,
    pub occurred_on: String,
    pub channel: String,
    pub outcome: String,
    pub body: String,
    pub visibility: String,
}

pub async fn add_entry(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &EntryForm,
) -> Result<(), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.journal",
        &format!("/personnes/{}/journal", id.0),
    )
    .await?;
    let mut errors = FieldErrors::default();
    let kind = errors.check("kind", JournalKind::parse(&input.kind));
    let on = past_date(&mut errors, "occurred_on", &input.occurred_on, today(app));
    let visibility = errors.check("visibility", Visibility::parse(&input.visibility));
    if let Some(v) = visibility
        && !access.visibilities().contains(&v)
    {
        errors.add(
            "visibility",
            "Vous ne pouvez pas écrire une note de cette confidentialité.",
        );
    }
    let (channel, outcome) = if kind == Some(JournalKind::Contact) {
        (
            errors.check("channel", ContactChannel::parse(&input.channel)),
            errors.check("outcome", ContactOutcome::parse(&input.outcome)),
        )
    } else {
        (None, None)
    };
    let body = input.body.trim();
    if body.is_empty() && kind == Some(JournalKind::Note) {
        errors.add("body", "Écrivez la note.");
    }
    if body.chars().count() > 5000 {
        errors.add("body", "La note dépasse 5 000 caractères.");
    }
    let (Some(kind), Some(on), Some(visibility)) = (kind, on, visibility) else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::persons::add_entry(
        &mut tx.conn(),
        &NewEntry {
            person: id,
            occurred_on: &iso(on),
            author: caller.user_id,
            kind: kind.as_str(),
            channel: channel.map(ContactChannel::as_str),
            outcome: outcome.map(ContactOutcome::as_str),
            body,
            visibility: visibility.as_str(),
        },
        now,
    )
    .await?;
    if kind == JournalKind::Contact {
        store::persons::touch_contact(&mut tx.conn(), id, &iso(on)).await?;
        // A first contact that reached the person moves them from « repéré » to « contacté ».
        let person = store::persons::get(&mut tx.conn(), id)
            .await?
            .ok_or(AppError::NotFound)?;
        if person.status == FunnelStatus::Repere.as_str()
            && matches!(
                outcome,
                Some(ContactOutcome::Joint | ContactOutcome::RendezVous)
            )
        {
            store::persons::set_status(
                &mut tx.conn(),
                id,
                FunnelStatus::Contacte.as_str(),
                &iso(on),
                None,
                now,
            )
            .await?;
        }
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.journal",
            ("person", Some(id.0)),
            Some(access.territory),
            &format!("{} ({})", kind.label(), visibility.label()),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The health section of a file, as typed.
#[derive(Debug, Clone, Default)]
pub struct HealthInput {
    pub rqth: String,
    pub rqth_until: String,
    /// « oui »: a need in the « Santé / handicap » field.
    pub need: String,
    pub need_note: String,
    /// « oui »: the group may see that a health need exists (not its text).
    pub need_shared: String,
}

/// Health data (RQTH, the health need and its text): the référent and explicitly allowed
/// members only. Sharing the need's existence with the group is their choice.
pub async fn set_health(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &HealthInput,
) -> Result<(), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.health",
        &format!("/personnes/{}/sante", id.0),
    )
    .await?;
    if !access.health {
        return Err(AppError::NotFound);
    }
    let mut errors = FieldErrors::default();
    let rqth = yes_no(&mut errors, "rqth", &input.rqth);
    let until = match input.rqth_until.trim() {
        "" => None,
        u => errors.check("rqth_until", domain::parse_date(u)).map(iso),
    };
    let need = yes_no(&mut errors, "need", &input.need).unwrap_or(false);
    let shared = yes_no(&mut errors, "need_shared", &input.need_shared).unwrap_or(false);
    let note = input.need_note.trim();
    if note.chars().count() > 1000 {
        errors.add("need_note", "Les précisions dépassent 1 000 caractères.");
    }
    if shared && !need {
        errors.add(
            "need_shared",
            "Il n'y a pas de besoin de santé à signaler au groupe.",
        );
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::persons::set_health(
        &mut tx.conn(),
        id,
        &Health {
            rqth,
            rqth_until: until,
            need,
            need_note: if need {
                note.to_string()
            } else {
                String::new()
            },
            need_shared: shared,
        },
        caller.user_id,
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.health",
            ("person", Some(id.0)),
            Some(access.territory),
            if shared {
                "données de santé modifiées (besoin signalé au groupe)"
            } else {
                "données de santé modifiées"
            },
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Contact details and situation corrections.
pub async fn update(
    app: &App,
    caller: &Caller,
    id: PersonId,
    input: &OutreachInput,
    situation: &SituationInput,
) -> Result<(), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.update",
        &format!("/personnes/{}/modifier", id.0),
    )
    .await?;
    let mut errors = FieldErrors::default();
    if input.first_name.trim().is_empty() {
        errors.add("first_name", "Indiquez au moins le prénom.");
    }
    let c = contact(
        app,
        &mut errors,
        (
            &input.phone,
            &input.email,
            &input.address,
            &input.postal_code,
            &input.commune,
        ),
    );
    let situation = situation.validate(&mut errors, today(app));
    let agrees = input.agrees_recontact == "oui";
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let previous = {
        let mut pooled = app.db.acquire().await?;
        store::persons::get(&mut pooled.conn(), id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    let moved = previous.address != c.address || previous.postal_code != c.postal_code;
    let qpv = if moved {
        check_qpv(app, &c.address, &c.postal_code, c.commune.as_deref()).await
    } else {
        None
    };
    let identity = Identity {
        first_name: input.first_name.trim().to_string(),
        last_name: input.last_name.trim().to_string(),
        folded_name: fold(&format!(
            "{} {}",
            input.first_name.trim(),
            input.last_name.trim()
        ))
        .trim()
        .to_string(),
        phone: c.phone,
        email: c.email,
        address: c.address,
        postal_code: c.postal_code,
        commune_insee: c.commune,
        neighbourhood: input.neighbourhood.trim().to_string(),
        qpv: if moved {
            Some(qpv.unwrap_or(QpvCheck {
                code: None,
                millesime: domain::Millesime::CURRENT.year(),
                confidence: "non vérifiée".into(),
                checked_at: app.now(),
            }))
        } else {
            None
        },
        agrees_recontact: agrees,
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::persons::update_identity(&mut tx.conn(), id, &identity, now).await?;
    if previous.status != FunnelStatus::Repere.as_str()
        && previous.status != FunnelStatus::Contacte.as_str()
    {
        store::persons::set_situation(&mut tx.conn(), id, &situation, now).await?;
    }
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.update",
            ("person", Some(id.0)),
            Some(access.territory),
            "coordonnées et situation",
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Caseload

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

/// The caller's people in their active territory, filtered; a constant number of queries
/// whatever the number of people shown (access audit rows are written in one statement).
pub async fn caseload(
    app: &App,
    caller: &Caller,
    input: &CaseloadInput,
) -> Result<Caseload, AppError> {
    let scope = scope(caller)?;
    let mut errors = FieldErrors::default();
    let today = today(app);
    let mut filter = CaseloadFilter {
        status: match input.status.as_str() {
            "" => None,
            s => errors
                .check("statut", FunnelStatus::parse(s))
                .map(|s| s.as_str().to_string()),
        },
        in_qpv: match input.qpv.as_str() {
            "oui" => Some(true),
            "non" => Some(false),
            _ => None,
        },
        need_field: match input.field.as_str() {
            "" => None,
            f => errors
                .check("champ", Field::parse(f))
                .map(|f| f.slug().to_string()),
        },
        without_referent: input.without_referent,
        silent_since: match input.silent_days.as_str() {
            "" => None,
            d => match d.parse::<i64>() {
                Ok(n @ (30 | 60 | 90)) => Some(iso(today - Duration::days(n))),
                _ => {
                    errors.add("sans_contact", "Choisissez 30, 60 ou 90 jours.");
                    None
                }
            },
        },
        mine: !(scope.coordinator && input.everyone),
        ids: None,
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut pooled = app.db.acquire().await?;
    let name = fold(input.name.trim());
    if !name.is_empty() {
        // Names are ranked by similarity in memory over the scope (accents and typos forgiven).
        let names = store::persons::names(&mut pooled.conn(), &scope).await?;
        let mut ranked: Vec<(f64, PersonId)> = names
            .iter()
            .map(|n| {
                let whole = name_similarity(&n.folded_name, &name);
                let best_word = n
                    .folded_name
                    .split_whitespace()
                    .map(|w| name_similarity(w, &name))
                    .fold(0.0, f64::max);
                let prefix = if n
                    .folded_name
                    .split_whitespace()
                    .any(|w| w.starts_with(&name))
                {
                    1.0
                } else {
                    0.0
                };
                (whole.max(best_word).max(prefix), n.id)
            })
            .filter(|(s, _)| *s >= 0.45)
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        filter.ids = Some(ranked.into_iter().take(200).map(|(_, id)| id).collect());
    }
    let page = input.page.max(1);
    let offset = i64::try_from((page - 1) * CASELOAD_PAGE).unwrap_or(0);
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
    let ids: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
    let event = store::audit::NewEvent {
        user: Some(caller.user_id),
        action: "person.list",
        target_kind: "person",
        target_id: None,
        territory: Some(scope.territory),
        detail: "/personnes",
        client_ip: caller.client_ip.as_deref(),
    };
    store::audit::record_each(&mut pooled.conn(), &event, &ids, app.now()).await?;
    Ok(Caseload {
        rows,
        total,
        page,
        pages: total.div_ceil(CASELOAD_PAGE).max(1),
        coordinator: scope.coordinator,
        lost_after_days: app.settings.lost_after_days,
        today,
    })
}

// ---------------------------------------------------------------------------------------------
// Duplicates, merge, access log

/// A coordinator merges `from` into `into`: all history kept on `into`, `from` disappears.
pub async fn merge(
    app: &App,
    caller: &Caller,
    into: PersonId,
    from: PersonId,
) -> Result<(), AppError> {
    if into == from {
        return Err(AppError::field(
            "from",
            "Choisissez un autre dossier que celui-ci.",
        ));
    }
    let a = open(
        app,
        caller,
        into,
        "person.merge",
        &format!("/personnes/{}/fusion", into.0),
    )
    .await?;
    let b = open(
        app,
        caller,
        from,
        "person.merge",
        &format!("/personnes/{}/fusion", into.0),
    )
    .await?;
    if !a.coordinator || !b.coordinator || a.territory != b.territory {
        return Err(AppError::Forbidden);
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::persons::merge(&mut tx.conn(), into, from, now).await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.merge",
            ("person", Some(into.0)),
            Some(a.territory),
            &format!("dossier n° {} fusionné dans celui-ci", from.0),
        )
        .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person.merge",
            ("person", Some(from.0)),
            Some(a.territory),
            &format!("fusionné dans le dossier n° {}", into.0),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Who opened or changed a person's file, and when (coordinators and the référent).
pub async fn access_log(
    app: &App,
    caller: &Caller,
    id: PersonId,
) -> Result<(Person, Vec<store::audit::Event>), AppError> {
    let access = open(
        app,
        caller,
        id,
        "person.read",
        &format!("/personnes/{}/acces", id.0),
    )
    .await?;
    if !access.manages() {
        return Err(AppError::Forbidden);
    }
    let mut pooled = app.db.acquire().await?;
    let person = store::persons::get(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let events = store::audit::for_target(&mut pooled.conn(), "person", id.0, 1000).await?;
    Ok((person, events))
}

/// How many refused attempts within a day make an account worth a warning.
pub const SUSPICIOUS_ATTEMPTS: i64 = 5;
/// Events per page of the coordinators' access log.
pub const ACCESS_PAGE: i64 = 50;

/// The coordinators' access log, as asked: person, user, dates (JJ/MM/AAAA), refusals only.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AccessLogInput {
    pub personne: String,
    pub utilisateur: String,
    pub du: String,
    pub au: String,
    pub refus: String,
    pub page: String,
}

pub struct AccessLog {
    pub events: Vec<store::audit::Event>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Accounts that piled up refused attempts in the last 24 hours.
    pub suspicious: Vec<store::audit::Suspicious>,
    pub team: Vec<store::memberships::TeamMember>,
}

/// The territory's person-file events, newest first, filtered and paged: coordinators watch
/// who opens which file, and who tried to open a file they may not see.
pub async fn territory_access_log(
    app: &App,
    caller: &Caller,
    input: &AccessLogInput,
) -> Result<AccessLog, AppError> {
    let scope = scope(caller)?;
    if !scope.coordinator {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let number = |errors: &mut FieldErrors, field: &'static str, text: &str| -> Option<i64> {
        match text.trim().trim_start_matches("n°").trim() {
            "" => None,
            t => match t.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errors.add(field, "Indiquez un numéro (chiffres seulement).");
                    None
                }
            },
        }
    };
    let person = number(&mut errors, "personne", &input.personne);
    let user = number(&mut errors, "utilisateur", &input.utilisateur).map(UserId);
    let mut day = |field: &'static str, text: &str| match text.trim() {
        "" => None,
        t => errors.check(field, domain::parse_date(t)),
    };
    let from = day("du", &input.du);
    let until = day("au", &input.au);
    if let (Some(f), Some(u)) = (from, until)
        && u < f
    {
        errors.add("au", "La date de fin est avant la date de début.");
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let page = input.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let filter = store::audit::AccessFilter {
        person,
        user,
        from: from.map(domain::calendar::france_midnight),
        until: until
            .and_then(|d| d.succ_opt())
            .map(domain::calendar::france_midnight),
        denied_only: input.refus == "1",
    };
    let mut pooled = app.db.acquire().await?;
    let (events, total) = store::audit::person_events(
        &mut pooled.conn(),
        scope.territory,
        &filter,
        (page - 1) * ACCESS_PAGE,
        ACCESS_PAGE,
    )
    .await?;
    let suspicious = store::audit::suspicious_accounts(
        &mut pooled.conn(),
        Some(scope.territory),
        app.now() - Duration::hours(24),
        SUSPICIOUS_ATTEMPTS,
    )
    .await?;
    let team = store::memberships::team_of(&mut pooled.conn(), scope.territory).await?;
    Ok(AccessLog {
        events,
        total,
        page,
        pages: ((total + ACCESS_PAGE - 1) / ACCESS_PAGE).max(1),
        suspicious,
        team,
    })
}
