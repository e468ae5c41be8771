//! The home page: where one works, with which role, and where to go next.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Query;

use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::CurrentUser;

pub struct TerritoryCard {
    pub slug: String,
    pub name: String,
    pub status: &'static str,
    pub roles: Vec<&'static str>,
    pub active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    layout: Layout,
    name: String,
    territories: Vec<TerritoryCard>,
    is_admin: bool,
}

pub async fn show_home(user: CurrentUser, Query(query): Query<MessageQuery>) -> HomePage {
    let c = &user.caller;
    let active = c.active_territory.as_ref().map(|t| t.id);
    let territories = c
        .territories
        .iter()
        .map(|t| TerritoryCard {
            slug: t.slug.clone(),
            name: t.name.clone(),
            status: t.status_label(),
            roles: c
                .roles_in(t.id)
                .into_iter()
                .map(domain::Role::label)
                .collect(),
            active: Some(t.id) == active,
        })
        .collect();
    HomePage {
        layout: Layout::for_user("Accueil", &user, Nav::Home)
            .with_message(query.message.as_deref()),
        name: c.display_name.clone(),
        territories,
        is_admin: c.is_admin(),
    }
}
