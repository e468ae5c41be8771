//! Orientations: a person sent by their follow-up group to a service or a partner organisation,
//! and what became of it. The lifecycle is an explicit state machine ([`Status::after`]): every
//! change goes through it, and the store keeps one log row per change (`docs/domain.md` §10).
//!
//! ```text
//! envoyée ─► à l'étude ─► acceptée ─► entrée effective ─► terminée (parcours réalisé, abandon, réorientée)
//!    │           │            └──────► ne s'est pas présenté·e
//!    └───────────┴─► déclinée | expirée | annulée
//! ```

use chrono::NaiveDate;

use crate::Invalid;

crate::codes! {
    /// Where an orientation stands.
    Status {
        Envoyee => "envoyee", "Envoyée";
        AEtude => "a-l-etude", "À l'étude";
        Acceptee => "acceptee", "Acceptée";
        Declinee => "declinee", "Déclinée";
        Expiree => "expiree", "Expirée";
        Annulee => "annulee", "Annulée";
        Entree => "entree", "Entrée effective";
        Absente => "absente", "Ne s'est pas présenté·e";
        Terminee => "terminee", "Terminée";
    }
}

crate::codes! {
    /// Why a receiver declined an orientation (several may apply).
    DeclineReason {
        Injoignable => "injoignable", "Bénéficiaire non joignable";
        AbsentEntretien => "absent-entretien", "Ne s'est pas présenté·e à l'entretien";
        EnEmploi => "en-emploi", "En emploi";
        EnFormation => "en-formation", "En formation";
        NonEligible => "non-eligible", "Non éligible (pré-requis)";
        NonMobile => "non-mobile", "Non mobile";
        NonInteresse => "non-interesse", "Non intéressé·e";
        FreinsIncompatibles => "freins-incompatibles", "Freins périphériques incompatibles";
        SessionComplete => "session-complete", "Session complète";
        Doublon => "doublon", "Orientation en doublon";
        Autre => "autre", "Autre (précisez)";
    }
}

crate::codes! {
    /// How an accompaniment that began ended.
    Outcome {
        ParcoursRealise => "parcours-realise", "Parcours réalisé";
        Abandon => "abandon", "Abandon";
        Reorientee => "reorientee", "Réorientée";
    }
}

crate::codes! {
    /// What someone does to an orientation (the form's « etape »).
    Step {
        Study => "etude", "Mettre à l'étude";
        Accept => "accepter", "Accepter";
        Decline => "decliner", "Décliner";
        Cancel => "annuler", "Annuler l'orientation";
        Expire => "expirer", "Expiration";
        Enter => "entree", "Confirmer l'entrée effective";
        NoShow => "absence", "Signaler que la personne ne s'est pas présentée";
        Finish => "terminer", "Clore avec un résultat";
    }
}

crate::codes! {
    /// How a professional wants to hear of orientations: a mail each time, or one a day.
    NoticeMode {
        Immediate => "immediat", "Un courriel à chaque événement";
        Digest => "quotidien", "Un résumé quotidien";
    }
}

/// Who acts, as far as the state machine is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The receiving organisation: its professionals, or the holder of a magic link.
    Receiver,
    /// The person's follow-up group (the sender, the référent, the coordinators).
    Sender,
    /// The job queue (expiry).
    System,
}

impl Status {
    /// Waiting for the receiver's answer (reminders and expiry apply).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Envoyee | Status::AEtude)
    }

    /// Nothing can happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Declinee
                | Status::Expiree
                | Status::Annulee
                | Status::Absente
                | Status::Terminee
        )
    }

    /// A new orientation may follow this one in the chain: after a refusal, an expiry, a
    /// no-show or an outcome.
    pub fn may_reorient(self) -> bool {
        self.is_final() && self != Status::Annulee
    }

    /// The status `step` leads to, or the French reason it cannot be taken from here.
    pub fn after(self, step: Step) -> Result<Status, Invalid> {
        use Status::*;
        let next = match (self, step) {
            (Envoyee, Step::Study) => AEtude,
            (Envoyee | AEtude, Step::Accept) => Acceptee,
            (Envoyee | AEtude, Step::Decline) => Declinee,
            (Envoyee | AEtude, Step::Cancel) => Annulee,
            (Envoyee | AEtude, Step::Expire) => Expiree,
            (Acceptee, Step::Enter) => Entree,
            (Acceptee, Step::NoShow) => Absente,
            (Entree, Step::Finish) => Terminee,
            (from, step) => return Err(Invalid(refusal(from, step))),
        };
        Ok(next)
    }

    /// The steps that may be taken from here by `actor`, in the order a page offers them.
    pub fn steps_for(self, actor: Actor) -> Vec<Step> {
        Step::ALL
            .iter()
            .copied()
            .filter(|s| s.may_be_taken_by(actor) && self.after(*s).is_ok())
            .collect()
    }
}

impl Step {
    /// Who may take this step: the receiver answers, the sender cancels, the job queue expires;
    /// the entry and the outcome may be recorded by either side (a receiver without an account
    /// often tells the référent by phone).
    pub fn may_be_taken_by(self, actor: Actor) -> bool {
        match self {
            Step::Study | Step::Accept | Step::Decline => actor == Actor::Receiver,
            Step::Cancel => actor == Actor::Sender,
            Step::Expire => actor == Actor::System,
            Step::Enter | Step::NoShow | Step::Finish => {
                matches!(actor, Actor::Receiver | Actor::Sender)
            }
        }
    }

    /// The step the receiver's answer counts as (for the response delay).
    pub fn is_answer(self) -> bool {
        matches!(self, Step::Accept | Step::Decline)
    }
}

fn refusal(from: Status, step: Step) -> String {
    let what = match step {
        Step::Study => "mise à l'étude",
        Step::Accept => "acceptée",
        Step::Decline => "déclinée",
        Step::Cancel => "annulée",
        Step::Expire => "expirée",
        Step::Enter => "marquée comme entrée effective",
        Step::NoShow => "marquée « ne s'est pas présenté·e »",
        Step::Finish => "close avec un résultat",
    };
    let cannot = if step == Step::Study {
        "elle ne peut plus être mise à l'étude".to_string()
    } else {
        format!("elle ne peut pas être {what}")
    };
    let hint = match from {
        Status::Envoyee | Status::AEtude => " tant qu'elle n'a pas été acceptée",
        Status::Acceptee => " avant l'entrée effective",
        _ => "",
    };
    format!(
        "Cette orientation est « {} » : {cannot}{hint}.",
        from.label().to_lowercase()
    )
}

/// The territory's delays, in days (`docs/domain.md` §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delays {
    /// Expiry of an orientation nobody answered.
    pub unanswered_days: u32,
    /// Expiry of an orientation under study.
    pub study_days: u32,
    /// A reminder to the receiver every so many days while open.
    pub reminder_days: u32,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            unanswered_days: 30,
            study_days: 60,
            reminder_days: 10,
        }
    }
}

impl Delays {
    /// The delays a coordinator typed, or the French reason per field.
    pub fn new(
        unanswered_days: u32,
        study_days: u32,
        reminder_days: u32,
    ) -> Result<Delays, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        if !(7..=120).contains(&unanswered_days) {
            errors.push((
                "unanswered_days",
                "Indiquez entre 7 et 120 jours sans réponse avant l'expiration.".to_string(),
            ));
        }
        if !(7..=180).contains(&study_days) {
            errors.push((
                "study_days",
                "Indiquez entre 7 et 180 jours d'étude avant l'expiration.".to_string(),
            ));
        }
        if !(2..=30).contains(&reminder_days) {
            errors.push((
                "reminder_days",
                "Indiquez une relance tous les 2 à 30 jours.".to_string(),
            ));
        } else if reminder_days >= unanswered_days.min(study_days) {
            errors.push((
                "reminder_days",
                "La relance doit venir avant l'expiration : choisissez un intervalle plus court que les deux délais d'expiration.".to_string(),
            ));
        }
        if errors.is_empty() {
            Ok(Delays {
                unanswered_days,
                study_days,
                reminder_days,
            })
        } else {
            Err(errors)
        }
    }

    /// How long an orientation may stay in this open status.
    pub fn limit(&self, status: Status) -> Option<u32> {
        match status {
            Status::Envoyee => Some(self.unanswered_days),
            Status::AEtude => Some(self.study_days),
            _ => None,
        }
    }
}

/// What the job queue owes an orientation today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Nothing,
    /// Send the reminder with this number (counted within the current status).
    Remind(u32),
    Expire,
}

/// What is due for an orientation in `status` since `since` (the day it entered that status),
/// `reminded` reminders already sent in it. A worker that missed days sends one reminder, not
/// several; on the day of expiry it expires and reminds nobody.
pub fn due(status: Status, since: NaiveDate, reminded: u32, today: NaiveDate, d: Delays) -> Due {
    let Some(limit) = d.limit(status) else {
        return Due::Nothing;
    };
    let days = (today - since).num_days();
    if days < 0 {
        return Due::Nothing;
    }
    if days >= i64::from(limit) {
        return Due::Expire;
    }
    let number = u32::try_from(days / i64::from(d.reminder_days.max(1))).unwrap_or(0);
    if number > reminded {
        Due::Remind(number)
    } else {
        Due::Nothing
    }
}

/// The middle of some delays, in days (`None` without any): what « répond en général sous N
/// jours » says.
pub fn median_days(mut days: Vec<i64>) -> Option<i64> {
    if days.is_empty() {
        return None;
    }
    days.sort_unstable();
    let n = days.len();
    Some(if n % 2 == 1 {
        days[n / 2]
    } else {
        // Rounded up: « sous 3 jours » must not promise faster than the receivers answer.
        (days[n / 2 - 1] + days[n / 2] + 1) / 2
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid") + chrono::Duration::days(n)
    }

    #[test]
    fn the_whole_path_goes_through_the_machine() {
        let mut s = Status::Envoyee;
        for step in [Step::Study, Step::Accept, Step::Enter, Step::Finish] {
            s = s.after(step).expect("valid");
        }
        assert_eq!(s, Status::Terminee);
        assert!(s.is_final() && s.may_reorient());
        assert_eq!(
            Status::Acceptee.after(Step::NoShow).expect("valid"),
            Status::Absente
        );
    }

    #[test]
    fn an_impossible_step_says_why_in_french() {
        let e = Status::Acceptee.after(Step::Decline).expect_err("refused");
        assert_eq!(
            e.0,
            "Cette orientation est « acceptée » : elle ne peut pas être déclinée avant l'entrée effective."
        );
        let e = Status::AEtude.after(Step::Study).expect_err("refused");
        assert!(e.0.contains("ne peut plus être mise à l'étude"), "{}", e.0);
        assert!(Status::Annulee.after(Step::Accept).is_err());
        assert!(!Status::Annulee.may_reorient());
    }

    #[test]
    fn each_side_is_offered_its_own_steps() {
        assert_eq!(
            Status::Envoyee.steps_for(Actor::Receiver),
            vec![Step::Study, Step::Accept, Step::Decline]
        );
        assert_eq!(Status::AEtude.steps_for(Actor::Sender), vec![Step::Cancel]);
        assert_eq!(
            Status::Acceptee.steps_for(Actor::Sender),
            vec![Step::Enter, Step::NoShow]
        );
        assert_eq!(Status::Envoyee.steps_for(Actor::System), vec![Step::Expire]);
        assert!(Status::Terminee.steps_for(Actor::Receiver).is_empty());
    }

    #[test]
    fn reminders_on_day_10_and_20_then_expiry_at_30_and_nothing_after() {
        let d = Delays::default();
        let mut reminded = 0;
        let mut status = Status::Envoyee;
        let mut seen = Vec::new();
        for n in 0..=45 {
            match due(status, day(0), reminded, day(n), d) {
                Due::Nothing => {}
                Due::Remind(k) => {
                    reminded = k;
                    seen.push((n, "relance"));
                }
                Due::Expire => {
                    status = status.after(Step::Expire).expect("valid");
                    seen.push((n, "expiration"));
                }
            }
        }
        assert_eq!(
            seen,
            vec![(10, "relance"), (20, "relance"), (30, "expiration")]
        );
    }

    #[test]
    fn under_study_the_limit_is_sixty_days_and_a_missed_day_sends_one_reminder() {
        let d = Delays::default();
        assert_eq!(due(Status::AEtude, day(0), 0, day(59), d), Due::Remind(5));
        assert_eq!(due(Status::AEtude, day(0), 5, day(59), d), Due::Nothing);
        assert_eq!(due(Status::AEtude, day(0), 5, day(60), d), Due::Expire);
        assert_eq!(due(Status::Acceptee, day(0), 0, day(400), d), Due::Nothing);
    }

    #[test]
    fn delays_are_checked_with_french_messages() {
        assert!(Delays::new(30, 60, 10).is_ok());
        let errors = Delays::new(3, 60, 40).expect_err("refused");
        assert_eq!(
            errors.iter().map(|e| e.0).collect::<Vec<_>>(),
            vec!["unanswered_days", "reminder_days"]
        );
        let errors = Delays::new(20, 60, 25).expect_err("refused");
        assert!(errors[0].1.contains("avant l'expiration"));
    }

    #[test]
    fn the_median_never_promises_faster_than_the_receivers() {
        assert_eq!(median_days(vec![]), None);
        assert_eq!(median_days(vec![5, 1, 3]), Some(3));
        assert_eq!(median_days(vec![1, 2, 3, 6]), Some(3));
    }

    fn any_step() -> impl Strategy<Value = (Actor, Step)> {
        (
            prop::sample::select(vec![Actor::Receiver, Actor::Sender, Actor::System]),
            prop::sample::select(Step::ALL.to_vec()),
        )
    }

    proptest! {
        /// Whatever is attempted in whatever order, by whoever: the status is always one the
        /// machine can reach, every change is one log row whose « from » is the previous
        /// « to », refused attempts change nothing, and a final status never moves again.
        #[test]
        fn no_sequence_reaches_an_invalid_state_or_skips_the_log(
            attempts in prop::collection::vec(any_step(), 0..40)
        ) {
            let mut status = Status::Envoyee;
            let mut log: Vec<(Option<Status>, Status)> = vec![(None, Status::Envoyee)];
            for (actor, step) in attempts {
                let before = status;
                if !step.may_be_taken_by(actor) {
                    continue;
                }
                match status.after(step) {
                    Ok(next) => {
                        prop_assert!(!before.is_final(), "{before:?} moved");
                        log.push((Some(before), next));
                        status = next;
                    }
                    Err(e) => {
                        prop_assert!(e.0.starts_with("Cette orientation est"));
                        prop_assert_eq!(status, before);
                    }
                }
            }
            for pair in log.windows(2) {
                prop_assert_eq!(pair[1].0, Some(pair[0].1));
            }
            prop_assert_eq!(log.last().map(|l| l.1), Some(status));
            // At most the longest path: sent, study, accepted, entered, ended.
            prop_assert!(log.len() <= 5);
            if log.iter().any(|l| l.1 == Status::Entree) {
                prop_assert!(log.iter().any(|l| l.1 == Status::Acceptee));
            }
        }

        #[test]
        fn reminders_never_come_once_the_limit_is_reached(
            since in 0i64..30, today in 0i64..400, reminded in 0u32..20,
            unanswered in 7u32..120, study in 7u32..180, every in 2u32..7,
        ) {
            let d = Delays { unanswered_days: unanswered, study_days: study, reminder_days: every };
            for status in [Status::Envoyee, Status::AEtude] {
                let limit = i64::from(d.limit(status).expect("valid"));
                match due(status, day(since), reminded, day(today), d) {
                    Due::Remind(n) => {
                        prop_assert!(today - since < limit);
                        prop_assert!(n > reminded);
                    }
                    Due::Expire => prop_assert!(today - since >= limit),
                    Due::Nothing => prop_assert!(today - since < limit),
                }
            }
        }
    }
}
