//! The demo's steering (docs/domain.md §12), seeded with its persons by `demo_persons`.

use domain::{OrganisationId, UserId};

use crate::AppError;

/// The demo's steering: a COPIL a month ago with its decisions and an action item for the
/// France Travail adviser, an operational cell last week that reviewed a situation, and a
/// roadmap with an action on each axis (fictional).
pub(crate) async fn seed(
    tx: &mut store::Tx,
    territory: domain::TerritoryId,
    (coordinator, adviser): (UserId, UserId),
    partners: &[OrganisationId],
    reviewed: Option<domain::PersonId>,
    today: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use domain::governance::{Axis, MeetingKind, RoadmapStatus};
    use store::governance as g;
    let c = &mut tx.conn();
    let copil = g::create_meeting(
        c,
        &g::NewMeeting {
            territory,
            kind: MeetingKind::Copil,
            held_on: today - chrono::Duration::days(30),
            title: "Comité de pilotage du trimestre",
            agenda: "Bilan du trimestre ; programmation des actions collectives ; feuille de route.",
            notes: "Réunion fictive de la démonstration.",
            attendees: partners,
            by: coordinator,
        },
        now,
    )
    .await?;
    for d in [
        "Organiser un job dating avec les employeurs du club d'entreprises.",
        "Ouvrir une cohorte pour les femmes de 26 à 55 ans du quartier.",
    ] {
        g::add_decision(c, copil, d, coordinator, now).await?;
    }
    g::add_action(
        c,
        &g::NewActionItem {
            meeting: copil,
            territory,
            title: "Proposer trois candidates pour la cohorte",
            owner: adviser,
            due_on: today + chrono::Duration::days(10),
            by: coordinator,
        },
        now,
    )
    .await?;
    let cell = g::create_meeting(
        c,
        &g::NewMeeting {
            territory,
            kind: MeetingKind::Cellule,
            held_on: today - chrono::Duration::days(7),
            title: "Cellule opérationnelle",
            agenda: "Situations sans solution depuis plus de trois mois.",
            notes: "",
            attendees: partners,
            by: coordinator,
        },
        now,
    )
    .await?;
    if let Some(p) = reviewed {
        g::add_case(
            c,
            cell,
            p,
            "Orientation vers un atelier de mobilité.",
            coordinator,
            now,
        )
        .await?;
    }
    for (axis, title, measure, target) in [
        (
            Axis::Cooperation,
            "Une cellule opérationnelle chaque mois",
            None,
            Some(12),
        ),
        (
            Axis::DroitCommun,
            "Repérer les habitants inconnus des services",
            Some(domain::indicators::Step::Reperes),
            Some(150),
        ),
        (
            Axis::OffreSpecifique,
            "Entrées effectives après orientation",
            Some(domain::indicators::Step::Entrees),
            Some(40),
        ),
    ] {
        g::create_roadmap_action(
            c,
            territory,
            chrono::Datelike::year(&today),
            &g::RoadmapWrite {
                axis,
                title,
                description: "",
                lead: None,
                due_on: None,
                indicator: "",
                measure,
                value: measure.is_none().then_some(5),
                target,
                status: RoadmapStatus::EnCours,
                progress: 0,
                by: coordinator,
            },
            now,
        )
        .await?;
    }
    Ok(())
}
