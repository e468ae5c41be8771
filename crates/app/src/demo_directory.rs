//! The demonstration directory: fictional services on the demo territories, loaded through the
//! same data·inclusion import as real files (so seeding twice changes nothing), and a few
//! inspiring actions for the knowledge base.

use chrono::Duration;
use serde_json::{Value, json};

use crate::{App, AppError};

/// (key, name, address, postcode, commune code, commune, lon, lat)
type DemoStructure = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
);

const STRUCTURES: [DemoStructure; 7] = [
    (
        "pcb",
        "Point conseil budget Sambre (démonstration)",
        "3 rue des Exemples",
        "59600",
        "59392",
        "Maubeuge",
        3.9712,
        50.2768,
    ),
    (
        "mobilite",
        "Plateforme mobilité Val de Sambre (démonstration)",
        "10 rue du Prototype",
        "59720",
        "59365",
        "Louvroil",
        3.9581,
        50.2651,
    ),
    (
        "creche",
        "Crèche AVIP Les Petits Pas (démonstration)",
        "7 rue de l'Essai",
        "59600",
        "59392",
        "Maubeuge",
        3.9795,
        50.2801,
    ),
    (
        "numerique",
        "Espace France Services de Maubeuge (démonstration)",
        "15 place du Modèle",
        "59600",
        "59392",
        "Maubeuge",
        3.9741,
        50.2779,
    ),
    (
        "mdph",
        "Maison départementale des personnes handicapées (démonstration)",
        "1 boulevard Fictif",
        "59000",
        "59350",
        "Lille",
        3.0573,
        50.6292,
    ),
    (
        "asl",
        "Centre social du Faubourg (démonstration)",
        "21 rue du Brouillon",
        "59720",
        "59365",
        "Louvroil",
        3.9632,
        50.2617,
    ),
    (
        "roubaix",
        "Association Roubaix Emploi Solidaire (démonstration)",
        "40 rue Fictive",
        "59100",
        "59512",
        "Roubaix",
        3.1776,
        50.6911,
    ),
];

/// One demo service: the structure (a demo structure key, or `org:` and a demo organisation's
/// name), name, description, type, thematiques, publics, frais, modes d'accueil, zone, months
/// since the last update, and whether it is the territory's specific offer.
struct DemoService {
    territory: &'static str,
    structure: &'static str,
    id: &'static str,
    nom: &'static str,
    description: &'static str,
    kind: &'static str,
    thematiques: &'static [&'static str],
    publics: &'static [&'static str],
    frais: &'static str,
    accueil: &'static [&'static str],
    zone: &'static [&'static str],
    months_old: i64,
    specific: bool,
}

const SERVICES: [DemoService; 20] = [
    DemoService {
        territory: "demo",
        structure: "org:France Travail Maubeuge",
        id: "immersion",
        nom: "Immersions en entreprise (PMSMP)",
        description: "Une période de mise en situation en milieu professionnel permet de découvrir un métier ou de confirmer un projet, quelques jours à un mois, dans une entreprise du territoire. Le conseiller prescrit l'immersion et accompagne la personne avant, pendant et après.",
        kind: "accompagnement",
        thematiques: &[
            "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",
            "choisir-un-metier--confirmer-son-choix-de-metier",
        ],
        publics: &["demandeurs-emploi", "jeunes"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["200043396"],
        months_old: 1,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "org:France Travail Maubeuge",
        id: "job-dating",
        nom: "Job dating des quartiers",
        description: "Chaque mois, des employeurs qui recrutent rencontrent des habitants des quartiers prioritaires, sans CV, au pied des immeubles. Préparation de la rencontre la veille avec un conseiller.",
        kind: "atelier",
        thematiques: &[
            "trouver-un-emploi--convaincre-un-recruteur-en-entretien",
            "preparer-sa-candidature--developper-son-reseau",
        ],
        publics: &["residents-qpv-frr", "demandeurs-emploi"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["59392", "59365"],
        months_old: 0,
        specific: true,
    },
    DemoService {
        territory: "demo",
        structure: "org:France Travail Maubeuge",
        id: "aide-mobilite",
        nom: "Aides à la mobilité de France Travail",
        description: "Prise en charge de frais de déplacement, de repas ou d'hébergement pour se rendre à un entretien, un concours ou une formation éloignés, et aide au permis de conduire sous conditions.",
        kind: "aide-financiere",
        thematiques: &[
            "mobilite--financer-ma-mobilite",
            "mobilite--preparer-un-permis",
        ],
        publics: &["demandeurs-emploi"],
        frais: "gratuit",
        accueil: &["en-presentiel", "a-distance"],
        zone: &["59"],
        months_old: 2,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "org:Mission locale Sambre-Avesnois",
        id: "cej",
        nom: "Contrat d'engagement jeune",
        description: "Un accompagnement intensif de 15 à 20 heures par semaine pour les 16-25 ans (29 ans en situation de handicap) sans emploi ni formation, avec une allocation selon les ressources.",
        kind: "accompagnement",
        thematiques: &[
            "trouver-un-emploi--repondre-a-des-offres-demploi",
            "choisir-un-metier--identifier-ses-points-forts-et-ses-competences",
        ],
        publics: &["jeunes"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["200043396"],
        months_old: 1,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "org:Mission locale Sambre-Avesnois",
        id: "parrainage",
        nom: "Parrainage vers l'emploi",
        description: "Un parrain ou une marraine en activité accompagne un jeune pendant six mois : conseils, mises en relation, préparation des entretiens. Rencontres au moins deux fois par mois.",
        kind: "accompagnement",
        thematiques: &["preparer-sa-candidature--developper-son-reseau"],
        publics: &["jeunes", "residents-qpv-frr"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["59392", "59365"],
        months_old: 8,
        specific: true,
    },
    DemoService {
        territory: "demo",
        structure: "org:PLIE Sambre-Avesnois",
        id: "plie",
        nom: "Accompagnement renforcé du PLIE",
        description: "Un référent de parcours unique accompagne les personnes très éloignées de l'emploi jusqu'à six mois après leur reprise d'emploi, en mobilisant formations, étapes d'insertion et aides.",
        kind: "accompagnement",
        thematiques: &[
            "trouver-un-emploi--maintien-dans-lemploi",
            "trouver-un-emploi--suivre-ses-candidatures-et-relancer-les-employeurs",
        ],
        publics: &["beneficiaires-des-minimas-sociaux", "demandeurs-emploi"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["200043396"],
        months_old: 3,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "org:Association Les Ateliers du Quartier",
        id: "atelier-cv",
        nom: "Atelier CV et lettre de motivation",
        description: "Chaque mardi après-midi, un atelier collectif pour écrire ou mettre à jour son CV, sur papier ou en ligne, avec un bénévole. Sans rendez-vous.",
        kind: "atelier",
        thematiques: &["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"],
        publics: &["tous-publics"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["59365", "59392"],
        months_old: 1,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "org:Association Les Ateliers du Quartier",
        id: "numerique-atelier",
        nom: "Premiers pas sur l'ordinateur",
        description: "Apprendre à utiliser un ordinateur, une boîte aux lettres électronique et les sites des administrations, en petits groupes de six personnes, sur dix séances.",
        kind: "formation",
        thematiques: &[
            "numerique--maitriser-les-fondamentaux-du-numerique",
            "numerique--acceder-a-des-services-en-ligne",
        ],
        publics: &["tous-publics"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["59365"],
        months_old: 9,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "org:CCAS de Maubeuge (démonstration)",
        id: "aide-urgence",
        nom: "Aides financières d'urgence",
        description: "Secours ponctuels pour faire face à une dépense imprévue (énergie, alimentation, transport pour un premier mois d'emploi), après un entretien avec un travailleur social du CCAS.",
        kind: "aide-financiere",
        thematiques: &[
            "difficultes-financieres--prevenir-une-degradation-de-la-situation-financiere",
            "equipement-et-alimentation--alimentation",
        ],
        publics: &["personnes-en-situation-durgence", "familles"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["59392"],
        months_old: 2,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "org:Chantier d'insertion Le Jardin partagé",
        id: "aci",
        nom: "Chantier d'insertion maraîchage",
        description: "Un contrat à durée déterminée d'insertion de 4 à 24 mois, 26 heures par semaine, dans le maraîchage biologique, avec un accompagnement socioprofessionnel et des formations.",
        kind: "accompagnement",
        thematiques: &[
            "trouver-un-emploi--repondre-a-des-offres-demploi",
            "remobilisation--bien-etre-confiance-en-soi",
        ],
        publics: &["beneficiaires-des-minimas-sociaux", "demandeurs-emploi"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["200043396"],
        months_old: 4,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "org:Cap emploi Nord",
        id: "cap-emploi",
        nom: "Accompagnement vers l'emploi des personnes handicapées",
        description: "Cap emploi accompagne les personnes bénéficiaires de l'obligation d'emploi (RQTH notamment) dans leur recherche d'emploi et conseille les employeurs sur l'adaptation des postes.",
        kind: "accompagnement",
        thematiques: &[
            "sante--acces-aux-soins",
            "trouver-un-emploi--maintien-dans-lemploi",
        ],
        publics: &["personnes-en-situation-de-handicap"],
        frais: "gratuit",
        accueil: &["en-presentiel", "a-distance"],
        zone: &["59"],
        months_old: 1,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "pcb",
        id: "budget",
        nom: "Conseil budgétaire gratuit et confidentiel",
        description: "Faire le point sur son budget, prévenir ou traiter le surendettement, préparer un dossier auprès de la Banque de France. Rendez-vous individuels gratuits et confidentiels.",
        kind: "accompagnement",
        thematiques: &[
            "difficultes-financieres--ameliorer-sa-gestion-budgetaire",
            "difficultes-financieres--situation-dendettement-surendettement",
        ],
        publics: &["tous-publics"],
        frais: "gratuit",
        accueil: &["en-presentiel", "a-distance"],
        zone: &["59"],
        months_old: 2,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "mobilite",
        id: "bilan-mobilite",
        nom: "Bilan de mobilité et location solidaire",
        description: "Un conseiller mobilité fait le point sur vos trajets vers l'emploi, vous apprend à utiliser les transports en commun et peut louer un scooter ou une voiture à petit prix pour les premiers mois d'emploi.",
        kind: "accompagnement",
        thematiques: &[
            "mobilite--etre-accompagne-dans-son-parcours-mobilite",
            "mobilite--acceder-a-un-vehicule",
        ],
        publics: &["demandeurs-emploi", "beneficiaires-des-minimas-sociaux"],
        frais: "payant",
        accueil: &["en-presentiel"],
        zone: &["200043396"],
        months_old: 1,
        specific: true,
    },
    DemoService {
        territory: "demo",
        structure: "mobilite",
        id: "auto-ecole",
        nom: "Auto-école sociale",
        description: "Préparer le code et la conduite à un rythme adapté, avec des moniteurs formés à l'accompagnement des personnes qui ont des difficultés d'apprentissage. Tarif selon les ressources.",
        kind: "formation",
        thematiques: &["mobilite--preparer-un-permis"],
        publics: &["demandeurs-emploi", "jeunes"],
        frais: "payant",
        accueil: &["en-presentiel"],
        zone: &["200043396"],
        months_old: 14,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "creche",
        id: "avip",
        nom: "Places en crèche pour parents en recherche d'emploi",
        description: "Des places réservées aux parents qui cherchent un emploi ou une formation, en particulier ceux qui vivent en quartier prioritaire, avec un accueil possible dès l'entretien d'embauche.",
        kind: "aide-materielle",
        thematiques: &["famille--garde-denfants"],
        publics: &["familles", "demandeurs-emploi"],
        frais: "payant",
        accueil: &["en-presentiel"],
        zone: &["59392", "59365"],
        months_old: 2,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "numerique",
        id: "conseiller-numerique",
        nom: "Conseiller numérique France Services",
        description: "Aide aux démarches en ligne (France Travail, CAF, impôts), création d'une adresse électronique et d'un espace personnel, prêt d'ordinateur sur place.",
        kind: "accompagnement",
        thematiques: &[
            "numerique--acceder-a-des-services-en-ligne",
            "numerique--acquerir-un-equipement",
        ],
        publics: &["tous-publics"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["200043396"],
        months_old: 1,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "mdph",
        id: "rqth",
        nom: "Demande de reconnaissance de la qualité de travailleur handicapé",
        description: "Informer et aider à constituer le dossier de demande de RQTH auprès de la maison départementale des personnes handicapées, qui ouvre l'accès aux aides de l'Agefiph et à Cap emploi.",
        kind: "information",
        thematiques: &["sante--constituer-un-dossier-mdph-invalidite"],
        publics: &["personnes-en-situation-de-handicap"],
        frais: "gratuit",
        accueil: &["a-distance"],
        zone: &["59"],
        months_old: 3,
        specific: false,
    },
    DemoService {
        territory: "demo",
        structure: "asl",
        id: "asl",
        nom: "Ateliers sociolinguistiques",
        description: "Apprendre le français de la vie quotidienne et du travail : se présenter, prendre un rendez-vous, comprendre un courrier. Deux matinées par semaine, garde d'enfants sur place.",
        kind: "atelier",
        thematiques: &["lecture-ecriture-calcul--maitriser-le-francais"],
        publics: &["personnes-exilees", "femmes", "residents-qpv-frr"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["59365", "59392"],
        months_old: 1,
        specific: true,
    },
    DemoService {
        territory: "demo",
        structure: "asl",
        id: "logement",
        nom: "Permanence logement",
        description: "Un travailleur social informe sur les demandes de logement social, les aides au maintien dans le logement et les recours en cas d'impayés de loyer. Sur rendez-vous le jeudi.",
        kind: "information",
        thematiques: &[
            "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement",
            "logement-hebergement--reduire-les-impayes-de-loyer",
        ],
        publics: &["tous-publics"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["59365"],
        months_old: 2,
        specific: false,
    },
    DemoService {
        territory: "demo-roubaix",
        structure: "roubaix",
        id: "roubaix-numerique",
        nom: "Atelier numérique de Roubaix",
        description: "Des ateliers pour prendre en main son téléphone et son ordinateur et faire ses démarches d'emploi en ligne, avec un médiateur numérique.",
        kind: "atelier",
        thematiques: &["numerique--maitriser-les-fondamentaux-du-numerique"],
        publics: &["tous-publics"],
        frais: "gratuit",
        accueil: &["en-presentiel"],
        zone: &["59512"],
        months_old: 1,
        specific: false,
    },
];

const ACTIONS: [(&str, &str, &str, &str, &str); 3] = [
    (
        "mobilite",
        "Un scooter pour les trois premiers mois d'emploi",
        "Les habitants qui décrochaient un emploi en horaires décalés dans la zone d'activité n'avaient aucun moyen d'y aller. La plateforme mobilité loue des scooters à 2 € par jour pendant trois mois, le temps de financer le permis.",
        "Plateforme mobilité, France Travail, employeurs de la zone d'activité",
        "42 personnes équipées la première année, 35 toujours en emploi à six mois.",
    ),
    (
        "contraintes-familiales",
        "Garde d'enfants pendant les ateliers",
        "Les mères isolées ne venaient pas aux ateliers faute de garde. Le centre social accueille désormais les enfants dans la salle voisine pendant chaque atelier.",
        "Centre social, crèche AVIP, CAF",
        "La participation des mères isolées aux ateliers a doublé.",
    ),
    (
        "reseau-professionnel",
        "Des employeurs au pied des immeubles",
        "Une fois par mois, un job dating se tient sur la place du quartier, sans CV : les employeurs viennent à la rencontre des habitants repérés par les adultes-relais.",
        "France Travail, Mission locale, adultes-relais, club d'entreprises",
        "Une quinzaine d'embauches par édition, dont la moitié de personnes inconnues des services de l'emploi.",
    ),
];

fn structure_record(s: &DemoStructure, date: &str) -> Value {
    json!({
        "source": "demo", "id": format!("demo--{}", s.0), "nom": s.1, "date_maj": date,
        "description": "Structure fictive de la démonstration de Passerelle.",
        "adresse": s.2, "code_postal": s.3, "code_insee": s.4, "commune": s.5,
        "longitude": s.6, "latitude": s.7,
        "telephone": "03 00 00 00 00", "courriel": format!("contact-{}@demo.passerelle.test", s.0),
        "horaires_accueil": "Mo-Fr 09:00-12:00,14:00-17:00",
    })
}

/// Seeds the demo directory and knowledge base; idempotent.
pub async fn seed(app: &App) -> Result<usize, AppError> {
    let today = app.today();
    let date = |months: i64| {
        (today - Duration::days(months * 30 + 3))
            .format(domain::ISO_DATE)
            .to_string()
    };
    let (territories, organisations) = {
        let mut pooled = app.db.acquire().await?;
        (
            store::territories::list(&mut pooled.conn()).await?,
            store::organisations::list(&mut pooled.conn()).await?,
        )
    };
    let mut count = 0;
    for territory in territories.iter().filter(|t| t.slug.starts_with("demo")) {
        let services: Vec<&DemoService> = SERVICES
            .iter()
            .filter(|s| s.territory == territory.slug)
            .collect();
        let mut structures: Vec<Value> = Vec::new();
        let mut records: Vec<Value> = Vec::new();
        let mut specific: Vec<String> = Vec::new();
        for (i, s) in services.iter().enumerate() {
            let (source, structure_id, place) = match s.structure.strip_prefix("org:") {
                Some(name) => {
                    let org = organisations
                        .iter()
                        .find(|o| o.name == name)
                        .ok_or_else(|| {
                            AppError::Internal(format!(
                                "organisation de démonstration {name} absente"
                            ))
                        })?;
                    crate::directory::structure_for_organisation(app, territory.id, org).await?;
                    let place = if org.commune_insee == "59365" {
                        ("59720", "59365", "Louvroil", 3.9606, 50.2644)
                    } else {
                        ("59600", "59392", "Maubeuge", 3.9737, 50.2775)
                    };
                    (
                        "passerelle",
                        format!("passerelle--structure-{}", org.id.0),
                        (org.address.clone(), place),
                    )
                }
                None => {
                    let st = STRUCTURES
                        .iter()
                        .find(|x| x.0 == s.structure)
                        .ok_or_else(|| {
                            AppError::Internal("structure de démonstration absente".into())
                        })?;
                    if !structures
                        .iter()
                        .any(|v| v["id"] == format!("demo--{}", st.0))
                    {
                        structures.push(structure_record(st, &date(1)));
                    }
                    (
                        "demo",
                        format!("demo--{}", st.0),
                        (st.2.to_string(), (st.3, st.4, st.5, st.6, st.7)),
                    )
                }
            };
            let (address, (postcode, insee, commune, lon, lat)) = place;
            // Spread services of one address a little, as distinct rooms of a building would not be.
            let jitter = (i as f64) * 0.0004;
            let id = format!("{source}--demo-{}", s.id);
            if s.specific {
                specific.push(id.clone());
            }
            records.push(json!({
                "source": source, "structure_id": structure_id, "id": id, "nom": s.nom,
                "description": s.description, "date_maj": date(s.months_old), "type": s.kind,
                "thematiques": s.thematiques, "publics": s.publics, "frais": s.frais,
                "frais_precisions": if s.frais == "payant" { Some("Tarif selon les ressources, pris en charge en partie par les aides à la mobilité ou la CAF.") } else { None },
                "conditions_acces": "Orientation par un conseiller ou venue spontanée.",
                "adresse": address, "code_postal": postcode, "code_insee": insee, "commune": commune,
                "longitude": if s.accueil == ["a-distance"] { None } else { Some(lon + jitter) },
                "latitude": if s.accueil == ["a-distance"] { None } else { Some(lat - jitter / 2.0) },
                "telephone": "03 00 00 00 00", "courriel": "contact@demo.passerelle.test",
                "modes_accueil": s.accueil, "zone_eligibilite": s.zone,
                "modes_mobilisation": ["telephoner", "se-presenter"], "mobilisable_par": ["professionnels", "usagers"],
                "horaires_accueil": "Mo-Fr 09:00-12:00",
            }));
        }
        let file = json!({"structures": structures, "services": records}).to_string();
        let report = crate::directory_file::import(
            app,
            territory.id,
            std::io::Cursor::new(file.into_bytes()),
            None,
        )
        .await?;
        if let Some(r) = report.rejected.first() {
            return Err(AppError::Internal(format!(
                "service de démonstration refusé : {r}"
            )));
        }
        count += records.len();
        // The territory's specific offer, funded by the programme.
        let mut pooled = app.db.acquire().await?;
        for id in &specific {
            let source = id.split("--").next().unwrap_or_default();
            if let Some(service) =
                store::directory::service_id_by_key(&mut pooled.conn(), territory.id, source, id)
                    .await?
            {
                let offer = store::directory::SpecificOffer {
                    funder: "Cité de l'emploi (crédits politique de la ville)".into(),
                    amount_euros: Some(15_000),
                    period_start: Some(format!("{}-01-01", today.format("%Y"))),
                    period_end: Some(format!("{}-12-31", today.format("%Y"))),
                    capacity: Some(30),
                };
                store::directory::set_offer(&mut pooled.conn(), service, Some(&offer)).await?;
            }
        }
    }
    // Inspiring actions, written once.
    let demo = territories.iter().find(|t| t.slug == "demo");
    let mut pooled = app.db.acquire().await?;
    let existing = store::knowledge::actions(&mut pooled.conn(), None, &[], 1000).await?;
    let author = store::users::by_email(
        &mut pooled.conn(),
        &domain::Email::parse("coordination@demo.passerelle.test")
            .map_err(|e| AppError::Internal(e.0))?,
    )
    .await?;
    if let (Some(t), Some(author)) = (demo, author) {
        for (field, title, description, partners, results) in ACTIONS {
            if existing.iter().any(|a| a.title == title) {
                continue;
            }
            let data = store::knowledge::ActionData {
                field: field.into(),
                territory: Some(t.id),
                territory_name: t.name.clone(),
                title: title.into(),
                description: description.into(),
                partners: partners.into(),
                results: results.into(),
                contact: "coordination@demo.passerelle.test".into(),
                search_text: domain::text::fold(
                    &[title, description, partners, results, &t.name].join(" "),
                ),
            };
            store::knowledge::create_action(&mut pooled.conn(), &data, author.id, app.now())
                .await?;
        }
    }
    Ok(count)
}
