//! Segment bodies and responses.

use super::common::{opt_time, time};
use super::customer::CustomerBody;
use super::rule::RuleResponse;
use super::whole::WholeNumber;
use fidelis_core::money::Currency;
use fidelis_core::segment::{Segment, SegmentKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A segment to create. `type` is `static` (members added by hand or CSV) or `dynamic` (members are the
/// customers its `rule` holds for, kept current as their data changes). The rule is given in its JSON form
/// (an object) or its text form (a string).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentBody {
    pub name: String,
    #[serde(rename = "type")]
    #[schema(example = "dynamic")]
    pub kind: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>, example = "customer.address.country in [\"AT\", \"DE\"] and spent(last_365_days) > 100.00")]
    pub rule: Option<Value>,
}

/// Fields to change; a new rule re-evaluates every customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentUpdateBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rule: Option<Value>,
}

/// Members to add to and remove from a static segment, by `id` or `source_id`. All customers must exist.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    #[serde(default)]
    pub add: Vec<CustomerBody>,
    #[serde(default)]
    pub remove: Vec<CustomerBody>,
}

/// Customers listed by a preview.
pub type SampleSize = WholeNumber<0, { crate::routes::segments::PREVIEW_SAMPLE_MAX as i64 }>;

/// A rule to try on the project's customers without saving anything.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    #[schema(value_type = Object)]
    pub rule: Value,
    /// Customers to list as a sample (default 10, at most 100).
    #[serde(default)]
    #[schema(inline)]
    pub sample_size: Option<SampleSize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentResponse {
    /// Always "segment".
    pub object: &'static str,
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub rule: Option<RuleResponse>,
    pub time_dependent: bool,
    /// When every customer was last evaluated (null: a first evaluation is still running).
    pub computed_at: Option<String>,
    pub members_count: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl SegmentResponse {
    pub fn from(s: &Segment, currency: Currency, members_count: Option<i64>) -> SegmentResponse {
        let (kind, rule) = match &s.kind {
            SegmentKind::Static => ("static", None),
            SegmentKind::Dynamic { rule } => {
                ("dynamic", fidelis_engine::segments::compile(rule, currency).ok().map(|r| RuleResponse::from(&r)))
            }
        };
        SegmentResponse {
            object: "segment",
            id: s.id.to_string(),
            name: s.name.clone(),
            kind,
            rule,
            time_dependent: s.time_dependent,
            computed_at: match s.kind {
                SegmentKind::Static => Some(time(s.updated_at)),
                SegmentKind::Dynamic { .. } => opt_time(s.swept_at),
            },
            members_count,
            created_at: time(s.created_at),
            updated_at: time(s.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberEntryResponse {
    pub customer_id: String,
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberErrorResponse {
    /// Position in the request (for CSV: the line number, header being line 1).
    pub row: usize,
    pub reference: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersChangeResponse {
    /// Always "segment_members_change".
    pub object: &'static str,
    pub added: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub errors: Vec<MemberErrorResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecomputeResponse {
    /// Always "segment_recompute".
    pub object: &'static str,
    pub evaluated: u64,
    pub entered: u64,
    pub left: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewResponse {
    /// Always "segment_preview".
    pub object: &'static str,
    pub evaluated: u64,
    pub count: u64,
    /// Ids of the first matching customers.
    pub sample: Vec<String>,
    pub rule: RuleResponse,
    pub took_ms: u64,
}
