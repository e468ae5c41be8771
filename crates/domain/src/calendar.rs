//! The civil date in metropolitan France, for dates users type and read (« today », « in the
//! future », « six months old »): UTC+1, UTC+2 from the last Sunday of March to the last Sunday
//! of October (changes at 01:00 UTC, the European rule). Overseas territories keep their own
//! offsets and are not handled here.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut day = NaiveDate::from_ymd_opt(year, month, 31).unwrap_or(NaiveDate::MIN);
    while day.weekday() != Weekday::Sun {
        day = day.pred_opt().unwrap_or(NaiveDate::MIN);
    }
    day
}

/// Whether summer time is in force in France at this instant.
pub fn summer_time(at: DateTime<Utc>) -> bool {
    let year = at.year();
    let start = last_sunday(year, 3)
        .and_hms_opt(1, 0, 0)
        .map(|d| Utc.from_utc_datetime(&d));
    let end = last_sunday(year, 10)
        .and_hms_opt(1, 0, 0)
        .map(|d| Utc.from_utc_datetime(&d));
    matches!((start, end), (Some(s), Some(e)) if at >= s && at < e)
}

/// The date on a wall calendar in Paris at this instant.
pub fn france_date(at: DateTime<Utc>) -> NaiveDate {
    let offset = if summer_time(at) { 2 } else { 1 };
    (at + chrono::Duration::hours(offset)).date_naive()
}

/// The instant a day starts on a wall calendar in Paris (clocks change at 02:00 or 03:00
/// local time, never at midnight).
pub fn france_midnight(date: NaiveDate) -> DateTime<Utc> {
    let utc_midnight = Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN));
    let offset = if summer_time(utc_midnight - chrono::Duration::hours(2)) {
        2
    } else {
        1
    };
    utc_midnight - chrono::Duration::hours(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn just_after_midnight_in_paris_is_already_tomorrow() {
        assert_eq!(
            france_date(utc("2026-11-27T23:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 11, 28).expect("date")
        );
        assert_eq!(
            france_date(utc("2026-07-14T22:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 7, 15).expect("date")
        );
        assert_eq!(
            france_date(utc("2026-07-14T21:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 7, 14).expect("date")
        );
    }

    #[test]
    fn a_day_in_paris_starts_an_hour_or_two_before_midnight_utc() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
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
    fn summer_time_follows_the_european_rule() {
        assert!(!summer_time(utc("2026-03-29T00:59:00Z")));
        assert!(summer_time(utc("2026-03-29T01:00:00Z")));
        assert!(summer_time(utc("2026-10-25T00:59:00Z")));
        assert!(!summer_time(utc("2026-10-25T01:00:00Z")));
    }
}
