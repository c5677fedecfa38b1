use super::*;
use jiff::civil::date;

fn levels() -> Vec<TierLevel> {
    ["Silver", "Gold", "Platinum"]
        .iter()
        .zip([100, 500, 2000])
        .map(|(name, threshold)| TierLevel { name: (*name).to_owned(), threshold, multiplier: None, expiry: None })
        .collect()
}

fn config(basis: TierBasis, one_level: bool, grace_days: u16) -> TierConfig {
    TierConfig { basis, levels: levels(), downgrade_one_level: one_level, grace_days }
}

fn at(level: &str, until: Option<Date>) -> MemberTier {
    MemberTier { level: Some(level.to_owned()), since: Some(date(2026, 1, 10)), until, earned_months: Vec::new() }
}

/// (name, config, tier before, value, level after, move, until after)
type Row = (&'static str, TierConfig, MemberTier, i64, Option<&'static str>, Option<TierMove>, Option<Date>);

#[test]
fn every_row_of_the_tier_table_moves_as_it_says() {
    let yearly = TierBasis::Earned(TierWindow::Calendar(Period::Year));
    let today = date(2026, 6, 15);
    let rows: Vec<Row> = vec![
        ("below the first level: nothing", config(yearly, false, 0), MemberTier::default(), 99, None, None, None),
        (
            "reaching a level joins it, guaranteed through next year",
            config(yearly, false, 0),
            MemberTier::default(),
            100,
            Some("Silver"),
            Some(TierMove::Joined),
            Some(date(2027, 12, 31)),
        ),
        (
            "passing two thresholds upgrades straight to the higher",
            config(yearly, false, 0),
            at("Silver", Some(date(2026, 12, 31))),
            600,
            Some("Gold"),
            Some(TierMove::Upgraded),
            Some(date(2027, 12, 31)),
        ),
        (
            "qualifying again prolongs",
            config(yearly, false, 0),
            at("Gold", Some(date(2026, 12, 31))),
            500,
            Some("Gold"),
            Some(TierMove::Prolonged),
            Some(date(2027, 12, 31)),
        ),
        (
            "a windowed tier does not drop on a change",
            config(yearly, false, 0),
            at("Gold", Some(date(2026, 12, 31))),
            10,
            Some("Gold"),
            None,
            Some(date(2026, 12, 31)),
        ),
        (
            "a balance tier drops with the balance",
            config(TierBasis::Balance, false, 0),
            at("Gold", None),
            120,
            Some("Silver"),
            Some(TierMove::Downgraded),
            None,
        ),
        (
            "a balance tier drops one level at a time when so configured",
            config(TierBasis::Balance, true, 0),
            at("Platinum", None),
            0,
            Some("Gold"),
            Some(TierMove::Downgraded),
            None,
        ),
        (
            "a balance tier is left below the first level",
            config(TierBasis::Balance, false, 0),
            at("Silver", None),
            50,
            None,
            Some(TierMove::Left),
            None,
        ),
    ];
    for (name, config, tier, value, level, kind, until) in rows {
        let (next, change) = config.on_change(&tier, value, today);
        assert_eq!(next.level.as_deref(), level, "{name}");
        assert_eq!(change.map(|c| c.kind), kind, "{name}");
        assert_eq!(next.until, until, "{name}");
    }
}

#[test]
fn a_review_after_the_status_and_its_grace_renews_or_lowers_it() {
    let quarterly = TierBasis::Spend(TierWindow::Calendar(Period::Quarter));
    let ended = at("Platinum", Some(date(2026, 3, 31)));
    let straight = config(quarterly, false, 0);
    let (still, none) = straight.review(&ended, 0, date(2026, 3, 31));
    assert_eq!((still.level.as_deref(), none), (Some("Platinum"), None), "guaranteed through its last day");
    let (down, change) = straight.review(&ended, 150, date(2026, 4, 1));
    assert_eq!((down.level.as_deref(), change.map(|c| c.kind)), (Some("Silver"), Some(TierMove::Downgraded)));
    assert_eq!(down.until, Some(date(2026, 9, 30)), "what the member qualifies for now holds through next quarter");
    let one = config(quarterly, true, 0);
    let (step, _) = one.review(&ended, 0, date(2026, 4, 1));
    assert_eq!(
        (step.level.as_deref(), step.until),
        (Some("Gold"), Some(date(2026, 6, 30))),
        "one level, for this quarter"
    );
    let graceful = config(quarterly, false, 10);
    assert_eq!(graceful.review(&ended, 0, date(2026, 4, 10)).1, None, "within the grace");
    assert_eq!(graceful.review(&ended, 0, date(2026, 4, 11)).1.map(|c| c.kind), Some(TierMove::Left));
    let (renewed, change) = straight.review(&ended, 2500, date(2026, 4, 1));
    assert_eq!((renewed.level.as_deref(), change.map(|c| c.kind)), (Some("Platinum"), Some(TierMove::Prolonged)));
}

#[test]
fn earned_months_sum_over_the_window_and_keep_two_years() {
    let mut tier = MemberTier::default();
    tier.record_earned(40, date(2025, 6, 3));
    tier.record_earned(60, date(2026, 1, 20));
    tier.record_earned(5, date(2026, 1, 21));
    assert_eq!(tier.earned_since(TierWindow::Calendar(Period::Year).start(date(2026, 2, 1))), 65);
    assert_eq!(tier.earned_since(TierWindow::Rolling12Months.start(date(2026, 5, 31))), 105);
    for month in 1..=30 {
        tier.record_earned(1, add_months(date(2026, 2, 1), month).unwrap());
    }
    assert_eq!(tier.earned_months.len(), EARNED_MONTHS_KEPT);
    let config = config(TierBasis::Earned(TierWindow::Calendar(Period::Year)), false, 0);
    assert_eq!(
        config.progress(&at("Silver", None), 350, date(2026, 5, 1)),
        Some(("Gold".to_owned(), 150, Some(date(2026, 12, 31))))
    );
}
