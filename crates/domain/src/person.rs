//! A person's file (docs/domain.md §4): repérage (outreach) channels, funnel status, consent, the
//! follow-up group, journal entries, and the validated values a file holds. No NIR, ever.

use chrono::NaiveDate;

use crate::Invalid;

crate::codes! {
    /// Where and how a person was met (« repérage »).
    OutreachChannel {
        PiedImmeuble => "pied-d-immeuble", "Pied d'immeuble";
        PorteAPorte => "porte-a-porte", "Porte-à-porte";
        Marche => "marche", "Marché";
        EvenementQuartier => "evenement-quartier", "Événement de quartier";
        PermanenceBailleur => "permanence-bailleur", "Permanence chez un bailleur";
        Association => "association", "Association";
        AdulteRelais => "adulte-relais", "Adulte-relais";
        Evenement => "evenement", "Autre événement (forum, job dating…)";
        Partenaire => "partenaire", "Orientation par un partenaire";
        DemarcheSpontanee => "demarche-spontanee", "Démarche spontanée";
        Autre => "autre", "Autre";
    }
}

crate::codes! {
    /// The age band asked at the repérage, when the birth date is not known yet (the Mission
    /// locale needs the 16–25 at once).
    AgeBand {
        De16a25 => "16-25", "16 à 25 ans";
        De26a49 => "26-49", "26 à 49 ans";
        Plus50 => "50-plus", "50 ans et plus";
    }
}

impl AgeBand {
    /// The band of an age in years, if it is one of them.
    pub fn of_age(age: i32) -> Option<AgeBand> {
        match age {
            16..=25 => Some(AgeBand::De16a25),
            26..=49 => Some(AgeBand::De26a49),
            50.. => Some(AgeBand::Plus50),
            _ => None,
        }
    }
}

crate::codes! {
    /// What the audit trail records of a person's file: one event per read, list, or write.
    FileEvent {
        Read => "person.read", "consultation";
        List => "person.list", "affichage dans une liste";
        Create => "person.create", "création";
        Update => "person.update", "modification";
        Journal => "person.journal", "journal";
        Group => "person.group", "groupe de suivi";
        Consent => "person.consent", "consentement";
        Health => "person.health", "données de santé";
        Merge => "person.merge", "fusion";
        Diagnostic => "person.diagnostic", "diagnostic";
        Plan => "person.plan", "plan d'action";
        Orientation => "person.orientation", "orientation";
        Cohort => "person.cohort", "cohorte";
        CollectiveAction => "person.collective-action", "action collective";
        Duplicate => "person.duplicate", "montré comme doublon possible";
        Denied => "person.denied", "tentative refusée";
        Erasure => "person.erasure", "effacement du dossier";
    }
}

crate::codes! {
    /// What a person asked when their file is erased at their request (docs/rights.md).
    ErasureRequest {
        Effacement => "effacement", "Demande d'effacement (article 17 du RGPD)";
        Opposition => "opposition", "Opposition au traitement (article 21 du RGPD)";
    }
}

crate::codes! {
    /// The funnel a person goes through; « perdu de vue » is derived from silence, not stored.
    FunnelStatus {
        Repere => "repere", "Repéré";
        Contacte => "contacte", "Contacté";
        EnAccompagnement => "en-accompagnement", "En accompagnement";
        Sorti => "sorti", "Sorti";
    }
}

/// « Perdu de vue »: not exited, and no contact (nor the repérage itself) for more than
/// `silence_days` days. Derived, never stored.
pub fn lost_from_view(
    status: FunnelStatus,
    last_contact: NaiveDate,
    today: NaiveDate,
    silence_days: u32,
) -> bool {
    status != FunnelStatus::Sorti && (today - last_contact).num_days() > i64::from(silence_days)
}

impl FunnelStatus {
    /// Statuses move forward (a step may be skipped); after an exit, the only way is back into
    /// accompaniment (« retour en accompagnement », docs/domain.md §11), the exit kept in the history.
    pub fn may_become(self, next: FunnelStatus) -> bool {
        next > self || (self == FunnelStatus::Sorti && next == FunnelStatus::EnAccompagnement)
    }
}

crate::codes! {
    /// How consent was given.
    ConsentMethod {
        Ecrit => "ecrit", "Par écrit (formulaire signé)";
        Oral => "oral", "Oralement, en entretien";
        Numerique => "numerique", "Par courriel ou SMS";
    }
}

crate::codes! {
    /// What the person agreed to.
    ConsentPurpose {
        Accompagnement => "accompagnement", "Être accompagné vers l'emploi";
        Partage => "partage", "Partage des informations nécessaires avec les structures choisies";
        Recontact => "recontact", "Être recontacté";
    }
}

crate::codes! {
    Sex {
        Femme => "femme", "Femme";
        Homme => "homme", "Homme";
        NonPrecise => "non-precise", "Non précisé";
    }
}

crate::codes! {
    QualificationLevel {
        Infra3 => "infra-3", "Sans diplôme ou brevet";
        Niveau3 => "3", "CAP, BEP (niveau 3)";
        Niveau4 => "4", "Baccalauréat (niveau 4)";
        Niveau5 => "5", "Bac + 2 (niveau 5)";
        Niveau6 => "6+", "Bac + 3 ou plus (niveau 6 et plus)";
    }
}

crate::codes! {
    /// Who may read a journal entry.
    Visibility {
        Groupe => "groupe", "Tout le groupe de suivi";
        Referent => "referent", "Le référent seulement";
        Sante => "sante", "Santé / handicap : personnes autorisées seulement";
    }
}

crate::codes! {
    JournalKind {
        Note => "note", "Note";
        Contact => "contact", "Contact";
    }
}

crate::codes! {
    ContactChannel {
        Entretien => "entretien", "Entretien";
        Telephone => "telephone", "Téléphone";
        Sms => "sms", "SMS";
        Courriel => "courriel", "Courriel";
        Visite => "visite", "Visite à domicile ou dans le quartier";
        Atelier => "atelier", "Atelier collectif";
    }
}

crate::codes! {
    ContactOutcome {
        Joint => "joint", "Personne jointe";
        RendezVous => "rendez-vous", "Rendez-vous pris";
        NonJoint => "non-joint", "Tentative : pas de réponse";
        MessageLaisse => "message-laisse", "Tentative : message laissé";
        FauxNumero => "faux-numero", "Tentative : numéro erroné";
        Absent => "absent", "Tentative : absent au rendez-vous";
    }
}

impl ContactOutcome {
    /// The person was reached: only then is it a contact (« dernier contact », the lists
    /// « sans contact depuis », « contacté »); anything else is an attempt.
    pub fn reached(self) -> bool {
        matches!(self, ContactOutcome::Joint | ContactOutcome::RendezVous)
    }
}

crate::codes! {
    /// Why a professional left a person's follow-up group.
    MemberEndReason {
        FinIntervention => "fin-intervention", "Fin de l'intervention";
        ChangementReferent => "changement-referent", "Changement de référent";
        Depart => "depart", "Départ du professionnel";
        RetraitConsentement => "retrait-consentement", "Retrait du consentement";
        Sortie => "sortie", "Sortie de la personne";
        Fusion => "fusion", "Fusion de dossiers";
    }
}

/// A French phone number, kept as ten digits (or +33 and nine digits abroad-style input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, Invalid> {
        let digits: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        let national = match digits
            .strip_prefix("+33")
            .or_else(|| digits.strip_prefix("0033"))
        {
            Some(rest) => format!("0{}", rest.trim_start_matches('0')),
            None => digits,
        };
        if national.len() == 10
            && national.starts_with('0')
            && national[1..2] != *"0"
            && national.chars().all(|c| c.is_ascii_digit())
        {
            Ok(Phone(national))
        } else {
            Err(Invalid(format!(
                "« {} » n'est pas un numéro de téléphone français (10 chiffres, par exemple 06 12 34 56 78).",
                input.trim()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// « 06 12 34 56 78 ».
    pub fn display(&self) -> String {
        self.0
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A birth date a person can have: in the past, and an age between 14 and 100.
pub fn birth_date(input: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let date = crate::parse_date(input)?;
    if date > today {
        return Err(Invalid("La date de naissance est dans le futur.".into()));
    }
    let age = age_on(date, today);
    if !(14..=100).contains(&age) {
        return Err(Invalid(format!(
            "Cette date donne {age} ans : vérifiez l'année."
        )));
    }
    Ok(date)
}

/// Age in whole years on a given day.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// How alike two folded names are, between 0 and 1 (trigram overlap, Dice coefficient):
/// « mohamed benali » and « mohammed ben ali » are close, « durand » and « martin » are not.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    fn trigrams(s: &str) -> Vec<[char; 3]> {
        let padded: Vec<char> =
            format!("  {} ", s.split_whitespace().collect::<Vec<_>>().join("  "))
                .chars()
                .collect();
        let mut out: Vec<[char; 3]> = padded.windows(3).map(|w| [w[0], w[1], w[2]]).collect();
        out.sort_unstable();
        out.dedup();
        out
    }
    let (ta, tb) = (trigrams(a), trigrams(b));
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    let common = ta.iter().filter(|t| tb.binary_search(t).is_ok()).count();
    2.0 * common as f64 / (ta.len() + tb.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_read_in_their_usual_french_shapes() {
        for ok in [
            "06 12 34 56 78",
            "06.12.34.56.78",
            "+33 6 12 34 56 78",
            "0033612345678",
            "0327000000",
        ] {
            assert_eq!(Phone::parse(ok).map(|p| p.display().len()), Ok(14), "{ok}");
        }
        for bad in [
            "12345",
            "0012345678",
            "06 12 34 56 7",
            "+1 555 0100",
            "06-12-34-56-7a",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn impossible_birth_dates_are_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert_eq!(
            birth_date("14/07/1990", today).map(|d| age_on(d, today)),
            Ok(36)
        );
        assert!(
            birth_date("2027-01-01", today)
                .expect_err("future")
                .0
                .contains("futur")
        );
        assert!(birth_date("31/02/1990", today).is_err());
        assert!(
            birth_date("01/01/1890", today)
                .expect_err("too old")
                .0
                .contains("136 ans")
        );
        assert!(birth_date("01/01/2020", today).is_err());
    }

    #[test]
    fn the_funnel_moves_forward_and_an_exit_only_back_into_accompaniment() {
        assert!(FunnelStatus::Repere.may_become(FunnelStatus::EnAccompagnement));
        assert!(!FunnelStatus::EnAccompagnement.may_become(FunnelStatus::Contacte));
        assert!(!FunnelStatus::Sorti.may_become(FunnelStatus::Sorti));
        assert!(FunnelStatus::Sorti.may_become(FunnelStatus::EnAccompagnement));
        assert!(!FunnelStatus::Sorti.may_become(FunnelStatus::Contacte));
        assert!(!FunnelStatus::Sorti.may_become(FunnelStatus::Repere));
        assert_eq!(FunnelStatus::parse("sorti"), Ok(FunnelStatus::Sorti));
    }

    #[test]
    fn similar_names_score_high_and_different_ones_low() {
        assert!(name_similarity("mohamed benali", "mohammed ben ali") > 0.6);
        assert!(name_similarity("durand", "martin") < 0.2);
        assert_eq!(name_similarity("x", ""), 0.0);
    }
}
