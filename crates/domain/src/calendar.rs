//! The civil date where a territory is, for dates users type and read (« today », « in the
//! future », « six months old »). Each territory has a [`TimeZone`]: metropolitan France or
//! one of the overseas départements that have QPVs. Offsets and summer time come from the
//! IANA time-zone database (`chrono-tz`), never from a rule written here.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;

crate::codes! {
    /// Where a territory's clocks are.
    TimeZone {
        Paris => "Europe/Paris", "France métropolitaine (heure de Paris)";
        Guadeloupe => "America/Guadeloupe", "Guadeloupe";
        Martinique => "America/Martinique", "Martinique";
        Guyane => "America/Cayenne", "Guyane";
        Reunion => "Indian/Reunion", "La Réunion";
        Mayotte => "Indian/Mayotte", "Mayotte";
    }
}

// `codes!` declares the enum, so `#[derive(Default)]` cannot be put on it.
#[allow(clippy::derivable_impls)]
impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::Paris
    }
}

impl TimeZone {
    fn tz(self) -> Tz {
        match self {
            TimeZone::Paris => chrono_tz::Europe::Paris,
            TimeZone::Guadeloupe => chrono_tz::America::Guadeloupe,
            TimeZone::Martinique => chrono_tz::America::Martinique,
            TimeZone::Guyane => chrono_tz::America::Cayenne,
            TimeZone::Reunion => chrono_tz::Indian::Reunion,
            TimeZone::Mayotte => chrono_tz::Indian::Mayotte,
        }
    }

    /// The zone of a département (by its INSEE code: `974`, `2A`, `59`…).
    pub fn of_departement(code: &str) -> TimeZone {
        match code {
            "971" => TimeZone::Guadeloupe,
            "972" => TimeZone::Martinique,
            "973" => TimeZone::Guyane,
            "974" => TimeZone::Reunion,
            "976" => TimeZone::Mayotte,
            _ => TimeZone::Paris,
        }
    }

    /// The date on a wall calendar there at this instant.
    pub fn date(self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz()).date_naive()
    }

    /// The wall-clock time there at this instant.
    pub fn local(self, at: DateTime<Utc>) -> chrono::NaiveDateTime {
        at.with_timezone(&self.tz()).naive_local()
    }

    /// The instant a day starts there (the first instant of the date: where a clock change
    /// skips midnight, the first time that exists).
    pub fn midnight(self, date: NaiveDate) -> DateTime<Utc> {
        let tz = self.tz();
        let mut time = date.and_time(NaiveTime::MIN);
        for _ in 0..4 {
            match tz.from_local_datetime(&time) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc);
                }
                LocalResult::None => time += chrono::Duration::minutes(30),
            }
        }
        Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
    }
}

/// The date on a wall calendar in Paris at this instant.
pub fn france_date(at: DateTime<Utc>) -> NaiveDate {
    TimeZone::Paris.date(at)
}

/// The instant a day starts on a wall calendar in Paris.
pub fn france_midnight(date: NaiveDate) -> DateTime<Utc> {
    TimeZone::Paris.midnight(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("instant")
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn just_after_midnight_in_paris_is_already_tomorrow() {
        assert_eq!(france_date(utc("2026-11-27T23:30:00Z")), date(2026, 11, 28));
        assert_eq!(france_date(utc("2026-07-14T22:30:00Z")), date(2026, 7, 15));
        assert_eq!(france_date(utc("2026-07-14T21:30:00Z")), date(2026, 7, 14));
    }

    #[test]
    fn a_day_in_paris_starts_an_hour_or_two_before_midnight_utc() {
        assert_eq!(
            france_midnight(date(2026, 12, 1)),
            utc("2026-11-30T23:00:00Z")
        );
        assert_eq!(
            france_midnight(date(2026, 7, 14)),
            utc("2026-07-13T22:00:00Z")
        );
        assert_eq!(
            france_midnight(date(2026, 3, 29)),
            utc("2026-03-28T23:00:00Z")
        );
        assert_eq!(
            france_date(france_midnight(date(2026, 10, 25))),
            date(2026, 10, 25)
        );
    }

    #[test]
    fn summer_time_follows_the_european_rule_from_the_tz_database() {
        // Clocks go forward at 01:00 UTC on the last Sunday of March, back on October's.
        assert_eq!(france_date(utc("2026-03-28T22:59:00Z")), date(2026, 3, 28));
        assert_eq!(france_date(utc("2026-03-28T23:00:00Z")), date(2026, 3, 29));
        assert_eq!(france_date(utc("2026-06-30T21:59:00Z")), date(2026, 6, 30));
        assert_eq!(france_date(utc("2026-06-30T22:00:00Z")), date(2026, 7, 1));
    }

    #[test]
    fn overseas_territories_keep_their_own_calendar() {
        // 22:30 UTC on 1 December: already the 2nd in La Réunion (UTC+4) and Mayotte (UTC+3),
        // still the 1st in the Antilles and Guyane (UTC−4, UTC−3) — and in Paris (UTC+1).
        let at = utc("2026-12-01T22:30:00Z");
        assert_eq!(TimeZone::Reunion.date(at), date(2026, 12, 2));
        assert_eq!(TimeZone::Mayotte.date(at), date(2026, 12, 2));
        assert_eq!(TimeZone::Paris.date(at), date(2026, 12, 1));
        // 02:30 UTC on the 2nd: still the 1st in Guadeloupe, Martinique and Guyane.
        let late = utc("2026-12-02T02:30:00Z");
        for z in [TimeZone::Guadeloupe, TimeZone::Martinique, TimeZone::Guyane] {
            assert_eq!(z.date(late), date(2026, 12, 1), "{z:?}");
        }
        assert_eq!(
            TimeZone::Reunion.midnight(date(2026, 7, 14)),
            utc("2026-07-13T20:00:00Z")
        );
        assert_eq!(
            TimeZone::Guyane.midnight(date(2026, 7, 14)),
            utc("2026-07-14T03:00:00Z")
        );
        assert_eq!(TimeZone::of_departement("974"), TimeZone::Reunion);
        assert_eq!(TimeZone::of_departement("2A"), TimeZone::Paris);
    }
}
