//! Occasions (birthday, membership anniversary): the days earning rules of those triggers fire on, kept
//! per member as the next date of each still to celebrate, in the member's local calendar. The daily job
//! celebrates what is due and moves each date on a year; a birthday is celebrated at most once per calendar
//! year, whatever changes to the birthdate. See `docs/earning.md` "Birthdays and anniversaries".

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// An occasion missed by this many days or fewer (the job did not run) is still celebrated; an older one is
/// let go without points.
pub const OCCASION_CATCH_UP_DAYS: i32 = 7;

/// The member's occasions still to come, kept on the membership.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occasions {
    /// The next birthday not yet celebrated (`None`: no birthdate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<Date>,
    /// The next anniversary of joining, and which one it is (1 = the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anniversary: Option<(Date, i16)>,
    /// The last calendar year a birthday was celebrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday_celebrated: Option<i16>,
}

/// What is celebrated today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occasion {
    /// The birthday of this date.
    Birthday { on: Date },
    /// The `years`-th anniversary of joining, on this date.
    Anniversary { on: Date, years: i16 },
}

impl Occasion {
    pub fn on(self) -> Date {
        match self {
            Occasion::Birthday { on } | Occasion::Anniversary { on, .. } => on,
        }
    }
}

/// The day of `month`/`day` in `year`; 29 February is the 28th in other years.
pub fn yearly(year: i16, month: i8, day: i8) -> Option<Date> {
    Date::new(year, month, day).ok().or_else(|| (month == 2 && day == 29).then(|| Date::new(year, 2, 28).ok())?)
}

impl Occasions {
    /// The dates as they must be for `birthdate` and `joined` (the local day of joining): a date kept while it
    /// still matches, else the first one from `today` on (a birthday in a year not yet celebrated).
    pub fn planned(&self, birthdate: Option<Date>, joined: Date, today: Date) -> Occasions {
        let birthday = birthdate.and_then(|b| {
            let matches = |d: Date| yearly(d.year(), b.month(), b.day()) == Some(d);
            self.birthday.filter(|d| matches(*d)).or_else(|| {
                let first = self.birthday_celebrated.map_or(today.year(), |y| today.year().max(y.saturating_add(1)));
                (first..=first.saturating_add(1))
                    .filter_map(|y| yearly(y, b.month(), b.day()))
                    .find(|d| *d >= today && self.birthday_celebrated.is_none_or(|c| d.year() > c))
            })
        });
        let anniversary = self.anniversary.filter(|(d, n)| anniversary(joined, *n) == Some(*d)).or_else(|| {
            let first = today.year().saturating_sub(joined.year()).max(1);
            (first..=first.saturating_add(1))
                .filter_map(|n| anniversary(joined, n).map(|d| (d, n)))
                .find(|(d, _)| *d >= today)
        });
        Occasions { birthday, anniversary, birthday_celebrated: self.birthday_celebrated }
    }

    /// The first day anything is due (the job looks at the member from its start).
    pub fn next_due(&self) -> Option<Date> {
        [self.birthday, self.anniversary.map(|(d, _)| d)].into_iter().flatten().min()
    }

    /// Celebrates what is due by `today`: the occasions to earn on (missed by at most
    /// `OCCASION_CATCH_UP_DAYS`), and the dates moved on past today.
    pub fn celebrate(&self, birthdate: Option<Date>, joined: Date, today: Date) -> (Occasions, Vec<Occasion>) {
        let mut next = self.planned(birthdate, joined, today);
        let mut due = Vec::new();
        let recent = |d: Date| d <= today && crate::calendar::add_days(d, OCCASION_CATCH_UP_DAYS) >= Some(today);
        if let (Some(on), Some(b)) = (next.birthday.filter(|d| *d <= today), birthdate) {
            if recent(on) {
                due.push(Occasion::Birthday { on });
            }
            next.birthday_celebrated = Some(on.year());
            next.birthday = (on.year().saturating_add(1)..=today.year().saturating_add(1))
                .filter_map(|y| yearly(y, b.month(), b.day()))
                .find(|d| *d > today);
        }
        if let Some((on, years)) = next.anniversary.filter(|(d, _)| *d <= today) {
            if recent(on) {
                due.push(Occasion::Anniversary { on, years });
            }
            let first = years.saturating_add(1);
            next.anniversary = (first..=today.year().saturating_sub(joined.year()).saturating_add(1).max(first))
                .filter_map(|n| anniversary(joined, n).map(|d| (d, n)))
                .find(|(d, _)| *d > today);
        }
        (next, due)
    }
}

/// The `years`-th anniversary of `joined`.
fn anniversary(joined: Date, years: i16) -> Option<Date> {
    yearly(joined.year().checked_add(years)?, joined.month(), joined.day())
}

#[cfg(test)]
#[path = "occasion_tests.rs"]
mod tests;
