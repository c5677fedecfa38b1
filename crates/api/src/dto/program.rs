//! Program bodies and response: expiry policy, earning rate, join policy, pause switch.

use super::common::{Nullable, time};
use super::whole::{
    DayOfMonth, ExpiryDays, ExpiryMonths, MonthOfYear, PointsAmount, PositiveMinorUnits, Refused, WholeNumber,
    read_optional,
};
use fidelis_core::calendar::Period;
use fidelis_core::expiry::ExpiryPolicy;
use fidelis_core::limits::{POINTS_LABEL_CHARS_MAX, SHORT_TEXT_CHARS_MAX};
use fidelis_core::program::{EarningRate, JoinPolicy, Program, ProgramDraft};
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
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
    #[schema(inline)]
    pub days: Option<ExpiryDays>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub months: Option<ExpiryMonths>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub month: Option<MonthOfYear>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub day: Option<DayOfMonth>,
}

/// A number the policy's type needs (already checked against its range): recorded as required when absent.
fn needed<T: TryFrom<i64>>(
    errors: &mut FieldErrors,
    kind: &str,
    name: &str,
    field: Result<Option<i64>, Refused>,
) -> Result<T, Refused> {
    match field? {
        Some(n) => T::try_from(n).map_err(|_| Refused),
        None => {
            errors.push(format!("/expiry/{name}"), FieldErrorKey::Required, format!("{kind} needs {name}"));
            Err(Refused)
        }
    }
}

impl ExpiryBody {
    pub(crate) fn policy(&self, errors: &mut FieldErrors) -> Result<ExpiryPolicy, Refused> {
        // Every number sent is checked against its range, also one the policy's type does not use.
        let days = read_optional(&self.days, errors, "/expiry/days");
        let months = read_optional(&self.months, errors, "/expiry/months");
        let month = read_optional(&self.month, errors, "/expiry/month");
        let day = read_optional(&self.day, errors, "/expiry/day");
        let round_to = match &self.round_to {
            None => None,
            Some(r) => Some(Period::parse(r).ok_or_else(|| {
                errors.push(
                    "/expiry/round_to",
                    FieldErrorKey::InvalidFormat,
                    "must be month, quarter, half_year or year",
                );
                Refused
            })?),
        };
        let kind = self.kind.as_str();
        if !["never", "after_days", "after_months", "fixed_day_of_year"].contains(&kind) {
            errors.push(
                "/expiry/type",
                FieldErrorKey::InvalidFormat,
                "must be never, after_days, after_months or fixed_day_of_year",
            );
            return Err(Refused);
        }
        if [days, months, month, day].iter().any(Result::is_err) {
            return Err(Refused);
        }
        let decided = match kind {
            "after_days" => ExpiryPolicy::after_days(needed(errors, kind, "days", days)?, round_to),
            "after_months" => ExpiryPolicy::after_months(needed(errors, kind, "months", months)?, round_to),
            "fixed_day_of_year" => {
                let month = needed(errors, kind, "month", month);
                let day = needed(errors, kind, "day", day);
                ExpiryPolicy::fixed_day_of_year(month?, day?)
            }
            _ => Ok(ExpiryPolicy::Never),
        };
        decided.map_err(|e| {
            errors.0.push(e);
            Refused
        })
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
            ExpiryPolicy::AfterDays { days, round_to } => ExpiryBody {
                days: Some(WholeNumber::new(days.into())),
                round_to: round(round_to),
                ..base("after_days")
            },
            ExpiryPolicy::AfterMonths { months, round_to } => ExpiryBody {
                months: Some(WholeNumber::new(months.into())),
                round_to: round(round_to),
                ..base("after_months")
            },
            ExpiryPolicy::FixedDayOfYear { month, day } => ExpiryBody {
                month: Some(WholeNumber::new(month.into())),
                day: Some(WholeNumber::new(day.into())),
                ..base("fixed_day_of_year")
            },
        }
    }
}

/// "Every `every` minor units paid → `points` points", once per paid order.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarningBody {
    #[schema(inline)]
    pub every: PositiveMinorUnits,
    #[schema(inline)]
    pub points: PointsAmount,
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
    /// The program's tiers; `null` removes them. A change is a new version of the rule set.
    #[serde(default)]
    #[schema(value_type = Option<super::tier::TiersBody>)]
    pub tiers: Nullable<super::tier::TiersBody>,
}

impl ProgramBody {
    pub fn draft(&self, errors: &mut FieldErrors) -> ProgramDraft {
        let name = self.name.as_ref().and_then(|n| errors.take(text::bounded("/name", n, SHORT_TEXT_CHARS_MAX)));
        let points_label = self
            .points_label
            .as_ref()
            .and_then(|n| errors.take(text::bounded("/points_label", n, POINTS_LABEL_CHARS_MAX)));
        let time_zone = match &self.time_zone {
            Nullable::Absent => None,
            Nullable::Null => Some(None),
            Nullable::Value(tz) => errors.take(text::time_zone("/time_zone", tz)).map(Some),
        };
        let earning = match &self.earning {
            Nullable::Absent => None,
            Nullable::Null => Some(None),
            Nullable::Value(e) => {
                let every = e.every.read(errors, "/earning/every");
                let points = e.points.read(errors, "/earning/points");
                match (every, points) {
                    (Ok(every), Ok(points)) => match EarningRate::new(every, points) {
                        Ok(rate) => Some(Some(rate)),
                        Err(list) => {
                            errors.0.extend(list);
                            None
                        }
                    },
                    _ => None,
                }
            }
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
            expiry: self.expiry.as_ref().and_then(|e| e.policy(errors).ok()),
            earning,
            join_policy,
            allow_negative_balance: self.allow_negative_balance,
            paused: self.paused,
            tiers: match &self.tiers {
                Nullable::Absent => None,
                Nullable::Null => Some(None),
                Nullable::Value(t) => t.config(errors).map(Some),
            },
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
    pub tiers: Option<super::tier::TiersBody>,
    /// The version of the program's rule set (earning rules and tiers).
    pub rules_version: i64,
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
            earning: p.earning.map(|e| EarningBody {
                every: WholeNumber::new(e.every.minor_units()),
                points: WholeNumber::new(e.points.value()),
            }),
            join_policy: p.join_policy.as_str(),
            allow_negative_balance: p.allow_negative_balance,
            paused: p.paused,
            tiers: p.tiers.as_ref().map(super::tier::TiersBody::from),
            rules_version: p.rules_version,
            created_at: time(p.created_at),
            updated_at: time(p.updated_at),
        }
    }
}
