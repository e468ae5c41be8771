//! Orientations through the API: the lists « reçues » and « envoyées », one orientation, sending
//! one for a person, taking a step. Each goes through the same use cases as the pages — the
//! same rights, the same state machine, the same audit rows on the person's file (a list audits
//! every person it names, an orientation read audits its person), the same mail.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use app::orientations::{self as use_case, DecisionInput, ListInput, ListKind, SendInput};
use domain::api::ApiScope;
use domain::orientation::{DeclineReason, Outcome, Status, Step};
use domain::{Field, OrientationId, PersonId};

use super::{ApiError, ApiUser, api_error, bad_json, from_app, from_app_named};
use crate::AppState;

fn status_schema() -> utoipa::openapi::Object {
    app::schema::codes(
        Status::ALL.iter().map(|s| s.as_str()),
        "Statut : envoyee, a-l-etude, acceptee, declinee, expiree, annulee, entree, absente, terminee",
    )
}

fn list_schema() -> utoipa::openapi::Object {
    app::schema::codes(
        ["recues", "envoyees"],
        "recues : reçues par vos structures ; envoyees : envoyées pour les personnes que vous suivez",
    )
}

fn step_schema() -> utoipa::openapi::Object {
    app::schema::codes(
        Step::ALL.iter().map(|s| s.as_str()),
        "L'étape à franchir (voir `etapes_possibles` d'une orientation)",
    )
}

fn outcome_schema() -> utoipa::openapi::Object {
    app::schema::optional_codes(
        Outcome::ALL.iter().map(|s| s.as_str()),
        "Pour « terminer » : comment l'accompagnement s'est terminé",
    )
}

fn reasons_schema() -> utoipa::openapi::schema::Array {
    app::schema::code_list(
        DeclineReason::ALL.iter().map(|s| s.as_str()),
        0,
        "Pour « decliner » : les motifs du refus (un au moins ; « autre » demande `autre_motif`)",
    )
}

fn fields_schema() -> utoipa::openapi::schema::Array {
    app::schema::code_list(
        Field::ALL.iter().map(|s| s.as_str()),
        1,
        "Les freins que l'orientation doit aider à lever (un au moins ; sante-handicap seulement avec l'accès aux données de santé)",
    )
}

/// Un code et son libellé.
#[derive(Serialize, ToSchema)]
struct Labelled {
    code: &'static str,
    libelle: &'static str,
}

impl Labelled {
    fn status(s: Status) -> Labelled {
        Labelled {
            code: s.as_str(),
            libelle: s.label(),
        }
    }
}

// A path's identifier: a number, or the JSON 404 (an identifier that cannot exist).
fn id_of(path: Result<Path<i64>, PathRejection>) -> Result<i64, Box<Response>> {
    match path {
        Ok(Path(id)) if id > 0 => Ok(id),
        _ => Err(Box::new(from_app(app::AppError::NotFound))),
    }
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Quelle liste (par défaut : recues).
    #[param(schema_with = list_schema)]
    liste: Option<String>,
    #[param(schema_with = status_schema)]
    statut: Option<String>,
    /// L'identifiant de la structure de l'autre côté (destinataire ou orienteur).
    organisation: Option<i64>,
    /// L'identifiant du service de l'annuaire.
    service: Option<i64>,
    /// Envoyées à partir de ce jour (AAAA-MM-JJ ou JJ/MM/AAAA).
    du: Option<String>,
    /// Envoyées jusqu'à ce jour inclus.
    au: Option<String>,
    /// Pour « envoyees » : seulement celles que vous avez envoyées.
    miennes: Option<bool>,
    /// La page, de 50 orientations (à partir de 1).
    #[param(minimum = 1)]
    page: Option<i64>,
}

/// Une personne, telle qu'une liste la nomme.
#[derive(Serialize, ToSchema)]
struct PersonName {
    id: i64,
    prenom: String,
    nom: String,
}

/// Une ligne de la liste.
#[derive(Serialize, ToSchema)]
struct OrientationLine {
    id: i64,
    /// Null quand la structure destinataire ne peut plus savoir de qui il s'agit (orientation
    /// déclinée, expirée ou annulée avant d'être acceptée).
    personne: Option<PersonName>,
    statut: Labelled,
    /// Le jour où ce statut a commencé (AAAA-MM-JJ).
    depuis: String,
    envoyee_le: DateTime<Utc>,
    repondue_le: Option<DateTime<Utc>>,
    /// Le jour de l'entrée effective (AAAA-MM-JJ).
    entree_le: Option<String>,
    service: String,
    destinataire: String,
    orienteur: Option<String>,
    structure_orienteuse: Option<String>,
    /// L'orientation que celle-ci suit (une réorientation).
    precedente: Option<i64>,
    /// Jours depuis l'envoi pour une orientation ouverte, délai de réponse pour une orientation
    /// répondue.
    delai_jours: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct StatusCount {
    statut: Labelled,
    nombre: i64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct OrientationList {
    #[schema(schema_with = list_schema)]
    liste: &'static str,
    /// Les orientations qui répondent aux filtres (toutes pages confondues).
    total: i64,
    page: i64,
    par_page: i64,
    /// Par statut, les autres filtres appliqués.
    par_statut: Vec<StatusCount>,
    orientations: Vec<OrientationLine>,
    /// Le délai de réponse médian de vos structures sur un an, en jours (liste « recues »).
    repond_sous_jours: Option<i64>,
}

/// Les orientations reçues par vos structures dans votre territoire, ou envoyées pour les
/// personnes que vous suivez, 50 par page, les plus récentes d'abord. Chaque personne nommée
/// est inscrite au journal d'accès de sa fiche.
#[utoipa::path(
    get,
    path = "/api/v1/orientations",
    tag = "orientations",
    operation_id = "lister_orientations",
    params(ListQuery),
    security(("jeton" = ["orientations"]), ("session" = [])),
    responses(
        (status = 200, description = "Une page de la liste", body = OrientationList),
        (status = 401, description = "Non authentifié, ou jeton inconnu, expiré ou révoqué", body = ApiError),
        (status = 403, description = "Portée « orientations » manquante", body = ApiError),
        (status = 404, description = "Aucun territoire où travailler", body = ApiError),
        (status = 422, description = "Filtre invalide", body = ApiError),
        (status = 429, description = "Trop de requêtes avec ce jeton (voir Retry-After)", body = ApiError),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let caller = match user.require(ApiScope::Orientations) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Ok(Query(q)) = query else {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "saisie_invalide",
            "organisation, service et page sont des nombres entiers, miennes vaut true ou false.",
            BTreeMap::new(),
        );
    };
    let kind = match q.liste.as_deref().unwrap_or("recues") {
        "recues" => ListKind::Received,
        "envoyees" => ListKind::Sent,
        _ => {
            return super::invalid_field("liste", "Choisissez « recues » ou « envoyees ».");
        }
    };
    if q.page.is_some_and(|p| p < 1) {
        return super::invalid_field("page", "Les pages se comptent à partir de 1.");
    }
    let input = ListInput {
        statut: q.statut.unwrap_or_default(),
        organisation: q.organisation.map(|o| o.to_string()).unwrap_or_default(),
        service: q.service.map(|s| s.to_string()).unwrap_or_default(),
        du: q.du.unwrap_or_default(),
        au: q.au.unwrap_or_default(),
        miennes: if q.miennes == Some(true) { "1" } else { "" }.into(),
        page: q.page.map(|p| p.to_string()).unwrap_or_default(),
    };
    let inbox = match use_case::list(&state.app, caller, kind, &input).await {
        Ok(i) => i,
        Err(e) => return from_app(e),
    };
    let orientations = inbox
        .rows
        .into_iter()
        .zip(inbox.delays)
        .map(|(r, delay)| OrientationLine {
            id: r.id.0,
            personne: match (r.first_name, r.last_name) {
                (Some(prenom), Some(nom)) => Some(PersonName {
                    id: r.person_id,
                    prenom,
                    nom,
                }),
                _ => None,
            },
            statut: Labelled::status(r.status),
            depuis: r.status_on,
            envoyee_le: r.sent_at,
            repondue_le: r.answered_at,
            entree_le: r.entered_on,
            service: r.service_name,
            destinataire: r.receiver_name,
            orienteur: r.sender_name,
            structure_orienteuse: r.sender_org_name,
            precedente: r.previous_id,
            delai_jours: delay,
        })
        .collect();
    Json(OrientationList {
        liste: match kind {
            ListKind::Received => "recues",
            ListKind::Sent => "envoyees",
        },
        total: inbox.total,
        page: inbox.page,
        par_page: use_case::PER_PAGE,
        par_statut: inbox
            .counts
            .into_iter()
            .map(|(s, n)| StatusCount {
                statut: Labelled::status(s),
                nombre: n,
            })
            .collect(),
        orientations,
        repond_sous_jours: inbox.answers_within,
    })
    .into_response()
}

/// Ce que la structure destinataire peut savoir de la personne (le groupe de suivi voit la même chose).
#[derive(Serialize, ToSchema)]
struct PersonContact {
    id: i64,
    prenom: String,
    nom: String,
    telephone: Option<String>,
    courriel: Option<String>,
    code_postal: String,
    /// Code INSEE de la commune.
    commune: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct DeclineReasonLine {
    code: &'static str,
    libelle: &'static str,
    /// Le texte du motif « autre ».
    precision: String,
}

/// Un changement du journal de l'orientation.
#[derive(Serialize, ToSchema)]
struct LogLine {
    le: DateTime<Utc>,
    /// Null pour la première ligne (l'envoi).
    de: Option<Labelled>,
    vers: Labelled,
    /// Qui : le nom d'un compte ; null pour Passerelle (délai dépassé) ou le lien reçu par courriel.
    par: Option<String>,
    /// Étape franchie par le lien reçu par courriel.
    par_lien: bool,
    detail: String,
}

#[derive(Serialize, ToSchema)]
struct ChainLine {
    id: i64,
    destinataire: String,
    statut: Labelled,
    envoyee_le: DateTime<Utc>,
    /// Cette orientation-ci.
    courante: bool,
}

/// Une orientation. Avant d'avoir accepté, la structure destinataire n'en voit que ce qu'il lui
/// faut pour décider (`vue` = `orientation`) : ni journal, ni chaîne, ni champ de santé.
#[derive(Serialize, ToSchema)]
pub(super) struct OrientationDetail {
    id: i64,
    /// À renvoyer comme `version` avec une étape : une étape franchie sur une version plus
    /// ancienne est refusée.
    version: i32,
    #[schema(schema_with = sight_schema)]
    vue: &'static str,
    statut: Labelled,
    depuis: String,
    personne: PersonContact,
    service: String,
    destinataire: String,
    orienteur: Option<String>,
    structure_orienteuse: Option<String>,
    envoyee_le: DateTime<Utc>,
    repondue_le: Option<DateTime<Utc>>,
    motif: String,
    message: String,
    documents: String,
    preference_contact: String,
    disponibilites: String,
    /// Les freins concernés.
    champs: Vec<Labelled>,
    entree_le: Option<String>,
    terminee_le: Option<String>,
    issue: Option<Labelled>,
    motifs_refus: Vec<DeclineReasonLine>,
    /// Le commentaire du destinataire sur un refus, pour l'orienteur (absent de la vue du
    /// destinataire).
    commentaire_refus: Option<String>,
    /// Les étapes que vous pouvez franchir maintenant.
    etapes_possibles: Vec<Labelled>,
    journal: Vec<LogLine>,
    /// Les orientations de la même chaîne (réorientations), de la plus ancienne à la plus
    /// récente.
    chaine: Vec<ChainLine>,
    /// Ce que le service demande aux personnes qu'il reçoit (selon l'annuaire), par rubrique.
    conditions: BTreeMap<String, String>,
    /// Le délai de réponse médian du destinataire sur un an, en jours.
    repond_sous_jours: Option<i64>,
    /// La page de l'orientation dans l'interface.
    page: String,
}

fn sight_schema() -> utoipa::openapi::Object {
    app::schema::codes(
        ["complete", "orientation"],
        "complete : le groupe de suivi et les coordinateurs ; orientation : la structure destinataire avant d'avoir accepté",
    )
}

fn detail(p: use_case::OrientationPage) -> OrientationDetail {
    let referral = p.referral_view();
    let r = p.row;
    let issue = r.outcome().map(|o| Labelled {
        code: o.as_str(),
        libelle: o.label(),
    });
    OrientationDetail {
        id: r.id.0,
        version: r.version,
        vue: if referral { "orientation" } else { "complete" },
        statut: Labelled::status(r.status),
        depuis: r.status_on,
        personne: PersonContact {
            id: r.person_id.0,
            prenom: p.person.first_name,
            nom: p.person.last_name,
            telephone: p.person.phone,
            courriel: p.person.email,
            code_postal: p.person.postal_code,
            commune: p.person.commune_insee,
        },
        service: r.service_name,
        destinataire: r.receiver_name,
        orienteur: r.sender_name,
        structure_orienteuse: r.sender_org_name,
        envoyee_le: r.sent_at,
        repondue_le: r.answered_at,
        motif: r.reason,
        message: r.message,
        documents: r.documents,
        preference_contact: r.contact_preference,
        disponibilites: r.availability,
        champs: p
            .fields
            .iter()
            .map(|f| Labelled {
                code: f.as_str(),
                libelle: f.label(),
            })
            .collect(),
        entree_le: r.entered_on,
        terminee_le: r.ended_on,
        issue,
        motifs_refus: p
            .reasons
            .into_iter()
            .map(|(reason, precision)| DeclineReasonLine {
                code: reason.as_str(),
                libelle: reason.label(),
                precision,
            })
            .collect(),
        commentaire_refus: (!referral && !r.decline_comment.is_empty())
            .then_some(r.decline_comment),
        etapes_possibles: p
            .steps
            .iter()
            .map(|s| Labelled {
                code: s.as_str(),
                libelle: s.label(),
            })
            .collect(),
        journal: p
            .events
            .iter()
            .map(|e| LogLine {
                le: e.at,
                de: e.from().map(Labelled::status),
                vers: Labelled::status(e.to_status),
                par: e.user_name.clone(),
                par_lien: e.via_link,
                detail: e.detail.clone(),
            })
            .collect(),
        chaine: p
            .chain
            .iter()
            .map(|l| ChainLine {
                id: l.id.0,
                destinataire: l.receiver_name.clone(),
                statut: Labelled::status(l.status),
                envoyee_le: l.sent_at,
                courante: l.current,
            })
            .collect(),
        conditions: p
            .requirements
            .into_iter()
            .map(|(label, text)| (label.to_string(), text))
            .collect(),
        repond_sous_jours: p.answers_within,
        page: use_case::path(r.id),
    }
}

/// Une orientation (la lecture est inscrite au journal d'accès de la fiche de la personne).
#[utoipa::path(
    get,
    path = "/api/v1/orientations/{id}",
    tag = "orientations",
    operation_id = "lire_orientation",
    params(("id" = i64, Path, description = "Le numéro de l'orientation", minimum = 1)),
    security(("jeton" = ["orientations"]), ("session" = [])),
    responses(
        (status = 200, description = "L'orientation, telle que vous pouvez la voir", body = OrientationDetail),
        (status = 401, description = "Non authentifié, ou jeton inconnu, expiré ou révoqué", body = ApiError),
        (status = 403, description = "Portée « orientations » manquante", body = ApiError),
        (status = 404, description = "Orientation inconnue ou hors de vos droits", body = ApiError),
        (status = 429, description = "Trop de requêtes avec ce jeton (voir Retry-After)", body = ApiError),
    ),
)]
pub(super) async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    path: Result<Path<i64>, PathRejection>,
) -> Response {
    let caller = match user.require(ApiScope::Orientations) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let id = match id_of(path) {
        Ok(id) => OrientationId(id),
        Err(r) => return *r,
    };
    match use_case::orientation(&state.app, caller, id).await {
        Ok(p) => Json(detail(p)).into_response(),
        Err(e) => from_app(e),
    }
}

/// Une nouvelle orientation.
#[derive(Deserialize, ToSchema)]
pub(super) struct NewOrientation {
    /// `service:<n°>` (un service de l'annuaire) ou `organisation:<n°>` (une structure
    /// partenaire du territoire).
    #[schema(example = "service:12", pattern = "^(service|organisation):[0-9]+$")]
    destinataire: String,
    #[schema(schema_with = fields_schema)]
    champs: Vec<String>,
    /// Pourquoi ce service, en quelques mots.
    #[schema(min_length = 1)]
    motif: String,
    #[serde(default)]
    message: String,
    /// Les documents que la personne apporte.
    #[serde(default)]
    documents: String,
    /// Comment la personne préfère être contactée.
    #[serde(default)]
    preference_contact: String,
    #[serde(default)]
    disponibilites: String,
    /// L'orientation que celle-ci suit (une réorientation).
    #[serde(default)]
    precedente: Option<i64>,
    /// Pour une structure qui n'est pas partenaire : la personne a accepté qu'elle reçoive ses
    /// informations.
    #[serde(default)]
    consentement_structure: bool,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Created {
    id: i64,
    statut: Labelled,
    /// L'orientation dans l'API.
    adresse: String,
    /// Sa page dans l'interface.
    page: String,
}

const SEND_FIELDS: &[(&str, &str)] = &[
    ("receiver", "destinataire"),
    ("fields", "champs"),
    ("reason", "motif"),
    ("contact_preference", "preference_contact"),
    ("availability", "disponibilites"),
    ("previous", "precedente"),
    ("structure_consent", "consentement_structure"),
    ("idempotency_key", "Idempotency-Key"),
];

/// Envoie une orientation pour une personne que vous suivez, dans les limites de son
/// consentement ; le destinataire en est averti par courriel.
#[utoipa::path(
    post,
    path = "/api/v1/personnes/{id}/orientations",
    tag = "orientations",
    operation_id = "envoyer_orientation",
    params(
        ("id" = i64, Path, description = "Le numéro de la fiche de la personne", minimum = 1),
        ("Idempotency-Key" = Option<String>, Header, description = "Une clé choisie par votre logiciel pour cet envoi (un UUID, par exemple ; 255 caractères ASCII visibles au plus). Renvoyée avec la même demande — après une réponse perdue —, elle donne l'orientation du premier envoi au lieu d'en créer une seconde ; avec une autre demande, 422."),
    ),
    request_body = NewOrientation,
    security(("jeton" = ["orientations-ecriture"]), ("session" = [])),
    responses(
        (status = 201, description = "Orientation envoyée (en-tête Location : son adresse) ; ou, pour une clé d'idempotence déjà servie avec la même demande, celle du premier envoi", body = Created),
        (status = 400, description = "JSON invalide", body = ApiError),
        (status = 401, description = "Non authentifié, ou jeton inconnu, expiré ou révoqué", body = ApiError),
        (status = 403, description = "Portée « orientations-ecriture » manquante", body = ApiError),
        (status = 404, description = "Personne inconnue ou hors de votre groupe de suivi", body = ApiError),
        (status = 422, description = "Saisie invalide, ou consentement qui ne couvre pas ce destinataire", body = ApiError),
        (status = 429, description = "Trop de requêtes avec ce jeton (voir Retry-After)", body = ApiError),
    ),
)]
pub(super) async fn send(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    user: ApiUser,
    path: Result<Path<i64>, PathRejection>,
    body: Result<Json<NewOrientation>, JsonRejection>,
) -> Response {
    let caller = match user.require(ApiScope::OrientationsWrite) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let person = match id_of(path) {
        Ok(id) => PersonId(id),
        Err(r) => return *r,
    };
    let Json(b) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(&e),
    };
    let input = SendInput {
        receiver: b.destinataire,
        fields: b.champs,
        reason: b.motif,
        message: b.message,
        documents: b.documents,
        contact_preference: b.preference_contact,
        availability: b.disponibilites,
        previous: b.precedente.map(|p| p.to_string()).unwrap_or_default(),
        structure_consent: b.consentement_structure,
        idempotency_key: match headers.get("idempotency-key").map(|v| v.to_str()) {
            None => String::new(),
            Some(Ok(key)) => key.to_string(),
            // Not text: refused as any ill-formed key.
            Some(Err(_)) => "\u{7f}".to_string(),
        },
    };
    match use_case::send(&state.app, caller, person, &input).await {
        Ok(id) => {
            let adresse = format!("/api/v1/orientations/{}", id.0);
            let created = Created {
                id: id.0,
                statut: Labelled::status(Status::Envoyee),
                adresse: adresse.clone(),
                page: use_case::path(id),
            };
            (
                StatusCode::CREATED,
                [(header::LOCATION, adresse)],
                Json(created),
            )
                .into_response()
        }
        Err(e) => from_app_named(e, SEND_FIELDS),
    }
}

/// Une étape franchie sur une orientation.
#[derive(Deserialize, ToSchema)]
pub(super) struct NewStep {
    #[schema(schema_with = step_schema)]
    etape: String,
    /// La `version` lue : si l'orientation a changé depuis, l'étape est refusée (409) et rien
    /// n'est enregistré.
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    #[schema(schema_with = reasons_schema)]
    motifs: Vec<String>,
    /// Le texte du motif « autre ».
    #[serde(default)]
    autre_motif: String,
    /// Pour un refus : un commentaire pour l'orienteur seul ; sinon une note au journal.
    #[serde(default)]
    commentaire: String,
    /// Le jour de l'entrée, de l'absence ou de la fin (AAAA-MM-JJ ou JJ/MM/AAAA).
    #[serde(default)]
    date: String,
    #[serde(default)]
    #[schema(schema_with = outcome_schema)]
    issue: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct StepTaken {
    id: i64,
    /// Son statut désormais.
    statut: Labelled,
}

const STEP_FIELDS: &[(&str, &str)] = &[
    ("step", "etape"),
    ("version", "version"),
    ("reasons", "motifs"),
    ("other_reason", "autre_motif"),
    ("comment", "commentaire"),
    ("on", "date"),
    ("outcome", "issue"),
];

/// Franchit une étape : mettre à l'étude, accepter (vous rejoignez le groupe de suivi, dans les
/// limites du consentement), décliner avec des motifs, annuler, confirmer l'entrée, signaler une
/// absence, clore avec un résultat.
#[utoipa::path(
    post,
    path = "/api/v1/orientations/{id}/etapes",
    tag = "orientations",
    operation_id = "franchir_etape",
    params(("id" = i64, Path, description = "Le numéro de l'orientation", minimum = 1)),
    request_body = NewStep,
    security(("jeton" = ["orientations-ecriture"]), ("session" = [])),
    responses(
        (status = 200, description = "Étape enregistrée", body = StepTaken),
        (status = 400, description = "JSON invalide", body = ApiError),
        (status = 401, description = "Non authentifié, ou jeton inconnu, expiré ou révoqué", body = ApiError),
        (status = 403, description = "Portée manquante, ou étape qui ne vous revient pas", body = ApiError),
        (status = 404, description = "Orientation inconnue ou hors de vos droits", body = ApiError),
        (status = 409, description = "L'orientation a changé depuis `version` (quelqu'un a agi avant) : rien n'est enregistré ; relisez-la", body = ApiError),
        (status = 422, description = "Saisie invalide, ou étape impossible dans ce statut", body = ApiError),
        (status = 429, description = "Trop de requêtes avec ce jeton (voir Retry-After)", body = ApiError),
    ),
)]
pub(super) async fn decide(
    State(state): State<AppState>,
    user: ApiUser,
    path: Result<Path<i64>, PathRejection>,
    body: Result<Json<NewStep>, JsonRejection>,
) -> Response {
    let caller = match user.require(ApiScope::OrientationsWrite) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let id = match id_of(path) {
        Ok(id) => OrientationId(id),
        Err(r) => return *r,
    };
    let Json(b) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(&e),
    };
    let input = DecisionInput {
        step: b.etape,
        version: b.version.map(|v| v.to_string()).unwrap_or_default(),
        reasons: b.motifs,
        other_reason: b.autre_motif,
        comment: b.commentaire,
        on: b.date,
        outcome: b.issue.unwrap_or_default(),
    };
    match use_case::decide(&state.app, caller, id, &input).await {
        Ok(status) => Json(StepTaken {
            id: id.0,
            statut: Labelled::status(status),
        })
        .into_response(),
        Err(e) => from_app_named(e, STEP_FIELDS),
    }
}
