//! « Trouver un relais » (`/annuaire`): search, service pages, edition with history, imports and
//! exports of data·inclusion files, and the thematique → field mapping for administrators.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use app::FieldErrors;
use app::directory::{SearchInput, ServiceInput};
use domain::inclusion::{Service, Vocabulary};
use domain::{Field as ActionField, ServiceId};

use crate::forms::{Checkboxes, Field, date_fr, escape};
use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::{CsrfForm, CsrfMultipart, CurrentUser};
use crate::{AppState, WebError};

fn options(vocabulary: Vocabulary) -> Vec<(String, String)> {
    vocabulary
        .terms()
        .iter()
        .map(|t| (t.value.clone(), t.label.clone()))
        .collect()
}

/// The eight fields as select options (« 5. Mobilité »).
pub fn field_options() -> Vec<(String, String)> {
    ActionField::ALL
        .iter()
        .map(|f| {
            (
                f.slug().to_string(),
                format!("{}. {}", f.number(), f.label()),
            )
        })
        .collect()
}

/// Thematiques as « Catégorie : thème », in the schema's order.
fn thematique_options() -> Vec<(String, String)> {
    Vocabulary::Thematique
        .terms()
        .iter()
        .map(|t| {
            let categorie = t.value.split("--").next().unwrap_or_default();
            let group = Vocabulary::Categorie.label(categorie).unwrap_or(categorie);
            (t.value.clone(), format!("{group} : {}", t.label))
        })
        .collect()
}

fn thematique_groups() -> Vec<(String, Vec<(String, String)>)> {
    Vocabulary::Categorie
        .terms()
        .iter()
        .map(|c| {
            let prefix = format!("{}--", c.value);
            let items = Vocabulary::Thematique
                .terms()
                .iter()
                .filter(|t| t.value.starts_with(&prefix))
                .map(|t| (t.value.clone(), t.label.clone()))
                .collect();
            (c.label.clone(), items)
        })
        .collect()
}

fn labels(values: &Option<Vec<String>>, vocabulary: Vocabulary) -> Vec<String> {
    values
        .iter()
        .flatten()
        .map(|v| vocabulary.label(v).unwrap_or(v).to_string())
        .collect()
}

fn distance(m: f64) -> String {
    if m < 1000.0 {
        format!("à {} m", (m / 10.0).round() * 10.0)
    } else {
        format!("à {} km", format!("{:.1}", m / 1000.0).replace('.', ","))
    }
}

// ---------------------------------------------------------------------------------------------
// Search

#[derive(Deserialize, Default, Clone, serde::Serialize)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    lieu: String,
    champ: String,
    thematique: String,
    public: String,
    #[serde(rename = "type")]
    kind: String,
    frais: String,
    accueil: String,
    specifique: String,
    #[serde(skip_serializing)]
    page: Option<usize>,
}

pub struct HitView {
    pub id: i64,
    pub nom: String,
    pub structure: String,
    pub summary: String,
    pub fields: Vec<String>,
    pub distance: Option<String>,
    pub remote: bool,
    pub zone_unknown: bool,
    pub stale: bool,
    pub specific: bool,
    pub commune: String,
    pub frais: Option<String>,
}

pub struct PageLink {
    pub number: usize,
    pub href: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "directory/search.html")]
pub struct SearchPage {
    layout: Layout,
    text: Field,
    place: Field,
    filters: Vec<Field>,
    specific_only: bool,
    searched: bool,
    error_count: usize,
    hits: Vec<HitView>,
    total: usize,
    place_name: Option<String>,
    place_unlocated: bool,
    pages: Vec<PageLink>,
    directory_size: i64,
    territory: String,
    may_add: bool,
    coordinator: bool,
}

fn summary(description: &str) -> String {
    let mut out: String = description.chars().take(220).collect();
    if description.chars().count() > 220 {
        out = out.trim_end().to_string() + "…";
    }
    out
}

pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<Response, WebError> {
    let Some(territory) = user.caller.active_territory.clone() else {
        return Err(app::AppError::NotFound.into());
    };
    let searched = !(q.q.is_empty()
        && q.lieu.is_empty()
        && q.champ.is_empty()
        && q.thematique.is_empty()
        && q.public.is_empty()
        && q.kind.is_empty()
        && q.frais.is_empty()
        && q.accueil.is_empty()
        && q.specifique.is_empty()
        && q.page.is_none());
    let input = SearchInput {
        field: q.champ.clone(),
        thematique: q.thematique.clone(),
        public: q.public.clone(),
        kind: q.kind.clone(),
        frais: q.frais.clone(),
        mode_accueil: q.accueil.clone(),
        specific_only: !q.specifique.is_empty(),
        text: q.q.clone(),
        place: q.lieu.clone(),
        page: q.page.unwrap_or(1),
    };
    let (results, errors) = match app::directory::search(&state.app, &user.caller, &input).await {
        Ok(r) => (Some(r), FieldErrors::default()),
        Err(app::AppError::Invalid(e)) => (None, e),
        Err(e) => return Err(e.into()),
    };
    let coordinator = user.caller.coordinates(territory.id);
    let may_add = coordinator || !user.caller.organisations_in(territory.id).is_empty();
    let base = serde_urlencoded::to_string(&q).unwrap_or_default();
    let mut page = SearchPage {
        layout: Layout::for_user("Trouver un relais", &user, Nav::Directory)
            .crumbs(&[("Accueil", "/"), ("Trouver un relais", "")]),
        text: Field::typed("q", "Mots-clés", &q.q, "search", "off")
            .hint("Par exemple : permis, garde d'enfants, français, CV")
            .errors(&errors),
        place: Field::text("lieu", "Commune ou code postal", &q.lieu)
            .hint("Les résultats sont classés du plus proche au plus éloigné")
            .errors(&errors),
        filters: vec![
            Field::select("champ", "Champ d'action", &q.champ, field_options()).errors(&errors),
            Field::select(
                "thematique",
                "Thématique",
                &q.thematique,
                thematique_options(),
            )
            .errors(&errors),
            Field::select("public", "Public", &q.public, options(Vocabulary::Public))
                .errors(&errors),
            Field::select(
                "type",
                "Type de service",
                &q.kind,
                options(Vocabulary::TypeService),
            )
            .errors(&errors),
            Field::select("frais", "Frais", &q.frais, options(Vocabulary::Frais)).errors(&errors),
            Field::select(
                "accueil",
                "Mode d'accueil",
                &q.accueil,
                options(Vocabulary::ModeAccueil),
            )
            .errors(&errors),
        ],
        specific_only: input.specific_only,
        searched,
        error_count: errors.iter().count(),
        hits: Vec::new(),
        total: 0,
        place_name: None,
        place_unlocated: false,
        pages: Vec::new(),
        directory_size: 0,
        territory: territory.name.clone(),
        may_add,
        coordinator,
    };
    let status = crate::forms::status_for(&errors);
    if let Some(r) = results {
        page.total = r.total;
        page.place_name = r.place.clone();
        page.place_unlocated = r.place_unlocated;
        page.directory_size = r.directory_size;
        if r.pages > 1 {
            page.pages = (1..=r.pages)
                .map(|n| PageLink {
                    number: n,
                    href: format!("/annuaire?{base}&page={n}"),
                    current: n == r.page,
                })
                .collect();
        }
        page.hits = r
            .hits
            .into_iter()
            .map(|h| HitView {
                id: h.id.0,
                remote: h.service.is_remote(),
                summary: summary(&h.service.description),
                commune: h.service.commune.clone().unwrap_or_default(),
                frais: h
                    .service
                    .frais
                    .as_deref()
                    .and_then(|f| Vocabulary::Frais.label(f))
                    .map(str::to_string),
                nom: h.service.nom,
                structure: h.structure,
                fields: h.fields.iter().map(|f| f.label().to_string()).collect(),
                distance: h.distance_m.map(distance),
                zone_unknown: h.eligible.is_none() && page.place_name.is_some(),
                stale: h.stale,
                specific: h.specific,
            })
            .collect();
    }
    Ok((status, page).into_response())
}

// ---------------------------------------------------------------------------------------------
// Service page

#[derive(Template, WebTemplate)]
#[template(path = "directory/service.html")]
pub struct ServicePageView {
    layout: Layout,
    id: i64,
    s: Service,
    structure: domain::inclusion::Structure,
    kind: Option<String>,
    thematiques: Vec<String>,
    publics: Vec<String>,
    modes_accueil: Vec<String>,
    modes_mobilisation: Vec<String>,
    mobilisable_par: Vec<String>,
    frais: Option<String>,
    zone: Vec<String>,
    fields: Vec<(String, String)>,
    offer: Option<OfferView>,
    stale: bool,
    date_maj: String,
    quality: u32,
    criteria: Vec<(&'static str, bool)>,
    may_edit: bool,
    /// The territory's rules (code, name, required by this service).
    rules: Vec<(String, String, bool)>,
    may_set_rules: bool,
    required_rules: bool,
    weekly: Option<String>,
    /// The service's opening hours (else its structure's), in French when they can be read.
    hours: Option<String>,
    /// « répond en général sous N jours », from its answers to orientations.
    within: Option<String>,
}

/// The specific offer, ready to show.
pub struct OfferView {
    pub funder: String,
    pub amount: Option<String>,
    pub period: Option<String>,
    pub capacity: Option<i64>,
}

fn zone_label(app: &app::App, code: &str) -> String {
    use domain::inclusion::ZoneCode;
    match ZoneCode::classify(code) {
        Some(ZoneCode::France) => "France entière".into(),
        Some(ZoneCode::Commune) => domain::InseeCode::parse(code)
            .ok()
            .and_then(|c| app.referential.commune(&c))
            .map_or_else(|| code.to_string(), |c| format!("{} ({code})", c.name)),
        Some(ZoneCode::Departement) => app
            .referential
            .departement(code)
            .map_or_else(|| code.to_string(), |d| format!("{} ({code})", d.name)),
        Some(ZoneCode::Epci) => domain::EpciCode::parse(code)
            .ok()
            .and_then(|c| app.referential.epci(&c))
            .map_or_else(|| code.to_string(), |e| e.name.clone()),
        _ => code.to_string(),
    }
}

pub async fn show_service(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ServiceId>,
    Query(m): Query<MessageQuery>,
) -> Result<ServicePageView, WebError> {
    let p = app::directory::get(&state.app, &user.caller, id).await?;
    let within =
        crate::orientations::within(app::orientations::answers_within(&state.app, id).await?);
    let s = &p.service;
    let offer = p.offer.as_ref().map(|o| OfferView {
        funder: o.funder.clone(),
        amount: o.amount_euros.map(|a| format!("{} €", group_thousands(a))),
        period: match (&o.period_start, &o.period_end) {
            (Some(a), Some(b)) => Some(format!("du {} au {}", date_fr(a), date_fr(b))),
            (Some(a), None) => Some(format!("à partir du {}", date_fr(a))),
            (None, Some(b)) => Some(format!("jusqu'au {}", date_fr(b))),
            (None, None) => None,
        },
        capacity: o.capacity,
    });
    let weekly = match (s.volume_horaire_hebdomadaire, s.nombre_semaines) {
        (Some(h), Some(w)) => Some(format!(
            "{} h par semaine pendant {w} semaine{}",
            h.to_string().replace('.', ","),
            if w > 1 { "s" } else { "" }
        )),
        (Some(h), None) => Some(format!("{} h par semaine", h.to_string().replace('.', ","))),
        (None, Some(w)) => Some(format!("{w} semaine{}", if w > 1 { "s" } else { "" })),
        (None, None) => None,
    };
    Ok(ServicePageView {
        within,
        layout: Layout::for_user(&s.nom, &user, Nav::Directory)
            .crumbs(&[
                ("Accueil", "/"),
                ("Trouver un relais", "/annuaire"),
                (&s.nom, ""),
            ])
            .with_message(m.message.as_deref()),
        id: id.0,
        kind: s
            .type_
            .as_deref()
            .and_then(|t| Vocabulary::TypeService.label(t))
            .map(str::to_string),
        thematiques: labels(&s.thematiques, Vocabulary::Thematique),
        publics: labels(&s.publics, Vocabulary::Public),
        modes_accueil: labels(&s.modes_accueil, Vocabulary::ModeAccueil),
        modes_mobilisation: labels(&s.modes_mobilisation, Vocabulary::ModeMobilisation),
        mobilisable_par: labels(&s.mobilisable_par, Vocabulary::PersonneMobilisatrice),
        frais: s
            .frais
            .as_deref()
            .and_then(|f| Vocabulary::Frais.label(f))
            .map(str::to_string),
        zone: s
            .zone_eligibilite
            .iter()
            .flatten()
            .map(|c| zone_label(&state.app, c))
            .collect(),
        fields: p
            .fields
            .iter()
            .map(|f| (f.slug().to_string(), f.label().to_string()))
            .collect(),
        offer,
        stale: p.stale,
        date_maj: date_fr(&s.date_maj),
        quality: p.quality.percent(),
        criteria: p.quality.criteria.clone(),
        may_edit: p.may_edit,
        rules: p.rules.clone(),
        may_set_rules: p.may_set_rules,
        required_rules: p.rules.iter().any(|r| r.2),
        weekly,
        hours: match (&s.horaires_accueil, &p.structure.horaires_accueil) {
            (Some(h), _) => {
                Some(domain::inclusion::opening_hours_fr(h).unwrap_or_else(|| h.clone()))
            }
            (None, Some(h)) => Some(format!(
                "{} (horaires de la structure)",
                domain::inclusion::opening_hours_fr(h).unwrap_or_else(|| h.clone())
            )),
            (None, None) => None,
        },
        structure: p.structure.clone(),
        s: p.service.clone(),
    })
}

fn group_thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

// ---------------------------------------------------------------------------------------------
// Edition

#[derive(Template, WebTemplate)]
#[template(path = "directory/edit.html")]
pub struct EditPage {
    layout: Layout,
    heading: String,
    action: String,
    cancel: String,
    structure: Option<Field>,
    main: Vec<Field>,
    thematiques: Checkboxes,
    publics: Checkboxes,
    public_fields: Vec<Field>,
    modes_accueil: Checkboxes,
    place: Vec<Field>,
    contact: Vec<Field>,
    modes_mobilisation: Checkboxes,
    mobilisable_par: Checkboxes,
    mobilisation: Vec<Field>,
    duration: Vec<Field>,
    specific: bool,
    offer: Vec<Field>,
    errors: Vec<(String, String)>,
}

/// Labels of the form's fields, to list the errors at the top of the form.
const LABELS: [(&str, &str); 30] = [
    ("structure", "Structure"),
    ("nom", "Nom du service"),
    ("description", "Description"),
    ("type", "Type de service"),
    ("thematiques", "Thématiques"),
    ("publics", "Publics"),
    ("publics_precisions", "Précisions sur les publics"),
    ("frais", "Frais"),
    ("frais_precisions", "Précisions sur les frais"),
    ("conditions_acces", "Conditions d'accès"),
    ("modes_accueil", "Modes d'accueil"),
    ("adresse", "Adresse"),
    ("complement_adresse", "Complément d'adresse"),
    ("code_postal", "Code postal"),
    ("commune", "Commune"),
    ("code_insee", "Commune"),
    ("zone_eligibilite", "Zone d'éligibilité"),
    ("telephone", "Téléphone"),
    ("courriel", "Courriel"),
    ("contact_nom_prenom", "Contact"),
    ("lien_mobilisation", "Lien de mobilisation"),
    ("modes_mobilisation", "Modes de mobilisation"),
    ("mobilisable_par", "Mobilisable par"),
    ("volume_horaire_hebdomadaire", "Heures par semaine"),
    ("nombre_semaines", "Nombre de semaines"),
    ("funder", "Financeur"),
    ("amount_euros", "Montant"),
    ("period_start", "Début"),
    ("period_end", "Fin"),
    ("capacity", "Capacité"),
];

fn edit_page(
    user: &CurrentUser,
    target: (&str, String, String, String),
    structures: Option<Vec<(String, String)>>,
    i: &ServiceInput,
    errors: &FieldErrors,
) -> EditPage {
    let (title, heading, action, cancel) = target;
    let e = errors;
    EditPage {
        layout: Layout::for_user(title, user, Nav::Directory).crumbs(&[("Accueil", "/"), ("Trouver un relais", "/annuaire"), (title, "")]),
        heading,
        action,
        cancel,
        structure: structures.map(|s| Field::select("structure", "Structure qui propose le service", &i.structure, s).required().errors(e)),
        main: vec![
            Field::text("nom", "Nom du service", &i.nom).required().hint("Entre 3 et 150 caractères").errors(e),
            Field::textarea("description", "Description", &i.description).required().hint("Idéalement entre 200 et 2 000 caractères, en phrases courtes et simples").errors(e),
            Field::select("type", "Type de service", &i.kind, options(Vocabulary::TypeService)).errors(e),
            Field::select("frais", "Frais", &i.frais, options(Vocabulary::Frais)).errors(e),
            Field::text("frais_precisions", "Précisions sur les frais", &i.frais_precisions).errors(e),
            Field::textarea("conditions_acces", "Conditions d'accès", &i.conditions_acces).hint("Prérequis, justificatifs à présenter").errors(e),
        ],
        thematiques: Checkboxes::grouped("thematiques", "Thématiques", thematique_groups(), &i.thematiques)
            .hint("Elles relient le service aux champs d'action")
            .errors(e),
        publics: Checkboxes::new("publics", "Publics", options(Vocabulary::Public), &i.publics)
            .hint("« Tous publics » ne se combine pas avec d'autres publics")
            .errors(e),
        public_fields: vec![Field::text("publics_precisions", "Précisions sur les publics", &i.publics_precisions).errors(e)],
        modes_accueil: Checkboxes::new("modes_accueil", "Modes d'accueil", options(Vocabulary::ModeAccueil), &i.modes_accueil).inline().errors(e),
        place: vec![
            Field::typed("adresse", "Adresse", &i.adresse, "text", "street-address").errors(e),
            Field::text("complement_adresse", "Complément d'adresse", &i.complement_adresse).errors(e),
            Field::typed("code_postal", "Code postal", &i.code_postal, "text", "postal-code").errors(e),
            Field::text("commune", "Commune", &i.commune).hint("Facultative quand le code postal ne dessert qu'une commune").errors(e),
            Field::text("zone_eligibilite", "Zone d'éligibilité", &i.zone_eligibilite)
                .hint("Codes séparés par des espaces : commune (59392), département (59), EPCI (200043396) ou « france »")
                .errors(e),
            Field::text("horaires_accueil", "Horaires d'accueil", &i.horaires_accueil).hint("Format OpenStreetMap, par exemple : Mo-Fr 09:00-12:00").errors(e),
        ],
        contact: vec![
            Field::typed("telephone", "Téléphone", &i.telephone, "tel", "off").errors(e),
            Field::typed("courriel", "Courriel", &i.courriel, "email", "off").errors(e),
            Field::text("contact_nom_prenom", "Personne à contacter", &i.contact_nom_prenom).errors(e),
        ],
        modes_mobilisation: Checkboxes::new("modes_mobilisation", "Comment mobiliser le service", options(Vocabulary::ModeMobilisation), &i.modes_mobilisation).errors(e),
        mobilisable_par: Checkboxes::new("mobilisable_par", "Qui peut le mobiliser", options(Vocabulary::PersonneMobilisatrice), &i.mobilisable_par).inline().errors(e),
        mobilisation: vec![
            Field::typed("lien_mobilisation", "Lien de mobilisation", &i.lien_mobilisation, "url", "off").hint("Adresse complète, https://…").errors(e),
            Field::text("mobilisation_precisions", "Précisions sur la mobilisation", &i.mobilisation_precisions).errors(e),
        ],
        duration: vec![
            Field::text("volume_horaire_hebdomadaire", "Heures par semaine", &i.volume_horaire_hebdomadaire).hint("Compte pour les 15 à 20 heures d'activité hebdomadaire").errors(e),
            Field::text("nombre_semaines", "Nombre de semaines", &i.nombre_semaines).errors(e),
        ],
        specific: i.specific,
        offer: vec![
            Field::text("funder", "Financeur", &i.funder).errors(e),
            Field::text("amount_euros", "Montant (euros)", &i.amount_euros).errors(e),
            Field::typed("period_start", "Début de la période", &i.period_start, "date", "off").errors(e),
            Field::typed("period_end", "Fin de la période", &i.period_end, "date", "off").errors(e),
            Field::text("capacity", "Capacité (places)", &i.capacity).errors(e),
        ],
        errors: errors
            .iter()
            .map(|(f, m)| {
                let anchor = if f == "code_insee" { "commune" } else { f };
                let label = LABELS.iter().find(|(n, _)| *n == f).map_or("Formulaire", |(_, l)| l);
                (anchor.to_string(), format!("{label} : {m}"))
            })
            .collect(),
    }
}

pub async fn edit_service(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ServiceId>,
) -> Result<EditPage, WebError> {
    let p = app::directory::get(&state.app, &user.caller, id).await?;
    if !p.may_edit {
        return Err(app::AppError::Forbidden.into());
    }
    let input = ServiceInput::from_page(&p);
    Ok(edit_page(
        &user,
        (
            "Modifier le service",
            format!("Modifier « {} »", p.service.nom),
            format!("/annuaire/services/{id}/modifier"),
            format!("/annuaire/services/{id}"),
        ),
        None,
        &input,
        &FieldErrors::default(),
    ))
}

pub async fn update_service(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ServiceId>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let input: ServiceInput = crate::forms::decode(&pairs)?;
    match app::directory::update(&state.app, &user.caller, id, &input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/annuaire/services/{id}?message=service-modifie"))
                .into_response(),
        ),
        Err(app::AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            edit_page(
                &user,
                (
                    "Modifier le service",
                    format!("Modifier « {} »", input.nom),
                    format!("/annuaire/services/{id}/modifier"),
                    format!("/annuaire/services/{id}"),
                ),
                None,
                &input,
                &errors,
            ),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn structure_options(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<(String, String)>, WebError> {
    let structures = app::directory::editable_structures(&state.app, &user.caller).await?;
    if structures.is_empty() {
        return Err(app::AppError::Forbidden.into());
    }
    Ok(structures
        .into_iter()
        .map(|(id, nom)| (id.0.to_string(), nom))
        .collect())
}

fn new_target() -> (&'static str, String, String, String) {
    (
        "Ajouter un service",
        "Ajouter un service à l'annuaire".into(),
        "/annuaire/services/nouveau".into(),
        "/annuaire".into(),
    )
}

pub async fn new_service(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<EditPage, WebError> {
    let structures = structure_options(&state, &user).await?;
    let mut input = ServiceInput::default();
    if let [(only, _)] = structures.as_slice() {
        input.structure = only.clone();
    }
    Ok(edit_page(
        &user,
        new_target(),
        Some(structures),
        &input,
        &FieldErrors::default(),
    ))
}

pub async fn create_service(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let input: ServiceInput = crate::forms::decode(&pairs)?;
    match app::directory::create(&state.app, &user.caller, &input).await {
        Ok(id) => Ok(
            Redirect::to(&format!("/annuaire/services/{}?message=service-cree", id.0))
                .into_response(),
        ),
        Err(app::AppError::Invalid(errors)) => {
            let structures = structure_options(&state, &user).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                edit_page(&user, new_target(), Some(structures), &input, &errors),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// When, who, how (saisie or import), and each (field, before, after).
type ChangeRow = (String, String, &'static str, Vec<(String, String, String)>);

#[derive(Template, WebTemplate)]
#[template(path = "directory/history.html")]
pub struct HistoryPage {
    layout: Layout,
    id: i64,
    nom: String,
    changes: Vec<ChangeRow>,
}

pub async fn show_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ServiceId>,
) -> Result<HistoryPage, WebError> {
    let (p, changes) = app::directory::history(&state.app, &user.caller, id).await?;
    let nom = p.service.nom.clone();
    Ok(HistoryPage {
        layout: Layout::for_user("Historique du service", &user, Nav::Directory).crumbs(&[
            ("Accueil", "/"),
            ("Trouver un relais", "/annuaire"),
            (&nom, &format!("/annuaire/services/{id}")),
            ("Historique", ""),
        ]),
        id: id.0,
        nom,
        changes: changes
            .into_iter()
            .map(|c| {
                (
                    crate::forms::moment(c.at, user.caller.zone()),
                    c.who,
                    if c.origin == "import" {
                        "import"
                    } else {
                        "saisie"
                    },
                    c.changes,
                )
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Import and export

#[derive(Template, WebTemplate)]
#[template(path = "directory/import.html")]
pub struct ImportPage {
    layout: Layout,
    territory: String,
    file_error: Option<String>,
    report: Option<app::directory_file::ImportReport>,
}

fn import_page(
    user: &CurrentUser,
    file_error: Option<String>,
    report: Option<app::directory_file::ImportReport>,
) -> Result<ImportPage, WebError> {
    let territory = user
        .caller
        .active_territory
        .clone()
        .ok_or(app::AppError::NotFound)?;
    if !user.caller.coordinates(territory.id) {
        return Err(app::AppError::Forbidden.into());
    }
    Ok(ImportPage {
        layout: Layout::for_user("Importer des services", user, Nav::Directory).crumbs(&[
            ("Accueil", "/"),
            ("Trouver un relais", "/annuaire"),
            ("Importer", ""),
        ]),
        territory: territory.name,
        file_error,
        report,
    })
}

pub async fn show_import(user: CurrentUser) -> Result<ImportPage, WebError> {
    import_page(&user, None, None)
}

pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    form: CsrfMultipart,
) -> Result<Response, WebError> {
    let slug = user
        .caller
        .active_territory
        .as_ref()
        .map(|t| t.slug.clone())
        .unwrap_or_default();
    let Some((_, bytes)) = form.file else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            import_page(
                &user,
                Some("Choisissez un fichier data·inclusion (JSON ou CSV).".into()),
                None,
            )?,
        )
            .into_response());
    };
    match app::directory_file::import_as(
        &state.app,
        &user.caller,
        &slug,
        std::io::Cursor::new(bytes),
    )
    .await
    {
        Ok(report) => Ok(import_page(&user, None, Some(report))?.into_response()),
        Err(app::AppError::Invalid(e)) => {
            let message = e.get("fichier").map_or_else(
                || "Le fichier a été refusé.".to_string(),
                |m| format!("Fichier illisible, rien n'a été importé : {m}"),
            );
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                import_page(&user, Some(message), None)?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    let territory = user
        .caller
        .active_territory
        .clone()
        .ok_or(app::AppError::NotFound)?;
    let bytes = app::directory_file::export_as(&state.app, &user.caller, &territory.slug).await?;
    let name = format!("annuaire-{}-data-inclusion.json", territory.slug);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Mapping thematiques → fields

pub struct MappingRow {
    pub value: String,
    pub label: String,
    pub categorie: String,
    pub fields: Vec<(String, String, bool)>,
    pub overridden: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "directory/mapping.html")]
pub struct MappingPage {
    layout: Layout,
    rows: Vec<MappingRow>,
}

pub async fn show_mapping(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(m): Query<MessageQuery>,
) -> Result<MappingPage, WebError> {
    user.caller.require_admin()?;
    let mapping = app::directory::mapping(&state.app).await?;
    let rows = Vocabulary::Thematique
        .terms()
        .iter()
        .map(|t| {
            let categorie = t.value.split("--").next().unwrap_or_default();
            MappingRow {
                value: t.value.clone(),
                label: t.label.clone(),
                categorie: Vocabulary::Categorie
                    .label(categorie)
                    .unwrap_or(categorie)
                    .to_string(),
                fields: ActionField::ALL
                    .iter()
                    .map(|f| {
                        (
                            f.slug().to_string(),
                            f.label().to_string(),
                            mapping.fields_of(&t.value).contains(f),
                        )
                    })
                    .collect(),
                overridden: mapping.is_overridden(&t.value),
            }
        })
        .collect();
    Ok(MappingPage {
        layout: Layout::for_user("Thématiques et champs d'action", &user, Nav::Admin)
            .crumbs(&[
                ("Accueil", "/"),
                ("Administration", "/admin"),
                ("Thématiques et champs d'action", ""),
            ])
            .with_message(m.message.as_deref()),
        rows,
    })
}

pub async fn update_mapping(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let thematique = pairs
        .iter()
        .find(|(k, _)| k == "thematique")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let reset = pairs.iter().any(|(k, _)| k == "defaut");
    let fields: Vec<ActionField> = pairs
        .iter()
        .filter(|(k, _)| k == "champs")
        .filter_map(|(_, v)| ActionField::parse(v).ok())
        .collect();
    app::directory::set_mapping(
        &state.app,
        &user.caller,
        &thematique,
        if reset { None } else { Some(&fields) },
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/annuaire/correspondances?message=correspondance-modifiee#{}",
        escape(&thematique)
    ))
    .into_response())
}
