//! The frame every page shares: title, header with the account and the active territory,
//! breadcrumbs, one-off messages. The DSFR theme lives in `templates/base.html` only.

use crate::assets::DSFR_PREFIX;
use crate::session::CurrentUser;

pub struct TerritoryChoice {
    pub slug: String,
    pub name: String,
    pub active: bool,
}

pub struct UserBar {
    pub name: String,
    pub is_admin: bool,
    /// Follows people in the active territory (coordinator or professional there).
    pub follows_people: bool,
    /// May read the indicators (coordinators, pilots, administrators).
    pub reads_indicators: bool,
    /// May read the territory's steering (meetings, roadmap).
    pub reads_governance: bool,
    pub territory: Option<(String, String)>,
    pub territories: Vec<TerritoryChoice>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
pub enum Nav {
    None,
    Home,
    Territory,
    Qpv,
    Directory,
    Knowledge,
    Persons,
    Orientations,
    Cohorts,
    Indicators,
    Governance,
    Admin,
}

pub struct Layout {
    pub title: String,
    pub dsfr: &'static str,
    pub csrf: String,
    pub user: Option<UserBar>,
    /// (label, link) from the home page to the current page (whose link is ignored).
    pub breadcrumbs: Vec<(String, String)>,
    pub message: Option<&'static str>,
    pub nav: Nav,
}

impl Layout {
    pub fn anonymous(title: &str) -> Layout {
        Layout::public(title, String::new())
    }

    /// A page for visitors who are not logged in (login, password reset…).
    pub fn public(title: &str, csrf: String) -> Layout {
        Layout {
            title: title.to_string(),
            dsfr: DSFR_PREFIX,
            csrf,
            user: None,
            breadcrumbs: Vec::new(),
            message: None,
            nav: Nav::None,
        }
    }

    pub fn for_user(title: &str, user: &CurrentUser, nav: Nav) -> Layout {
        let c = &user.caller;
        let active = c.active_territory.as_ref();
        Layout {
            user: Some(UserBar {
                name: c.display_name.clone(),
                is_admin: c.is_admin(),
                follows_people: active.is_some_and(|t| app::persons::may_record(c, t.id)),
                reads_indicators: app::indicators::may_read(c),
                reads_governance: active.is_some_and(|t| app::governance::may_read(c, t.id)),
                territory: active.map(|t| (t.slug.clone(), t.name.clone())),
                territories: c
                    .territories
                    .iter()
                    .map(|t| TerritoryChoice {
                        slug: t.slug.clone(),
                        name: t.name.clone(),
                        active: active.is_some_and(|a| a.id == t.id),
                    })
                    .collect(),
            }),
            nav,
            ..Layout::public(title, user.csrf.clone())
        }
    }

    pub fn crumbs(mut self, crumbs: &[(&str, &str)]) -> Layout {
        self.breadcrumbs = crumbs
            .iter()
            .map(|(l, h)| (l.to_string(), h.to_string()))
            .collect();
        self
    }

    pub fn with_message(mut self, code: Option<&str>) -> Layout {
        self.message = code.and_then(crate::flash::text_of);
        self
    }

    /// Whether the page belongs to a main menu item (`home`, `territory`, `admin`).
    pub fn nav_is(&self, name: &str) -> bool {
        matches!(
            (self.nav, name),
            (Nav::Home, "home")
                | (Nav::Territory, "territory")
                | (Nav::Qpv, "qpv")
                | (Nav::Directory, "directory")
                | (Nav::Knowledge, "knowledge")
                | (Nav::Persons, "persons")
                | (Nav::Orientations, "orientations")
                | (Nav::Cohorts, "cohorts")
                | (Nav::Indicators, "indicators")
                | (Nav::Governance, "governance")
                | (Nav::Admin, "admin")
        )
    }
}

/// The messages of the pages that do not declare theirs yet (features declare their own with
/// `flash::flashes!`, e.g. `persons::Message`).
pub fn general_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "territoire-cree" => "Le territoire a été créé.",
        "territoire-modifie" => "Le territoire a été modifié.",
        "structure-creee" => "La structure a été créée.",
        "structure-modifiee" => "La structure a été modifiée.",
        "partenaire-ajoute" => "La structure a été ajoutée aux partenaires du territoire.",
        "invitation-envoyee" => "L'invitation a été envoyée par courriel.",
        "invitation-sans-courriel" => {
            "L'invitation est prête, mais aucun serveur de courrier n'est configuré : elle n'est pas partie. Un administrateur la trouve dans « Courriels envoyés » et peut transmettre le lien à la personne."
        }
        "acces-accepte" => "Vous avez accepté l'invitation : le nouvel accès est ouvert.",
        "deja-membre" => "Cette personne a déjà cet accès.",
        "tache-relancee" => {
            "La tâche est remise dans la file : elle sera faite dans quelques secondes."
        }
        "mot-de-passe-change" => "Votre mot de passe a été changé. Connectez-vous avec le nouveau.",
        "deconnecte" => "Vous êtes déconnecté.",
        "territoire-change" => "Vous travaillez maintenant dans ce territoire.",
        "service-cree" => "Le service a été ajouté à l'annuaire.",
        "service-modifie" => {
            "Le service a été modifié ; l'ancienne version est gardée dans son historique."
        }
        "correspondance-modifiee" => "La correspondance de la thématique a été enregistrée.",
        "constat-modifie" => "Le constat a été enregistré.",
        "action-publiee" => "L'action a été publiée : tous les territoires peuvent la lire.",
        "action-modifiee" => "L'action a été modifiée.",
        "bienvenue" => "Bienvenue dans Passerelle : votre compte est créé.",
        _ => return None,
    })
}

/// The message code that reports an invitation's outcome; without a mail server the invitation
/// waits in the outbox, and the page says so.
pub fn invitation_message(
    outcome: &app::team::InvitationOutcome,
    mail_server: bool,
) -> &'static str {
    use app::team::InvitationOutcome;
    match outcome {
        InvitationOutcome::Invited if mail_server => "invitation-envoyee",
        InvitationOutcome::Invited => "invitation-sans-courriel",
        InvitationOutcome::AlreadyMember => "deja-membre",
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct MessageQuery {
    pub message: Option<String>,
}
