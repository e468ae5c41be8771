//! The pages every public service must have: accessibility, personal data, legal notice.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::AppState;
use crate::layout::{Layout, Nav};
use crate::session::MaybeUser;

#[derive(Template, WebTemplate)]
#[template(path = "pages/accessibility.html")]
pub struct AccessibilityPage {
    layout: Layout,
    operator: String,
    contact: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/privacy.html")]
pub struct PrivacyPage {
    layout: Layout,
    operator: String,
    contact: String,
    /// Sign-in with ProConnect is offered: what it brings is listed.
    proconnect: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/legal_notice.html")]
pub struct LegalNoticePage {
    layout: Layout,
    operator: String,
    contact: String,
}

fn layout(title: &str, user: &MaybeUser) -> Layout {
    let layout = match &user.caller {
        Some(caller) => {
            let current = crate::session::CurrentUser {
                caller: caller.clone(),
                csrf: user.csrf.clone(),
            };
            Layout::for_user(title, &current, Nav::None)
        }
        None => Layout::public(title, user.csrf.clone()),
    };
    layout.crumbs(&[("Accueil", "/"), (title, "")])
}

pub async fn show_accessibility(
    State(state): State<AppState>,
    user: MaybeUser,
) -> AccessibilityPage {
    let s = &state.app.settings;
    AccessibilityPage {
        layout: layout("Déclaration d'accessibilité", &user),
        operator: s.operator.clone(),
        contact: s.contact_email.clone(),
    }
}

pub async fn show_privacy(State(state): State<AppState>, user: MaybeUser) -> PrivacyPage {
    let s = &state.app.settings;
    PrivacyPage {
        layout: layout("Données personnelles", &user),
        operator: s.operator.clone(),
        contact: s.contact_email.clone(),
        proconnect: state.app.proconnect.is_some(),
    }
}

pub async fn show_legal_notice(State(state): State<AppState>, user: MaybeUser) -> LegalNoticePage {
    let s = &state.app.settings;
    LegalNoticePage {
        layout: layout("Mentions légales", &user),
        operator: s.operator.clone(),
        contact: s.contact_email.clone(),
    }
}
