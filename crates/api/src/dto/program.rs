//! Program bodies and response: expiry policy, earning rate, join policy, pause switch.

use super::common::{Nullable, time};
use fidelis_core::calendar::Period;
use fidelis_core::expiry::ExpiryPolicy;
use fidelis_core::limits::SHORT_TEXT_CHARS_MAX;
use fidelis_core::program::{EarningRate, JoinPolicy, Program, ProgramDraft};
use fidelis_core::rejection::{FieldError, FieldErrorKey, FieldErrors};
use fidelis_core::text;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// When earned points expire. `type` is `never`, `after_days` (`days`), `after_months` (`months`,
/// clamped to month ends) or `fixed_day_of_year` (`month`, `day`); `round_to` (`month`, `quarter`,
/// `half_year`, `year`) moves the date to the end of that period.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpiryBody {
    #[serde(rename = "type")]
    #[schema(example = "after_months")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<i8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<i8>,
}

impl ExpiryBody {
    fn policy(&self) -> Result<ExpiryPolicy, FieldError> {
        let round_to = match &self.round_to {
            None => None,
            Some(r) => Some(Period::parse(r).ok_or_else(|| {
                FieldError::new(
                    "/expiry/round_to",
                    FieldErrorKey::InvalidFormat,
                    "must be month, quarter, half_year or year",
                )
            })?),
        };
        let required = |name: &str| {
            FieldError::new(format!("/expiry/{name}"), FieldErrorKey::Required, format!("{} needs {name}", self.kind))
        };
        match self.kind.as_str() {
            "never" => Ok(ExpiryPolicy::Never),
            "after_days" => ExpiryPolicy::after_days(self.days.ok_or_else(|| required("days"))?, round_to),
            "after_months" => ExpiryPolicy::after_months(self.months.ok_or_else(|| required("months"))?, round_to),
            "fixed_day_of_year" => ExpiryPolicy::fixed_day_of_year(
                self.month.ok_or_else(|| required("month"))?,
                self.day.ok_or_else(|| required("day"))?,
            ),
            _ => Err(FieldError::new(
                "/expiry/type",
                FieldErrorKey::InvalidFormat,
                "must be never, after_days, after_months or fixed_day_of_year",
            )),
        }
    }

    pub fn from(p: &ExpiryPolicy) -> ExpiryBody {
        let base = |kind: &str| ExpiryBody {
            kind: kind.to_owned(),
            days: None,
            months: None,
            round_to: None,
            month: None,
            day: None,
        };
        let round = |r: Option<Period>| r.map(|p| p.as_str().to_owned());
        match *p {
            ExpiryPolicy::Never => base("never"),
            ExpiryPolicy::AfterDays { days, round_to } => {
                ExpiryBody { days: Some(days), round_to: round(round_to), ..base("after_days") }
            }
            ExpiryPolicy::AfterMonths { months, round_to } => {
                ExpiryBody { months: Some(months), round_to: round(round_to), ..base("after_months") }
            }
            ExpiryPolicy::FixedDayOfYear { month, day } => {
                ExpiryBody { month: Some(month), day: Some(day), ..base("fixed_day_of_year") }
            }
        }
    }
}

/// "Every `every` minor units paid → `points` points", once per paid order.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarningBody {
    pub every: i64,
    pub points: i64,
}

/// A program to create, or the fields to change on update.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramBody {
    #[serde(default)]
    pub name: Option<String>,
    /// What members call the points.
    #[serde(default)]
    pub points_label: Option<String>,
    /// Dates are computed here; `null` uses the project's time zone.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub time_zone: Nullable<String>,
    #[serde(default)]
    pub expiry: Option<ExpiryBody>,
    /// `null` removes the earning rate.
    #[serde(default)]
    #[schema(value_type = Option<EarningBody>)]
    pub earning: Nullable<EarningBody>,
    /// `explicit` (enrol call) or `auto_on_first_order`.
    #[serde(default)]
    pub join_policy: Option<String>,
    #[serde(default)]
    pub allow_negative_balance: Option<bool>,
    /// Pausing stops earning at once; balances and manual changes go on.
    #[serde(default)]
    pub paused: Option<bool>,
}

impl ProgramBody {
    pub fn draft(&self, errors: &mut FieldErrors) -> ProgramDraft {
        let name = self.name.as_ref().and_then(|n| errors.take(text::bounded("/name", n, SHORT_TEXT_CHARS_MAX)));
        let points_label = self.points_label.as_ref().and_then(|n| errors.take(text::bounded("/points_label", n, 32)));
        let time_zone = match &self.time_zone {
            Nullable::Absent => None,
            Nullable::Null => Some(None),
            Nullable::Value(tz) => errors.take(text::time_zone("/time_zone", tz)).map(Some),
        };
        let earning = match &self.earning {
            Nullable::Absent => None,
            Nullable::Null => Some(None),
            Nullable::Value(e) => match EarningRate::new(e.every, e.points) {
                Ok(rate) => Some(Some(rate)),
                Err(list) => {
                    errors.0.extend(list);
                    None
                }
            },
        };
        let join_policy = self.join_policy.as_ref().and_then(|j| {
            let parsed = JoinPolicy::parse(j);
            if parsed.is_none() {
                errors.push("/join_policy", FieldErrorKey::InvalidFormat, "must be explicit or auto_on_first_order");
            }
            parsed
        });
        ProgramDraft {
            name,
            points_label,
            time_zone,
            expiry: self.expiry.as_ref().and_then(|e| errors.take(e.policy())),
            earning,
            join_policy,
            allow_negative_balance: self.allow_negative_balance,
            paused: self.paused,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramResponse {
    /// Always "program".
    pub object: &'static str,
    pub id: String,
    pub name: String,
    pub points_label: String,
    pub time_zone: Option<String>,
    pub expiry: ExpiryBody,
    pub earning: Option<EarningBody>,
    pub join_policy: &'static str,
    pub allow_negative_balance: bool,
    pub paused: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl ProgramResponse {
    pub fn from(p: &Program) -> ProgramResponse {
        ProgramResponse {
            object: "program",
            id: p.id.to_string(),
            name: p.name.clone(),
            points_label: p.points_label.clone(),
            time_zone: p.time_zone.clone(),
            expiry: ExpiryBody::from(&p.expiry),
            earning: p.earning.map(|e| EarningBody { every: e.every.minor_units(), points: e.points.value() }),
            join_policy: p.join_policy.as_str(),
            allow_negative_balance: p.allow_negative_balance,
            paused: p.paused,
            created_at: time(p.created_at),
            updated_at: time(p.updated_at),
        }
    }
}
