use super::*;

fn d(y: i16, m: i8, day: i8) -> Date {
    Date::new(y, m, day).unwrap()
}

#[test]
fn a_birthday_later_this_year_is_planned_for_this_year_and_a_past_one_for_next_year() {
    let none = Occasions::default();
    let joined = d(2025, 6, 1);
    assert_eq!(none.planned(Some(d(1990, 12, 24)), joined, d(2026, 12, 8)).birthday, Some(d(2026, 12, 24)));
    assert_eq!(none.planned(Some(d(1990, 3, 14)), joined, d(2026, 12, 8)).birthday, Some(d(2027, 3, 14)));
    assert_eq!(none.planned(Some(d(1990, 12, 8)), joined, d(2026, 12, 8)).birthday, Some(d(2026, 12, 8)));
    assert_eq!(none.planned(None, joined, d(2026, 12, 8)).birthday, None);
}

#[test]
fn the_first_anniversary_is_a_year_after_joining() {
    let planned = Occasions::default().planned(None, d(2026, 12, 8), d(2026, 12, 8));
    assert_eq!(planned.anniversary, Some((d(2027, 12, 8), 1)));
    let later = Occasions::default().planned(None, d(2020, 3, 1), d(2026, 12, 8));
    assert_eq!(later.anniversary, Some((d(2027, 3, 1), 7)));
}

#[test]
fn a_leap_day_is_celebrated_on_the_28th_in_other_years() {
    assert_eq!(yearly(2027, 2, 29), Some(d(2027, 2, 28)));
    assert_eq!(yearly(2028, 2, 29), Some(d(2028, 2, 29)));
    let planned = Occasions::default().planned(Some(d(2000, 2, 29)), d(2024, 2, 29), d(2026, 12, 8));
    assert_eq!(planned.birthday, Some(d(2027, 2, 28)));
    assert_eq!(planned.anniversary, Some((d(2027, 2, 28), 3)));
}

#[test]
fn a_due_birthday_is_celebrated_once_and_moves_to_next_year() {
    let birthdate = Some(d(1990, 12, 8));
    let plan = Occasions::default().planned(birthdate, d(2025, 1, 1), d(2026, 12, 1));
    let (after, due) = plan.celebrate(birthdate, d(2025, 1, 1), d(2026, 12, 8));
    assert_eq!(due, vec![Occasion::Birthday { on: d(2026, 12, 8) }]);
    assert_eq!((after.birthday, after.birthday_celebrated), (Some(d(2027, 12, 8)), Some(2026)));
    let (again, nothing) = after.celebrate(birthdate, d(2025, 1, 1), d(2026, 12, 8));
    assert!(nothing.is_empty());
    assert_eq!(again, after);
}

#[test]
fn a_birthday_missed_by_a_few_days_is_still_celebrated_and_an_older_one_is_let_go() {
    let birthdate = Some(d(1990, 12, 1));
    let plan = Occasions::default().planned(birthdate, d(2025, 1, 1), d(2026, 11, 30));
    let (_, late) = plan.celebrate(birthdate, d(2025, 1, 1), d(2026, 12, 8));
    assert_eq!(late, vec![Occasion::Birthday { on: d(2026, 12, 1) }]);
    let (after, missed) = plan.celebrate(birthdate, d(2025, 1, 1), d(2026, 12, 9));
    assert!(missed.is_empty());
    assert_eq!(after.birthday, Some(d(2027, 12, 1)));
}

#[test]
fn changing_the_birthdate_after_the_celebration_gives_no_second_birthday_that_year() {
    let (after, due) = Occasions::default().planned(Some(d(1990, 3, 1)), d(2025, 1, 1), d(2026, 3, 1)).celebrate(
        Some(d(1990, 3, 1)),
        d(2025, 1, 1),
        d(2026, 3, 1),
    );
    assert_eq!(due.len(), 1);
    let moved = after.planned(Some(d(1990, 3, 20)), d(2025, 1, 1), d(2026, 3, 2));
    assert_eq!(moved.birthday, Some(d(2027, 3, 20)));
}

#[test]
fn a_birthday_and_an_anniversary_on_one_day_are_both_celebrated() {
    let birthdate = Some(d(1990, 5, 5));
    let joined = d(2024, 5, 5);
    let plan = Occasions::default().planned(birthdate, joined, d(2026, 5, 1));
    assert_eq!(plan.next_due(), Some(d(2026, 5, 5)));
    let (after, due) = plan.celebrate(birthdate, joined, d(2026, 5, 5));
    assert_eq!(
        due,
        vec![Occasion::Birthday { on: d(2026, 5, 5) }, Occasion::Anniversary { on: d(2026, 5, 5), years: 2 }]
    );
    assert_eq!(after.next_due(), Some(d(2027, 5, 5)));
    assert_eq!(after.anniversary, Some((d(2027, 5, 5), 3)));
}

#[test]
fn nothing_is_due_before_the_day() {
    let birthdate = Some(d(1990, 5, 5));
    let plan = Occasions::default().planned(birthdate, d(2024, 1, 1), d(2026, 5, 1));
    let (after, due) = plan.celebrate(birthdate, d(2024, 1, 1), d(2026, 5, 4));
    assert!(due.is_empty());
    assert_eq!(after, plan);
}
