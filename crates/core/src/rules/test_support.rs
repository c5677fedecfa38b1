//! Test helpers for the rule language: a small JSON text reader, fixed ids, and an owned "world" that lends
//! a `Context` (customer with history, loyalty, segments, an order with items, an event).

use super::{Context, CustomerFacts, EventFacts, Json, LoyaltyFacts, Rule, RuleSchema};
use crate::customer::{Address, Customer, Profile};
use crate::ids::{CustomerId, OrderId, ProgramId, ProjectId, SegmentId};
use crate::metadata::{MetaValue, Metadata};
use crate::money::{Currency, Money, Points};
use crate::order::{Order, OrderItem, OrderLines, OrderStatus};
use crate::stats::{CustomerStats, DayActivity, DayCount, EventDay};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;

pub const SEG_A: &str = "seg_01JAAAAAAAAAAAAAAAAAAAAAAA";
pub const SEG_B: &str = "seg_01JBBBBBBBBBBBBBBBBBBBBBBB";
pub const PROG_X: &str = "prog_01JXXXXXXXXXXXXXXXXXXXXXXX";
pub const PROG_Y: &str = "prog_01JYYYYYYYYYYYYYYYYYYYYYYY";

pub fn eur() -> Currency {
    Currency::parse("EUR").expect("EUR")
}

pub fn jpy() -> Currency {
    Currency::parse("JPY").expect("JPY")
}

pub fn schema() -> RuleSchema {
    RuleSchema::new(eur())
}

/// A rule that must parse (EUR).
pub fn rule(text: &str) -> Rule {
    match Rule::parse_text(text, &schema()) {
        Ok(rule) => rule,
        Err(errors) => panic!("`{text}` should parse: {errors:#?}"),
    }
}

pub fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

pub fn meta(pairs: &[(&str, MetaValue)]) -> Metadata {
    Metadata(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

pub fn money(minor: i64) -> Money {
    Money::new(minor).expect("a valid amount")
}

/// Everything a context borrows, owned.
#[derive(Clone, Debug)]
pub struct World {
    pub now: Timestamp,
    pub time_zone: TimeZone,
    pub currency: Currency,
    pub customer: Option<Customer>,
    pub segments: Vec<SegmentId>,
    /// (program, balance, tier)
    pub loyalty: Vec<(ProgramId, i64, Option<String>)>,
    pub order: Option<Order>,
    pub event: Option<(String, Metadata)>,
}

impl World {
    pub fn with_context<R>(&self, use_context: impl FnOnce(&Context) -> R) -> R {
        let loyalty: Vec<LoyaltyFacts> = self
            .loyalty
            .iter()
            .map(|(program_id, balance, tier)| LoyaltyFacts {
                program_id,
                balance: Points::from_stored(*balance),
                tier: tier.as_deref(),
            })
            .collect();
        let context = Context {
            now: self.now,
            time_zone: &self.time_zone,
            currency: self.currency,
            customer: self.customer.as_ref().map(|customer| CustomerFacts {
                customer,
                segments: &self.segments,
                loyalty: &loyalty,
            }),
            order: self.order.as_ref(),
            event: self.event.as_ref().map(|(name, metadata)| EventFacts { name, metadata }),
        };
        use_context(&context)
    }

    pub fn evaluate(&self, rule: &Rule) -> bool {
        self.with_context(|ctx| rule.evaluate(ctx))
    }
}

pub fn customer(created_at: Timestamp, stats: CustomerStats) -> Customer {
    Customer {
        id: CustomerId::from_trusted("cust_01JCCCCCCCCCCCCCCCCCCCCCCC".to_owned()),
        project_id: ProjectId::from_trusted("proj_01JPPPPPPPPPPPPPPPPPPPPPPP".to_owned()),
        source_id: None,
        profile: Profile::default(),
        metadata: Metadata::default(),
        stats,
        segments: Vec::new(),
        created_at,
        updated_at: created_at,
        erased_at: None,
    }
}

pub fn item(sku: Option<&str>, collections: &[&str], quantity: i64, price: Option<i64>, amount: i64) -> OrderItem {
    OrderItem {
        product_id: sku.map(|s| format!("prod-{s}")),
        sku_id: sku.map(str::to_owned),
        collections: collections.iter().map(|c| (*c).to_owned()).collect(),
        quantity,
        price: price.map(money),
        amount: money(amount),
        metadata: Metadata::default(),
    }
}

pub fn order(amount: i64, discount: i64, items: Vec<OrderItem>, created_at: Timestamp) -> Order {
    Order {
        id: OrderId::from_trusted("ord_01JOOOOOOOOOOOOOOOOOOOOOOO".to_owned()),
        project_id: ProjectId::from_trusted("proj_01JPPPPPPPPPPPPPPPPPPPPPPP".to_owned()),
        source_id: None,
        customer_id: None,
        status: OrderStatus::Created,
        lines: OrderLines { amount: money(amount), discount_amount: money(discount), items },
        metadata: Metadata::default(),
        refunded_amount: Money::ZERO,
        paid_at: None,
        paid_on: None,
        earnings: Vec::new(),
        created_at,
        updated_at: created_at,
    }
}

fn day(d: Date, spent: i64, orders: i64) -> DayActivity {
    DayActivity { day: d, spent, orders }
}

/// Berlin, 2025-01-01 00:30 local (still 2024-12-31 in UTC): a customer with history, two programs, one
/// segment, an order of two items and a "review" event.
pub fn world() -> World {
    let stats = CustomerStats {
        orders_count: 5,
        total_spent: 116_000,
        first_order_at: Some(at("2022-05-01T10:00:00Z")),
        last_order_at: Some(at("2024-12-31T23:10:00Z")),
        days: vec![
            day(date(2024, 3, 10), 60_000, 2),
            day(date(2024, 12, 31), 50_000, 1),
            day(date(2025, 1, 1), 1_000, 1),
        ],
        event_days: vec![
            EventDay { name: "login".into(), day: date(2024, 12, 30), count: 2 },
            EventDay { name: "review".into(), day: date(2024, 11, 1), count: 1 },
            EventDay { name: "review".into(), day: date(2025, 1, 1), count: 1 },
        ],
        redemption_days: vec![DayCount { day: date(2024, 12, 1), count: 1 }],
    };
    let mut ann = customer(at("2023-06-15T10:00:00Z"), stats);
    ann.source_id = Some("crm-42".into());
    ann.profile = Profile {
        name: Some("Ann".into()),
        email: Some("ann@example.com".into()),
        phone: None,
        birthdate: Some(date(1990, 1, 15)),
        timezone: Some("Europe/Berlin".into()),
        address: Address { city: Some("Berlin".into()), country: Some("DE".into()), ..Address::default() },
    };
    ann.metadata = meta(&[
        ("vip", MetaValue::Bool(true)),
        ("level", MetaValue::Str("gold".into())),
        ("score", MetaValue::Num(7.5)),
        ("joined", MetaValue::Date(date(2020, 5, 1))),
        ("tags", MetaValue::List(vec![MetaValue::Str("a".into()), MetaValue::Str("b".into())])),
        ("favourite colour", MetaValue::Str("red".into())),
    ]);
    let mut shoes = item(Some("s1"), &["shoes", "sale"], 2, Some(2_500), 5_000);
    shoes.metadata = meta(&[("color", MetaValue::Str("red".into()))]);
    let socks = item(None, &["socks"], 1, None, 5_000);
    let mut cart = order(10_000, 2_000, vec![shoes, socks], at("2024-12-31T23:20:00Z"));
    cart.metadata = meta(&[("channel", MetaValue::Str("web".into()))]);
    World {
        now: at("2024-12-31T23:30:00Z"),
        time_zone: TimeZone::get("Europe/Berlin").expect("Berlin"),
        currency: eur(),
        customer: Some(ann),
        segments: vec![SegmentId::parse(SEG_A).expect("segment id")],
        loyalty: vec![
            (ProgramId::parse(PROG_X).expect("program id"), 1_200, Some("Gold".into())),
            (ProgramId::parse(PROG_Y).expect("program id"), 300, None),
        ],
        order: Some(cart),
        event: Some(("review".into(), meta(&[("stars", MetaValue::Num(5.0))]))),
    }
}

/// Reads JSON text into a `Json` (tests only; the API uses serde_json).
pub fn json(text: &str) -> Json {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let value = json_value(&chars, &mut pos);
    skip_space(&chars, &mut pos);
    assert_eq!(pos, chars.len(), "trailing characters in {text}");
    value
}

fn skip_space(chars: &[char], pos: &mut usize) {
    while chars.get(*pos).is_some_and(|c| c.is_whitespace()) {
        *pos += 1;
    }
}

fn json_value(chars: &[char], pos: &mut usize) -> Json {
    skip_space(chars, pos);
    match chars[*pos] {
        '{' => json_object(chars, pos),
        '[' => {
            *pos += 1;
            let mut items = Vec::new();
            while !json_close(chars, pos, ']') {
                items.push(json_value(chars, pos));
            }
            Json::Array(items)
        }
        '"' => Json::String(json_string(chars, pos)),
        't' | 'f' | 'n' => {
            let word: String = chars[*pos..].iter().take_while(|c| c.is_ascii_alphabetic()).collect();
            *pos += word.len();
            match word.as_str() {
                "true" => Json::Bool(true),
                "false" => Json::Bool(false),
                _ => Json::Null,
            }
        }
        _ => {
            let number: String =
                chars[*pos..].iter().take_while(|c| c.is_ascii_digit() || "+-.eE".contains(**c)).collect();
            *pos += number.chars().count();
            Json::Number(number)
        }
    }
}

/// Skips a separating comma; `true` (and consumes it) at the closing bracket.
fn json_close(chars: &[char], pos: &mut usize, close: char) -> bool {
    skip_space(chars, pos);
    if chars[*pos] == ',' {
        *pos += 1;
        skip_space(chars, pos);
    }
    let closed = chars[*pos] == close;
    if closed {
        *pos += 1;
    }
    closed
}

fn json_object(chars: &[char], pos: &mut usize) -> Json {
    *pos += 1;
    let mut pairs = Vec::new();
    while !json_close(chars, pos, '}') {
        let key = json_string(chars, pos);
        skip_space(chars, pos);
        assert_eq!(chars[*pos], ':');
        *pos += 1;
        pairs.push((key, json_value(chars, pos)));
    }
    Json::Object(pairs)
}

fn json_string(chars: &[char], pos: &mut usize) -> String {
    assert_eq!(chars[*pos], '"', "a string");
    *pos += 1;
    let mut out = String::new();
    while chars[*pos] != '"' {
        if chars[*pos] == '\\' {
            *pos += 1;
            out.push(match chars[*pos] {
                'n' => '\n',
                't' => '\t',
                other => other,
            });
        } else {
            out.push(chars[*pos]);
        }
        *pos += 1;
    }
    *pos += 1;
    out
}
