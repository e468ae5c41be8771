//! « Personnes » (`/personnes`): repérage, the caseload « Mes personnes », a person's file with its
//! funnel, consent, follow-up group, health section and journal, the access log and merges.
//! Every handler goes through `app::persons`, where need-to-know and the audit trail live.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::models::{CaseloadRow, Consent, Entry, Member, Person};
use app::persons::{
    self, CaseloadInput, EntryForm, EntryInput, OutreachInput, PersonFile, Recorded, SituationInput,
};
use domain::person::{
    ConsentMethod, ConsentPurpose, ContactChannel, ContactOutcome, ExitReason, FunnelStatus,
    JournalKind, MemberEndReason, OutreachChannel, QualificationLevel, Sex, Visibility,
};
use domain::{Field as ActionField, GroupMemberId, PersonId};

use crate::forms::{Checkboxes, Field, Pairs, date_fr, many, one};
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_string()
}

fn yes_no_options() -> Vec<(String, String)> {
    vec![("oui".into(), "Oui".into()), ("non".into(), "Non".into())]
}

fn field_labels(list: &str) -> Vec<String> {
    list.split('|')
        .filter_map(|s| ActionField::parse(s).ok())
        .map(|f| f.label().to_string())
        .collect()
}

fn status_label(s: &str) -> &'static str {
    FunnelStatus::parse(s).map_or("?", FunnelStatus::label)
}

// ---------------------------------------------------------------------------------------------
// Caseload

#[derive(Deserialize, Default, serde::Serialize)]
#[serde(default)]
pub struct CaseloadQuery {
    statut: String,
    qpv: String,
    champ: String,
    sans_referent: String,
    sans_contact: String,
    nom: String,
    tous: String,
    #[serde(skip_serializing)]
    page: Option<usize>,
}

pub struct RowView {
    pub id: i64,
    pub name: String,
    pub status: &'static str,
    pub qpv: String,
    pub last_contact: String,
    pub silent_days: i64,
    pub lost: bool,
    pub fields: Vec<String>,
    pub referent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/list.html")]
pub struct ListPage {
    layout: Layout,
    filters: Vec<Field>,
    name: Field,
    without_referent: bool,
    everyone: bool,
    coordinator: bool,
    rows: Vec<RowView>,
    total: usize,
    pages: Vec<(usize, String, bool)>,
    error_count: usize,
    lost_after_days: u32,
}

fn row_view(r: &CaseloadRow, today: chrono::NaiveDate, lost_after: u32) -> RowView {
    let last = r
        .last_contact_on
        .clone()
        .unwrap_or_else(|| r.met_on.clone());
    let silent_days =
        chrono::NaiveDate::parse_from_str(&last, "%Y-%m-%d").map_or(0, |d| (today - d).num_days());
    RowView {
        id: r.id.0,
        name: full_name(&r.first_name, &r.last_name),
        status: status_label(&r.status),
        qpv: r.qpv_code.clone().unwrap_or_default(),
        last_contact: date_fr(&last),
        silent_days,
        lost: r.status != "sorti" && silent_days > i64::from(lost_after),
        fields: field_labels(&r.need_fields),
        referent: r.referent_name.clone().unwrap_or_default(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CaseloadQuery>,
) -> Result<Response, WebError> {
    let input = CaseloadInput {
        status: q.statut.clone(),
        qpv: q.qpv.clone(),
        field: q.champ.clone(),
        without_referent: !q.sans_referent.is_empty(),
        silent_days: q.sans_contact.clone(),
        name: q.nom.clone(),
        everyone: !q.tous.is_empty(),
        page: q.page.unwrap_or(1),
    };
    let (caseload, errors) = match persons::caseload(&state.app, &user.caller, &input).await {
        Ok(c) => (Some(c), FieldErrors::default()),
        Err(app::AppError::Invalid(e)) => (None, e),
        Err(e) => return Err(e.into()),
    };
    let statuses = FunnelStatus::options();
    let silences = vec![
        ("30".into(), "30 jours".into()),
        ("60".into(), "60 jours".into()),
        ("90".into(), "90 jours".into()),
    ];
    let qpv = vec![
        ("oui".into(), "Habitant un QPV".into()),
        ("non".into(), "Hors QPV ou non vérifié".into()),
    ];
    let base = serde_urlencoded::to_string(&q).unwrap_or_default();
    let coordinator = user
        .caller
        .active_territory
        .as_ref()
        .is_some_and(|t| user.caller.is_coordinator_of(t.id));
    let mut page = ListPage {
        layout: Layout::for_user("Mes personnes", &user, Nav::Persons)
            .crumbs(&[("Accueil", "/"), ("Personnes", "")]),
        filters: vec![
            Field::select("statut", "Statut", &q.statut, statuses).errors(&errors),
            Field::select("qpv", "Quartier prioritaire", &q.qpv, qpv).errors(&errors),
            Field::select(
                "champ",
                "Besoin (champ d'action)",
                &q.champ,
                crate::directory::field_options(),
            )
            .errors(&errors),
            Field::select(
                "sans_contact",
                "Sans contact depuis",
                &q.sans_contact,
                silences,
            )
            .errors(&errors),
        ],
        name: Field::typed("nom", "Nom ou prénom", &q.nom, "search", "off")
            .hint("Les accents et les fautes de frappe sont tolérés")
            .errors(&errors),
        without_referent: input.without_referent,
        everyone: input.everyone,
        coordinator,
        rows: Vec::new(),
        total: 0,
        pages: Vec::new(),
        error_count: errors.iter().count(),
        lost_after_days: state.app.settings.lost_after_days,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if let Some(c) = caseload {
        page.rows = c
            .rows
            .iter()
            .map(|r| row_view(r, c.today, c.lost_after_days))
            .collect();
        page.total = c.total;
        if c.pages > 1 {
            page.pages = (1..=c.pages)
                .map(|n| (n, format!("/personnes?{base}&page={n}"), n == c.page))
                .collect();
        }
    }
    Ok((status, page).into_response())
}

// ---------------------------------------------------------------------------------------------
// Repérage

#[derive(Template, WebTemplate)]
#[template(path = "persons/new.html")]
pub struct NewPage {
    layout: Layout,
    identity: Vec<Field>,
    place: Vec<Field>,
    needs: Checkboxes,
    needs_text: Field,
    health_needs: Field,
    agrees: Field,
    duplicates: Vec<(i64, String, String, String)>,
    hidden: Vec<(String, String)>,
    has_errors: bool,
}

fn outreach_input(pairs: &Pairs) -> OutreachInput {
    OutreachInput {
        first_name: one(pairs, "first_name"),
        last_name: one(pairs, "last_name"),
        phone: one(pairs, "phone"),
        email: one(pairs, "email"),
        address: one(pairs, "address"),
        postal_code: one(pairs, "postal_code"),
        commune: one(pairs, "commune"),
        neighbourhood: one(pairs, "neighbourhood"),
        channel: one(pairs, "channel"),
        place: one(pairs, "place"),
        met_on: one(pairs, "met_on"),
        needs: one(pairs, "needs"),
        need_fields: many(pairs, "need_fields"),
        health_needs: one(pairs, "health_needs"),
        agrees_recontact: one(pairs, "agrees_recontact"),
        confirm: one(pairs, "confirm") == "1",
    }
}

fn identity_fields(i: &OutreachInput, e: &FieldErrors) -> Vec<Field> {
    vec![
        Field::typed("first_name", "Prénom", &i.first_name, "text", "off")
            .required()
            .errors(e),
        Field::typed("last_name", "Nom", &i.last_name, "text", "off")
            .hint("Facultatif au premier contact")
            .errors(e),
        Field::typed("phone", "Téléphone", &i.phone, "tel", "off").errors(e),
        Field::typed("email", "Courriel", &i.email, "email", "off").errors(e),
        Field::text("address", "Adresse", &i.address)
            .hint("Pour vérifier l'appartenance à un quartier prioritaire")
            .errors(e),
        Field::text("postal_code", "Code postal", &i.postal_code).errors(e),
        Field::text("commune", "Commune", &i.commune).errors(e),
        Field::text("neighbourhood", "Quartier ou résidence", &i.neighbourhood)
            .hint("Si l'adresse n'est pas connue")
            .errors(e),
    ]
}

fn new_page(
    today: chrono::NaiveDate,
    user: &CurrentUser,
    i: &OutreachInput,
    e: &FieldErrors,
    duplicates: Vec<persons::Duplicate>,
) -> NewPage {
    let today = today.format("%Y-%m-%d").to_string();
    let met_on = if i.met_on.is_empty() {
        today
    } else {
        i.met_on.clone()
    };
    let hidden = if duplicates.is_empty() {
        Vec::new()
    } else {
        let mut h: Vec<(String, String)> = [
            ("first_name", &i.first_name),
            ("last_name", &i.last_name),
            ("phone", &i.phone),
            ("email", &i.email),
            ("address", &i.address),
            ("postal_code", &i.postal_code),
            ("commune", &i.commune),
            ("neighbourhood", &i.neighbourhood),
            ("channel", &i.channel),
            ("place", &i.place),
            ("met_on", &met_on),
            ("needs", &i.needs),
            ("health_needs", &i.health_needs),
            ("agrees_recontact", &i.agrees_recontact),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        h.extend(
            i.need_fields
                .iter()
                .map(|f| ("need_fields".to_string(), f.clone())),
        );
        h.push(("confirm".into(), "1".into()));
        h
    };
    NewPage {
        layout: Layout::for_user("Repérage d'une personne", user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            ("Repérage", ""),
        ]),
        identity: identity_fields(i, e),
        place: vec![
            Field::select(
                "channel",
                "Canal de repérage",
                &i.channel,
                OutreachChannel::options(),
            )
            .required()
            .errors(e),
            Field::text("place", "Lieu de la rencontre", &i.place).errors(e),
            Field::typed("met_on", "Date de la rencontre", &met_on, "date", "off")
                .required()
                .errors(e),
        ],
        needs: Checkboxes::new(
            "need_fields",
            "Ce dont la personne a besoin",
            crate::directory::field_options(),
            &i.need_fields,
        )
        .errors(e),
        needs_text: Field::textarea("needs", "Ce qu'elle en dit", &i.needs)
            .hint("En quelques mots, sans information de santé : le groupe de suivi le lira")
            .errors(e),
        health_needs: Field::textarea(
            "health_needs",
            "Précisions sur la santé ou le handicap (confidentiel)",
            &i.health_needs,
        )
        .hint("Si « Santé et handicap » est coché. Seuls le référent et les personnes qu'il autorise les liront ; le groupe ne voit pas ce besoin, sauf si le référent choisit de le signaler.")
        .errors(e),
        agrees: Field::select(
            "agrees_recontact",
            "La personne accepte d'être recontactée",
            &i.agrees_recontact,
            yes_no_options(),
        )
        .required()
        .errors(e),
        duplicates: duplicates
            .into_iter()
            .map(|d| (d.id.0, d.name, d.status, d.why))
            .collect(),
        hidden,
        has_errors: !e.is_empty(),
    }
}

pub async fn show_new(State(state): State<AppState>, user: CurrentUser) -> NewPage {
    new_page(
        state.app.today(),
        &user,
        &OutreachInput::default(),
        &FieldErrors::default(),
        Vec::new(),
    )
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input = outreach_input(&pairs);
    match persons::record(&state.app, &user.caller, &input).await {
        Ok(Recorded::Created(id)) => Ok(Redirect::to(&format!(
            "/personnes/{}?message=personne-enregistree",
            id.0
        ))
        .into_response()),
        Ok(Recorded::Duplicates(found)) => Ok((
            StatusCode::OK,
            new_page(
                state.app.today(),
                &user,
                &input,
                &FieldErrors::default(),
                found,
            ),
        )
            .into_response()),
        Err(app::AppError::Invalid(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            new_page(state.app.today(), &user, &input, &e, Vec::new()),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The file

pub struct MemberView {
    pub id: i64,
    pub name: String,
    pub organisation: String,
    pub referent: bool,
    pub health: bool,
    pub since: String,
    pub ended: Option<String>,
}

pub struct EntryView {
    pub date: String,
    pub author: String,
    pub kind: &'static str,
    pub contact: String,
    pub body: String,
    pub visibility: &'static str,
    pub restricted: bool,
}

pub struct ConsentView {
    pub given_on: String,
    pub method: &'static str,
    pub purposes: Vec<&'static str>,
    pub organisations: Vec<String>,
    pub recorded_by: String,
    pub revoked: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/file.html")]
pub struct FilePage {
    layout: Layout,
    id: i64,
    name: String,
    p: Person,
    status: &'static str,
    steps: Vec<String>,
    lost: bool,
    lost_after_days: u32,
    channel: &'static str,
    met_on: String,
    need_fields: Vec<String>,
    qpv: Option<String>,
    qpv_checked: String,
    commune: String,
    situation: Vec<(&'static str, String)>,
    /// RQTH, valid until, the health need and its text, and whether it is shown to the group.
    health: Option<(String, String, bool, String, bool)>,
    health_form: Vec<Field>,
    members: Vec<MemberView>,
    consents: Vec<ConsentView>,
    journal: Vec<EntryView>,
    manages: bool,
    coordinator: bool,
    may_enter: bool,
    may_exit: bool,
    may_contact: bool,
    status_form: Vec<Field>,
    journal_form: Vec<Field>,
    group_form: Vec<Field>,
    referent_form: Vec<Field>,
    end_reasons: Vec<(String, String)>,
    invalid_form: &'static str,
}

fn member_view(m: &Member) -> MemberView {
    MemberView {
        id: m.id.0,
        name: m.user_name.clone(),
        organisation: m
            .organisation_name
            .clone()
            .unwrap_or_else(|| "Coordination".into()),
        referent: m.is_referent,
        health: m.health_access,
        since: m.started_at.format("%d/%m/%Y").to_string(),
        ended: m.ended_at.map(|e| {
            let reason = m
                .end_reason
                .as_deref()
                .and_then(|r| MemberEndReason::parse(r).ok())
                .map_or("", MemberEndReason::label);
            format!("le {} — {reason}", e.format("%d/%m/%Y"))
        }),
    }
}

fn entry_view(e: &Entry) -> EntryView {
    let contact = match (e.channel.as_deref(), e.outcome.as_deref()) {
        (Some(c), Some(o)) => format!(
            "{} — {}",
            ContactChannel::parse(c).map_or("?", ContactChannel::label),
            ContactOutcome::parse(o).map_or("?", ContactOutcome::label)
        ),
        _ => String::new(),
    };
    EntryView {
        date: date_fr(&e.occurred_on),
        author: e.author_name.clone().unwrap_or_default(),
        kind: JournalKind::parse(&e.kind).map_or("?", JournalKind::label),
        contact,
        body: e.body.clone(),
        visibility: Visibility::parse(&e.visibility).map_or("?", Visibility::label),
        restricted: e.visibility != "groupe",
    }
}

fn consent_view(c: &Consent, organisations: &[(i64, String)]) -> ConsentView {
    ConsentView {
        given_on: date_fr(&c.given_on),
        method: ConsentMethod::parse(&c.method).map_or("?", ConsentMethod::label),
        purposes: c
            .purposes
            .split('|')
            .filter_map(|p| ConsentPurpose::parse(p).ok())
            .map(ConsentPurpose::label)
            .collect(),
        organisations: c
            .organisations
            .split('|')
            .filter_map(|o| o.parse::<i64>().ok())
            .map(|o| {
                organisations
                    .iter()
                    .find(|(id, _)| *id == o)
                    .map_or_else(|| format!("structure n° {o}"), |(_, n)| n.clone())
            })
            .collect(),
        recorded_by: c.recorded_by_name.clone().unwrap_or_default(),
        revoked: c.revoked_at.map(|r| {
            format!(
                "retiré le {} par {}",
                r.format("%d/%m/%Y"),
                c.revoked_by_name.clone().unwrap_or_default()
            )
        }),
    }
}

fn yn(b: Option<bool>) -> String {
    match b {
        Some(true) => "oui".into(),
        Some(false) => "non".into(),
        None => "non renseigné".into(),
    }
}

/// Inputs of the file's forms to show again after a refusal.
#[derive(Default)]
struct Forms {
    name: &'static str,
    errors: FieldErrors,
    pairs: Pairs,
}

async fn file_page(
    state: &AppState,
    user: &CurrentUser,
    f: PersonFile,
    message: Option<&str>,
    forms: Forms,
) -> Result<FilePage, WebError> {
    let p = &f.person;
    let name = full_name(&p.first_name, &p.last_name);
    let today = state.app.today();
    let none = FieldErrors::default();
    let e = |form: &str| {
        if forms.name == form {
            &forms.errors
        } else {
            &none
        }
    };
    let v = |k: &str| one(&forms.pairs, k);
    let team = persons::team(&state.app, f.access.territory()).await?;
    let organisations: Vec<(i64, String)> = team
        .iter()
        .filter_map(|m| Some((m.organisation_id?, m.organisation_name.clone()?)))
        .collect();
    let current: Vec<i64> = f
        .members
        .iter()
        .filter(|m| m.ended_at.is_none())
        .map(|m| m.user_id)
        .collect();
    let candidates: Vec<(String, String)> = team
        .iter()
        .filter(|m| !current.contains(&m.user_id.0))
        .map(|m| {
            (
                m.user_id.0.to_string(),
                format!(
                    "{} — {}",
                    m.display_name,
                    m.organisation_name
                        .clone()
                        .unwrap_or_else(|| "coordination".into())
                ),
            )
        })
        .collect();
    let everyone: Vec<(String, String)> = team
        .iter()
        .map(|m| {
            (
                m.user_id.0.to_string(),
                format!(
                    "{} — {}",
                    m.display_name,
                    m.organisation_name
                        .clone()
                        .unwrap_or_else(|| "coordination".into())
                ),
            )
        })
        .collect();
    let mut situation = Vec::new();
    if let Some(b) = p
        .birth_date
        .as_deref()
        .and_then(|b| chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").ok())
    {
        situation.push((
            "Date de naissance",
            format!(
                "{} ({} ans)",
                b.format("%d/%m/%Y"),
                domain::person::age_on(b, today)
            ),
        ));
    }
    if let Some(s) = p.sex.as_deref() {
        situation.push(("Sexe", Sex::parse(s).map_or("?", Sex::label).to_string()));
    }
    if p.status != "repere" && p.status != "contacte" {
        situation.push(("Parent isolé", yn(p.single_parent)));
        situation.push((
            "Enfants de moins de 12 ans",
            p.children_under_12
                .map_or_else(|| "non renseigné".into(), |n| n.to_string()),
        ));
        let ft = match (p.ft_registered, p.ft_since.as_deref()) {
            (Some(true), Some(since)) => format!(
                "oui, depuis le {}{}",
                date_fr(since),
                if persons::is_deld(p, today) {
                    " (demandeur d'emploi de longue durée)"
                } else {
                    ""
                }
            ),
            (r, _) => yn(r),
        };
        situation.push(("Inscrit à France Travail", ft));
        situation.push(("Bénéficiaire du RSA", yn(p.brsa)));
        situation.push(("CEJ ou PACEA", yn(p.cej_pacea)));
        situation.push((
            "Niveau de qualification",
            p.qualification
                .as_deref()
                .and_then(|q| QualificationLevel::parse(q).ok())
                .map_or_else(|| "non renseigné".into(), |q| q.label().to_string()),
        ));
        situation.push((
            "Langues",
            if p.languages.is_empty() {
                "non renseigné".into()
            } else {
                p.languages.clone()
            },
        ));
        situation.push(("Permis de conduire", yn(p.driving_licence)));
        situation.push(("Véhicule", yn(p.vehicle)));
    }
    let visibilities: Vec<(String, String)> = f
        .access
        .visibilities()
        .iter()
        .map(|v| (v.as_str().to_string(), v.label().to_string()))
        .collect();
    let status = FunnelStatus::parse(&p.status).unwrap_or(FunnelStatus::Repere);
    Ok(FilePage {
        layout: Layout::for_user(&format!("Dossier de {name}"), user, Nav::Persons)
            .crumbs(&[("Accueil", "/"), ("Personnes", "/personnes"), (&name, "")])
            .with_message(message),
        id: p.id.0,
        status: status.label(),
        steps: [
            Some(format!("Repérée le {}", date_fr(&p.met_on))),
            p.contacted_on
                .as_deref()
                .map(|d| format!("Contactée le {}", date_fr(d))),
            p.accompanied_on
                .as_deref()
                .map(|d| format!("En accompagnement depuis le {}", date_fr(d))),
            p.exited_on.as_deref().map(|d| {
                let reason = p
                    .exit_reason
                    .as_deref()
                    .and_then(|r| ExitReason::parse(r).ok())
                    .map_or(String::new(), |r| format!(" : {}", r.label()));
                format!("Sortie le {}{reason}", date_fr(d))
            }),
        ]
        .into_iter()
        .flatten()
        .collect(),
        lost: f.lost_from_view,
        lost_after_days: state.app.settings.lost_after_days,
        channel: OutreachChannel::parse(&p.channel).map_or("?", OutreachChannel::label),
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
        qpv: p.qpv_code.clone(),
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
        situation,
        health: f.health.as_ref().map(|h| {
            (
                yn(h.rqth),
                h.rqth_until.as_deref().map(date_fr).unwrap_or_default(),
                h.need,
                h.need_note.clone(),
                h.need_shared,
            )
        }),
        health_form: if f.access.health() {
            let h = f.health.clone().unwrap_or_default();
            let rqth = if forms.name == "sante" {
                v("rqth")
            } else {
                h.rqth
                    .map(|b| {
                        if b {
                            "oui".to_string()
                        } else {
                            "non".to_string()
                        }
                    })
                    .unwrap_or_default()
            };
            let yes = |b: bool| if b { "oui" } else { "non" }.to_string();
            let (need, note, shared) = if forms.name == "sante" {
                (v("need"), v("need_note"), v("need_shared"))
            } else {
                (yes(h.need), h.need_note.clone(), yes(h.need_shared))
            };
            vec![
                Field::select(
                    "rqth",
                    "Reconnaissance de la qualité de travailleur handicapé (RQTH)",
                    &rqth,
                    yes_no_options(),
                )
                .errors(e("sante")),
                Field::select(
                    "need",
                    "Besoin dans le champ « Santé et handicap »",
                    &need,
                    yes_no_options(),
                )
                .errors(e("sante")),
                Field::textarea("need_note", "Précisions (confidentiel)", &note)
                    .errors(e("sante")),
                Field::select(
                    "need_shared",
                    "Signaler au groupe de suivi qu'un besoin de santé existe (sans les précisions)",
                    &shared,
                    yes_no_options(),
                )
                .hint("Les professionnels du groupe sans accès aux données de santé verront seulement « Santé et handicap » dans les besoins.")
                .errors(e("sante")),
                Field::typed(
                    "rqth_until",
                    "Valable jusqu'au",
                    &h.rqth_until.unwrap_or_default(),
                    "date",
                    "off",
                )
                .errors(e("sante")),
            ]
        } else {
            Vec::new()
        },
        members: f.members.iter().map(member_view).collect(),
        consents: f
            .consents
            .iter()
            .map(|c| consent_view(c, &organisations))
            .collect(),
        journal: f.journal.iter().map(entry_view).collect(),
        manages: f.access.manages_group(),
        coordinator: f.access.is_coordinator(),
        may_enter: status < FunnelStatus::EnAccompagnement,
        may_exit: status != FunnelStatus::Sorti,
        may_contact: status == FunnelStatus::Repere,
        status_form: vec![
            Field::typed("on", "Date", &v("on"), "date", "off")
                .required()
                .errors(e("statut")),
            Field::select(
                "exit_reason",
                "Motif de sortie",
                &v("exit_reason"),
                ExitReason::options(),
            )
            .errors(e("statut")),
        ],
        journal_form: vec![
            Field::select(
                "kind",
                "Type",
                &if forms.name == "journal" {
                    v("kind")
                } else {
                    "contact".into()
                },
                JournalKind::options(),
            )
            .required()
            .errors(e("journal")),
            Field::typed(
                "occurred_on",
                "Date",
                &if forms.name == "journal" {
                    v("occurred_on")
                } else {
                    today.format("%Y-%m-%d").to_string()
                },
                "date",
                "off",
            )
            .required()
            .errors(e("journal")),
            Field::select(
                "channel",
                "Canal du contact",
                &v("channel"),
                ContactChannel::options(),
            )
            .errors(e("journal")),
            Field::select(
                "outcome",
                "Résultat du contact",
                &v("outcome"),
                ContactOutcome::options(),
            )
            .errors(e("journal")),
            Field::select(
                "visibility",
                "Qui peut lire",
                &if forms.name == "journal" {
                    v("visibility")
                } else {
                    "groupe".into()
                },
                visibilities,
            )
            .required()
            .errors(e("journal")),
            Field::textarea("body", "Note", &v("body"))
                .hint("Seulement ce qui est nécessaire au suivi")
                .errors(e("journal")),
        ],
        group_form: vec![
            Field::select("user", "Professionnel à ajouter", &v("user"), candidates)
                .required()
                .errors(e("groupe")),
        ],
        referent_form: vec![
            Field::select("referent", "Nouveau référent", &v("referent"), everyone)
                .required()
                .errors(e("referent")),
        ],
        end_reasons: MemberEndReason::options(),
        invalid_form: forms.name,
        name,
        p: f.person.clone(),
    })
}

fn person_id(id: i64) -> PersonId {
    PersonId(id)
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(m): Query<crate::layout::MessageQuery>,
) -> Result<FilePage, WebError> {
    let f = persons::file(
        &state.app,
        &user.caller,
        person_id(id),
        &format!("/personnes/{id}"),
    )
    .await?;
    file_page(&state, &user, f, m.message.as_deref(), Forms::default()).await
}

/// After a form of the file page: back to the file with a message, or the file again with the
/// form's errors and inputs.
async fn after(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    form: &'static str,
    pairs: Pairs,
    outcome: Result<(), app::AppError>,
    message: &str,
) -> Result<Response, WebError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/personnes/{id}?message={message}")).into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let f = persons::file(
                &state.app,
                &user.caller,
                person_id(id),
                &format!("/personnes/{id}"),
            )
            .await?;
            let page = file_page(
                state,
                user,
                f,
                None,
                Forms {
                    name: form,
                    errors,
                    pairs,
                },
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn set_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome = persons::set_status(
        &state.app,
        &user.caller,
        person_id(id),
        &one(&pairs, "status"),
        &one(&pairs, "on"),
        &one(&pairs, "exit_reason"),
    )
    .await;
    after(
        &state,
        &user,
        id,
        "statut",
        pairs,
        outcome,
        "statut-modifie",
    )
    .await
}

pub async fn add_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let form = EntryForm {
        kind: one(&pairs, "kind"),
        occurred_on: one(&pairs, "occurred_on"),
        channel: one(&pairs, "channel"),
        outcome: one(&pairs, "outcome"),
        body: one(&pairs, "body"),
        visibility: one(&pairs, "visibility"),
    };
    let outcome = persons::add_entry(&state.app, &user.caller, person_id(id), &form).await;
    after(&state, &user, id, "journal", pairs, outcome, "journal").await
}

pub async fn add_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome = persons::add_member(
        &state.app,
        &user.caller,
        person_id(id),
        &one(&pairs, "user"),
        one(&pairs, "health_access") == "1",
    )
    .await;
    after(&state, &user, id, "groupe", pairs, outcome, "groupe").await
}

pub async fn end_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, member)): Path<(i64, i64)>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome = persons::end_member(
        &state.app,
        &user.caller,
        person_id(id),
        GroupMemberId(member),
        &one(&pairs, "reason"),
    )
    .await;
    after(&state, &user, id, "groupe", pairs, outcome, "groupe").await
}

pub async fn change_referent(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome = persons::change_referent(
        &state.app,
        &user.caller,
        person_id(id),
        &one(&pairs, "referent"),
    )
    .await;
    after(&state, &user, id, "referent", pairs, outcome, "groupe").await
}

pub async fn revoke_consent(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome = persons::revoke_consent(&state.app, &user.caller, person_id(id))
        .await
        .map(|_| ());
    after(
        &state,
        &user,
        id,
        "consentement",
        pairs,
        outcome,
        "consentement-retire",
    )
    .await
}

pub async fn set_health(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input = persons::HealthInput {
        rqth: one(&pairs, "rqth"),
        rqth_until: one(&pairs, "rqth_until"),
        need: one(&pairs, "need"),
        need_note: one(&pairs, "need_note"),
        need_shared: one(&pairs, "need_shared"),
    };
    let outcome = persons::set_health(&state.app, &user.caller, person_id(id), &input).await;
    after(&state, &user, id, "sante", pairs, outcome, "sante").await
}

// ---------------------------------------------------------------------------------------------
// Entry into accompaniment, edition

#[derive(Template, WebTemplate)]
#[template(path = "persons/form.html")]
pub struct FormPage {
    layout: Layout,
    heading: String,
    intro: String,
    action: String,
    cancel: String,
    sections: Vec<(String, Vec<Field>, Vec<Checkboxes>)>,
    button: String,
    has_errors: bool,
}

fn situation_input(pairs: &Pairs) -> SituationInput {
    SituationInput {
        birth_date: one(pairs, "birth_date"),
        sex: one(pairs, "sex"),
        single_parent: one(pairs, "single_parent"),
        children_under_12: one(pairs, "children_under_12"),
        ft_registered: one(pairs, "ft_registered"),
        ft_since: one(pairs, "ft_since"),
        brsa: one(pairs, "brsa"),
        cej_pacea: one(pairs, "cej_pacea"),
        qualification: one(pairs, "qualification"),
        languages: one(pairs, "languages"),
        driving_licence: one(pairs, "driving_licence"),
        vehicle: one(pairs, "vehicle"),
    }
}

fn situation_fields(s: &SituationInput, e: &FieldErrors) -> Vec<Field> {
    vec![
        Field::typed(
            "birth_date",
            "Date de naissance",
            &s.birth_date,
            "date",
            "off",
        )
        .errors(e),
        Field::select("sex", "Sexe", &s.sex, Sex::options()).errors(e),
        Field::select(
            "single_parent",
            "Parent isolé",
            &s.single_parent,
            yes_no_options(),
        )
        .errors(e),
        Field::text(
            "children_under_12",
            "Enfants de moins de 12 ans",
            &s.children_under_12,
        )
        .errors(e),
        Field::select(
            "ft_registered",
            "Inscrit à France Travail",
            &s.ft_registered,
            yes_no_options(),
        )
        .errors(e),
        Field::typed("ft_since", "Inscrit depuis le", &s.ft_since, "date", "off")
            .hint("Plus d'un an : demandeur d'emploi de longue durée")
            .errors(e),
        Field::select("brsa", "Bénéficiaire du RSA", &s.brsa, yes_no_options()).errors(e),
        Field::select(
            "cej_pacea",
            "En CEJ ou PACEA",
            &s.cej_pacea,
            yes_no_options(),
        )
        .errors(e),
        Field::select(
            "qualification",
            "Niveau de qualification",
            &s.qualification,
            QualificationLevel::options(),
        )
        .errors(e),
        Field::text("languages", "Langues parlées", &s.languages).errors(e),
        Field::select(
            "driving_licence",
            "Permis de conduire",
            &s.driving_licence,
            yes_no_options(),
        )
        .errors(e),
        Field::select("vehicle", "Véhicule", &s.vehicle, yes_no_options()).errors(e),
    ]
}

async fn entry_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    pairs: &Pairs,
    e: &FieldErrors,
) -> Result<FormPage, WebError> {
    let f = persons::file(
        &state.app,
        &user.caller,
        person_id(id),
        &format!("/personnes/{id}/accompagnement"),
    )
    .await?;
    let team = persons::team(&state.app, f.access.territory()).await?;
    let mut organisations: Vec<(String, String)> = team
        .iter()
        .filter_map(|m| Some((m.organisation_id?.to_string(), m.organisation_name.clone()?)))
        .collect();
    organisations.sort();
    organisations.dedup();
    let referents: Vec<(String, String)> = team
        .iter()
        .map(|m| {
            (
                m.user_id.0.to_string(),
                format!(
                    "{} — {}",
                    m.display_name,
                    m.organisation_name
                        .clone()
                        .unwrap_or_else(|| "coordination".into())
                ),
            )
        })
        .collect();
    let given_on = if pairs.is_empty() {
        state.app.today().format("%Y-%m-%d").to_string()
    } else {
        one(pairs, "given_on")
    };
    let referent = if pairs.is_empty() {
        user.caller.user_id.0.to_string()
    } else {
        one(pairs, "referent")
    };
    let purposes = if pairs.is_empty() {
        vec!["accompagnement".to_string(), "partage".to_string()]
    } else {
        many(pairs, "purposes")
    };
    let situation = if pairs.is_empty() {
        SituationInput::from_person(&f.person)
    } else {
        situation_input(pairs)
    };
    let name = full_name(&f.person.first_name, &f.person.last_name);
    Ok(FormPage {
        layout: Layout::for_user("Entrée en accompagnement", user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&name, &format!("/personnes/{id}")),
            ("Entrée en accompagnement", ""),
        ]),
        heading: format!("Entrée en accompagnement de {name}"),
        intro: "Recueillez le consentement de la personne : ce qu'elle accepte, avec quelles structures, et comment elle l'a donné. Elle peut le retirer à tout moment. Ne demandez jamais son numéro de sécurité sociale.".into(),
        action: format!("/personnes/{id}/accompagnement"),
        cancel: format!("/personnes/{id}"),
        sections: vec![
            (
                "Consentement".into(),
                vec![
                    Field::typed("given_on", "Date du consentement", &given_on, "date", "off").required().errors(e),
                    Field::select("method", "Comment il a été donné", &one(pairs, "method"), ConsentMethod::options()).required().errors(e),
                ],
                vec![
                    Checkboxes::new("purposes", "La personne accepte", ConsentPurpose::options(), &purposes).errors(e),
                    Checkboxes::new("organisations", "Structures avec lesquelles partager", organisations, &many(pairs, "organisations"))
                        .hint("Seulement les informations nécessaires à son accompagnement")
                        .errors(e),
                ],
            ),
            ("Référent de parcours".into(), vec![Field::select("referent", "Référent", &referent, referents).required().errors(e)], Vec::new()),
            ("Situation".into(), situation_fields(&situation, e), Vec::new()),
        ],
        button: "Enregistrer l'entrée en accompagnement".into(),
        has_errors: !e.is_empty(),
    })
}

pub async fn show_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<FormPage, WebError> {
    entry_page(&state, &user, id, &Vec::new(), &FieldErrors::default()).await
}

pub async fn enter(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input = EntryInput {
        given_on: one(&pairs, "given_on"),
        method: one(&pairs, "method"),
        purposes: many(&pairs, "purposes"),
        organisations: many(&pairs, "organisations"),
        referent: one(&pairs, "referent"),
        situation: situation_input(&pairs),
    };
    match persons::enter_accompaniment(&state.app, &user.caller, person_id(id), &input).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/personnes/{id}?message=accompagnement")).into_response())
        }
        Err(app::AppError::Invalid(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            entry_page(&state, &user, id, &pairs, &e).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    pairs: &Pairs,
    e: &FieldErrors,
) -> Result<FormPage, WebError> {
    let f = persons::file(
        &state.app,
        &user.caller,
        person_id(id),
        &format!("/personnes/{id}/modifier"),
    )
    .await?;
    let p = &f.person;
    let (identity, situation) = if pairs.is_empty() {
        let commune = p
            .commune_insee
            .as_deref()
            .and_then(|c| domain::InseeCode::parse(c).ok())
            .and_then(|c| state.app.referential.commune(&c))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        (
            OutreachInput {
                first_name: p.first_name.clone(),
                last_name: p.last_name.clone(),
                phone: p.phone.clone().unwrap_or_default(),
                email: p.email.clone().unwrap_or_default(),
                address: p.address.clone(),
                postal_code: p.postal_code.clone(),
                commune,
                neighbourhood: p.neighbourhood.clone(),
                agrees_recontact: if p.agrees_recontact {
                    "oui".into()
                } else {
                    "non".into()
                },
                ..OutreachInput::default()
            },
            SituationInput::from_person(p),
        )
    } else {
        (outreach_input(pairs), situation_input(pairs))
    };
    let name = full_name(&p.first_name, &p.last_name);
    let mut sections = vec![(
        "Coordonnées".to_string(),
        {
            let mut fields = identity_fields(&identity, e);
            fields.push(
                Field::select(
                    "agrees_recontact",
                    "Accepte d'être recontactée",
                    &identity.agrees_recontact,
                    yes_no_options(),
                )
                .errors(e),
            );
            fields
        },
        Vec::new(),
    )];
    if p.status != "repere" && p.status != "contacte" {
        sections.push((
            "Situation".to_string(),
            situation_fields(&situation, e),
            Vec::new(),
        ));
    }
    Ok(FormPage {
        layout: Layout::for_user("Modifier le dossier", user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&name, &format!("/personnes/{id}")),
            ("Modifier", ""),
        ]),
        heading: format!("Modifier le dossier de {name}"),
        intro:
            "Une nouvelle adresse est de nouveau vérifiée par rapport aux quartiers prioritaires."
                .into(),
        action: format!("/personnes/{id}/modifier"),
        cancel: format!("/personnes/{id}"),
        sections,
        button: "Enregistrer".into(),
        has_errors: !e.is_empty(),
    })
}

pub async fn show_edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<FormPage, WebError> {
    edit_page(&state, &user, id, &Vec::new(), &FieldErrors::default()).await
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    match persons::update(
        &state.app,
        &user.caller,
        person_id(id),
        &outreach_input(&pairs),
        &situation_input(&pairs),
    )
    .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/personnes/{id}?message=personne-modifiee")).into_response())
        }
        Err(app::AppError::Invalid(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            edit_page(&state, &user, id, &pairs, &e).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Access log and merge

fn action_label(action: &str) -> &'static str {
    match action {
        "person.read" => "consultation",
        "person.list" => "affichage dans une liste",
        "person.create" => "création",
        "person.journal" => "journal",
        "person.group" => "groupe de suivi",
        "person.consent" => "consentement",
        "person.health" => "données de santé",
        "person.merge" => "fusion",
        "person.duplicate" => "montré comme doublon possible",
        "person.denied" => "tentative refusée",
        _ => "modification",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/territory_access.html")]
pub struct TerritoryAccessPage {
    layout: Layout,
    fields: Vec<Field>,
    denied_only: bool,
    /// When, who, what, which file (id), detail, refused.
    events: Vec<(String, String, String, i64, String, bool)>,
    total: i64,
    page: i64,
    pages: i64,
    /// The query without its page, for the paging links.
    base: String,
    /// Accounts with many refused attempts in the last 24 hours: name and count.
    suspicious: Vec<(String, i64)>,
}

pub async fn territory_access_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(input): Query<persons::AccessLogInput>,
) -> Result<axum::response::Response, WebError> {
    let (log, errors) = match persons::territory_access_log(&state.app, &user.caller, &input).await
    {
        Ok(log) => (Some(log), FieldErrors::default()),
        Err(app::AppError::Invalid(e)) => (None, e),
        Err(e) => return Err(e.into()),
    };
    let team_options = |log: &Option<persons::AccessLog>| {
        let mut options = vec![(String::new(), "Tout le monde".to_string())];
        if let Some(l) = log {
            for m in &l.team {
                let id = m.user_id.0.to_string();
                if !options.iter().any(|(v, _)| *v == id) {
                    options.push((id, m.display_name.clone()));
                }
            }
        }
        options
    };
    let fields = vec![
        Field::text("personne", "Dossier n°", &input.personne).errors(&errors),
        Field::select("utilisateur", "Qui", &input.utilisateur, team_options(&log)).errors(&errors),
        Field::text("du", "Du", &input.du)
            .hint("JJ/MM/AAAA")
            .errors(&errors),
        Field::text("au", "Au", &input.au)
            .hint("JJ/MM/AAAA")
            .errors(&errors),
    ];
    let base = serde_urlencoded::to_string([
        ("personne", input.personne.as_str()),
        ("utilisateur", input.utilisateur.as_str()),
        ("du", input.du.as_str()),
        ("au", input.au.as_str()),
        ("refus", input.refus.as_str()),
    ])
    .unwrap_or_default();
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let log = log.unwrap_or(persons::AccessLog {
        events: Vec::new(),
        total: 0,
        page: 1,
        pages: 1,
        suspicious: Vec::new(),
        team: Vec::new(),
    });
    let page = TerritoryAccessPage {
        layout: Layout::for_user("Accès aux dossiers du territoire", &user, Nav::Persons).crumbs(
            &[
                ("Accueil", "/"),
                ("Personnes", "/personnes"),
                ("Accès aux dossiers", ""),
            ],
        ),
        fields,
        denied_only: input.refus == "1",
        events: log
            .events
            .into_iter()
            .map(|e| {
                (
                    e.at.format("%d/%m/%Y %H:%M:%S UTC").to_string(),
                    e.user_name.unwrap_or_default(),
                    action_label(&e.action).to_string(),
                    e.target_id.unwrap_or_default(),
                    e.detail,
                    e.action == "person.denied",
                )
            })
            .collect(),
        total: log.total,
        page: log.page,
        pages: log.pages,
        base,
        suspicious: log
            .suspicious
            .into_iter()
            .map(|s| (s.user_name, s.attempts))
            .collect(),
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/access.html")]
pub struct AccessPage {
    layout: Layout,
    id: i64,
    name: String,
    events: Vec<(String, String, String, String)>,
}

pub async fn access_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<AccessPage, WebError> {
    let (person, events) = persons::access_log(&state.app, &user.caller, person_id(id)).await?;
    let name = full_name(&person.first_name, &person.last_name);
    Ok(AccessPage {
        layout: Layout::for_user("Journal des accès", &user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&name, &format!("/personnes/{id}")),
            ("Journal des accès", ""),
        ]),
        id,
        name,
        events: events
            .into_iter()
            .map(|e| {
                (
                    e.at.format("%d/%m/%Y %H:%M:%S UTC").to_string(),
                    e.user_name.unwrap_or_default(),
                    action_label(&e.action).to_string(),
                    e.detail,
                )
            })
            .collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "persons/merge.html")]
pub struct MergePage {
    layout: Layout,
    id: i64,
    name: String,
    duplicates: Vec<(i64, String, String, String)>,
    error: Option<String>,
}

async fn merge_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    error: Option<String>,
) -> Result<MergePage, WebError> {
    let f = persons::file(
        &state.app,
        &user.caller,
        person_id(id),
        &format!("/personnes/{id}/fusion"),
    )
    .await?;
    if !f.access.is_coordinator() {
        return Err(app::AppError::Forbidden.into());
    }
    let p = &f.person;
    let found = persons::duplicates_of(
        &state.app,
        &user.caller,
        &p.folded_name,
        p.phone.as_deref(),
        p.email.as_deref(),
        p.birth_date.as_deref(),
        Some(p.id),
    )
    .await?;
    let name = full_name(&p.first_name, &p.last_name);
    Ok(MergePage {
        layout: Layout::for_user("Fusionner des dossiers", user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&name, &format!("/personnes/{id}")),
            ("Fusionner", ""),
        ]),
        id,
        name,
        duplicates: found
            .into_iter()
            .map(|d| (d.id.0, d.name, d.status, d.why))
            .collect(),
        error,
    })
}

pub async fn show_merge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<MergePage, WebError> {
    merge_page(&state, &user, id, None).await
}

pub async fn merge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let from = one(&pairs, "from")
        .parse::<i64>()
        .map(PersonId)
        .unwrap_or(PersonId(0));
    match persons::merge(&state.app, &user.caller, person_id(id), from).await {
        Ok(()) => Ok(Redirect::to(&format!("/personnes/{id}?message=fusion")).into_response()),
        Err(app::AppError::Invalid(e)) => {
            let message = e
                .iter()
                .map(|(_, m)| m.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                merge_page(&state, &user, id, Some(message)).await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
