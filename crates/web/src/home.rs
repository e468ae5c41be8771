//! The home page: where one works, with which role, and where to go next.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};

use app::home::{Home, Step};

use crate::layout::{Layout, MessageQuery, Nav};
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// One figure of the week, with the list it opens.
pub struct Figure {
    pub label: &'static str,
    pub value: i64,
    pub link: String,
}

/// A pilot's figure: `None` when masked (1 to 4 people).
pub struct Masked {
    pub label: &'static str,
    pub value: Option<i64>,
}

fn figures(c: &store_counts::WeekCounts, everyone: bool, coordinator: bool) -> Vec<Figure> {
    let all = if everyone { "&tous=1" } else { "" };
    let mut v = vec![
        Figure {
            label: "à rappeler (tentatives sans réponse)",
            value: c.to_call_back,
            link: format!("/personnes?a_rappeler=1{all}"),
        },
        Figure {
            label: "repérées, pas encore contactées",
            value: c.not_contacted,
            link: format!("/personnes?statut=repere{all}"),
        },
        Figure {
            label: "sans contact depuis 30 jours",
            value: c.silent_30,
            link: format!("/personnes?sans_contact=30{all}"),
        },
        Figure {
            label: "sans contact depuis 60 jours",
            value: c.silent_60,
            link: format!("/personnes?sans_contact=60{all}"),
        },
        Figure {
            label: "sans contact depuis 90 jours",
            value: c.silent_90,
            link: format!("/personnes?sans_contact=90{all}"),
        },
    ];
    if coordinator {
        v.push(Figure {
            label: "sans référent",
            value: c.without_referent,
            link: format!("/personnes?sans_referent=1{all}"),
        });
        v.push(Figure {
            label: "repérées cette semaine",
            value: c.new_this_week,
            link: format!("/personnes?nouveaux=7{all}"),
        });
    }
    v
}

mod store_counts {
    pub use app::models::WeekCounts;
}

/// An overdue action on the home page: person id, person, action, due date.
type OverdueLine = (i64, String, String, String);

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
    /// The active territory's name, when there is one.
    territory: Option<String>,
    /// My people: total and figures.
    mine: Option<(i64, Vec<Figure>)>,
    /// The territory's: total and figures (coordinators).
    everyone: Option<(i64, Vec<Figure>)>,
    partners_without_staff: Vec<String>,
    checklist: Vec<Step>,
    /// A pilot's figures: total, per status, new this week.
    pilot: Option<(Option<i64>, Vec<Masked>, Option<i64>)>,
    /// Invitations waiting, mail not delivered, jobs failed.
    admin: Option<(i64, i64, i64)>,
    /// My overdue actions: how many, and the oldest (person id, person, action, due date).
    overdue: Option<(i64, Vec<OverdueLine>)>,
    /// Orientations waiting for an answer: received by my organisation, sent by me.
    orientations: Option<(i64, i64)>,
    /// Follow-up checks due: mine (person id, person, months, due date), the territory's count.
    checks: Vec<(i64, String, i32, String)>,
    territory_checks: i64,
    /// The action items of the meetings the user owns (the same table as on `/gouvernance`).
    mine_actions: Vec<crate::governance::ActionLine>,
}

pub async fn show_home(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MessageQuery>,
) -> Result<HomePage, WebError> {
    let c = &user.caller;
    let week: Home = app::home::week(&state.app, c).await?;
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
    let territory_work = week.territory.as_ref();
    Ok(HomePage {
        layout: Layout::for_user("Accueil", &user, Nav::Home)
            .with_message(query.message.as_deref()),
        name: c.display_name.clone(),
        territories,
        is_admin: c.is_admin(),
        territory: c.active_territory.as_ref().map(|t| t.name.clone()),
        mine: week
            .mine
            .as_ref()
            .map(|m| (m.total, figures(m, false, false))),
        everyone: territory_work.map(|t| (t.counts.total, figures(&t.counts, true, true))),
        partners_without_staff: territory_work
            .map(|t| {
                t.partners_without_staff
                    .iter()
                    .map(|(_, n)| n.clone())
                    .collect()
            })
            .unwrap_or_default(),
        checklist: territory_work
            .and_then(|t| t.checklist.clone())
            .unwrap_or_default(),
        orientations: week.orientations.map(|w| (w.received, w.sent)),
        checks: week
            .checks
            .as_ref()
            .map(|c| {
                c.mine
                    .iter()
                    .map(|d| {
                        (
                            d.person_id.0,
                            format!("{} {}", d.first_name, d.last_name)
                                .trim()
                                .to_string(),
                            d.months,
                            crate::forms::date_fr(&d.due_on),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        territory_checks: week.checks.as_ref().and_then(|c| c.territory).unwrap_or(0),
        mine_actions: crate::governance::action_lines(
            &user,
            &week.meeting_actions,
            state.app.today_in(c.zone()),
            false,
        ),
        overdue: week.overdue.as_ref().map(|(total, rows)| {
            (
                *total,
                rows.iter()
                    .map(|r| {
                        (
                            r.person_id.0,
                            crate::persons::full_name(&r.first_name, &r.last_name),
                            r.title.clone(),
                            crate::forms::date_fr(&r.due_on),
                        )
                    })
                    .collect(),
            )
        }),
        pilot: week.pilot.map(|p| {
            (
                p.total,
                p.by_status
                    .into_iter()
                    .map(|(label, value)| Masked { label, value })
                    .collect(),
                p.new_this_week,
            )
        }),
        admin: week
            .admin
            .map(|w| (w.invitations, w.failed_mail, w.failed_jobs)),
    })
}
