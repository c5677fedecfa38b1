//! Birthdays and anniversaries (L2 triggers) over simulated time: each celebrated exactly once a year on the
//! member's local day (the customer's time zone, else the program's), a missed day caught up within a week,
//! a changed birthdate never celebrated twice in a year, and the job's second run changing nothing.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::{Value, json};

async fn rule(app: &TestApp, program: &str, body: Value) {
    let reply = app.post(&format!("/v1/programs/{program}/earning-rules"), body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

async fn enrol(app: &TestApp, program: &str, customer: Value) -> String {
    let reply = app.post(&format!("/v1/programs/{program}/members"), json!({"customer": customer})).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    format!("/v1/programs/{program}/members/{}", reply.body["id"].as_str().unwrap())
}

/// On 1 March 2026, a program in `time_zone` giving 50 points on birthdays.
async fn birthday_club(app: &TestApp, time_zone: &str) -> String {
    app.set_time("2026-03-01T09:00:00Z");
    let program = app.program(json!({"name": "Club", "time_zone": time_zone})).await;
    let birthday =
        json!({"name": "Birthday", "trigger": {"type": "birthday"}, "amount": {"type": "fixed", "points": 50}});
    rule(app, &program, birthday).await;
    program
}

/// The causes of the member's occasion entries, oldest first.
async fn occasions(app: &TestApp, base: &str) -> Vec<(String, String, i64)> {
    let page = app.get(&format!("{base}/transactions?limit=100")).await.body["data"].as_array().cloned().unwrap();
    let mut found: Vec<(String, String, i64)> = page
        .iter()
        .filter(|t| ["birthday", "anniversary"].contains(&t["cause"]["type"].as_str().unwrap_or("")))
        .map(|t| {
            let cause = &t["cause"];
            (
                cause["type"].as_str().unwrap().to_owned(),
                cause["reason"].as_str().unwrap().to_owned(),
                t["points"].as_i64().unwrap(),
            )
        })
        .collect();
    found.reverse();
    found
}

async fn two_simulated_years_celebrate_each_birthday_and_anniversary_once_on_the_local_day(app: TestApp) {
    app.set_time("2026-01-10T09:00:00Z");
    let program = app.program(json!({"name": "Club", "time_zone": "Europe/Paris"})).await;
    rule(
        &app,
        &program,
        json!({"name": "Birthday", "trigger": {"type": "birthday"}, "amount": {"type": "fixed", "points": 500}}),
    )
    .await;
    rule(
        &app,
        &program,
        json!({"name": "Every year", "trigger": {"type": "anniversary"}, "amount": {"type": "fixed", "points": 100}}),
    )
    .await;
    rule(
        &app,
        &program,
        json!({"name": "Second year", "trigger": {"type": "anniversary", "years": 2},
                               "amount": {"type": "fixed", "points": 1000}}),
    )
    .await;
    let paris = enrol(&app, &program, json!({"source_id": "c-paris", "birthdate": "1990-03-14"})).await;
    let leap = enrol(&app, &program, json!({"source_id": "c-leap", "birthdate": "2000-02-29"})).await;
    let none = enrol(&app, &program, json!({"source_id": "c-none"})).await;
    let mut birthdays = 0;
    let mut day = jiff::civil::date(2026, 1, 11);
    while day <= jiff::civil::date(2028, 1, 12) {
        // 00:30 in Paris (23:30 UTC the evening before in winter, 22:30 in summer).
        let instant = day.at(0, 30, 0, 0).to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap()).unwrap();
        app.set_time(&instant.timestamp().to_string());
        let report = app.run_jobs().await;
        birthdays += report.birthdays;
        assert_eq!(app.run_jobs().await.birthdays + app.run_jobs().await.anniversaries, 0, "a second run: nothing");
        day = day.tomorrow().unwrap();
    }
    assert_eq!(birthdays, 4, "two members with birthdates, two years");
    assert_eq!(
        occasions(&app, &paris).await,
        vec![
            ("birthday".into(), "2026-03-14".into(), 500),
            ("anniversary".into(), "1".into(), 100),
            ("birthday".into(), "2027-03-14".into(), 500),
            ("anniversary".into(), "2".into(), 100),
            ("anniversary".into(), "2".into(), 1000),
        ]
    );
    let leap_days: Vec<String> =
        occasions(&app, &leap).await.into_iter().filter(|o| o.0 == "birthday").map(|o| o.1).collect();
    assert_eq!(leap_days, vec!["2026-02-28", "2027-02-28"], "29 February is the 28th in other years");
    assert_eq!(occasions(&app, &none).await.len(), 3, "no birthdate: only the anniversaries (two rules on the second)");
    let entries = app.get(&format!("{paris}/transactions?limit=100")).await.body["data"].clone();
    let birthday = entries.as_array().unwrap().iter().find(|t| t["cause"]["type"] == "birthday").unwrap();
    assert!(birthday["rule_id"].as_str().unwrap().starts_with("erl_"), "{birthday}");
    app.assert_ledger_identities(&program).await;
}
on_both!(two_simulated_years_celebrate_each_birthday_and_anniversary_once_on_the_local_day);

async fn a_birthday_starts_at_midnight_in_the_customers_own_time_zone(app: TestApp) {
    let program = birthday_club(&app, "Europe/Paris").await;
    let auckland =
        enrol(&app, &program, json!({"source_id": "c-nz", "birthdate": "1985-03-14", "timezone": "Pacific/Auckland"}))
            .await;
    let paris = enrol(&app, &program, json!({"source_id": "c-fr", "birthdate": "1985-03-14"})).await;
    // Auckland is UTC+13 in March: its 14th starts at 11:00 UTC on the 13th; Paris's at 23:00 UTC.
    app.set_time("2026-03-13T10:59:00Z");
    assert_eq!(app.run_jobs().await.birthdays, 0);
    app.set_time("2026-03-13T11:00:00Z");
    assert_eq!(app.run_jobs().await.birthdays, 1);
    assert_eq!(app.get(&auckland).await.body["balance"], 50);
    assert_eq!(app.get(&paris).await.body["balance"], 0, "still the 13th in Paris");
    app.set_time("2026-03-13T23:00:00Z");
    assert_eq!(app.run_jobs().await.birthdays, 1);
    assert_eq!(app.get(&paris).await.body["balance"], 50);
}
on_both!(a_birthday_starts_at_midnight_in_the_customers_own_time_zone);

async fn a_changed_birthdate_is_celebrated_on_its_new_day_but_never_twice_a_year(app: TestApp) {
    let program = birthday_club(&app, "UTC").await;
    let late = enrol(&app, &program, json!({"source_id": "c-late"})).await;
    let moving = enrol(&app, &program, json!({"source_id": "c-moving", "birthdate": "1980-03-02"})).await;
    app.set_time("2026-03-02T08:00:00Z");
    assert_eq!(app.run_jobs().await.birthdays, 1);
    let set = app.post("/v1/customers", json!({"source_id": "c-late", "birthdate": "1999-03-05"})).await;
    assert!(set.status.is_success(), "{}", set.body);
    let moved = app.post("/v1/customers", json!({"source_id": "c-moving", "birthdate": "1980-03-05"})).await;
    assert!(moved.status.is_success(), "{}", moved.body);
    app.set_time("2026-03-05T08:00:00Z");
    assert_eq!(app.run_jobs().await.birthdays, 1, "the new birthdate; the moved one was celebrated this year");
    assert_eq!(
        (app.get(&late).await.body["balance"].clone(), app.get(&moving).await.body["balance"].clone()),
        (json!(50), json!(50))
    );
    app.set_time("2027-03-05T08:00:00Z");
    assert_eq!(app.run_jobs().await.birthdays, 2, "next year both, on the new day");
}
on_both!(a_changed_birthdate_is_celebrated_on_its_new_day_but_never_twice_a_year);

async fn a_birthday_missed_for_more_than_a_week_is_let_go(app: TestApp) {
    let program = birthday_club(&app, "UTC").await;
    enrol(&app, &program, json!({"source_id": "c-1", "birthdate": "1980-03-02"})).await;
    enrol(&app, &program, json!({"source_id": "c-2", "birthdate": "1980-03-10"})).await;
    app.set_time("2026-03-12T08:00:00Z");
    assert_eq!(app.run_jobs().await.birthdays, 1, "the 10th is two days late; the 2nd ten days");
    app.set_time("2027-03-02T08:00:00Z");
    assert_eq!(app.run_jobs().await.birthdays, 1, "celebrated again the next year");
}
on_both!(a_birthday_missed_for_more_than_a_week_is_let_go);

async fn occasion_triggers_are_checked(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let path = format!("/v1/programs/{program}/earning-rules");
    let cases = [
        (json!({"type": "anniversary", "years": 0}), "/trigger/years"),
        (json!({"type": "anniversary", "years": 101}), "/trigger/years"),
        (json!({"type": "birthday", "years": 2}), "/trigger/years"),
        (json!({"type": "birthday", "event": "x"}), "/trigger"),
    ];
    for (trigger, pointer) in cases {
        let body = json!({"name": "x", "trigger": trigger, "amount": {"type": "fixed", "points": 1}});
        let reply = app.post(&path, body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{trigger}: {}", reply.body);
        assert!(reply.body.to_string().contains(pointer), "{trigger}: wanted {pointer} in {}", reply.body);
    }
    let proportional = json!({"name": "x", "trigger": {"type": "birthday"}, "amount": {"type": "proportional", "every": 100, "points": 1}});
    assert_eq!(app.post(&path, proportional).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&format!("/v1/programs/{program}")).await.body["rules_version"], 0, "nothing changed");
    let whole = json!({"name": "x", "trigger": {"type": "anniversary", "years": 2.0}, "amount": {"type": "fixed", "points": 1}});
    let created = app.post(&path, whole).await;
    assert_eq!(created.status, StatusCode::CREATED, "a whole float is a whole number: {}", created.body);
    assert_eq!(created.body["trigger"], json!({"type": "anniversary", "years": 2}));
}
on_both!(occasion_triggers_are_checked);
