//! The demonstration data set: fictional people and organisations on real communes. Seeding is
//! idempotent: run twice, the same data, no duplicates (records are found by natural keys).

use domain::{
    Email, InseeCode, OrganisationId, OrganisationKind, Role, Slug, TerritoryId, TerritoryStatus,
    UserId,
};
use store::memberships::NewMembership;
use store::organisations::OrganisationData;
use store::territories::TerritoryData;

use crate::{App, AppError};

pub const PASSWORD: &str = "demo-passerelle";

pub struct DemoAccount {
    pub email: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

pub const ACCOUNTS: [DemoAccount; 5] = [
    DemoAccount {
        email: "admin@demo.passerelle.test",
        name: "Alix Administratrice",
        description: "administration nationale",
    },
    DemoAccount {
        email: "coordination@demo.passerelle.test",
        name: "Camille Coordinatrice",
        description: "coordination des deux territoires de démonstration",
    },
    DemoAccount {
        email: "conseil.ft@demo.passerelle.test",
        name: "Farid Conseiller",
        description: "conseiller France Travail Maubeuge",
    },
    DemoAccount {
        email: "conseil.ml@demo.passerelle.test",
        name: "Manon Conseillère",
        description: "conseillère Mission locale Sambre-Avesnois",
    },
    DemoAccount {
        email: "pilotage@demo.passerelle.test",
        name: "Paul Pilote",
        description: "délégué du préfet, chiffres agrégés du territoire « demo »",
    },
];

struct Org {
    name: &'static str,
    kind: OrganisationKind,
    address: &'static str,
    postal_code: &'static str,
    commune: &'static str,
    territories: &'static [&'static str],
    /// Known to ProConnect by this SIRET (a ProConnect sign-in is matched on it).
    siret: Option<&'static str>,
}

const ORGANISATIONS: [Org; 8] = [
    Org {
        name: "France Travail Maubeuge",
        kind: OrganisationKind::FranceTravail,
        address: "12 rue de la Démonstration",
        postal_code: "59600",
        commune: "59392",
        territories: &["demo"],
        // France Travail's head office: its agents come through ProConnect with it.
        siret: Some("13000548100010"),
    },
    Org {
        name: "Mission locale Sambre-Avesnois",
        kind: OrganisationKind::MissionLocale,
        address: "4 place Fictive",
        postal_code: "59600",
        commune: "59392",
        territories: &["demo"],
        siret: None,
    },
    Org {
        name: "Cap emploi Nord",
        kind: OrganisationKind::CapEmploi,
        address: "8 avenue Imaginaire",
        postal_code: "59720",
        commune: "59365",
        territories: &["demo"],
        siret: None,
    },
    Org {
        name: "PLIE Sambre-Avesnois",
        kind: OrganisationKind::Plie,
        address: "1 rue de l'Exemple",
        postal_code: "59600",
        commune: "59392",
        territories: &["demo"],
        siret: None,
    },
    Org {
        name: "Association Les Ateliers du Quartier",
        kind: OrganisationKind::Association,
        address: "23 allée des Essais",
        postal_code: "59720",
        commune: "59365",
        territories: &["demo"],
        siret: None,
    },
    Org {
        name: "CCAS de Maubeuge (démonstration)",
        kind: OrganisationKind::Ccas,
        address: "2 rue du Modèle",
        postal_code: "59600",
        commune: "59392",
        territories: &["demo"],
        siret: None,
    },
    Org {
        name: "Chantier d'insertion Le Jardin partagé",
        kind: OrganisationKind::Siae,
        address: "5 chemin du Test",
        postal_code: "59720",
        commune: "59365",
        territories: &["demo"],
        siret: None,
    },
    Org {
        name: "France Travail Roubaix",
        kind: OrganisationKind::FranceTravail,
        address: "30 boulevard Fictif",
        postal_code: "59100",
        commune: "59512",
        territories: &["demo-roubaix"],
        siret: None,
    },
];

pub struct DemoReport {
    pub services: usize,
    pub persons: usize,
    pub territories: usize,
    pub organisations: usize,
    pub accounts: usize,
    pub qpv: usize,
}

fn insee(code: &str) -> Result<InseeCode, AppError> {
    InseeCode::parse(code).map_err(|e| AppError::Internal(e.0))
}

pub async fn seed(app: &App) -> Result<DemoReport, AppError> {
    let now = app.now();
    let hash = crate::secrets::hash_password(PASSWORD).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();

    let mut territory_ids: Vec<(&str, TerritoryId)> = Vec::new();
    for (slug, name, communes, epci, co_pilots) in [
        (
            "demo",
            "Cité de l'emploi de démonstration",
            &["59392", "59365"][..],
            Some("200043396"),
            "Préfecture du Nord (délégué du préfet) ; Communauté d'agglomération Maubeuge Val de Sambre",
        ),
        (
            "demo-roubaix",
            "Cité de l'emploi de démonstration (Roubaix)",
            &["59512"][..],
            None,
            "Préfecture du Nord ; Ville de Roubaix",
        ),
    ] {
        let data = TerritoryData {
            slug: Slug::parse(slug).map_err(|e| AppError::Internal(e.0))?,
            name: name.into(),
            status: TerritoryStatus::Active,
            epci: epci
                .map(domain::EpciCode::parse)
                .transpose()
                .map_err(|e| AppError::Internal(e.0))?,
            co_pilots: co_pilots.into(),
            starts_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1),
            ends_on: chrono::NaiveDate::from_ymd_opt(2027, 12, 31),
            communes: communes
                .iter()
                .map(|c| insee(c))
                .collect::<Result<_, _>>()?,
            time_zone: domain::TimeZone::Paris,
        };
        let id = match store::territories::by_slug(&mut c, slug).await? {
            Some(t) => {
                store::territories::update(&mut c, t.id, &data, now).await?;
                t.id
            }
            None => store::territories::create(&mut c, &data, now).await?,
        };
        territory_ids.push((slug, id));
    }
    let territory = |slug: &str| {
        territory_ids
            .iter()
            .find(|(s, _)| *s == slug)
            .map(|(_, id)| *id)
    };

    let existing = store::organisations::list(&mut c).await?;
    let mut org_ids: Vec<(&str, OrganisationId)> = Vec::new();
    for org in &ORGANISATIONS {
        let data = OrganisationData {
            name: org.name.into(),
            kind: org.kind,
            siret: org
                .siret
                .map(domain::Siret::parse)
                .transpose()
                .map_err(|e| AppError::Internal(e.0))?,
            address: org.address.into(),
            postal_code: org.postal_code.into(),
            commune_insee: insee(org.commune)?,
        };
        let id = match existing.iter().find(|o| o.name == org.name) {
            Some(o) => {
                store::organisations::update(&mut c, o.id, &data, now).await?;
                o.id
            }
            None => store::organisations::create(&mut c, &data, now).await?,
        };
        for slug in org.territories {
            if let Some(t) = territory(slug) {
                store::territories::add_partner(&mut c, t, id, None, now).await?;
            }
        }
        org_ids.push((org.name, id));
    }
    let org = |name: &str| org_ids.iter().find(|(n, _)| *n == name).map(|(_, id)| *id);

    let memberships: [(usize, Role, Option<OrganisationId>, Option<TerritoryId>); 6] = [
        (0, Role::Admin, None, None),
        (1, Role::Coordinator, None, territory("demo")),
        (1, Role::Coordinator, None, territory("demo-roubaix")),
        (2, Role::Professional, org("France Travail Maubeuge"), None),
        (
            3,
            Role::Professional,
            org("Mission locale Sambre-Avesnois"),
            None,
        ),
        (4, Role::Pilot, None, territory("demo")),
    ];
    let mut user_ids: Vec<UserId> = Vec::new();
    for account in &ACCOUNTS {
        let email = Email::parse(account.email).map_err(|e| AppError::Internal(e.0))?;
        let id = match store::users::by_email(&mut c, &email).await? {
            Some(u) => {
                store::users::set_password(&mut c, u.id, &hash).await?;
                store::users::set_active(&mut c, u.id, true).await?;
                store::users::set_display_name(&mut c, u.id, account.name).await?;
                u.id
            }
            None => store::users::create(&mut c, &email, account.name, Some(&hash), now).await?,
        };
        user_ids.push(id);
    }
    for (index, role, organisation, territory) in memberships {
        let m = NewMembership {
            user: user_ids[index],
            role,
            organisation,
            territory,
            created_by: None,
        };
        if !store::memberships::exists(&mut c, &m).await? {
            store::memberships::create(&mut c, &m, now).await?;
        }
    }
    tx.commit().await?;
    let qpv = crate::qpv::seed_demo(app).await?;
    crate::geocoding::seed_demo(app).await?;
    let services = crate::demo_directory::seed(app).await?;
    let persons = crate::demo_persons::seed(app).await?;
    Ok(DemoReport {
        services,
        persons,
        territories: territory_ids.len(),
        organisations: org_ids.len(),
        accounts: user_ids.len(),
        qpv: qpv.created + qpv.updated + qpv.unchanged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn counts(app: &App) -> (usize, usize, usize) {
        let mut pooled = app.db.acquire().await.expect("connection");
        let t = store::territories::list(&mut pooled.conn())
            .await
            .expect("territories")
            .len();
        let o = store::organisations::list(&mut pooled.conn())
            .await
            .expect("organisations")
            .len();
        let u = store::users::list(&mut pooled.conn(), "", 1000)
            .await
            .expect("users")
            .len();
        (t, o, u)
    }

    store::both_backends! {
        async fn seeding_the_demo_twice_gives_the_same_data(db) {
            let app = App::new(db.clone(), crate::Settings::default(), None).await.expect("app");
            let report = seed(&app).await.expect("first seed");
            let first = counts(&app).await;
            let mut export = Vec::new();
            crate::directory_file::export(&app, None, &mut export).await.expect("export");
            seed(&app).await.expect("second seed");
            assert_eq!(counts(&app).await, first);
            let mut again = Vec::new();
            crate::directory_file::export(&app, None, &mut again).await.expect("export");
            assert_eq!(export, again, "the demo directory is seeded once");
            assert_eq!(report.services, 20);
            assert_eq!(report.persons, 200);
            // Each demo professional sees only their own people; the coordinator sees everyone.
            let ft = crate::caller::load(&app, &crate::auth::login(&app, "conseil.ft@demo.passerelle.test", PASSWORD, "127.0.0.1").await.expect("login").token).await.expect("load").expect("session");
            let ml = crate::caller::load(&app, &crate::auth::login(&app, "conseil.ml@demo.passerelle.test", PASSWORD, "127.0.0.1").await.expect("login").token).await.expect("load").expect("session");
            let token = crate::auth::login(&app, "coordination@demo.passerelle.test", PASSWORD, "127.0.0.1").await.expect("login").token;
            let coordinator = crate::caller::load(&app, &token).await.expect("load").expect("session");
            crate::caller::switch_territory(&app, &coordinator, "demo").await.expect("switch");
            let coordinator = crate::caller::load(&app, &token).await.expect("load").expect("session");
            let count = |c: &crate::Caller, everyone: bool| {
                let app = app.clone();
                let c = c.clone();
                async move { crate::persons::caseload(&app, &c, &crate::persons::CaseloadInput { everyone, page: 1, ..Default::default() }).await.expect("caseload").total }
            };
            let (mine_ft, mine_ml) = (count(&ft, false).await, count(&ml, false).await);
            assert!(mine_ft > 30 && mine_ml > 30, "{mine_ft} {mine_ml}");
            assert_eq!(count(&coordinator, true).await, 200);
            let ft_list = crate::persons::caseload(&app, &ft, &crate::persons::CaseloadInput { page: 1, ..Default::default() }).await.expect("list");
            let other = crate::persons::caseload(&app, &ml, &crate::persons::CaseloadInput { page: 1, ..Default::default() }).await.expect("list");
            assert!(matches!(crate::persons::file(&app, &ml, ft_list.rows[0].id, "/p").await, Err(crate::AppError::NotFound)));
            // Their lists meet only where the Mission locale accepted an orientation from
            // France Travail (it joined the group then).
            for shared in ft_list.rows.iter().filter(|r| other.rows.iter().any(|o| o.id == r.id)) {
                let mut pooled = app.db.acquire().await.expect("connection");
                let orientations = store::orientations::of_person(&mut pooled.conn(), shared.id).await.expect("orientations");
                assert!(orientations.iter().any(|o| matches!(o.status, domain::orientation::Status::Acceptee | domain::orientation::Status::Entree | domain::orientation::Status::Terminee)), "{:?} shared without an accepted orientation", shared.id);
            }
            assert_eq!(first, (2, 8, 5));
            let point = crate::qpv::lookup_point(&app, 3.962, 50.272, domain::Millesime::Y2024).expect("valid point");
            assert_eq!(point.code_qp.as_deref(), Some("QN05990N"), "the demo's fictional QPVs are loaded");
            // The demo's address extract answers without any network (the BAN API is out of reach).
            let answer = crate::qpv::lookup_address(&app, "Bât. B, 5 rue des Tilleuls 59600 Maubeuge", domain::Millesime::Y2024).await.expect("offline address check");
            assert_eq!(answer.qpv.code_qp.as_deref(), Some("QN05990N"), "{answer:?}");
            let outside = crate::qpv::lookup_address(&app, "20 avenue de France 59600 Maubeuge", domain::Millesime::Y2024).await.expect("offline address check");
            assert_eq!(outside.qpv.code_qp, None);
            assert!(outside.label.is_some(), "found, outside any QPV");
            // The mass check answers from the same extract, without network.
            let file = "adresse\n\"Bât. B, 5 rue des Tilleuls 59600 Maubeuge\"\n20 avenue de France 59600 Maubeuge\n";
            let mut sink = crate::qpv_file::CsvSink(csv::Writer::from_writer(Vec::new()));
            let report = crate::qpv_file::check_file(&app, file.as_bytes().to_vec(), &crate::qpv_file::FileCheckInput::default(), &mut sink).await.expect("mass check");
            assert_eq!((report.rows, report.inside, report.flagged), (2, 1, 0), "{report:?}");
            // Demo persons are coherent: the QPV on their file is the one their address is in,
            // and their needs cover the fields.
            let all = crate::persons::caseload(&app, &coordinator, &crate::persons::CaseloadInput { everyone: true, page: 1, ..Default::default() }).await.expect("list");
            let mut fields = std::collections::BTreeSet::new();
            for row in all.rows.iter().take(20) {
                fields.extend(row.need_fields.0.iter().copied());
                let file = crate::persons::file(&app, &coordinator, row.id, "/p").await.expect("file");
                let checked = crate::qpv::lookup_address(&app, &format!("{} {}", file.person.address, file.person.postal_code), domain::Millesime::Y2024).await.expect("address");
                assert_eq!(checked.qpv.code_qp, file.person.qpv_code, "{} {}", file.person.address, file.person.postal_code);
            }
            assert!(fields.len() >= 6, "{fields:?}");
            let login = crate::auth::login(&app, "conseil.ft@demo.passerelle.test", PASSWORD, "127.0.0.1").await.expect("demo login");
            let caller = crate::caller::load(&app, &login.token).await.expect("load").expect("session");
            assert_eq!(caller.territories.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(), vec!["demo"]);
            let mut pooled = app.db.acquire().await.expect("connection");
            let memberships = store::memberships::of_user(&mut pooled.conn(), caller.user_id).await.expect("memberships");
            assert_eq!(memberships.len(), 1);
        }
    }
}
