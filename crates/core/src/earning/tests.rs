//! The earning table: trigger × amount × validity × eligibility × multiplier × cap, each row with the
//! points every rule gives and why the others give nothing.

use super::*;
use crate::metadata::MetaValue;
use crate::rules::test_support::{World, at, customer, item, meta, money, order, rule, world};
use jiff::tz::TimeZone;

const NOW: &str = "2026-12-05T10:30:00Z"; // a Saturday, 10:30 UTC

fn pts(n: i64) -> Points {
    Points::from_stored(n)
}

fn base_rule(name: &str, trigger: Trigger, amount: Amount) -> EarningRule {
    EarningRule {
        id: EarningRuleId::from_trusted(format!("erl_{name}")),
        name: name.to_owned(),
        status: RuleStatus::Active,
        trigger,
        amount,
        condition: None,
        segments: Vec::new(),
        validity: Validity::default(),
        caps: Caps::default(),
        expiry: None,
        pending_days: None,
        version: 1,
        created_at: at("2026-01-01T00:00:00Z"),
        updated_at: at("2026-01-01T00:00:00Z"),
    }
}

fn fixed(name: &str, points: i64) -> EarningRule {
    base_rule(name, Trigger::OrderPaid, Amount::Fixed { points: pts(points) })
}

fn every(name: &str, every: i64, points: i64, base: AmountBase) -> EarningRule {
    base_rule(name, Trigger::OrderPaid, Amount::Proportional { every: money(every), points: pts(points), base })
}

fn multiplier(name: &str, thousandths: i64) -> EarningRule {
    base_rule(name, Trigger::OrderPaid, Amount::Multiplier { factor: Factor(thousandths) })
}

fn on_event(name: &str, event: &str, amount: Amount) -> EarningRule {
    base_rule(name, Trigger::Event { name: event.to_owned() }, amount)
}

struct Case {
    name: &'static str,
    rules: Vec<EarningRule>,
    /// Text conditions by rule name.
    conditions: Vec<(&'static str, &'static str)>,
    facts: Facts,
    usage: RuleUsage,
    budget_left: i64,
    rate: Option<crate::program::EarningRate>,
    tier_multiplier: Option<Factor>,
    /// (rule name, points) of every award, in order.
    awards: Vec<(&'static str, i64)>,
    /// (rule name, reason) of rules that gave nothing.
    refusals: Vec<(&'static str, &'static str)>,
    /// (rule name, cap) of awards a cap cut.
    capped: Vec<(&'static str, CapKind)>,
}

enum Facts {
    /// An order of 120.00 with a 20.00 discount: 2 × sku-a (30.00 each, "shoes"), 1 × sku-b (60.00).
    Order,
    Event(&'static str, f64),
    Enrolled,
}

fn case(name: &'static str, rules: Vec<EarningRule>) -> Case {
    Case {
        name,
        rules,
        conditions: Vec::new(),
        facts: Facts::Order,
        usage: RuleUsage::default(),
        budget_left: i64::MAX,
        rate: None,
        tier_multiplier: None,
        awards: Vec::new(),
        refusals: Vec::new(),
        capped: Vec::new(),
    }
}

impl Case {
    fn gives(mut self, awards: &[(&'static str, i64)]) -> Case {
        self.awards = awards.to_vec();
        self
    }
    fn refuses(mut self, refusals: &[(&'static str, &'static str)]) -> Case {
        self.refusals = refusals.to_vec();
        self
    }
    fn cut(mut self, capped: &[(&'static str, CapKind)]) -> Case {
        self.capped = capped.to_vec();
        self
    }
    fn facts(mut self, facts: Facts) -> Case {
        self.facts = facts;
        self
    }
    fn when(mut self, rule: &'static str, condition: &'static str) -> Case {
        self.conditions.push((rule, condition));
        self
    }
}

fn the_order() -> crate::order::Order {
    let items = vec![item(Some("sku-a"), &["shoes"], 2, Some(3000), 6000), item(Some("sku-b"), &[], 1, None, 6000)];
    order(12000, 2000, items, at(NOW))
}

fn run(case: &Case) -> Earning {
    let order = the_order();
    let (event_name, event_meta) = match case.facts {
        Facts::Event(name, value) => (name, meta(&[("minutes", MetaValue::Num(value))])),
        _ => ("", meta(&[])),
    };
    let facts = match case.facts {
        Facts::Order => TriggerFacts::OrderPaid { order: &order },
        Facts::Event(..) => TriggerFacts::Event { name: event_name, metadata: &event_meta },
        Facts::Enrolled => TriggerFacts::Enrolled,
    };
    let mut w: World = world();
    w.now = at(NOW);
    w.time_zone = TimeZone::UTC;
    w.customer = Some(customer(at("2025-01-01T00:00:00Z"), Default::default()));
    w.order = Some(order.clone());
    let compiled: Vec<(String, crate::rules::Rule)> =
        case.conditions.iter().map(|(name, text)| ((*name).to_owned(), rule(text))).collect();
    let candidates: Vec<Candidate<'_>> = case
        .rules
        .iter()
        .map(|r| Candidate { rule: r, condition: compiled.iter().find(|(n, _)| *n == r.name).map(|(_, c)| c) })
        .collect();
    let budget_left = case.budget_left;
    let budget = move |_: &EarningRuleId| budget_left;
    let segments = vec![SegmentId::from_trusted(crate::rules::test_support::SEG_A.to_owned())];
    w.with_context(|ctx| {
        let situation = Situation {
            facts,
            context: ctx,
            segments: &segments,
            now: at(NOW),
            local: at(NOW).to_zoned(TimeZone::UTC).datetime(),
            usage: &case.usage,
            budget_left: &budget,
            rate: case.rate,
            currency: crate::rules::test_support::eur(),
            tier_multiplier: case.tier_multiplier,
            explain: true,
        };
        decide(&candidates, &situation)
    })
}

fn name_of(id: &Option<EarningRuleId>) -> &str {
    id.as_ref().map_or("rate", |id| id.as_str().trim_start_matches("erl_"))
}

fn cases() -> Vec<Case> {
    use AmountBase::*;
    let mut weekend_only = fixed("weekend", 10);
    weekend_only.validity.days_of_week = vec![WeekdayName::of(crate::rules::Weekday::Saturday)];
    let mut weekdays = fixed("weekdays", 10);
    weekdays.validity.days_of_week = vec![WeekdayName::of(crate::rules::Weekday::Monday)];
    let mut morning = fixed("morning", 5);
    morning.validity.hours = Some(HourRange { from: 9, to: 11 });
    let mut evening = fixed("evening", 5);
    evening.validity.hours = Some(HourRange { from: 22, to: 2 });
    let mut future = fixed("future", 5);
    future.validity.starts_at = Some(at("2027-01-01T00:00:00Z"));
    let mut past = fixed("past", 5);
    past.validity.ends_at = Some(at("2026-12-05T10:30:00Z"));
    let mut paused = fixed("paused", 5);
    paused.status = RuleStatus::Paused;
    let mut vip = fixed("vip", 7);
    vip.segments = vec![SegmentId::from_trusted(crate::rules::test_support::SEG_B.to_owned())];
    let mut member = fixed("member", 7);
    member.segments = vec![
        SegmentId::from_trusted(crate::rules::test_support::SEG_B.to_owned()),
        SegmentId::from_trusted(crate::rules::test_support::SEG_A.to_owned()),
    ];
    let mut per_event = every("big", 100, 1, AfterDiscounts);
    per_event.caps.per_event = Some(pts(50));
    let mut daily = every("daily", 100, 1, AfterDiscounts);
    daily.caps.per_customer_day = Some(pts(120));
    let mut used_today = RuleUsage::default();
    used_today.record(&daily.id, 100, at(NOW).to_zoned(TimeZone::UTC).date());
    let mut used_yesterday = RuleUsage::default();
    used_yesterday.record(&daily.id, 120, date_of("2026-12-04"));
    let mut weekly = every("weekly", 100, 1, AfterDiscounts);
    weekly.caps.per_customer_week = Some(pts(150));
    weekly.caps.per_customer_day = Some(pts(1000));
    let mut used_this_week = RuleUsage::default();
    used_this_week.record(&weekly.id, 100, date_of("2026-12-01"));
    let mut budgeted = every("budgeted", 100, 1, AfterDiscounts);
    budgeted.caps.budget = Some(pts(1000));
    let mut bonus_with_expiry = fixed("expiring", 5);
    bonus_with_expiry.expiry = Some(crate::expiry::ExpiryPolicy::AfterDays { days: 30, round_to: None });
    let shoes = ItemFilter { collections: vec!["shoes".to_owned()], ..ItemFilter::default() };
    let sku_b = ItemFilter { sku_ids: vec!["sku-b".to_owned()], ..ItemFilter::default() };
    let rate = crate::program::EarningRate { every: money(1000), points: pts(1) };
    let mut ride = on_event("ride", "bike_ride", Amount::Metadata { key: "minutes".to_owned(), factor: Factor(2000) });
    ride.caps.per_event = Some(pts(500));
    let signup = base_rule("signup", Trigger::MemberEnrolled, Amount::Fixed { points: pts(500) });
    vec![
        case("a fixed rule gives its points on a paid order", vec![fixed("f", 50)]).gives(&[("f", 50)]),
        case(
            "a proportional rule counts the amount after discounts by default",
            vec![every("p", 1000, 3, AfterDiscounts)],
        )
        .gives(&[("p", 30)]),
        case("a proportional rule can count the amount before discounts", vec![every("p", 1000, 3, BeforeDiscounts)])
            .gives(&[("p", 36)]),
        case(
            "an order below one step earns nothing and says how much more would",
            vec![every("p", 20000, 3, AfterDiscounts)],
        )
        .refuses(&[("p", "nothing_earned")]),
        case(
            "a per-item rule counts the units of matching items",
            vec![base_rule(
                "units",
                Trigger::OrderPaid,
                Amount::PerItem { items: shoes.clone(), per: PerItem::Quantity { points: pts(15) } },
            )],
        )
        .gives(&[("units", 30)]),
        case(
            "a per-item rule by amount counts the matching items' amounts",
            vec![base_rule(
                "sku",
                Trigger::OrderPaid,
                Amount::PerItem { items: sku_b, per: PerItem::Amount { every: money(1000), points: pts(2) } },
            )],
        )
        .gives(&[("sku", 12)]),
        case(
            "a per-item rule without matching items earns nothing",
            vec![base_rule(
                "none",
                Trigger::OrderPaid,
                Amount::PerItem {
                    items: ItemFilter { product_ids: vec!["other".to_owned()], ..ItemFilter::default() },
                    per: PerItem::Quantity { points: pts(1) },
                },
            )],
        )
        .refuses(&[("none", "nothing_earned")]),
        case("event rules do not fire on orders", vec![ride.clone(), fixed("f", 1)]).gives(&[("f", 1)]),
        case(
            "a metadata rule multiplies the event's number by its factor, floored, then the per-event cap cuts it",
            vec![ride.clone()],
        )
        .facts(Facts::Event("bike_ride", 300.75))
        .gives(&[("ride", 500)])
        .cut(&[("ride", CapKind::PerEvent)]),
        case("a metadata rule below its cap gives the floored product", vec![ride.clone()])
            .facts(Facts::Event("bike_ride", 12.75))
            .gives(&[("ride", 25)]),
        case("an event of another name fires nothing", vec![ride.clone()]).facts(Facts::Event("review", 10.0)),
        case("the signup bonus fires on enrolment only", vec![signup.clone(), fixed("f", 1)])
            .facts(Facts::Enrolled)
            .gives(&[("signup", 500)]),
        case("days of week restrict a rule (Saturday in the program's time zone)", vec![weekend_only, weekdays])
            .gives(&[("weekend", 10)])
            .refuses(&[("weekdays", "day_of_week")]),
        case("hours restrict a rule, also across midnight", vec![morning, evening])
            .gives(&[("morning", 5)])
            .refuses(&[("evening", "hours")]),
        case("a rule outside its dates gives nothing", vec![future, past])
            .refuses(&[("future", "not_started"), ("past", "ended")]),
        case("a paused rule gives nothing", vec![paused]).refuses(&[("paused", "paused")]),
        case("a segment requirement is met by any one of the segments", vec![vip, member])
            .gives(&[("member", 7)])
            .refuses(&[("vip", "not_in_segment")]),
        case("a condition decides eligibility", vec![fixed("big_orders", 9), fixed("small_orders", 9)])
            .when("big_orders", "order.amount >= 100.00")
            .when("small_orders", "order.amount < 50.00")
            .gives(&[("big_orders", 9)])
            .refuses(&[("small_orders", "condition_failed")]),
        case(
            "multipliers multiply every base rule of the trigger, as a product, floored once",
            vec![every("p", 1000, 3, AfterDiscounts), multiplier("weekend", 2000), multiplier("vip", 1500)],
        )
        .gives(&[("p", 90)]),
        case("a multiplier whose condition fails does not apply", vec![fixed("f", 10), multiplier("x", 3000)])
            .when("x", "order.amount > 500.00")
            .gives(&[("f", 10)])
            .refuses(&[("x", "condition_failed")]),
        case("the per-event cap applies after the multiplier", vec![per_event.clone(), multiplier("x", 2000)])
            .gives(&[("big", 50)])
            .cut(&[("big", CapKind::PerEvent)]),
        case("the daily cap gives what is left of today's allowance", vec![daily.clone()])
            .gives(&[("daily", 20)])
            .cut(&[("daily", CapKind::CustomerDay)])
            .usage(used_today),
        case("yesterday's use does not count against today's cap", vec![daily.clone()])
            .gives(&[("daily", 100)])
            .usage(used_yesterday),
        case("the weekly cap counts the ISO week (Monday on)", vec![weekly])
            .gives(&[("weekly", 50)])
            .cut(&[("weekly", CapKind::CustomerWeek)])
            .usage(used_this_week),
        case("a budget gives what is left of it", vec![budgeted.clone()])
            .gives(&[("budgeted", 7)])
            .cut(&[("budgeted", CapKind::Budget)])
            .budget(7),
        case("an exhausted budget gives nothing and says so", vec![budgeted])
            .refuses(&[("budgeted", "capped")])
            .budget(0),
        case("the program's own rate is a base rule that multipliers apply to", vec![multiplier("x", 2000)])
            .rate(rate)
            .gives(&[("rate", 20)]),
        case("the program's rate and rules each give their own award", vec![bonus_with_expiry])
            .rate(rate)
            .gives(&[("rate", 10), ("expiring", 5)]),
        case(
            "the member's tier multiplier joins the multiplier rules in the product",
            vec![every("p", 1000, 3, AfterDiscounts), multiplier("x", 2000)],
        )
        .tier(Factor(1500))
        .gives(&[("p", 90)]),
    ]
}

fn date_of(text: &str) -> jiff::civil::Date {
    text.parse().expect("a date")
}

impl Case {
    fn usage(mut self, usage: RuleUsage) -> Case {
        self.usage = usage;
        self
    }
    fn budget(mut self, left: i64) -> Case {
        self.budget_left = left;
        self
    }
    fn tier(mut self, factor: Factor) -> Case {
        self.tier_multiplier = Some(factor);
        self
    }
    fn rate(mut self, rate: crate::program::EarningRate) -> Case {
        self.rate = Some(rate);
        self
    }
}

#[test]
fn every_row_of_the_earning_table_gives_what_it_says() {
    let mut failures = Vec::new();
    for case in cases() {
        let earning = run(&case);
        let awards: Vec<(&str, i64)> = earning.awards.iter().map(|a| (name_of(&a.rule_id), a.points.value())).collect();
        let expected: Vec<(&str, i64)> = case.awards.clone();
        if awards != expected {
            failures.push(format!("{}: awards {awards:?}, expected {expected:?}", case.name));
        }
        let refusals: Vec<(&str, &str)> = earning
            .reports
            .iter()
            .filter_map(|r| r.outcome.as_ref().err().map(|e| (name_of(&r.rule_id), e.as_str())))
            .collect();
        if refusals != case.refusals {
            failures.push(format!("{}: refusals {refusals:?}, expected {:?}", case.name, case.refusals));
        }
        let capped: Vec<(&str, CapKind)> = earning
            .reports
            .iter()
            .filter_map(|r| r.outcome.as_ref().ok().and_then(|f| f.capped_by).map(|c| (name_of(&r.rule_id), c)))
            .collect();
        if capped != case.capped {
            failures.push(format!("{}: capped {capped:?}, expected {:?}", case.name, case.capped));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_rule_below_one_step_hints_at_what_more_would_earn() {
    let c = case("hint", vec![every("p", 20000, 50, AmountBase::AfterDiscounts)]);
    let earning = run(&c);
    assert_eq!(earning.reports[0].hint.as_deref(), Some("spend 100.00 more to earn 50 more points"));
}

#[test]
fn a_failed_condition_explains_itself_with_a_hint() {
    let c = case("trace", vec![fixed("big", 9)]).when("big", "order.amount >= 150.00");
    let earning = run(&c);
    let report = &earning.reports[0];
    assert!(report.trace.as_ref().is_some_and(|t| !t.result));
    assert!(report.hint.as_deref().is_some_and(|h| h.contains("30.00")), "{:?}", report.hint);
}

#[test]
fn usage_rolls_over_per_period_and_keeps_the_lifetime_sum() {
    let rule = EarningRuleId::from_trusted("erl_x".to_owned());
    let mut usage = RuleUsage::default();
    usage.record(&rule, 10, date_of("2026-11-30")); // Monday
    usage.record(&rule, 5, date_of("2026-12-01"));
    let u = &usage.0[0];
    assert_eq!((u.day_points, u.week_points, u.month_points, u.lifetime_points), (5, 15, 5, 15));
    let caps = Caps { per_customer_lifetime: Some(pts(20)), per_customer_month: Some(pts(100)), ..Caps::default() };
    assert_eq!(usage.room(&rule, &caps, date_of("2026-12-02")), Some((5, CapKind::CustomerLifetime)));
    assert_eq!(week_start(date_of("2026-12-06")), date_of("2026-11-30"));
}

#[test]
fn factors_take_three_decimals_and_refuse_more() {
    assert_eq!(Factor::from_decimal(1.5, MULTIPLIER_MAX), Some(Factor(1500)));
    assert_eq!(Factor::from_decimal(0.001, MULTIPLIER_MAX), Some(Factor(1)));
    assert_eq!(Factor::from_decimal(1.0005, MULTIPLIER_MAX), None);
    assert_eq!(Factor::from_decimal(0.0, MULTIPLIER_MAX), None);
    assert_eq!(Factor::from_decimal(101.0, MULTIPLIER_MAX), None);
    assert_eq!(Factor(1500).apply(7), 10);
}
