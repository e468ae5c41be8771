//! Repérage (`/personnes/nouvelle`): a person met in outreach, the likely duplicates shown
//! before saving.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use app::FieldErrors;
use app::persons::{self, OutreachInput, Recorded};
use domain::person::OutreachChannel;

use super::{Message, file_path, yes_no_options};
use crate::flash;
use crate::forms::{Checkboxes, Field, Pairs, decode};
use crate::layout::{Layout, Nav};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

#[derive(Template, WebTemplate)]
#[template(path = "persons/new.html")]
pub struct NewPage {
    layout: Layout,
    identity: Vec<Field>,
    /// Tranche d'âge, année de naissance.
    age: Vec<Field>,
    /// Address, postcode, commune, quartier: folded away on a phone unless used.
    address: Vec<Field>,
    address_open: bool,
    place: Vec<Field>,
    needs: Checkboxes,
    needs_text: Field,
    health_needs: Field,
    agrees: Field,
    duplicates: Vec<(i64, String, String, String)>,
    hidden: Vec<(String, String)>,
    has_errors: bool,
}

pub(super) fn identity_fields(i: &OutreachInput, e: &FieldErrors) -> Vec<Field> {
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
    qpvs: Vec<(String, String)>,
) -> NewPage {
    let today = domain::iso_date(today);
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
            ("age_band", &i.age_band),
            ("birth_year", &i.birth_year),
            ("declared_qpv", &i.declared_qpv),
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
        identity: identity_fields(i, e).into_iter().take(4).collect(),
        age: vec![
            Field::select(
                "age_band",
                "Tranche d'âge",
                &i.age_band,
                domain::person::AgeBand::options(),
            )
            .errors(e),
            Field::typed("birth_year", "Ou année de naissance", &i.birth_year, "text", "off")
                .hint("Quatre chiffres, par exemple 2004")
                .errors(e),
        ],
        address: {
            let mut fields: Vec<Field> = identity_fields(i, e).into_iter().skip(4).collect();
            fields.push(
                Field::select(
                    "declared_qpv",
                    "Quartier prioritaire où elle dit habiter",
                    &i.declared_qpv,
                    qpvs.iter()
                        .map(|(code, name)| (code.clone(), format!("{name} ({code})")))
                        .collect(),
                )
                .hint("Si l'adresse n'est pas connue : noté « déclaré par la personne »")
                .errors(e),
            );
            fields
        },
        address_open: [&i.address, &i.postal_code, &i.commune, &i.neighbourhood, &i.declared_qpv]
            .iter()
            .any(|v| !v.trim().is_empty())
            || ["address", "postal_code", "commune", "declared_qpv"]
                .iter()
                .any(|k| e.get(k).is_some()),
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
            "Accord pour être recontacté·e",
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

/// The repérage form, for those who may record persons (a pilot never sees it).
pub async fn show_new(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<NewPage, WebError> {
    let territory = user
        .caller
        .active_territory
        .as_ref()
        .ok_or(app::AppError::NotFound)?;
    if !persons::may_record(&user.caller, territory.id) {
        return Err(app::AppError::Forbidden.into());
    }
    let qpvs = app::qpv::of_territory(&state.app, &user.caller, domain::Millesime::CURRENT).await?;
    Ok(new_page(
        state.app.today_in(territory.zone()),
        &user,
        &OutreachInput::default(),
        &FieldErrors::default(),
        Vec::new(),
        qpvs,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: OutreachInput = decode(&pairs)?;
    let today = state.app.today_in(user.caller.zone());
    let qpvs = app::qpv::of_territory(&state.app, &user.caller, domain::Millesime::CURRENT).await?;
    match persons::record(&state.app, &user.caller, &input).await {
        Ok(Recorded::Created(id)) => {
            Ok(flash::redirect(&file_path(id), Message::Recorded).into_response())
        }
        Ok(Recorded::Duplicates(found)) => Ok((
            StatusCode::OK,
            new_page(today, &user, &input, &FieldErrors::default(), found, qpvs),
        )
            .into_response()),
        Err(app::AppError::Invalid(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            new_page(today, &user, &input, &e, Vec::new(), qpvs),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
