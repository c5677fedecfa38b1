//! Custom event bodies, single and batch, and their responses.

use super::common::{metadata, metadata_json, parse_time, time};
use super::customer::CustomerBody;
use fidelis_core::event::{CustomEvent, event_name};
use fidelis_core::limits::EVENTS_PER_BATCH_MAX;
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
use fidelis_core::text;
use fidelis_engine::domains::customers::WhenMissing;
use fidelis_engine::domains::events::{EventInput, EventOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// The event name, e.g. `review.written`.
    #[schema(example = "review.written")]
    pub event: String,
    /// Who did it, by `id` or `source_id` (unknown `source_id`s create the customer).
    pub customer: CustomerBody,
    /// Your id of this event; a second event with the same id is a duplicate and changes nothing.
    #[serde(default)]
    pub client_event_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// When it happened (RFC 3339); defaults to now.
    #[serde(default)]
    pub occurred_at: Option<String>,
}

impl EventBody {
    pub fn input(&self, errors: &mut FieldErrors, base: &str) -> EventInput {
        let p = |n: &str| format!("{base}/{n}");
        let name = errors.take(event_name(&p("event"), &self.event)).unwrap_or_default();
        let customer = self.customer.input(errors, &p("customer"), WhenMissing::Create);
        if customer.reference.is_none() && errors.is_empty() {
            errors.push(p("customer"), FieldErrorKey::Required, "name the customer by id or source_id");
        }
        let client_event_id =
            self.client_event_id.as_ref().and_then(|c| errors.take(text::source_id(&p("client_event_id"), c)));
        let occurred_at = self.occurred_at.as_ref().and_then(|t| errors.take(parse_time(&p("occurred_at"), t)));
        EventInput {
            customer,
            name,
            client_event_id,
            metadata: metadata(errors, &p("metadata"), self.metadata.as_ref()),
            occurred_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatchBody {
    /// At most 1000 events; all are validated before any is recorded.
    pub events: Vec<EventBody>,
}

impl EventBatchBody {
    pub fn inputs(&self, errors: &mut FieldErrors) -> Vec<EventInput> {
        if self.events.is_empty() || self.events.len() > EVENTS_PER_BATCH_MAX {
            errors.push("/events", FieldErrorKey::TooMany, format!("send 1 to {EVENTS_PER_BATCH_MAX} events"));
            return Vec::new();
        }
        self.events.iter().enumerate().map(|(i, e)| e.input(errors, &format!("/events/{i}"))).collect()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    /// Always "event".
    pub object: &'static str,
    pub id: String,
    pub event: String,
    pub customer_id: String,
    pub client_event_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub occurred_at: String,
    pub created_at: String,
    /// True when an event with this `client_event_id` existed already (nothing was recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    /// Ledger transactions the event's earning rules made; only on writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<Vec<super::member::TransactionResponse>>,
    /// With `?explain=true` (and on dry runs): every event rule of every program, what it gave or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earning: Option<Vec<super::earning::ProgramExplanation>>,
}

impl EventResponse {
    pub fn from(e: &CustomEvent, duplicate: Option<bool>) -> EventResponse {
        EventResponse {
            object: "event",
            id: e.id.to_string(),
            event: e.name.clone(),
            customer_id: e.customer_id.to_string(),
            client_event_id: e.client_event_id.clone(),
            metadata: metadata_json(&e.metadata),
            occurred_at: time(e.occurred_at),
            created_at: time(e.created_at),
            duplicate,
            transactions: None,
            earning: None,
        }
    }

    pub fn outcome(o: &EventOutcome, currency: fidelis_core::money::Currency) -> EventResponse {
        let explained = o.earning.iter().map(|e| super::earning::explanation(&e.program_id, &e.rules, currency));
        EventResponse {
            transactions: Some(o.entries.iter().map(super::member::TransactionResponse::from).collect()),
            earning: (!o.earning.is_empty()).then(|| explained.collect()),
            ..EventResponse::from(&o.event, Some(o.duplicate))
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventBatchResponse {
    /// Always "event_batch".
    pub object: &'static str,
    pub recorded: usize,
    pub duplicates: usize,
    pub data: Vec<EventResponse>,
}
