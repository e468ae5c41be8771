//! The home page's work of the week, per role: a professional's own people, a coordinator's
//! territory (and its first steps while it is being set up), a pilot's aggregates (never a
//! person; small cells masked), what waits for the administrators. Each part is one statement.

use domain::Role;
use domain::secrecy::{mask, mask_line};
use store::home::{Setup, Waiting, WeekCounts};
use store::persons::Scope;

use crate::{App, AppError, Caller};

/// One step of a territory's set-up, ticked when done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub label: &'static str,
    pub done: bool,
    /// Where to do it.
    pub link: String,
}

/// The coordinators' view of their territory.
#[derive(Debug, Clone)]
pub struct TerritoryWork {
    pub counts: WeekCounts,
    /// Partner organisations where nobody works in Passerelle yet.
    pub partners_without_staff: Vec<(i64, String)>,
    /// The first steps, while one is left to do.
    pub checklist: Option<Vec<Step>>,
}

/// A pilot's headline figures: `None` where a cell is masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregates {
    pub total: Option<i64>,
    /// (label, count) per step of the funnel.
    pub by_status: Vec<(&'static str, Option<i64>)>,
    pub new_this_week: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct Home {
    /// The people whose follow-up group the caller belongs to (professionals, coordinators).
    pub mine: Option<WeekCounts>,
    pub territory: Option<TerritoryWork>,
    pub pilot: Option<Aggregates>,
    pub admin: Option<Waiting>,
    /// The caller's actions of the plan past their due date: how many, and the oldest.
    pub overdue: Option<(i64, Vec<store::diagnostic::Overdue>)>,
    /// Orientations waiting for an answer: received by the caller's organisations, sent by
    /// the caller (professionals and coordinators).
    pub orientations: Option<crate::orientations::Waiting>,
    /// Follow-up checks after an exit that fell due and are not answered: the caller's as
    /// référent, and the territory's count for its coordinators.
    pub checks: Option<crate::exits::DueChecks>,
    /// The action items of the territory's meetings the caller owns and has not done.
    pub meeting_actions: Vec<store::governance::ActionItemRow>,
}

/// How many overdue actions the home page names.
pub const OVERDUE_SHOWN: i64 = 5;

fn checklist(slug: &str, s: &Setup) -> Vec<Step> {
    vec![
        Step {
            label: "Ajouter les structures partenaires",
            done: s.partners > 0,
            link: format!("/territoires/{slug}#partenaires"),
        },
        Step {
            label: "Inviter les professionnels des partenaires",
            done: s.professionals > 0,
            link: format!("/territoires/{slug}#equipe"),
        },
        Step {
            label: "Importer l'annuaire des services (data·inclusion)",
            done: s.services > 0,
            link: "/annuaire/import".into(),
        },
        Step {
            label: "Charger la carte des quartiers prioritaires du territoire",
            done: s.qpvs > 0,
            link: "/qpv/verifier".into(),
        },
        Step {
            label: "Enregistrer un premier repérage",
            done: s.persons > 0,
            link: "/personnes/nouvelle".into(),
        },
    ]
}

/// What the caller's home page shows in their active territory.
pub async fn week(app: &App, caller: &Caller) -> Result<Home, AppError> {
    let mut home = Home::default();
    let mut pooled = app.db.acquire().await?;
    if caller.is_admin() {
        home.admin = Some(store::home::waiting(&mut pooled.conn(), app.now()).await?);
    }
    let Some(territory) = caller.active_territory.as_ref() else {
        return Ok(home);
    };
    let today = app.today_in(territory.zone());
    let coordinator = caller.is_coordinator_of(territory.id);
    if coordinator || !caller.organisations_in(territory.id).is_empty() {
        let mine = Scope::Group {
            user: caller.user_id,
            territory: territory.id,
        };
        home.mine = Some(store::home::week_counts(&mut pooled.conn(), &mine, today).await?);
    }
    if coordinator {
        let all = Scope::Territory {
            user: caller.user_id,
            territory: territory.id,
        };
        let counts = store::home::week_counts(&mut pooled.conn(), &all, today).await?;
        let setup = store::home::setup(&mut pooled.conn(), territory.id).await?;
        let steps = checklist(&territory.slug, &setup);
        home.territory = Some(TerritoryWork {
            counts,
            partners_without_staff: store::home::partners_without_staff(
                &mut pooled.conn(),
                territory.id,
            )
            .await?,
            checklist: steps.iter().any(|s| !s.done).then_some(steps),
        });
    } else if caller.roles_in(territory.id).contains(&Role::Pilot) {
        let counts = store::home::week_counts(
            &mut pooled.conn(),
            &Scope::Aggregate {
                territory: territory.id,
            },
            today,
        )
        .await?;
        let (cells, total) = mask_line(
            &[
                counts.not_contacted,
                counts.contacted,
                counts.accompanied,
                counts.exited,
            ],
            counts.total,
        );
        home.pilot = Some(Aggregates {
            total,
            by_status: ["Repérées", "Contactées", "En accompagnement", "Sorties"]
                .into_iter()
                .zip(cells)
                .collect(),
            new_this_week: mask(counts.new_this_week),
        });
    }
    home.meeting_actions =
        store::governance::open_actions_of(&mut pooled.conn(), caller.user_id, territory.id, 10)
            .await?;
    drop(pooled);
    if home.mine.is_some() {
        home.overdue = Some(crate::diagnostic::overdue_of(app, caller, OVERDUE_SHOWN).await?);
        home.orientations = Some(crate::orientations::waiting(app, caller).await?);
        home.checks = Some(crate::exits::due_checks(app, caller).await?);
    }
    Ok(home)
}
