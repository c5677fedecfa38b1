//! Segment benchmarks: a mix of dynamic segments for ingestion runs, rule evaluation speed, recompute and
//! preview rates over many customers (seeded straight through the storage port, which is much faster than
//! the API and not what is measured).

use anyhow::Context as _;
use bytes::Bytes;
use fidelis_core::customer::{Address, Customer, Profile};
use fidelis_core::ids::{CustomerId, ProjectId};
use fidelis_core::metadata::{Metadata, RawMeta};
use fidelis_core::stats::CustomerStats;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Dynamic segments of the ingestion benchmark: 20 on attributes, 20 on order history, 10 on balances.
pub fn mix(program: &str, count: usize) -> Vec<String> {
    let countries = ["DE", "AT", "FR", "NL", "IT", "ES", "PL", "BE", "CH", "DK"];
    (0..count)
        .map(|i| match i % 5 {
            0 | 1 => {
                format!("customer.address.country == \"{}\" or customer.metadata.tier == \"t{i}\"", countries[i % 10])
            }
            2 => format!("spent(last_{}_days) >= {}.00", 30 + i, 10 * (i + 1)),
            3 => format!("orders(lifetime) >= {} and average_order_value(last_365_days) >= {}.00", i % 7 + 1, i),
            _ => format!("balance(\"{program}\") >= {}", 20 * (i + 1)),
        })
        .collect()
}

pub async fn post(port: u16, key: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    let request = Request::post(format!("http://127.0.0.1:{port}{path}"))
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(Bytes::from(body.to_string())))?;
    let response = crate::load::client().request(request).await?;
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&bytes)?)
}

async fn get(port: u16, key: &str, path: &str) -> anyhow::Result<Value> {
    let request = Request::get(format!("http://127.0.0.1:{port}{path}"))
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(Bytes::new()))?;
    let response = crate::load::client().request(request).await?;
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&bytes)?)
}

pub async fn create_mix(port: u16, key: &str, program: &str, count: usize) -> anyhow::Result<()> {
    for (i, rule) in mix(program, count).into_iter().enumerate() {
        let reply =
            post(port, key, "/v1/segments", &json!({"name": format!("bench {i}"), "type": "dynamic", "rule": rule}))
                .await?;
        anyhow::ensure!(reply["id"].is_string(), "segment not created: {reply}");
    }
    Ok(())
}

/// Writes `count` customers (half in DE/AT) straight into the database.
pub async fn seed(database: &fidelis_store::Database, project: &ProjectId, count: usize) -> anyhow::Result<()> {
    let backend = fidelis_store::Backend::open(database).await?;
    let mut writer = backend.writers(database).await?.remove(0).session;
    let mut ids = fidelis_engine::idgen::UlidIds::new();
    let now = jiff::Timestamp::now();
    ids.at(now);
    let countries = ["DE", "AT", "FR", "NL"];
    for start in (0..count).step_by(10_000) {
        let customers: Vec<Customer> = (start..count.min(start + 10_000))
            .map(|i| Customer {
                id: CustomerId::fresh(&mut ids),
                project_id: project.clone(),
                source_id: Some(format!("seed-{i}")),
                profile: Profile {
                    name: Some(format!("Customer {i}")),
                    address: Address { country: Some(countries[i % 4].into()), ..Address::default() },
                    ..Profile::default()
                },
                metadata: Metadata::parse("/m", vec![("tier".into(), RawMeta::Str(format!("t{}", i % 10)))])
                    .unwrap_or_default(),
                stats: CustomerStats::default(),
                segments: Vec::new(),
                created_at: now,
                updated_at: now,
                erased_at: None,
            })
            .collect();
        writer.begin().await?;
        writer
            .flush(&fidelis_engine::port::ChangeSet { customers: customers.iter().collect(), ..Default::default() })
            .await?;
        writer.commit().await?;
    }
    Ok(())
}

/// Rules of the evaluation benchmark: the size (20 nodes) and a larger one.
const EVAL_RULES: [&str; 2] = [
    "order.amount >= 50.00 and customer.address.country in [\"AT\", \"DE\", \"CH\"] \
     and (spent(last_calendar_year) > 1000.00 or orders(last_90_days) >= 3) \
     and any(item.collections contains \"shoes\")",
    "order.amount >= 50.00 and customer.address.country in [\"AT\", \"DE\", \"CH\"] \
     and (spent(last_calendar_year) > 1000.00 or orders(last_90_days) >= 3) \
     and any(item.collections contains \"shoes\" and item.price >= 20.00) and hour() between 8 and 22 \
     and customer.metadata.tier == \"gold\"",
];

/// Median evaluation time of each benchmark rule on a customer with long history, and an order.
pub fn rule_eval() -> anyhow::Result<String> {
    use fidelis_core::rules::{Context, CustomerFacts, LoyaltyFacts, Rule, RuleSchema};
    let currency = fidelis_core::money::Currency::parse("EUR").context("EUR")?;
    let mut idgen = fidelis_core::ids::SequentialIds::starting_at(1);
    let now: jiff::Timestamp = "2025-06-15T12:00:00Z".parse()?;
    let today = jiff::civil::date(2025, 6, 15);
    let mut stats = CustomerStats::default();
    for d in 0..300 {
        let day = fidelis_core::calendar::add_days(today, -d).context("day")?;
        stats.record_paid(5_000 + i64::from(d), now, day, today);
        stats.record_event("login", day, today);
    }
    let mut meta: Vec<(String, RawMeta)> = (0..40).map(|i| (format!("k{i}"), RawMeta::Num(f64::from(i)))).collect();
    meta.push(("tier".into(), RawMeta::Str("gold".into())));
    let customer = Customer {
        id: CustomerId::fresh(&mut idgen),
        project_id: ProjectId::fresh(&mut idgen),
        source_id: None,
        profile: Profile {
            address: Address { country: Some("DE".into()), ..Address::default() },
            ..Profile::default()
        },
        metadata: Metadata::parse("/m", meta).map_err(|e| anyhow::anyhow!("{e:?}"))?,
        stats,
        segments: (0..50).map(|_| fidelis_core::ids::SegmentId::fresh(&mut idgen)).collect(),
        created_at: now,
        updated_at: now,
        erased_at: None,
    };
    let items: Vec<fidelis_core::order::ItemInput> = (0..20)
        .map(|i| fidelis_core::order::ItemInput {
            sku_id: Some(format!("sku-{i}")),
            collections: vec![if i == 19 { "shoes".into() } else { "misc".into() }],
            price: Some(2_500),
            ..Default::default()
        })
        .collect();
    let lines = fidelis_core::order::OrderLines::parse(None, None, items).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let order = fidelis_core::order::Order {
        id: fidelis_core::ids::OrderId::fresh(&mut idgen),
        project_id: customer.project_id.clone(),
        source_id: None,
        customer_id: None,
        status: fidelis_core::order::OrderStatus::Created,
        lines,
        metadata: Metadata::default(),
        refunded_amount: fidelis_core::money::Money::ZERO,
        paid_at: None,
        paid_on: None,
        earnings: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    let tz = jiff::tz::TimeZone::get("Europe/Berlin")?;
    let loyalty: Vec<LoyaltyFacts<'_>> = Vec::new();
    let ctx = Context {
        now,
        time_zone: &tz,
        currency,
        customer: Some(CustomerFacts { customer: &customer, segments: &customer.segments, loyalty: &loyalty }),
        order: Some(&order),
        event: None,
    };
    let mut lines = Vec::new();
    for text in EVAL_RULES {
        let rule = Rule::parse_text(text, &RuleSchema::new(currency)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let mut samples = Vec::new();
        let mut holds = 0_u32;
        for _ in 0..101 {
            let started = Instant::now();
            for _ in 0..10_000 {
                holds += u32::from(std::hint::black_box(&rule).evaluate(std::hint::black_box(&ctx)));
            }
            samples.push(started.elapsed() / 10_000);
        }
        samples.sort();
        lines.push(format!(
            "rule of {} nodes: median {:?} per evaluation (p10 {:?}, p90 {:?}; holds: {})",
            rule.node_count(),
            samples[50],
            samples[10],
            samples[90],
            holds > 0
        ));
    }
    Ok(lines.join("\n"))
}

/// Seeds `customers`, then measures the first computation of an attribute segment, a second full
/// recompute, and a preview, all through the API of an in-process server.
pub async fn recompute_and_preview(customers: usize) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let database = fidelis_store::Database::Sqlite { data_dir: dir.path().to_path_buf() };
    let app = fidelis::app::start(
        &database,
        std::sync::Arc::new(fidelis_engine::clock::SystemClock),
        Default::default(),
        Default::default(),
        None,
    )
    .await?;
    let reads = fidelis::admin::Ports::of_engine(&app.engine);
    let (project, _) = fidelis::admin::project_or_create(reads, "bench", "EUR", "Europe/Berlin").await?;
    let (_, key) = fidelis::admin::create_key(reads, &project).await?;
    let started = Instant::now();
    seed(&database, &project.id, customers).await?;
    let seeded = started.elapsed();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let router = app.router();
    let serving = fidelis::serve::ServeConfig::default();
    tokio::spawn(fidelis::app::serve(listener, router, serving, fidelis::app::shutdown_signal()));
    let rule = "customer.address.country in [\"DE\", \"AT\"] and customer.metadata.tier != \"t3\"";
    let preview = post(port, &key, "/v1/segments/preview", &json!({"rule": rule})).await?;
    let started = Instant::now();
    let segment = post(port, &key, "/v1/segments", &json!({"name": "DACH", "type": "dynamic", "rule": rule})).await?;
    let id = segment["id"].as_str().context("segment id")?.to_owned();
    while !get(port, &key, &format!("/v1/segments/{id}")).await?["computed_at"].is_string() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = started.elapsed();
    let started = Instant::now();
    let again = post(port, &key, &format!("/v1/segments/{id}/recompute"), &json!({})).await?;
    let second = started.elapsed();
    let rate = |d: Duration| customers as f64 / d.as_secs_f64();
    Ok(format!(
        "{customers} customers (seeded in {seeded:.1?}): preview {} ms ({} match); first computation {first:.2?} \
         ({:.0}/s, {} entered); recompute {second:.2?} ({:.0}/s, {} evaluated, {} changed)",
        preview["took_ms"],
        preview["count"],
        rate(first),
        get(port, &key, &format!("/v1/segments/{id}")).await?["members_count"],
        rate(second),
        again["evaluated"],
        again["entered"].as_u64().unwrap_or(0) + again["left"].as_u64().unwrap_or(0),
    ))
}
