//! An order's lines: items, amount and discount. A request gives some of them (`LinesPatch`, each part valid
//! and consistent with the other parts it gives); applied to the order's current lines, they must add up.

use crate::limits::{ITEM_QUANTITY_MAX, ORDER_ITEMS_MAX};
use crate::metadata::Metadata;
use crate::money::Money;
use crate::rejection::{FieldError, FieldErrorKey, FieldErrors};

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderItem {
    pub product_id: Option<String>,
    pub sku_id: Option<String>,
    /// Collections (categories) the product belongs to, as the merchant names them.
    pub collections: Vec<String>,
    pub quantity: i64,
    /// Unit price, when the client gave one.
    pub price: Option<Money>,
    pub amount: Money,
    pub metadata: Metadata,
}

/// An item as the client sent it (numbers already integers; ids already bounded).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemInput {
    pub product_id: Option<String>,
    pub sku_id: Option<String>,
    pub collections: Vec<String>,
    pub quantity: Option<i64>,
    pub price: Option<i64>,
    pub amount: Option<i64>,
    pub metadata: Metadata,
}

/// Amount, discount and items that were checked to add up.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderLines {
    pub amount: Money,
    pub discount_amount: Money,
    pub items: Vec<OrderItem>,
}

impl OrderLines {
    /// What was paid: amount after discounts.
    pub fn total(&self) -> Money {
        self.amount.checked_sub(self.discount_amount).unwrap_or(Money::ZERO)
    }

    /// The lines of a new order, every problem reported with its path.
    pub fn parse(
        amount: Option<i64>,
        discount_amount: Option<i64>,
        items: Vec<ItemInput>,
    ) -> Result<OrderLines, Vec<FieldError>> {
        LinesPatch::parse(amount, discount_amount, Some(items))?.apply(None)
    }
}

/// The parts of an order's lines a request gave; what it left out stays as it was.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinesPatch {
    pub amount: Option<Money>,
    pub discount_amount: Option<Money>,
    pub items: Option<Vec<OrderItem>>,
}

impl From<OrderLines> for LinesPatch {
    fn from(lines: OrderLines) -> LinesPatch {
        LinesPatch {
            amount: Some(lines.amount),
            discount_amount: Some(lines.discount_amount),
            items: Some(lines.items),
        }
    }
}

impl LinesPatch {
    /// Checks each given part, and the given amount against the given items; every problem with its path.
    pub fn parse(
        amount: Option<i64>,
        discount_amount: Option<i64>,
        items: Option<Vec<ItemInput>>,
    ) -> Result<LinesPatch, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        if items.as_ref().is_some_and(|i| i.len() > ORDER_ITEMS_MAX) {
            errors.push("/items", FieldErrorKey::TooMany, format!("an order has at most {ORDER_ITEMS_MAX} items"));
            return Err(errors.0);
        }
        let parsed: Option<Vec<Option<OrderItem>>> =
            items.map(|list| list.into_iter().enumerate().map(|(i, item)| parse_item(i, item, &mut errors)).collect());
        let amount = amount.and_then(|a| money_field(&mut errors, "/amount", a));
        let discount_amount = discount_amount.and_then(|d| money_field(&mut errors, "/discount_amount", d));
        if let Some(list) = &parsed
            && !list.is_empty()
            && list.iter().all(Option::is_some)
        {
            match Money::sum(list.iter().flatten().map(|i| i.amount)) {
                None => {
                    errors.push("/items", FieldErrorKey::OutOfRange, "the items add up to more than the largest amount")
                }
                Some(sum) => {
                    if let Some(given) = amount {
                        mismatch(&mut errors, given, sum);
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors.0);
        }
        Ok(LinesPatch { amount, discount_amount, items: parsed.map(|list| list.into_iter().flatten().collect()) })
    }

    /// The lines after this patch: given parts replace the current ones (`existing`, `None` for a new order);
    /// new items without an amount set the amount to their sum.
    pub fn apply(&self, existing: Option<&OrderLines>) -> Result<OrderLines, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let items = self.items.clone().or_else(|| existing.map(|e| e.items.clone())).unwrap_or_default();
        let items_sum = if items.is_empty() { None } else { Money::sum(items.iter().map(|i| i.amount)) };
        let amount = match (self.amount, &self.items) {
            (Some(given), _) => {
                if self.items.is_none()
                    && let Some(sum) = items_sum
                {
                    mismatch(&mut errors, given, sum);
                }
                Some(given)
            }
            (None, Some(new_items)) if !new_items.is_empty() => items_sum,
            (None, _) => existing.map(|e| e.amount),
        };
        let Some(amount) = amount else {
            errors.push("/amount", FieldErrorKey::Required, "an order without items needs an amount");
            return Err(errors.0);
        };
        let discount_amount = self.discount_amount.or(existing.map(|e| e.discount_amount)).unwrap_or(Money::ZERO);
        if discount_amount > amount {
            errors.push("/discount_amount", FieldErrorKey::OutOfRange, "the discount is larger than the amount");
        }
        if errors.is_empty() { Ok(OrderLines { amount, discount_amount, items }) } else { Err(errors.0) }
    }
}

fn mismatch(errors: &mut FieldErrors, amount: Money, items_sum: Money) {
    if amount != items_sum {
        errors.push(
            "/amount",
            FieldErrorKey::AmountMismatch,
            format!("the amount is {} but the items add up to {}", amount.minor_units(), items_sum.minor_units()),
        );
    }
}

fn money_field(errors: &mut FieldErrors, path: &str, value: i64) -> Option<Money> {
    let money = Money::new(value);
    if money.is_none() {
        errors.push(
            path,
            FieldErrorKey::OutOfRange,
            format!("must be between 0 and {} minor units", crate::limits::MONEY_MINOR_UNITS_MAX),
        );
    }
    money
}

fn parse_item(index: usize, item: ItemInput, errors: &mut FieldErrors) -> Option<OrderItem> {
    let base = format!("/items/{index}");
    let before = errors.0.len();
    let quantity = item.quantity.unwrap_or(1);
    if !(1..=ITEM_QUANTITY_MAX).contains(&quantity) {
        errors.push(
            format!("{base}/quantity"),
            FieldErrorKey::OutOfRange,
            format!("must be between 1 and {ITEM_QUANTITY_MAX}"),
        );
    }
    let price = item.price.and_then(|p| money_field(errors, &format!("{base}/price"), p));
    let given = item.amount.and_then(|a| money_field(errors, &format!("{base}/amount"), a));
    if errors.0.len() > before {
        return None;
    }
    let from_price = price.map(|p| p.checked_mul(quantity));
    let amount = match (given, from_price) {
        (Some(a), Some(Some(expected))) if a != expected => {
            errors.push(
                format!("{base}/amount"),
                FieldErrorKey::AmountMismatch,
                format!("quantity × price is {} but the amount is {}", expected.minor_units(), a.minor_units()),
            );
            None
        }
        (Some(a), _) => Some(a),
        (None, Some(Some(expected))) => Some(expected),
        (None, Some(None)) => {
            errors.push(format!("{base}/price"), FieldErrorKey::OutOfRange, "quantity × price is too large");
            None
        }
        (None, None) => {
            errors.push(format!("{base}/amount"), FieldErrorKey::Required, "an item needs an amount or a price");
            None
        }
    }?;
    Some(OrderItem {
        product_id: item.product_id,
        sku_id: item.sku_id,
        collections: item.collections,
        quantity,
        price,
        amount,
        metadata: item.metadata,
    })
}
