//! Customer bodies: the upsert (also used inline in orders, events and enrolment) and the response.

use super::common::{Nullable, metadata_json, metadata_patch, opt_time, time};
use fidelis_core::customer::{AddressPatch, Customer, CustomerPatch};
use fidelis_core::ids::CustomerId;
use fidelis_core::limits::{PHONE_CHARS_MAX, POSTAL_CODE_CHARS_MAX, SHORT_TEXT_CHARS_MAX};
use fidelis_core::rejection::{FieldError, FieldErrorKey, FieldErrors};
use fidelis_core::text;
use fidelis_engine::domains::customers::{CustomerInput, WhenMissing};
use fidelis_engine::port::CustomerRef;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub line_1: Nullable<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub line_2: Nullable<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub city: Nullable<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub state: Nullable<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub postal_code: Nullable<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "DE")]
    pub country: Nullable<String>,
}

/// A customer to create or update. Absent fields stay as they are; `null` clears a field. Metadata keys are
/// merged (a `null` value deletes the key).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    /// Names an existing customer by Fidelis id (inline references only).
    #[serde(default)]
    pub id: Option<String>,
    /// The merchant's own id; upserts match on it.
    #[serde(default)]
    pub source_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Nullable<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Nullable<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub phone: Nullable<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1990-04-21")]
    pub birthdate: Nullable<String>,
    /// IANA time zone.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Europe/Berlin")]
    pub timezone: Nullable<String>,
    #[serde(default)]
    pub address: Option<AddressBody>,
    /// String, number, boolean, date (`YYYY-MM-DD`) or list values.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

fn short(path: &str, max: usize) -> impl FnOnce(&String) -> Result<String, FieldError> + '_ {
    move |v| text::bounded(path, v, max)
}

impl CustomerBody {
    /// The reference this body names, if any (id wins over source_id).
    pub fn reference(&self, errors: &mut FieldErrors, base: &str) -> Option<CustomerRef> {
        if let Some(id) = &self.id {
            return match CustomerId::parse(id) {
                Some(id) => Some(CustomerRef::Id(id)),
                None => {
                    errors.push(format!("{base}/id"), FieldErrorKey::InvalidFormat, "not a customer id (cust_…)");
                    None
                }
            };
        }
        let source = self.source_id.as_deref()?;
        errors.take(text::source_id(&format!("{base}/source_id"), source)).map(CustomerRef::Source)
    }

    pub fn patch(&self, errors: &mut FieldErrors, base: &str) -> CustomerPatch {
        let p = |name: &str| format!("{base}/{name}");
        let (name, email, phone, birthdate, timezone) =
            (p("name"), p("email"), p("phone"), p("birthdate"), p("timezone"));
        CustomerPatch {
            source_id: None,
            name: self.name.parse(errors, short(&name, SHORT_TEXT_CHARS_MAX)),
            email: self.email.parse(errors, |v| text::email(&email, v)),
            phone: self.phone.parse(errors, short(&phone, PHONE_CHARS_MAX)),
            birthdate: self.birthdate.parse(errors, |v| text::date(&birthdate, v)),
            timezone: self.timezone.parse(errors, |v| text::time_zone(&timezone, v)),
            address: self.address.as_ref().map(|a| address(errors, &p("address"), a)).unwrap_or_default(),
            metadata: metadata_patch(errors, &p("metadata"), self.metadata.as_ref()),
        }
    }

    /// The command input: upsert by reference, creating when `when_missing` says so.
    pub fn input(&self, errors: &mut FieldErrors, base: &str, when_missing: WhenMissing) -> CustomerInput {
        CustomerInput { reference: self.reference(errors, base), patch: self.patch(errors, base), when_missing }
    }
}

fn address(errors: &mut FieldErrors, base: &str, a: &AddressBody) -> AddressPatch {
    let p = |name: &str| format!("{base}/{name}");
    let (l1, l2, city, state, postal, country) =
        (p("line_1"), p("line_2"), p("city"), p("state"), p("postal_code"), p("country"));
    AddressPatch {
        line_1: a.line_1.parse(errors, short(&l1, SHORT_TEXT_CHARS_MAX)),
        line_2: a.line_2.parse(errors, short(&l2, SHORT_TEXT_CHARS_MAX)),
        city: a.city.parse(errors, short(&city, SHORT_TEXT_CHARS_MAX)),
        state: a.state.parse(errors, short(&state, SHORT_TEXT_CHARS_MAX)),
        postal_code: a.postal_code.parse(errors, short(&postal, POSTAL_CODE_CHARS_MAX)),
        country: a.country.parse(errors, |v| text::country(&country, v)),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressResponse {
    pub line_1: Option<String>,
    pub line_2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// Order aggregates, current as of the last order change.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryResponse {
    pub orders_count: i64,
    /// Net of refunds, in minor units.
    pub total_spent: i64,
    pub average_order_value: i64,
    pub first_order_at: Option<String>,
    pub last_order_at: Option<String>,
    /// Windows the rule language uses, as of the time of the response (project time zone).
    pub windows: WindowsResponse,
}

/// Spent (net, minor units) and paid orders over a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowResponse {
    pub spent: i64,
    pub orders: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowsResponse {
    pub last_30_days: WindowResponse,
    pub last_365_days: WindowResponse,
    pub this_calendar_year: WindowResponse,
    pub last_calendar_year: WindowResponse,
    /// Custom events of the last 30 days by name.
    #[schema(value_type = Object)]
    pub events_last_30_days: std::collections::BTreeMap<String, i64>,
}

/// What a customer response is rendered against: the time of the answer and the project's time zone.
pub struct AsOf<'a> {
    pub now: jiff::Timestamp,
    pub time_zone: &'a jiff::tz::TimeZone,
}

fn windows(c: &Customer, as_of: &AsOf<'_>) -> WindowsResponse {
    let w = fidelis_engine::queries::customers::windows(c, as_of.now, as_of.time_zone);
    let window = |w: fidelis_engine::queries::customers::Window| WindowResponse { spent: w.spent, orders: w.orders };
    WindowsResponse {
        last_30_days: window(w.last_30_days),
        last_365_days: window(w.last_365_days),
        this_calendar_year: window(w.this_calendar_year),
        last_calendar_year: window(w.last_calendar_year),
        events_last_30_days: w.events_last_30_days,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerResponse {
    /// Always "customer".
    pub object: &'static str,
    pub id: String,
    pub source_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthdate: Option<String>,
    pub timezone: Option<String>,
    pub address: AddressResponse,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub summary: SummaryResponse,
    /// Segments (static and dynamic) the customer belongs to.
    pub segments: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Set when personal data was erased.
    pub erased_at: Option<String>,
}

impl CustomerResponse {
    pub fn from(c: &Customer, as_of: &AsOf<'_>) -> CustomerResponse {
        let p = &c.profile;
        let a = &p.address;
        CustomerResponse {
            object: "customer",
            id: c.id.to_string(),
            source_id: c.source_id.clone(),
            name: p.name.clone(),
            email: p.email.clone(),
            phone: p.phone.clone(),
            birthdate: p.birthdate.map(|d| d.to_string()),
            timezone: p.timezone.clone(),
            address: AddressResponse {
                line_1: a.line_1.clone(),
                line_2: a.line_2.clone(),
                city: a.city.clone(),
                state: a.state.clone(),
                postal_code: a.postal_code.clone(),
                country: a.country.clone(),
            },
            metadata: metadata_json(&c.metadata),
            summary: SummaryResponse {
                orders_count: c.stats.orders_count,
                total_spent: c.stats.total_spent,
                average_order_value: c.stats.average_order_value(),
                first_order_at: opt_time(c.stats.first_order_at),
                last_order_at: opt_time(c.stats.last_order_at),
                windows: windows(c, as_of),
            },
            segments: c.segments.iter().map(ToString::to_string).collect(),
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
            erased_at: opt_time(c.erased_at),
        }
    }
}
