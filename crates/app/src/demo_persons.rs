//! About 200 fictional persons for the demo, at every stage of the funnel, spread over the
//! follow-up groups of the demo organisations: each demo professional sees only their own
//! people, the coordinator sees everyone. Written once (a territory that already has persons is
//! left as it is), deterministic.

use chrono::{Datelike, Duration};
use domain::exit::ExitKind;
use domain::person::{
    ConsentMethod, ConsentPurpose, ContactChannel, ContactOutcome, FunnelStatus, JournalKind,
    OutreachChannel, QualificationLevel, Sex, Visibility,
};
use domain::text::fold;
use domain::{Email, Field, OrganisationId, UserId};
use store::persons::{NewConsent, NewEntry, NewMember, NewPerson, QpvCheck, Situation};

use crate::{App, AppError};

/// First names with the sex recorded at the entry into accompaniment (coherent demo data).
const FIRST: [(&str, Sex); 40] = [
    ("Awa", Sex::Femme),
    ("Karim", Sex::Homme),
    ("Inès", Sex::Femme),
    ("Léa", Sex::Femme),
    ("Mohamed", Sex::Homme),
    ("Sarah", Sex::Femme),
    ("Yanis", Sex::Homme),
    ("Fatou", Sex::Femme),
    ("Thomas", Sex::Homme),
    ("Nadia", Sex::Femme),
    ("Kevin", Sex::Homme),
    ("Amina", Sex::Femme),
    ("Julien", Sex::Homme),
    ("Samira", Sex::Femme),
    ("Dylan", Sex::Homme),
    ("Aïcha", Sex::Femme),
    ("Lucas", Sex::Homme),
    ("Mariam", Sex::Femme),
    ("Bilal", Sex::Homme),
    ("Chloé", Sex::Femme),
    ("Ibrahim", Sex::Homme),
    ("Manon", Sex::Femme),
    ("Rayan", Sex::Homme),
    ("Océane", Sex::Femme),
    ("Moussa", Sex::Homme),
    ("Camille", Sex::Femme),
    ("Sofiane", Sex::Homme),
    ("Laura", Sex::Femme),
    ("Hamza", Sex::Homme),
    ("Emma", Sex::Femme),
    ("Adama", Sex::Homme),
    ("Jessica", Sex::Femme),
    ("Walid", Sex::Homme),
    ("Kenza", Sex::Femme),
    ("Nicolas", Sex::Homme),
    ("Aminata", Sex::Femme),
    ("Enzo", Sex::Homme),
    ("Leïla", Sex::Femme),
    ("Mehdi", Sex::Homme),
    ("Élodie", Sex::Femme),
];
const LAST: [&str; 30] = [
    "Diallo",
    "Benali",
    "Martin",
    "Moreau",
    "Traoré",
    "Petit",
    "Haddad",
    "Dubois",
    "Kone",
    "Lefèvre",
    "Mendy",
    "Girard",
    "Camara",
    "Roux",
    "Bouzid",
    "Fontaine",
    "Sylla",
    "Lambert",
    "Cherif",
    "Garnier",
    "Diop",
    "Faure",
    "Touré",
    "Mercier",
    "Mansouri",
    "Blanc",
    "Ndiaye",
    "Chevalier",
    "Amrani",
    "Leroy",
];

/// Seeds the demo persons of the territory `demo`; returns how many there are.
pub async fn seed(app: &App) -> Result<usize, AppError> {
    let mut pooled = app.db.acquire().await?;
    let Some(territory) = store::territories::by_slug(&mut pooled.conn(), "demo").await? else {
        return Ok(0);
    };
    let coordinator_user = user(&mut pooled, "coordination@demo.passerelle.test").await?;
    let scope = store::persons::Scope::Territory {
        user: coordinator_user,
        territory: territory.id,
    };
    let existing = store::persons::names(&mut pooled.conn(), &scope)
        .await?
        .len();
    if existing > 0 {
        return Ok(existing);
    }
    let ft = user(&mut pooled, "conseil.ft@demo.passerelle.test").await?;
    let ml = user(&mut pooled, "conseil.ml@demo.passerelle.test").await?;
    let partners = store::organisations::partners_of(&mut pooled.conn(), territory.id).await?;
    let org = |name: &str| partners.iter().find(|o| o.name == name).map(|o| o.id);
    drop(pooled);
    // (user, organisation) owning each group, in turn: the two demo professionals, and groups of
    // organisations without a demo account (seen by the coordinator only).
    let owners: [(UserId, Option<OrganisationId>); 3] = [
        (ft, org("France Travail Maubeuge")),
        (ml, org("Mission locale Sambre-Avesnois")),
        (coordinator_user, None),
    ];
    let today = app.today();
    let now = app.now();
    let mut oriented = Vec::new();
    let addresses: Vec<(String, &str, &str, f64, f64)> = include_str!("../data/ban-demo.csv")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let c: Vec<&str> = line.split(';').collect();
            Some((
                format!("{} {}", c.get(2)?, c.get(4)?),
                *c.get(5)?,
                *c.get(6)?,
                c.get(12)?.parse().ok()?,
                c.get(13)?.parse().ok()?,
            ))
        })
        .collect();
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for (address, postcode, insee, lon, lat) in addresses {
        match crate::qpv::lookup_point(app, lon, lat, domain::Millesime::Y2024)?.code_qp {
            Some(code) => inside.push((address, postcode, insee, Some(code), (lon, lat))),
            None => outside.push((address, postcode, insee, None, (lon, lat))),
        }
    }
    let channels = OutreachChannel::ALL;
    let mut tx = app.db.begin().await?;
    let employers = demo_employers(&mut tx, territory.id, coordinator_user, now).await?;
    let mut women_followed = Vec::new();
    let count = 200;
    for i in 0..count {
        let (first, sex) = FIRST[(i * 7) % FIRST.len()];
        // An address of the demo's address extract (four in five in a QPV), and the QPV its
        // position is in.
        let pool = if i % 5 != 0 && !inside.is_empty() {
            &inside
        } else {
            &outside
        };
        let (address, postcode, insee, qpv_code, position) = &pool[(i * 13) % pool.len()];
        let last = LAST[(i * 11 + i / 7) % LAST.len()];
        let (owner, organisation) = owners[i % owners.len()];
        let met_on = today - Duration::days(3 + ((i * 37) % 330) as i64);
        let status = match i % 20 {
            0..=6 => FunnelStatus::Repere,
            7..=10 => FunnelStatus::Contacte,
            11..=17 => FunnelStatus::EnAccompagnement,
            _ => FunnelStatus::Sorti,
        };
        // Needs over the seven fields the group sees (the eighth, health, is set below).
        let fields: Vec<Field> = [
            Field::Mobilite,
            Field::ContraintesFamiliales,
            Field::CompetencesNumeriques,
            Field::Logement,
            Field::SavoirsDeBase,
            Field::ReseauProfessionnel,
            Field::PrecariteFinanciere,
        ]
        .iter()
        .enumerate()
        .filter(|(k, _)| (i + k) % 3 == 0)
        .map(|(_, f)| *f)
        .collect();
        let person = NewPerson {
            territory: territory.id,
            first_name: first.to_string(),
            last_name: last.to_string(),
            folded_name: fold(&format!("{first} {last}")),
            phone: (i % 4 != 3).then(|| format!("06{:08}", 10_000_000 + i * 7919 % 90_000_000)),
            email: (i % 3 == 1).then(|| {
                format!(
                    "{}.{}{i}@demo.passerelle.test",
                    fold(first).replace(' ', ""),
                    fold(last).replace(' ', "")
                )
            }),
            address: address.to_string(),
            postal_code: postcode.to_string(),
            commune_insee: Some(insee.to_string()),
            neighbourhood: String::new(),
            qpv: Some(QpvCheck {
                code: qpv_code.clone(),
                millesime: 2024,
                confidence: if i % 9 == 0 {
                    "probable".into()
                } else {
                    "sûr".into()
                },
                checked_at: now,
                position: Some(*position),
            }),
            channel: channels[i % channels.len()],
            place: [
                "Résidence des Tilleuls",
                "Centre social du Faubourg",
                "Forum emploi de la Sambre",
                "Pied d'immeuble, allée du Parc",
            ][i % 4]
                .to_string(),
            met_on,
            met_by: Some(owner),
            needs: [
                "Cherche un emploi proche de chez elle",
                "Pas de permis, horaires décalés impossibles",
                "Veut se former",
                "Garde d'enfants difficile",
            ][i % 4]
                .to_string(),
            need_fields: fields.clone(),
            agrees_recontact: i % 7 != 0,
            // The same age as the birth date given at the entry into accompaniment.
            birth_year: Some(today.year() - 19 - (i % 40) as i32),
            age_band: domain::person::AgeBand::of_age(19 + (i % 40) as i32),
        };
        let id = store::persons::create(&mut tx.conn(), &person, owner, now).await?;
        let contact_on = met_on + Duration::days(4 + (i % 10) as i64);
        let referent = status >= FunnelStatus::EnAccompagnement;
        store::persons::add_member(
            &mut tx.conn(),
            &NewMember {
                person: id,
                user: owner,
                organisation,
                is_referent: referent,
                health_access: referent,
                added_by: owner,
            },
            now,
        )
        .await?;
        if status >= FunnelStatus::Contacte {
            store::persons::set_status(
                &mut tx.conn(),
                id,
                FunnelStatus::Contacte,
                contact_on.min(today),
                now,
            )
            .await?;
            store::persons::add_entry(
                &mut tx.conn(),
                &NewEntry {
                    person: id,
                    occurred_on: contact_on.min(today),
                    author: owner,
                    kind: JournalKind::Contact,
                    channel: Some(ContactChannel::Telephone),
                    outcome: Some(ContactOutcome::RendezVous),
                    body: "Premier échange, rendez-vous fixé.",
                    visibility: Visibility::Groupe,
                },
                now,
            )
            .await?;
            store::persons::touch_contact(&mut tx.conn(), id, contact_on.min(today)).await?;
        }
        if status >= FunnelStatus::EnAccompagnement {
            let entered = (contact_on + Duration::days(10)).min(today);
            // France Travail's people also agreed to share with the Mission locale: the demo's
            // orientations go from one to the other.
            let mut organisations: Vec<OrganisationId> = organisation.into_iter().collect();
            if owner == ft
                && let Some(ml_org) = owners[1].1
            {
                organisations.push(ml_org);
                oriented.push(id);
            }
            store::persons::add_consent(
                &mut tx.conn(),
                &NewConsent {
                    person: id,
                    given_on: entered,
                    method: ConsentMethod::Ecrit,
                    purposes: if organisation.is_some() {
                        &[
                            ConsentPurpose::Accompagnement,
                            ConsentPurpose::Partage,
                            ConsentPurpose::Recontact,
                        ]
                    } else {
                        &[ConsentPurpose::Accompagnement, ConsentPurpose::Recontact]
                    },
                    organisations: &organisations,
                    recorded_by: owner,
                },
                now,
            )
            .await?;
            store::persons::set_status(
                &mut tx.conn(),
                id,
                FunnelStatus::EnAccompagnement,
                entered,
                now,
            )
            .await?;
            let situation = Situation {
                birth_date: Some(
                    today - Duration::days(365 * (19 + (i % 40) as i64) + (i * 13 % 300) as i64),
                ),
                sex: Some(sex),
                single_parent: Some(i % 4 == 0),
                children_under_12: Some((i % 3) as i32),
                ft_registered: Some(i % 3 != 2),
                ft_since: (i % 3 != 2).then(|| today - Duration::days(100 + (i * 17 % 700) as i64)),
                brsa: Some(i % 5 == 0),
                cej_pacea: Some(i % 6 == 1),
                qualification: Some(QualificationLevel::ALL[i % 4]),
                languages: [
                    "français",
                    "français, arabe",
                    "français, wolof",
                    "français, anglais",
                ][i % 4]
                    .into(),
                // « Pas de permis » in the notes of i % 4 == 1: no licence for them.
                driving_licence: Some(i % 4 != 1 && i % 3 == 0),
                vehicle: Some(i % 8 == 1),
                criteria: store::persons::Criteria {
                    student: Some(false),
                    in_training: Some(i % 10 == 3),
                    ass: Some(i % 11 == 2),
                    homeless: Some(i % 13 == 4),
                    fle_below_a1: Some(i % 9 == 5),
                    youngest_child_born_on: (i % 3 != 0).then(|| {
                        domain::iso_date(today - Duration::days(400 + (i * 97 % 3000) as i64))
                    }),
                    ..Default::default()
                },
            };
            store::persons::set_situation(&mut tx.conn(), id, &situation, now).await?;
            if i % 6 == 0 {
                store::persons::set_health(
                    &mut tx.conn(),
                    id,
                    &store::persons::Health {
                        rqth: Some(true),
                        aah: Some(i % 12 == 6),
                        rqth_until: Some(domain::iso_date(today + Duration::days(700))),
                        need: true,
                        need_note: "Dossier MDPH en cours (donnée fictive)".into(),
                        // Half of them: the référent told the group that a health need exists.
                        need_shared: i % 12 == 0,
                    },
                    owner,
                    now,
                )
                .await?;
            }
            let last_contact = (entered + Duration::days((i % 60) as i64)).min(today);
            store::persons::add_entry(
                &mut tx.conn(),
                &NewEntry { person: id, occurred_on: last_contact, author: owner, kind: JournalKind::Note, channel: None, outcome: None, body: "Point d'étape : démarches en cours, prochain rendez-vous dans trois semaines.", visibility: Visibility::Groupe },
                now,
            )
            .await?;
            store::persons::touch_contact(&mut tx.conn(), id, last_contact).await?;
            // Two in three get a signed diagnostic, half of those a second one where mobility
            // eased, and a plan whose first action is overdue for some.
            if i % 3 != 2 {
                diagnose(&mut tx, id, i, entered, today, owner, now).await?;
            }
        }
        if status == FunnelStatus::EnAccompagnement && sex == Sex::Femme && owner == ft {
            women_followed.push(id);
        }
        if status == FunnelStatus::Sorti {
            // Those met long ago left three months ago: their 3-month check is due.
            let exited = if (i * 37) % 330 > 150 {
                today - Duration::days(95)
            } else {
                today - Duration::days((i % 20) as i64)
            };
            let kind = [
                ExitKind::Cdi,
                ExitKind::CddCourt,
                ExitKind::FormationQualifiante,
                ExitKind::ContratAide,
            ][i % 4];
            store::exits::create(
                &mut tx.conn(),
                &store::exits::NewExit {
                    person: id,
                    territory: territory.id,
                    exited_on: exited,
                    kind,
                    employer: kind
                        .has_employer()
                        .then_some(employers[i % employers.len()]),
                    detail: "",
                    recorded_by: owner,
                },
                now,
            )
            .await?;
            store::persons::set_status(&mut tx.conn(), id, FunnelStatus::Sorti, exited, now)
                .await?;
        }
    }
    if let (Some(ft_org), Some(ml_org)) = (owners[0].1, owners[1].1) {
        orientations(&mut tx, &oriented, (ft, ft_org), (ml, ml_org), today, now).await?;
        cohort(
            &mut tx,
            territory.id,
            (coordinator_user, ft, ft_org),
            &women_followed,
            &employers,
            today,
            now,
        )
        .await?;
        crate::demo_governance::seed(
            &mut tx,
            territory.id,
            (coordinator_user, ft),
            &[ft_org, ml_org],
            women_followed.first().copied(),
            today,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(count)
}

/// The demo's orientations from France Travail to the Mission locale, one in each part of the
/// lifecycle (fictional): waiting, under study, declined then re-oriented, accepted and ended.
async fn orientations(
    tx: &mut store::Tx,
    persons: &[domain::PersonId],
    (ft, ft_org): (UserId, OrganisationId),
    (ml, ml_org): (UserId, OrganisationId),
    today: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use domain::Field;
    use domain::orientation::{DeclineReason, Outcome, Status, Step};
    use store::orientations::{Change, NewOrientation};
    let territory = match persons.first() {
        Some(p) => store::persons::get(&mut tx.conn(), *p)
            .await?
            .map(|p| p.territory_id),
        None => None,
    };
    let Some(territory) = territory else {
        return Ok(());
    };
    // (steps after sending, days ago it was sent)
    let plans: [(&[Step], i64); 5] = [
        (&[], 3),
        (&[Step::Study], 12),
        (&[Step::Decline], 20),
        (&[Step::Accept, Step::Enter], 25),
        (&[Step::Accept, Step::Enter, Step::Finish], 60),
    ];
    let mut declined = None;
    for (person, (steps, ago)) in persons.iter().zip(plans) {
        let sent_at = now - Duration::days(ago);
        let sent_on = today - Duration::days(ago);
        let new = NewOrientation {
            territory,
            person: *person,
            previous: None,
            service: None,
            service_name: "",
            receiver_org: Some(ml_org),
            receiver_name: "Mission locale Sambre-Avesnois",
            receiver_email: None,
            sender: ft,
            sender_org: Some(ft_org),
            consent: None,
            fields: &[Field::ReseauProfessionnel, Field::Mobilite],
            reason: "Accompagnement vers l'emploi des moins de 26 ans (CEJ).",
            message: "Personne disponible rapidement, à recontacter par téléphone.",
            documents: "Pièce d'identité, attestation France Travail",
            contact_preference: "Téléphone, l'après-midi",
            availability: "Du lundi au jeudi",
            sent_on,
        };
        let id = store::orientations::create(&mut tx.conn(), &new, sent_at).await?;
        let mut status = Status::Envoyee;
        for (n, step) in steps.iter().enumerate() {
            let on = sent_on + Duration::days(2 + 3 * n as i64);
            let Ok(to) = status.after(*step) else { break };
            let ch = Change {
                id,
                from: status,
                version: n as i32,
                to,
                step: *step,
                by: Some(ml),
                via_link: false,
                on,
                detail: "",
                entered_on: (*step == Step::Enter).then_some(on),
                ended_on: (*step == Step::Finish).then_some(on),
                outcome: (*step == Step::Finish).then_some(Outcome::ParcoursRealise),
                decline_comment: (*step == Step::Decline)
                    .then_some("Prochaine session en début de mois prochain."),
            };
            store::orientations::change(
                &mut tx.conn(),
                &ch,
                sent_at + Duration::days(2 + 3 * n as i64),
            )
            .await?;
            if *step == Step::Decline {
                store::orientations::set_decline_reasons(
                    &mut tx.conn(),
                    id,
                    &[(DeclineReason::SessionComplete, String::new())],
                )
                .await?;
                declined = Some((*person, id));
            }
            if *step == Step::Accept {
                store::persons::add_member(
                    &mut tx.conn(),
                    &store::persons::NewMember {
                        person: *person,
                        user: ml,
                        organisation: Some(ml_org),
                        is_referent: false,
                        health_access: false,
                        added_by: ml,
                    },
                    now,
                )
                .await?;
            }
            status = to;
        }
    }
    // The declined one, re-oriented a few days later: the chain is kept.
    if let Some((person, previous)) = declined {
        let new = NewOrientation {
            territory,
            person,
            previous: Some(previous),
            service: None,
            service_name: "",
            receiver_org: Some(ml_org),
            receiver_name: "Mission locale Sambre-Avesnois",
            receiver_email: None,
            sender: ft,
            sender_org: Some(ft_org),
            consent: None,
            fields: &[Field::ReseauProfessionnel],
            reason: "Nouvelle session CEJ du mois.",
            message: "",
            documents: "",
            contact_preference: "Téléphone",
            availability: "",
            sent_on: today - Duration::days(5),
        };
        store::orientations::create(&mut tx.conn(), &new, now - Duration::days(5)).await?;
    }
    Ok(())
}

/// The demo's diagnostics and plan of one accompanied person (fictional).
async fn diagnose(
    tx: &mut store::Tx,
    id: domain::PersonId,
    i: usize,
    entered: chrono::NaiveDate,
    today: chrono::NaiveDate,
    owner: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use domain::diagnostic::{Availability, Level, RomeCode, WorkingHours};
    use store::diagnostic::{DiagnosticContent, DiagnosticWrite, FieldAnswer};
    let level = |n: usize| Level::ALL[n % 4];
    let jobs = ["N1103", "K2204", "G1603", "K1304", "H3302", "D1505"];
    let first_on = (entered + Duration::days(7)).min(today);
    let answers = |mobility: Level| {
        Field::ALL
            .iter()
            .enumerate()
            .map(|(k, f)| FieldAnswer {
                field: *f,
                level: if *f == Field::Mobilite {
                    mobility
                } else {
                    level(i + k * 3)
                },
                comment: String::new(),
            })
            .collect::<Vec<_>>()
    };
    let write = |held_on, mobility| DiagnosticWrite {
        held_on,
        words: "Je veux un travail près de chez moi, le matin de préférence (propos fictifs)."
            .into(),
        priorities: "Le permis, puis la garde des enfants.".into(),
        availability: Some(Availability::ALL[i % 4]),
        distance_km: Some(5 + (i % 4) as i64 * 5),
        content: DiagnosticContent {
            answers: answers(mobility),
            ticks: Vec::new(),
            jobs: RomeCode::parse(jobs[i % jobs.len()]).into_iter().collect(),
            hours: vec![WorkingHours::ALL[i % WorkingHours::ALL.len()]],
        },
    };
    store::diagnostic::save(
        &mut tx.conn(),
        id,
        &write(first_on, Level::Bloquant),
        true,
        true,
        owner,
        now,
    )
    .await?;
    let second_on = today - Duration::days(5);
    if i.is_multiple_of(2) && second_on > first_on {
        store::diagnostic::save(
            &mut tx.conn(),
            id,
            &write(second_on, Level::Leger),
            true,
            true,
            owner,
            now,
        )
        .await?;
    }
    let objective = store::diagnostic::add_objective(
        &mut tx.conn(),
        id,
        Field::Mobilite,
        "Obtenir le permis B",
        owner,
        now,
    )
    .await?;
    let due_on = if i % 4 == 1 {
        // Overdue: shows on the référent's home page.
        today - Duration::days(3)
    } else {
        today + Duration::days(20)
    };
    store::diagnostic::add_action(
        &mut tx.conn(),
        &store::diagnostic::NewAction {
            objective,
            person: id,
            title: "S'inscrire au code de la route",
            owner,
            due_on: due_on.max(first_on),
            service: None,
        },
        owner,
        now,
    )
    .await?;
    Ok(())
}

async fn user(pooled: &mut store::Pooled, email: &str) -> Result<UserId, AppError> {
    let email = Email::parse(email).map_err(|e| AppError::Internal(e.0))?;
    store::users::by_email(&mut pooled.conn(), &email)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| {
            AppError::Internal(format!("compte de démonstration {} absent", email.as_str()))
        })
}

/// Two fictional employers of the demo territory (their SIRETs satisfy the key, and belong to
/// no real company: 90… is not attributed).
async fn demo_employers(
    tx: &mut store::Tx,
    territory: domain::TerritoryId,
    by: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<domain::EmployerId>, AppError> {
    let mut ids = Vec::new();
    for (siret, name, naf, contact) in [
        (
            "90123456700013",
            "Entrepôts de la Sambre (fictif)",
            "52.10B",
            "Julie Responsable RH",
        ),
        (
            "90234567800012",
            "Boulangeries du Val (fictif)",
            "10.71C",
            "Marc Gérant",
        ),
    ] {
        ids.push(
            store::employers::create(
                &mut tx.conn(),
                &store::employers::NewEmployer {
                    territory,
                    siret,
                    name,
                    naf,
                    commune_insee: Some("59392"),
                    commune_name: "Maubeuge",
                    contact_name: contact,
                    contact_email: "",
                    contact_phone: "",
                    notes: "Employeur fictif de la démonstration.",
                    created_by: by,
                },
                now,
            )
            .await?,
        );
    }
    Ok(ids)
}

/// The demo's cohort (women followed by France Travail), a job dating held ten days ago with
/// its attendance, and an information collective to come.
async fn cohort(
    tx: &mut store::Tx,
    territory: domain::TerritoryId,
    (coordinator, ft, ft_org): (UserId, UserId, OrganisationId),
    women: &[domain::PersonId],
    employers: &[domain::EmployerId],
    today: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use domain::cohort::{ActionKind, Attendance, Public, Registration};
    let public = Public {
        age_min: Some(26),
        age_max: Some(55),
        sex: Some(Sex::Femme),
        statuses: vec![FunnelStatus::EnAccompagnement],
        description: "Femmes éloignées de l'emploi depuis plus d'un an (fictif)".into(),
        ..Public::default()
    };
    let json = serde_json::to_string(&public).map_err(|e| AppError::Internal(e.to_string()))?;
    let k = store::cohorts::create(
        &mut tx.conn(),
        &store::cohorts::NewCohort {
            territory,
            name: "Femmes 26-55 ans — vague 1",
            public: &json,
            starts_on: today - Duration::days(60),
            ends_on: Some(today + Duration::days(300)),
            capacity: Some(30),
            wave: "Vague 1",
            referents: &[coordinator, ft],
            created_by: coordinator,
        },
        now,
    )
    .await?;
    let members: Vec<domain::PersonId> = women.iter().copied().take(8).collect();
    store::cohorts::enter(
        &mut tx.conn(),
        k,
        &members,
        today - Duration::days(20),
        coordinator,
        now,
    )
    .await?;
    let past = store::actions::create(
        &mut tx.conn(),
        &store::actions::NewAction {
            territory,
            kind: ActionKind::JobDating,
            title: "Job dating logistique et commerce",
            held_on: today - Duration::days(10),
            starts_at: "09:30",
            ends_at: "12:00",
            place: "Maison de l'emploi, 2 rue de la Gare, Maubeuge (fictif)",
            capacity: Some(20),
            field: Some(Field::ReseauProfessionnel),
            description: "Rencontres de dix minutes avec des employeurs qui recrutent.",
            cohort: Some(k),
            organisers: &[ft_org],
            partners: &[],
            employers,
            created_by: ft,
        },
        now,
    )
    .await?;
    store::actions::add(
        &mut tx.conn(),
        past,
        &members,
        Registration::Inscrite,
        ft,
        now,
    )
    .await?;
    let marks: Vec<(domain::PersonId, Attendance)> = members
        .iter()
        .enumerate()
        .map(|(n, p)| {
            (
                *p,
                [
                    Attendance::Present,
                    Attendance::Present,
                    Attendance::Absent,
                    Attendance::Excuse,
                ][n % 4],
            )
        })
        .collect();
    store::actions::set_attendance(&mut tx.conn(), past, &marks, ft, now).await?;
    for e in employers {
        store::employers::engage(
            &mut tx.conn(),
            &store::employers::NewEngagement {
                employer: *e,
                kind: domain::employer::Engagement::JobDating,
                on: today - Duration::days(10),
                action: Some(past),
                person: None,
                note: "Job dating logistique et commerce",
                by: ft,
            },
            now,
        )
        .await?;
    }
    let coming = store::actions::create(
        &mut tx.conn(),
        &store::actions::NewAction {
            territory,
            kind: ActionKind::InformationCollective,
            title: "Information collective : les métiers de l'aide à domicile",
            held_on: today + Duration::days(7),
            starts_at: "14:00",
            ends_at: "16:00",
            place: "Centre social du quartier (fictif)",
            capacity: None,
            field: None,
            description: "",
            cohort: Some(k),
            organisers: &[ft_org],
            partners: &[],
            employers: &[],
            created_by: ft,
        },
        now,
    )
    .await?;
    store::actions::add(
        &mut tx.conn(),
        coming,
        &members,
        Registration::Invitee,
        ft,
        now,
    )
    .await?;
    Ok(())
}
