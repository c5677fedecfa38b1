//! Order bodies: upsert (with items and an inline customer), refund, and the response.

use super::common::{metadata, metadata_json, metadata_patch, opt_time, time};
use super::customer::CustomerBody;
use super::member::TransactionResponse;
use super::whole::{MinorUnits, PositiveMinorUnits, Quantity, Refused, read_optional};
use fidelis_core::ledger::Entry;
use fidelis_core::limits::ITEM_COLLECTIONS_MAX;
use fidelis_core::money::Money;
use fidelis_core::order::{ItemInput, LinesPatch, Order, OrderDraft, OrderStatus};
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
use fidelis_core::text;
use fidelis_engine::domains::customers::WhenMissing;
use fidelis_engine::domains::orders::OrderInput;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    #[serde(default)]
    pub product_id: Option<String>,
    #[serde(default)]
    pub sku_id: Option<String>,
    /// Collections (categories) of the product.
    #[serde(default)]
    pub collections: Option<Vec<String>>,
    /// Defaults to 1.
    #[serde(default)]
    #[schema(inline)]
    pub quantity: Option<Quantity>,
    /// Unit price in minor units.
    #[serde(default)]
    #[schema(inline)]
    pub price: Option<MinorUnits>,
    /// Line amount in minor units; must equal quantity × price when both are given.
    #[serde(default)]
    #[schema(inline)]
    pub amount: Option<MinorUnits>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// An order to create or update (matched on `source_id`). Amounts are integer minor units.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    #[serde(default)]
    pub source_id: Option<String>,
    /// CREATED (default for new orders), PAID, FULFILLED, CANCELED or REFUNDED.
    #[serde(default)]
    #[schema(example = "PAID")]
    pub status: Option<String>,
    /// The customer, by `id` or `source_id`; unknown `source_id`s create the customer.
    #[serde(default)]
    pub customer: Option<CustomerBody>,
    /// Before discounts; defaults to the sum of the items.
    #[serde(default)]
    #[schema(inline)]
    pub amount: Option<MinorUnits>,
    #[serde(default)]
    #[schema(inline)]
    pub discount_amount: Option<MinorUnits>,
    #[serde(default)]
    pub items: Option<Vec<ItemBody>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Cumulative amount refunded so far (partial refunds keep status PAID/FULFILLED).
    #[serde(default)]
    #[schema(inline)]
    pub refunded_amount: Option<MinorUnits>,
}

/// An item's input; `Err` when one of its numbers is out of range (recorded).
fn item_input(errors: &mut FieldErrors, index: usize, item: &ItemBody) -> Result<ItemInput, Refused> {
    let base = format!("/items/{index}");
    let id = |errors: &mut FieldErrors, name: &str, v: &Option<String>| {
        v.as_ref().and_then(|v| errors.take(text::source_id(&format!("{base}/{name}"), v)))
    };
    let product_id = id(errors, "product_id", &item.product_id);
    let sku_id = id(errors, "sku_id", &item.sku_id);
    let collections = item.collections.clone().unwrap_or_default();
    if collections.len() > ITEM_COLLECTIONS_MAX {
        errors.push(
            format!("{base}/collections"),
            FieldErrorKey::TooMany,
            format!("at most {ITEM_COLLECTIONS_MAX} collections"),
        );
    }
    let collections = collections
        .iter()
        .enumerate()
        .filter_map(|(i, c)| errors.take(text::source_id(&format!("{base}/collections/{i}"), c)))
        .collect();
    let quantity = read_optional(&item.quantity, errors, &format!("{base}/quantity"));
    let price = read_optional(&item.price, errors, &format!("{base}/price"));
    let amount = read_optional(&item.amount, errors, &format!("{base}/amount"));
    let metadata = metadata(errors, &format!("{base}/metadata"), item.metadata.as_ref());
    Ok(ItemInput { product_id, sku_id, collections, quantity: quantity?, price: price?, amount: amount?, metadata })
}

impl OrderBody {
    pub fn input(&self, errors: &mut FieldErrors) -> OrderInput {
        let source_id = self.source_id.as_ref().and_then(|s| errors.take(text::source_id("/source_id", s)));
        let status = self.status.as_ref().and_then(|s| {
            let parsed = OrderStatus::parse(&s.to_ascii_uppercase());
            if parsed.is_none() {
                errors.push(
                    "/status",
                    FieldErrorKey::InvalidFormat,
                    "must be CREATED, PAID, FULFILLED, CANCELED or REFUNDED",
                );
            }
            parsed
        });
        let lines = self.lines(errors);
        let refunded_amount = read_optional(&self.refunded_amount, errors, "/refunded_amount").ok().flatten();
        let refunded_amount = refunded_amount.and_then(|r| {
            let money = Money::new(r);
            if money.is_none() {
                errors.push(
                    "/refunded_amount",
                    FieldErrorKey::OutOfRange,
                    "must be a non-negative amount in minor units",
                );
            }
            money
        });
        let customer = self.customer.as_ref().map(|c| c.input(errors, "/customer", WhenMissing::Create));
        let draft = OrderDraft {
            source_id,
            status,
            lines,
            metadata: metadata_patch(errors, "/metadata", self.metadata.as_ref()),
            refunded_amount,
        };
        OrderInput { reference: None, customer, draft, explain: false }
    }

    fn lines(&self, errors: &mut FieldErrors) -> Option<LinesPatch> {
        if self.amount.is_none() && self.items.is_none() && self.discount_amount.is_none() {
            return None;
        }
        if self.items.as_ref().is_some_and(|i| i.len() > fidelis_core::limits::ORDER_ITEMS_MAX) {
            errors.push(
                "/items",
                FieldErrorKey::TooMany,
                format!("an order has at most {} items", fidelis_core::limits::ORDER_ITEMS_MAX),
            );
            return None;
        }
        let amount = read_optional(&self.amount, errors, "/amount");
        let discount_amount = read_optional(&self.discount_amount, errors, "/discount_amount");
        // Every item is read (all errors reported) before any number out of range stops the sums.
        let items: Option<Vec<Result<ItemInput, Refused>>> = self
            .items
            .as_ref()
            .map(|list| list.iter().enumerate().map(|(i, item)| item_input(errors, i, item)).collect());
        let items = items.map(|list| list.into_iter().collect::<Result<Vec<_>, _>>()).transpose();
        let (Ok(amount), Ok(discount_amount), Ok(items)) = (amount, discount_amount, items) else {
            return None;
        };
        match LinesPatch::parse(amount, discount_amount, items) {
            Ok(lines) => Some(lines),
            Err(list) => {
                errors.0.extend(list);
                None
            }
        }
    }
}

/// A refund of `amount` more than was refunded before.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Minor units, positive.
    #[schema(inline)]
    pub amount: PositiveMinorUnits,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResponse {
    pub product_id: Option<String>,
    pub sku_id: Option<String>,
    pub collections: Vec<String>,
    pub quantity: i64,
    pub price: Option<i64>,
    pub amount: i64,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

/// Points a program gave for the order.
#[derive(Debug, Serialize, ToSchema)]
pub struct EarningResponse {
    pub program_id: String,
    pub member_id: String,
    /// The earn transaction; `null` while the points are pending.
    pub transaction_id: Option<String>,
    /// The pending points (return window) the order gave, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_id: Option<String>,
    pub points: i64,
    pub clawed_back: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderResponse {
    /// Always "order".
    pub object: &'static str,
    pub id: String,
    pub source_id: Option<String>,
    pub customer_id: Option<String>,
    pub status: &'static str,
    pub currency: String,
    pub amount: i64,
    pub discount_amount: i64,
    /// Amount after discounts: what was paid.
    pub total_amount: i64,
    pub refunded_amount: i64,
    pub items: Vec<ItemResponse>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub paid_at: Option<String>,
    pub earnings: Vec<EarningResponse>,
    /// Ledger transactions this request caused (earning, clawback); only on writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<Vec<TransactionResponse>>,
    /// With `?explain=true` (and on dry runs), on the call that made the order paid: every earning rule
    /// of every program, what it gave or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earning: Option<Vec<super::earning::ProgramExplanation>>,
    pub created_at: String,
    pub updated_at: String,
}

impl OrderResponse {
    pub fn from(o: &Order, currency: &str, entries: Option<&[Entry]>) -> OrderResponse {
        OrderResponse {
            object: "order",
            id: o.id.to_string(),
            source_id: o.source_id.clone(),
            customer_id: o.customer_id.as_ref().map(ToString::to_string),
            status: o.status.as_str(),
            currency: currency.to_owned(),
            amount: o.lines.amount.minor_units(),
            discount_amount: o.lines.discount_amount.minor_units(),
            total_amount: o.lines.total().minor_units(),
            refunded_amount: o.refunded_amount.minor_units(),
            items: o
                .lines
                .items
                .iter()
                .map(|i| ItemResponse {
                    product_id: i.product_id.clone(),
                    sku_id: i.sku_id.clone(),
                    collections: i.collections.clone(),
                    quantity: i.quantity,
                    price: i.price.map(Money::minor_units),
                    amount: i.amount.minor_units(),
                    metadata: metadata_json(&i.metadata),
                })
                .collect(),
            metadata: metadata_json(&o.metadata),
            paid_at: opt_time(o.paid_at),
            earnings: o
                .earnings
                .iter()
                .map(|e| EarningResponse {
                    program_id: e.program_id.to_string(),
                    member_id: e.membership_id.to_string(),
                    transaction_id: e.entry_id.as_ref().map(ToString::to_string),
                    pending_id: e.hold_id.as_ref().map(ToString::to_string),
                    points: e.points,
                    clawed_back: e.clawed_back,
                })
                .collect(),
            transactions: entries.map(|list| list.iter().map(TransactionResponse::from).collect()),
            earning: None,
            created_at: time(o.created_at),
            updated_at: time(o.updated_at),
        }
    }
}
