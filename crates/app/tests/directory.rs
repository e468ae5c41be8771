//! The directory of relays through the use cases, on both backends: data·inclusion imports
//! (round trip, rejections, unreadable files), search, editing rights and history, and the
//! knowledge base.

use app::directory::{self, SearchInput, ServiceInput};
use app::directory_file::{self, ImportReport, RecordKind};
use app::knowledge::{self, ActionInput};
use app::testing::Fixture;
use app::{AppError, Caller};
use domain::inclusion::{Service, Structure};
use domain::{Field, TerritoryId};
use serde_json::{Value, json};

macro_rules! tests {
    ($($t:tt)*) => { app::fixture_tests! { offline; $($t)* } };
}

fn structure(id: &str, nom: &str) -> Value {
    json!({"source": "dora", "id": id, "nom": nom, "date_maj": "2026-10-01", "siret": "13002526500013",
           "code_insee": "59392", "code_postal": "59600", "commune": "Maubeuge",
           "longitude": 3.9737, "latitude": 50.2775, "reseaux_porteurs": ["mission-locale"]})
}

/// A service written from the schema: every list and enum field filled with allowed values.
fn service(id: &str, structure: &str, nom: &str, lon: f64, lat: f64) -> Value {
    json!({
        "source": "dora", "structure_id": structure, "id": id, "nom": nom,
        "description": "Un accompagnement pour préparer son permis de conduire et financer les heures de conduite.",
        "lien_source": "https://dora.inclusion.beta.gouv.fr/services/x", "date_maj": "2026-10-15",
        "type": "accompagnement", "thematiques": ["mobilite--preparer-un-permis"], "frais": "gratuit",
        "frais_precisions": null, "publics": ["demandeurs-emploi", "jeunes"], "publics_precisions": "Inscrits à France Travail",
        "conditions_acces": "Être orienté par un conseiller", "commune": "Maubeuge", "code_postal": "59600",
        "code_insee": "59392", "adresse": "1 rue de la Gare", "complement_adresse": null,
        "longitude": lon, "latitude": lat, "telephone": "0327000000", "courriel": "contact@exemple.fr",
        "modes_accueil": ["en-presentiel"], "zone_eligibilite": ["59"], "contact_nom_prenom": "Accueil",
        "lien_mobilisation": null, "modes_mobilisation": ["telephoner"], "mobilisable_par": ["professionnels"],
        "mobilisation_precisions": null, "volume_horaire_hebdomadaire": 4.5, "nombre_semaines": 6,
        "horaires_accueil": "Mo-Fr 09:00-12:00"
    })
}

async fn import(
    f: &Fixture,
    territory: TerritoryId,
    file: String,
) -> Result<ImportReport, AppError> {
    directory_file::import(
        &f.app,
        territory,
        std::io::Cursor::new(file.into_bytes()),
        None,
    )
    .await
}

async fn export(f: &Fixture, territory: TerritoryId) -> Value {
    let mut out = Vec::new();
    directory_file::export(&f.app, Some(territory), &mut out)
        .await
        .expect("export");
    serde_json::from_slice(&out).expect("the export is JSON")
}

fn search(text: &str) -> SearchInput {
    SearchInput {
        text: text.into(),
        page: 1,
        ..SearchInput::default()
    }
}

async fn stored_id(f: &Fixture, caller: &Caller, text: &str) -> domain::ServiceId {
    let found = directory::search(&f.app, caller, &search(text))
        .await
        .expect("search");
    found.hits.first().expect("one hit").id
}

tests! {
    async fn an_imported_directory_exports_the_same_records_and_a_reimport_changes_nothing(f) {
        let file = json!({
            "structures": [structure("dora--s1", "Mission locale Sambre")],
            "services": [service("dora--a", "dora--s1", "Aide au permis", 3.97, 50.27), service("dora--b", "dora--s1", "Atelier code de la route", 3.98, 50.28)],
        }).to_string();
        let first = import(&f, f.territory, file.clone()).await.expect("imported");
        assert_eq!((first.created, first.updated, first.unchanged, first.rejected.len()), (3, 0, 0, 0));
        let exported = export(&f, f.territory).await;
        let input: Value = serde_json::from_str(&file).expect("json");
        let geo = f.app.referential;
        for kind in ["structures", "services"] {
            let a = input[kind].as_array().expect("array");
            let b = exported[kind].as_array().expect("array");
            assert_eq!(a.len(), b.len(), "{kind}");
            for (x, y) in a.iter().zip(b) {
                if kind == "structures" {
                    assert_eq!(Structure::from_json(x, geo).expect("valid"), Structure::from_json(y, geo).expect("exported is valid"));
                } else {
                    assert_eq!(Service::from_json(x, geo).expect("valid"), Service::from_json(y, geo).expect("exported is valid"));
                }
            }
        }
        // Importing the export again: the same records, nothing duplicated or touched.
        let again = import(&f, f.territory, exported.to_string()).await.expect("re-imported");
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        // The same file in another territory is that territory's directory; exports stay apart.
        import(&f, f.other_territory, file).await.expect("other territory");
        assert_eq!(export(&f, f.territory).await["services"].as_array().map(Vec::len), Some(2));
        // A changed record is updated in place, and its history says what changed.
        let mut changed: Value = serde_json::from_str(&exported.to_string()).expect("json");
        changed["services"][0]["nom"] = json!("Aide au permis B");
        let third = import(&f, f.territory, changed.to_string()).await.expect("updated");
        assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 2));
        let coordinator = f.caller("coordination@test.fr").await;
        let id = stored_id(&f, &coordinator, "permis B").await;
        let (_, history) = directory::history(&f.app, &coordinator, id).await.expect("history");
        assert_eq!(history[0].origin, "import");
        assert!(history[0].changes.contains(&("nom".into(), "Aide au permis".into(), "Aide au permis B".into())), "{:?}", history[0].changes);
    }

    async fn invalid_records_are_reported_one_by_one_and_change_nothing(f) {
        let good = service("dora--a", "dora--s1", "Aide au permis", 3.97, 50.27);
        import(&f, f.territory, json!({"structures": [structure("dora--s1", "Mission locale Sambre")], "services": [good.clone()]}).to_string()).await.expect("first");
        let mut bad_update = good.clone();
        bad_update["publics"] = json!(["tous-publics", "jeunes"]);
        bad_update["nom"] = json!("Nom changé");
        let mut bad_siret = structure("dora--s2", "Structure B");
        bad_siret["siret"] = json!("1234");
        let mut unknown_enum = service("dora--c", "dora--s1", "Service C", 3.9, 50.2);
        unknown_enum["type"] = json!("conference");
        unknown_enum["zone_eligibilite"] = json!(["99999"]);
        let orphan = service("dora--d", "dora--inconnue", "Service D", 3.9, 50.2);
        let valid = service("dora--e", "dora--s1", "Service E", 3.9, 50.2);
        let report = import(&f, f.territory, json!([bad_siret, bad_update, unknown_enum, orphan, valid]).to_string()).await.expect("read");
        assert_eq!((report.created, report.updated), (1, 0), "only the valid service is stored");
        let reasons: Vec<String> = report.rejected.iter().map(ToString::to_string).collect();
        assert_eq!(reasons.len(), 4, "{reasons:#?}");
        assert!(reasons[0].starts_with("structure n° 1 « dora--s2 » : siret : « 1234 » : un SIRET compte 14 chiffres"), "{}", reasons[0]);
        assert!(reasons[1].contains("service n° 1 « dora--a »") && reasons[1].contains("« tous-publics » ne peut pas être combiné"), "{}", reasons[1]);
        assert!(reasons[2].contains("type : « conference »") && reasons[2].contains("zone_eligibilite : « 99999 »"), "{}", reasons[2]);
        assert!(reasons[3].contains("structure_id : la structure « dora--inconnue »"), "{}", reasons[3]);
        assert_eq!(report.rejected[0].kind, RecordKind::Structure);
        // The refused update left the stored record as it was.
        let exported = export(&f, f.territory).await;
        let names: Vec<&str> = exported["services"].as_array().expect("array").iter().filter_map(|s| s["nom"].as_str()).collect();
        assert_eq!(names, vec!["Aide au permis", "Service E"]);
    }

    async fn an_unreadable_file_stores_nothing_not_even_its_first_valid_records(f) {
        let file = format!("[{}, {}, {{\"id\": ", structure("dora--s1", "Structure A"), structure("dora--s2", "Structure B"));
        let Err(AppError::Invalid(e)) = import(&f, f.territory, file).await else { panic!("refused") };
        assert!(e.get("fichier").expect("file error").starts_with("ligne 1, colonne"), "{e:?}");
        assert_eq!(export(&f, f.territory).await["structures"].as_array().map(Vec::len), Some(0));
        let Err(AppError::Invalid(e)) = import(&f, f.territory, "nom;prenom\nx;y\n".into()).await else { panic!("refused") };
        assert!(e.get("fichier").expect("file error").contains("la colonne « source » manque"));
        let Err(AppError::Invalid(_)) = import(&f, f.territory, "   ".into()).await else { panic!("empty file refused") };
    }

    async fn csv_files_say_the_same_as_json(f) {
        let structures = "source;id;nom;date_maj;code_insee;code_postal;commune\ndora;dora--s1;Mission locale Sambre;2026-10-01;59392;59600;Maubeuge\n";
        let services = "source,structure_id,id,nom,description,date_maj,thematiques,publics,zone_eligibilite,longitude,latitude,nombre_semaines\n\
                        dora,dora--s1,dora--a,Aide au permis,Un accompagnement pour préparer son permis.,2026-10-15,\"mobilite--preparer-un-permis,mobilite--financer-ma-mobilite\",\"jeunes\",59,3.97,50.27,6\n\
                        dora,dora--s1,dora--b,Atelier,Un atelier.,2026-13-01,,\"tous-publics,jeunes\",,,,zéro\n";
        let r1 = import(&f, f.territory, structures.into()).await.expect("structures");
        assert_eq!(r1.created, 1);
        let r2 = import(&f, f.territory, services.into()).await.expect("services");
        assert_eq!(r2.created, 1);
        assert_eq!(r2.rejected.len(), 1);
        let rejected = r2.rejected[0].to_string();
        assert!(rejected.starts_with("service n° 3 « dora--b »"), "the CSV line number: {rejected}");
        assert!(rejected.contains("date_maj : « 2026-13-01 »") && rejected.contains("tous-publics") && rejected.contains("nombre_semaines"), "{rejected}");
        let exported = export(&f, f.territory).await;
        assert_eq!(exported["services"][0]["thematiques"], json!(["mobilite--preparer-un-permis", "mobilite--financer-ma-mobilite"]));
        assert_eq!(exported["services"][0]["nombre_semaines"], json!(6));
    }

    async fn search_finds_by_field_text_and_place_nearest_first_within_eligibility(f) {
        let mut far = service("dora--far", "dora--s1", "Garage solidaire", 3.90, 50.20);
        far["thematiques"] = json!(["mobilite--entretenir-reparer-son-vehicule"]);
        let mut near = service("dora--near", "dora--s1", "Auto-école sociale", 3.9740, 50.2776);
        near["zone_eligibilite"] = json!(["59392"]);
        let mut roubaix_only = service("dora--rbx", "dora--s1", "Mobilité Roubaix", 3.97, 50.27);
        roubaix_only["zone_eligibilite"] = json!(["59512"]);
        let mut budget = service("dora--pcb", "dora--s1", "Point conseil budget", 3.975, 50.278);
        budget["thematiques"] = json!(["difficultes-financieres--ameliorer-sa-gestion-budgetaire"]);
        budget["description"] = json!("Conseils gratuits et confidentiels pour équilibrer son budget.");
        let mut remote = service("dora--remote", "dora--s1", "Permis en ligne", 0.0, 0.0);
        remote["longitude"] = Value::Null;
        remote["latitude"] = Value::Null;
        remote["modes_accueil"] = json!(["a-distance"]);
        remote["zone_eligibilite"] = json!(["france"]);
        import(&f, f.territory, json!({"structures": [structure("dora--s1", "Mission locale Sambre")], "services": [far, near, roubaix_only, budget, remote]}).to_string()).await.expect("imported");
        let caller = f.caller("conseil@test.fr").await;
        let by_field = directory::search(&f.app, &caller, &SearchInput { field: "mobilite".into(), place: "59600".into(), page: 1, ..SearchInput::default() }).await.expect("search");
        let names: Vec<&str> = by_field.hits.iter().map(|h| h.service.nom.as_str()).collect();
        assert_eq!(names, vec!["Auto-école sociale", "Garage solidaire", "Permis en ligne"], "nearest first, remote after, Roubaix-only left out");
        assert_eq!(by_field.place.as_deref(), Some("Maubeuge (59)"));
        assert!(by_field.hits[0].distance_m.expect("distance") < 100.0);
        assert!(by_field.hits.iter().all(|h| h.fields.contains(&Field::Mobilite)));
        // Free text ignores accents and case, on the service's words and its labels.
        let text = directory::search(&f.app, &caller, &search("BUDGET equilibrer")).await.expect("search");
        assert_eq!(text.hits.iter().map(|h| h.service.nom.as_str()).collect::<Vec<_>>(), vec!["Point conseil budget"]);
        let accents = directory::search(&f.app, &caller, &search("ecole sociale")).await.expect("search");
        assert_eq!(accents.total, 1);
        // From Roubaix, the Maubeuge-only service is not offered.
        let from_roubaix = directory::search(&f.app, &caller, &SearchInput { place: "Roubaix".into(), page: 1, ..SearchInput::default() }).await.expect("search");
        assert!(from_roubaix.hits.iter().all(|h| h.service.nom != "Auto-école sociale"));
        assert!(from_roubaix.hits.iter().any(|h| h.service.nom == "Mobilité Roubaix"));
        // Bad criteria are refused by name, in French.
        let Err(AppError::Invalid(e)) = directory::search(&f.app, &caller, &SearchInput { place: "Nullepart-sur-Mer".into(), public: "martiens".into(), page: 1, ..SearchInput::default() }).await else { panic!("refused") };
        assert!(e.get("lieu").expect("place").contains("Aucune commune"));
        assert!(e.get("public").is_some());
        // Another territory's directory is its own: nothing of Maubeuge's there.
        let outsider = f.caller("ailleurs@test.fr").await;
        assert_eq!(directory::search(&f.app, &outsider, &search("permis")).await.expect("search").total, 0);
    }

    async fn results_are_paginated(f) {
        let services: Vec<Value> = (0..45).map(|i| service(&format!("dora--{i:02}"), "dora--s1", &format!("Service {i:02}"), 3.97, 50.27)).collect();
        import(&f, f.territory, json!({"structures": [structure("dora--s1", "Structure")], "services": services}).to_string()).await.expect("imported");
        let caller = f.caller("conseil@test.fr").await;
        let page3 = directory::search(&f.app, &caller, &SearchInput { page: 3, ..SearchInput::default() }).await.expect("search");
        assert_eq!((page3.total, page3.pages, page3.page, page3.hits.len()), (45, 3, 3, 5));
        assert_eq!(page3.hits[0].service.nom, "Service 40");
        let beyond = directory::search(&f.app, &caller, &SearchInput { page: 9, ..SearchInput::default() }).await.expect("search");
        assert_eq!(beyond.page, 3, "a page past the end shows the last one");
    }

    async fn professionals_edit_their_own_services_coordinators_all_and_history_keeps_each_change(f) {
        let professional = f.caller("conseil@test.fr").await;
        // The professional's organisation gets its structure in the directory on first use.
        let structures = directory::editable_structures(&f.app, &professional).await.expect("structures");
        assert_eq!(structures.len(), 1);
        let mut input = ServiceInput {
            structure: structures[0].0.0.to_string(),
            nom: "Atelier recherche d'emploi".into(),
            description: "Chaque lundi, un atelier pour organiser sa recherche d'emploi.".into(),
            kind: "atelier".into(),
            thematiques: vec!["trouver-un-emploi--repondre-a-des-offres-demploi".into()],
            publics: vec!["tous-publics".into(), "jeunes".into()],
            code_postal: "59600".into(),
            commune: "maubeuge".into(),
            courriel: "pas-une-adresse".into(),
            nombre_semaines: "deux".into(),
            ..ServiceInput::default()
        };
        let Err(AppError::Invalid(e)) = directory::create(&f.app, &professional, &input).await else { panic!("refused") };
        assert!(e.get("publics").expect("publics").contains("tous-publics"));
        assert!(e.get("courriel").is_some() && e.get("nombre_semaines").is_some());
        input.publics = vec!["jeunes".into()];
        input.courriel = "atelier@exemple.fr".into();
        input.nombre_semaines = "2".into();
        let id = directory::create(&f.app, &professional, &input).await.expect("created");
        let page = directory::get(&f.app, &professional, id).await.expect("page");
        assert!(page.may_edit);
        assert_eq!(page.service.code_insee.as_deref(), Some("59392"), "commune found from the postal code");
        assert_eq!(page.fields, vec![Field::ReseauProfessionnel]);

        // Another organisation's professional in the same territory reads it but may not edit it.
        let other_org = f.caller_in_new_organisation("autre@test.fr", f.territory).await;
        let seen = directory::get(&f.app, &other_org, id).await.expect("readable");
        assert!(!seen.may_edit);
        let mut change = ServiceInput::from_page(&seen);
        change.nom = "Atelier modifié".into();
        assert!(matches!(directory::update(&f.app, &other_org, id, &change).await, Err(AppError::Forbidden)));
        // Other territory: the service does not exist for them.
        let outsider = f.caller("ailleurs@test.fr").await;
        assert!(matches!(directory::get(&f.app, &outsider, id).await, Err(AppError::NotFound)));
        assert!(matches!(directory::update(&f.app, &outsider, id, &change).await, Err(AppError::NotFound)));
        // The coordinator edits it, and makes it the territory's specific offer.
        let coordinator = f.caller("coordination@test.fr").await;
        change.specific = true;
        change.funder = "".into();
        let Err(AppError::Invalid(e)) = directory::update(&f.app, &coordinator, id, &change).await else { panic!("funder required") };
        assert!(e.get("funder").is_some());
        change.funder = "Contrat de ville".into();
        change.capacity = "12".into();
        change.period_start = "2026-01-01".into();
        change.period_end = "2026-12-31".into();
        directory::update(&f.app, &coordinator, id, &change).await.expect("updated");
        let (page, history) = directory::history(&f.app, &coordinator, id).await.expect("history");
        assert_eq!(page.service.nom, "Atelier modifié");
        assert_eq!(page.offer.as_ref().and_then(|o| o.capacity), Some(12));
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].who, "coordination@test.fr");
        assert!(history[0].changes.iter().any(|(field, before, after)| field == "nom" && before == "Atelier recherche d'emploi" && after == "Atelier modifié"));
        assert!(history[0].changes.iter().any(|(field, before, _)| field == "offre" && before == "droit commun"));
        assert_eq!(history[1].who, "conseil@test.fr");
        // A specific-offer search finds it; a pilot reads the directory too.
        let pilot = f.caller("pilote@test.fr").await;
        let specific = directory::search(&f.app, &pilot, &SearchInput { specific_only: true, page: 1, ..SearchInput::default() }).await.expect("search");
        assert_eq!(specific.total, 1);
        assert!(matches!(directory::update(&f.app, &pilot, id, &change).await, Err(AppError::Forbidden)));
    }

    async fn administrators_remap_a_thematique_and_search_follows(f) {
        import(&f, f.territory, json!({"structures": [structure("dora--s1", "Structure S")], "services": [service("dora--a", "dora--s1", "Aide au permis", 3.97, 50.27)]}).to_string()).await.expect("imported");
        let coordinator = f.caller("coordination@test.fr").await;
        let by = |field: &str| SearchInput { field: field.into(), page: 1, ..SearchInput::default() };
        assert_eq!(directory::search(&f.app, &coordinator, &by("mobilite")).await.expect("search").total, 1);
        assert!(matches!(directory::set_mapping(&f.app, &coordinator, "mobilite--preparer-un-permis", Some(&[Field::SavoirsDeBase])).await, Err(AppError::Forbidden)));
        let admin = f.caller("admin@test.fr").await;
        directory::set_mapping(&f.app, &admin, "mobilite--preparer-un-permis", Some(&[Field::SavoirsDeBase])).await.expect("remapped");
        assert_eq!(directory::search(&f.app, &coordinator, &by("mobilite")).await.expect("search").total, 0);
        assert_eq!(directory::search(&f.app, &coordinator, &by("savoirs-de-base")).await.expect("search").total, 1);
        directory::set_mapping(&f.app, &admin, "mobilite--preparer-un-permis", None).await.expect("back to shipped");
        assert_eq!(directory::search(&f.app, &coordinator, &by("mobilite")).await.expect("search").total, 1);
    }

    async fn coordinators_share_inspiring_actions_every_territory_reads_and_searches(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let input = ActionInput {
            field: "mobilite".into(),
            title: "Des scooters pour les premiers mois".into(),
            description: "Location de scooters à petit prix pendant les trois premiers mois d'emploi.".into(),
            partners: "Plateforme mobilité".into(),
            results: "35 personnes en emploi à six mois".into(),
            contact: "coordination@test.fr".into(),
        };
        let professional = f.caller("conseil@test.fr").await;
        assert!(matches!(knowledge::create_action(&f.app, &professional, &input).await, Err(AppError::Forbidden)));
        let Err(AppError::Invalid(e)) = knowledge::create_action(&f.app, &coordinator, &ActionInput { title: "X".into(), ..input.clone() }).await else { panic!("refused") };
        assert!(e.get("title").is_some());
        let id = knowledge::create_action(&f.app, &coordinator, &input).await.expect("created");
        let outsider = f.caller("ailleurs@test.fr").await;
        let page = knowledge::field_page(&f.app, &outsider, Field::Mobilite).await.expect("page");
        assert_eq!(page.actions.len(), 1, "readable from another territory");
        assert!(!knowledge::may_edit_action(&outsider, &page.actions[0]));
        assert!(matches!(knowledge::update_action(&f.app, &outsider, id, &input).await, Err(AppError::Forbidden)));
        assert_eq!(knowledge::search_actions(&f.app, "SCOOTERS Maubeuge").await.expect("search").len(), 1, "title and territory, accents and case ignored");
        assert!(knowledge::search_actions(&f.app, "vélo").await.expect("search").is_empty());
        let overview = knowledge::overview(&f.app, &outsider).await.expect("overview");
        assert_eq!(overview.iter().find(|s| s.field == Field::Mobilite).map(|s| s.actions), Some(1));
        assert!(overview.iter().all(|s| !s.constat.is_empty()), "every field has its shipped constat");
        assert!(matches!(knowledge::set_constat(&f.app, &coordinator, Field::Mobilite, "Un nouveau constat assez long.").await, Err(AppError::Forbidden)));
        let admin = f.caller("admin@test.fr").await;
        knowledge::set_constat(&f.app, &admin, Field::Mobilite, "Un nouveau constat assez long.").await.expect("constat");
        assert_eq!(knowledge::field_page(&f.app, &outsider, Field::Mobilite).await.expect("page").constat, "Un nouveau constat assez long.");
    }
}
