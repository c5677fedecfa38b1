//! The earning-rules mix of issue #10's benchmark: on top of the program's own rate, 10 rules — 2
//! proportional, 2 per product, 2 event rules that never fire on orders, 2 with conditions (one reading the
//! order, one the customer's history), a weekend multiplier and a rule with a per-customer daily cap.

use serde_json::{Value, json};

/// Rules created by `--earning-rules`.
pub const RULES_COUNT: usize = 10;

fn mix() -> Vec<Value> {
    let paid = json!({"type": "order_paid"});
    vec![
        json!({"name": "Base", "trigger": paid, "amount": {"type": "proportional", "every": 100, "points": 1}}),
        json!({"name": "Spend bonus", "trigger": paid,
               "amount": {"type": "proportional", "every": 1000, "points": 5, "base": "before_discounts"}}),
        json!({"name": "Mugs", "trigger": paid,
               "amount": {"type": "per_item", "by": "quantity", "points": 10, "product_ids": ["p-1"]}}),
        json!({"name": "Plates", "trigger": paid,
               "amount": {"type": "per_item", "by": "amount", "every": 500, "points": 2, "product_ids": ["p-2"]}}),
        json!({"name": "Reviews", "trigger": {"type": "event", "event": "review"},
               "amount": {"type": "fixed", "points": 50}}),
        json!({"name": "Rides", "trigger": {"type": "event", "event": "bike_ride"},
               "amount": {"type": "metadata", "key": "minutes", "factor": 2}}),
        json!({"name": "Big baskets", "trigger": paid, "amount": {"type": "fixed", "points": 25},
               "condition": "order.amount >= 30.00"}),
        json!({"name": "First order", "trigger": paid, "amount": {"type": "fixed", "points": 100},
               "condition": "orders(lifetime) == 1"}),
        json!({"name": "Weekend", "trigger": paid, "amount": {"type": "multiplier", "factor": 2},
               "validity": {"days_of_week": ["saturday", "sunday"]}}),
        json!({"name": "Daily visit", "trigger": paid, "amount": {"type": "fixed", "points": 20},
               "caps": {"per_customer_day": 40}}),
    ]
}

pub async fn create(port: u16, key: &str, program: &str) -> anyhow::Result<()> {
    let path = format!("/v1/programs/{program}/earning-rules");
    for rule in mix() {
        let reply = crate::segments::post(port, key, &path, &rule).await?;
        anyhow::ensure!(reply["id"].is_string(), "earning rule not created: {reply}");
    }
    Ok(())
}
