//! Tiers on the wire: a program's levels and how members qualify, and a member's tier with its progress.

use super::program::ExpiryBody;
use super::whole::{Refused, TierThreshold, read_optional};
use fidelis_core::calendar::Period;
use fidelis_core::earning::{Factor, MULTIPLIER_MAX};
use fidelis_core::limits::SHORT_TEXT_CHARS_MAX;
use fidelis_core::rejection::{FieldError, FieldErrorKey, FieldErrors};
use fidelis_core::text;
use fidelis_core::tier::{
    MemberTier, TIER_GRACE_DAYS_MAX, TIER_LEVELS_MAX, TierBasis, TierConfig, TierLevel, TierWindow,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One level: reached from `threshold` (points for `balance` and `earned`, minor units for `spend`), with
/// an optional earning `multiplier` (a decimal, ≤ 100) and `expiry` for the points earned at this level.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierLevelBody {
    pub name: String,
    #[schema(inline)]
    pub threshold: TierThreshold,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<ExpiryBody>,
}

/// How members qualify: `basis` `balance` (what they can spend now), `earned` or `spend` over `window`
/// (`month`, `quarter`, `half_year`, `year` — the current calendar period — or `rolling_12_months`);
/// `levels` ascending; downgrades after the status ends (and `grace_days`), `downgrade_one_level` at a time.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TiersBody {
    pub basis: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    pub levels: Vec<TierLevelBody>,
    #[serde(default)]
    pub downgrade_one_level: bool,
    #[serde(default)]
    #[schema(inline)]
    pub grace_days: Option<super::whole::GraceDays>,
}

fn window_name(w: TierWindow) -> &'static str {
    match w {
        TierWindow::Calendar(p) => p.as_str(),
        TierWindow::Rolling12Months => "rolling_12_months",
    }
}

impl TiersBody {
    pub fn config(&self, errors: &mut FieldErrors) -> Option<TierConfig> {
        let window = match self.window.as_deref() {
            None => None,
            Some("rolling_12_months") => Some(TierWindow::Rolling12Months),
            Some(raw) => match Period::parse(raw) {
                Some(p) => Some(TierWindow::Calendar(p)),
                None => {
                    let message = "must be month, quarter, half_year, year or rolling_12_months";
                    errors.push("/tiers/window", FieldErrorKey::InvalidFormat, message);
                    return None;
                }
            },
        };
        let basis = match (self.basis.as_str(), window) {
            ("balance", None) => TierBasis::Balance,
            ("balance", Some(_)) => {
                errors.push("/tiers/window", FieldErrorKey::Conflict, "a balance basis has no window");
                return None;
            }
            ("earned", Some(w)) => TierBasis::Earned(w),
            ("spend", Some(w)) => TierBasis::Spend(w),
            ("earned" | "spend", None) => {
                errors.push("/tiers/window", FieldErrorKey::Required, "earned and spend count over a window");
                return None;
            }
            _ => {
                errors.push("/tiers/basis", FieldErrorKey::InvalidFormat, "must be balance, earned or spend");
                return None;
            }
        };
        if self.levels.is_empty() || self.levels.len() > TIER_LEVELS_MAX {
            let message = format!("must have 1 to {TIER_LEVELS_MAX} levels");
            errors.push("/tiers/levels", FieldErrorKey::TooMany, message);
            return None;
        }
        let grace_days = read_optional(&self.grace_days, errors, "/tiers/grace_days").ok()?.unwrap_or(0);
        let mut levels: Vec<TierLevel> = Vec::new();
        let mut failed = false;
        for (i, l) in self.levels.iter().enumerate() {
            let base = format!("/tiers/levels/{i}");
            let name = errors.take(text::bounded(&format!("{base}/name"), &l.name, SHORT_TEXT_CHARS_MAX));
            let threshold = l.threshold.read(errors, &format!("{base}/threshold")).ok();
            let multiplier = match l.multiplier {
                None => Ok(None),
                Some(m) => Factor::from_decimal(m, MULTIPLIER_MAX).map(Some).ok_or(()),
            };
            if multiplier.is_err() {
                let message = "must be a positive decimal with at most 3 places, up to 100";
                errors.push(format!("{base}/multiplier"), FieldErrorKey::OutOfRange, message);
            }
            let expiry = match &l.expiry {
                None => Ok(None),
                Some(e) => nested(errors, &base, |errors| e.policy(errors)).map(Some),
            };
            if let (Some(name), Some(threshold), Ok(multiplier), Ok(expiry)) = (name, threshold, multiplier, expiry) {
                if levels.iter().any(|x| x.name == name) {
                    errors.push(format!("{base}/name"), FieldErrorKey::Conflict, "level names are unique");
                    failed = true;
                }
                if levels.last().is_some_and(|prev| prev.threshold >= threshold) {
                    let message = "thresholds must rise from one level to the next";
                    errors.push(format!("{base}/threshold"), FieldErrorKey::Conflict, message);
                    failed = true;
                }
                levels.push(TierLevel { name, threshold, multiplier, expiry });
            } else {
                failed = true;
            }
        }
        let grace_days = u16::try_from(grace_days).unwrap_or(TIER_GRACE_DAYS_MAX);
        (!failed).then_some(TierConfig { basis, levels, downgrade_one_level: self.downgrade_one_level, grace_days })
    }

    pub fn from(c: &TierConfig) -> TiersBody {
        let (basis, window) = match c.basis {
            TierBasis::Balance => ("balance", None),
            TierBasis::Earned(w) => ("earned", Some(window_name(w).to_owned())),
            TierBasis::Spend(w) => ("spend", Some(window_name(w).to_owned())),
        };
        TiersBody {
            basis: basis.to_owned(),
            window,
            levels: c
                .levels
                .iter()
                .map(|l| TierLevelBody {
                    name: l.name.clone(),
                    threshold: TierThreshold::new(l.threshold),
                    multiplier: l.multiplier.map(Factor::to_decimal),
                    expiry: l.expiry.as_ref().map(ExpiryBody::from),
                })
                .collect(),
            downgrade_one_level: c.downgrade_one_level,
            grace_days: Some(super::whole::GraceDays::new(c.grace_days.into())),
        }
    }
}

/// Runs a reader whose error paths start at `/expiry`, moving them under `base`.
fn nested<T>(
    errors: &mut FieldErrors,
    base: &str,
    read: impl FnOnce(&mut FieldErrors) -> Result<T, Refused>,
) -> Result<T, Refused> {
    let mut inner = FieldErrors::default();
    let result = read(&mut inner);
    errors.0.extend(inner.0.into_iter().map(|e| FieldError { path: format!("{base}{}", e.path), ..e }));
    result
}

/// A member's tier: the level, since when, guaranteed through when, and what the next level needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberTierResponse {
    pub level: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// The value the tiers count now (points or minor units).
    pub value: i64,
    pub next_level: Option<String>,
    /// What is missing to the next level.
    pub missing: Option<i64>,
    /// The end of the current calendar window (calendar bases), by which `missing` must be reached.
    pub by: Option<String>,
}

impl MemberTierResponse {
    pub fn from(config: &TierConfig, tier: &MemberTier, value: i64, today: jiff::civil::Date) -> MemberTierResponse {
        let progress = config.progress(tier, value, today);
        MemberTierResponse {
            level: tier.level.clone(),
            since: tier.since.map(|d| d.to_string()),
            until: tier.until.map(|d| d.to_string()),
            value,
            next_level: progress.as_ref().map(|p| p.0.clone()),
            missing: progress.as_ref().map(|p| p.1),
            by: progress.and_then(|p| p.2).map(|d| d.to_string()),
        }
    }
}
