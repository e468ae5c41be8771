//! The entry into accompaniment (consent, référent, situation) and the correction of a file.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::FieldErrors;
use app::persons::{self, EntryInput, OutreachInput, SituationInput};
use domain::PersonId;
use domain::person::{ConsentMethod, ConsentPurpose, FunnelStatus, QualificationLevel, Sex};

use super::outreach::identity_fields;
use super::{Message, file_path, full_name, team_options, yes_no_options};
use crate::flash;
use crate::forms::{Checkboxes, Field, Pairs, decode, many, one};
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

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
        Field::typed(
            "youngest_child_born_on",
            "Date de naissance du plus jeune enfant",
            &s.youngest_child_born_on,
            "date",
            "off",
        )
        .hint("Pour les aides à la garde d'enfants et les crèches AVIP")
        .errors(e),
    ]
}

/// The facts the eligibility rules ask about (CEJ, IAE, AGE…), each « oui », « non » or blank.
fn criteria_fields(s: &SituationInput, e: &FieldErrors) -> Vec<Field> {
    persons::CRITERIA
        .iter()
        .map(|(name, label)| {
            let value = match *name {
                "student" => &s.student,
                "in_training" => &s.in_training,
                "ass" => &s.ass,
                "ase_leaver" => &s.ase_leaver,
                "homeless" => &s.homeless,
                "refugee" => &s.refugee,
                "detention_leaver" => &s.detention_leaver,
                "frr_resident" => &s.frr_resident,
                "fle_below_a1" => &s.fle_below_a1,
                "job_or_training_start" => &s.job_or_training_start,
                _ => "",
            };
            Field::select(name, label, value, yes_no_options()).errors(e)
        })
        .collect()
}

async fn entry_page(
    state: &AppState,
    user: &CurrentUser,
    id: PersonId,
    pairs: &Pairs,
    e: &FieldErrors,
) -> Result<FormPage, WebError> {
    let f = persons::file(
        &state.app,
        &user.caller,
        id,
        &format!("/personnes/{id}/accompagnement"),
    )
    .await?;
    let team = persons::team(&state.app, f.access.territory()).await?;
    // Every partner of the territory, whether or not its staff use Passerelle yet.
    let organisations: Vec<(String, String)> = persons::partners(&state.app, f.access.territory())
        .await?
        .into_iter()
        .map(|(id, name)| (id.0.to_string(), name))
        .collect();
    let referents = team_options(&team);
    let given_on = if pairs.is_empty() {
        domain::iso_date(state.app.today())
    } else {
        one(pairs, "given_on")
    };
    let referent = if pairs.is_empty() {
        user.caller.user_id.0.to_string()
    } else {
        one(pairs, "referent")
    };
    // Nothing is ticked in advance: consent is an affirmative act (CNIL; CJEU, Planet49).
    let purposes = many(pairs, "purposes");
    let recontact_hint = if f.person.agrees_recontact {
        "Lors du repérage, la personne a accepté d'être recontactée."
    } else {
        "Lors du repérage, la personne n'a pas souhaité être recontactée : cochez « Être recontacté » seulement si elle l'accepte maintenant."
    };
    let situation = if pairs.is_empty() {
        SituationInput::from_person(&f.person)
    } else {
        decode(pairs)?
    };
    let name = full_name(&f.person.first_name, &f.person.last_name);
    // After an exit, the same form is the return into accompaniment.
    let title = if f.person.status == domain::person::FunnelStatus::Sorti {
        "Retour en accompagnement"
    } else {
        "Entrée en accompagnement"
    };
    Ok(FormPage {
        layout: Layout::for_user(title, user, Nav::Persons).crumbs(&[
            ("Accueil", "/"),
            ("Personnes", "/personnes"),
            (&name, &format!("/personnes/{id}")),
            (title, ""),
        ]),
        heading: format!("{title} de {name}"),
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
                    Checkboxes::new("purposes", "La personne accepte", ConsentPurpose::options(), &purposes)
                        .hint(recontact_hint)
                        .errors(e),
                    Checkboxes::new("organisations", "Structures avec lesquelles partager", organisations, &many(pairs, "organisations"))
                        .hint("Seulement les informations nécessaires à son accompagnement")
                        .errors(e),
                ],
            ),
            ("Référent de parcours".into(), vec![Field::select("referent", "Référent", &referent, referents).required().errors(e)], Vec::new()),
            ("Situation".into(), situation_fields(&situation, e), Vec::new()),
            (
                "Critères d'éligibilité aux dispositifs".into(),
                criteria_fields(&situation, e),
                Vec::new(),
            ),
        ],
        button: if title.starts_with("Retour") {
            "Enregistrer le retour en accompagnement".into()
        } else {
            "Enregistrer l'entrée en accompagnement".into()
        },
        has_errors: !e.is_empty(),
    })
}

pub async fn show_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
) -> Result<FormPage, WebError> {
    entry_page(&state, &user, id, &Vec::new(), &FieldErrors::default()).await
}

pub async fn enter(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input = EntryInput {
        situation: decode(&pairs)?,
        ..decode(&pairs)?
    };
    match persons::enter_accompaniment(&state.app, &user.caller, id, &input).await {
        Ok(()) => Ok(flash::redirect(&file_path(id), Message::Accompanied).into_response()),
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
    id: PersonId,
    pairs: &Pairs,
    e: &FieldErrors,
) -> Result<FormPage, WebError> {
    let f = persons::file(
        &state.app,
        &user.caller,
        id,
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
        (decode(pairs)?, decode(pairs)?)
    };
    let name = full_name(&p.first_name, &p.last_name);
    let mut sections = vec![(
        "Coordonnées".to_string(),
        {
            let mut fields = identity_fields(&identity, e);
            fields.push(
                Field::select(
                    "agrees_recontact",
                    "Accord pour être recontacté·e",
                    &identity.agrees_recontact,
                    yes_no_options(),
                )
                .errors(e),
            );
            fields
        },
        Vec::new(),
    )];
    if p.status >= FunnelStatus::EnAccompagnement {
        sections.push((
            "Situation".to_string(),
            situation_fields(&situation, e),
            Vec::new(),
        ));
        sections.push((
            "Critères d'éligibilité aux dispositifs".to_string(),
            criteria_fields(&situation, e),
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
    Path(id): Path<PersonId>,
) -> Result<FormPage, WebError> {
    edit_page(&state, &user, id, &Vec::new(), &FieldErrors::default()).await
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    match persons::update(
        &state.app,
        &user.caller,
        id,
        &decode(&pairs)?,
        &decode(&pairs)?,
    )
    .await
    {
        Ok(()) => Ok(flash::redirect(&file_path(id), Message::Updated).into_response()),
        Err(app::AppError::Invalid(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            edit_page(&state, &user, id, &pairs, &e).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
