//! Customers: profile, typed metadata, upsert by `source_id`, erasure; and the order aggregates kept on them.

use crate::ids::{CustomerId, NewIds, ProjectId};
use crate::metadata::{Metadata, MetadataPatch};
use crate::rejection::{FieldErrors, Rejection};
use crate::stats::CustomerStats;
use jiff::Timestamp;
use jiff::civil::Date;

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Address {
    pub line_1: Option<String>,
    pub line_2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthdate: Option<Date>,
    pub timezone: Option<String>,
    pub address: Address,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    pub project_id: ProjectId,
    pub source_id: Option<String>,
    pub profile: Profile,
    pub metadata: Metadata,
    pub stats: CustomerStats,
    /// Segments (static and dynamic) the customer belongs to, sorted.
    pub segments: Vec<crate::ids::SegmentId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when personal data was erased; the record stays so that the ledger keeps its references.
    pub erased_at: Option<Timestamp>,
}

/// How one field changes: absent in the request → `Keep`, `null` → `Clear`, a value → `Set`.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T: Clone> Patch<T> {
    pub fn apply(&self, current: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *current = None,
            Patch::Set(value) => *current = Some(value.clone()),
        }
    }

    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AddressPatch {
    pub line_1: Patch<String>,
    pub line_2: Patch<String>,
    pub city: Patch<String>,
    pub state: Patch<String>,
    pub postal_code: Patch<String>,
    pub country: Patch<String>,
}

/// A validated customer upsert (fields already parsed by the shell).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerPatch {
    pub source_id: Option<String>,
    pub name: Patch<String>,
    pub email: Patch<String>,
    pub phone: Patch<String>,
    pub birthdate: Patch<Date>,
    pub timezone: Patch<String>,
    pub address: AddressPatch,
    pub metadata: MetadataPatch,
}

impl CustomerPatch {
    /// Only a reference: nothing to change on an existing customer.
    pub fn changes_nothing(&self) -> bool {
        let a = &self.address;
        self.name.is_keep()
            && self.email.is_keep()
            && self.phone.is_keep()
            && self.birthdate.is_keep()
            && self.timezone.is_keep()
            && a.line_1.is_keep()
            && a.line_2.is_keep()
            && a.city.is_keep()
            && a.state.is_keep()
            && a.postal_code.is_keep()
            && a.country.is_keep()
            && self.metadata.0.is_empty()
    }
}

/// The result of an upsert: the customer as it is now, and whether it was created.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerUpsert {
    pub customer: Customer,
    pub created: bool,
    pub changed: bool,
}

/// Upserts a customer: creates it when `existing` is `None`, otherwise applies the patch.
pub fn decide_upsert(
    project_id: &ProjectId,
    existing: Option<&Customer>,
    patch: &CustomerPatch,
    now: Timestamp,
    ids: &mut impl NewIds,
) -> Result<CustomerUpsert, Rejection> {
    let (mut customer, created) = match existing {
        Some(c) if c.erased_at.is_some() => return Err(Rejection::customer_erased()),
        Some(c) => (c.clone(), false),
        None => (
            Customer {
                id: CustomerId::fresh(ids),
                project_id: project_id.clone(),
                source_id: patch.source_id.clone(),
                profile: Profile::default(),
                metadata: Metadata::default(),
                stats: CustomerStats::default(),
                segments: Vec::new(),
                created_at: now,
                updated_at: now,
                erased_at: None,
            },
            true,
        ),
    };
    if !created && patch.changes_nothing() {
        return Ok(CustomerUpsert { customer, created, changed: false });
    }
    let before = (customer.profile.clone(), customer.metadata.clone());
    apply_patch(&mut customer, patch)?;
    let changed = created || before != (customer.profile.clone(), customer.metadata.clone());
    if changed {
        customer.updated_at = now;
    }
    Ok(CustomerUpsert { customer, created, changed })
}

fn apply_patch(customer: &mut Customer, patch: &CustomerPatch) -> Result<(), Rejection> {
    let p = &mut customer.profile;
    patch.name.apply(&mut p.name);
    patch.email.apply(&mut p.email);
    patch.phone.apply(&mut p.phone);
    patch.birthdate.apply(&mut p.birthdate);
    patch.timezone.apply(&mut p.timezone);
    let (a, pa) = (&mut p.address, &patch.address);
    pa.line_1.apply(&mut a.line_1);
    pa.line_2.apply(&mut a.line_2);
    pa.city.apply(&mut a.city);
    pa.state.apply(&mut a.state);
    pa.postal_code.apply(&mut a.postal_code);
    pa.country.apply(&mut a.country);
    let mut errors = FieldErrors::default();
    if let Some(merged) = errors.take(customer.metadata.merge("/metadata", &patch.metadata)) {
        customer.metadata = merged;
    }
    errors.into_result(|| ()).map_err(Rejection::Invalid)
}

/// Erases personal data (C2): profile, metadata and `source_id` go; id, stats and ledger references stay.
pub fn erase(customer: &Customer, now: Timestamp) -> Result<Customer, Rejection> {
    if customer.erased_at.is_some() {
        return Err(Rejection::customer_erased());
    }
    Ok(Customer {
        source_id: None,
        profile: Profile::default(),
        metadata: Metadata::default(),
        updated_at: now,
        erased_at: Some(now),
        ..customer.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SequentialIds;

    fn project() -> ProjectId {
        ProjectId::fresh(&mut SequentialIds::starting_at(1))
    }

    fn now() -> Timestamp {
        "2025-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn an_upsert_without_an_existing_customer_creates_one() {
        let patch =
            CustomerPatch { source_id: Some("c-1".into()), name: Patch::Set("Ann".into()), ..Default::default() };
        let out = decide_upsert(&project(), None, &patch, now(), &mut SequentialIds::starting_at(2)).unwrap();
        assert!(out.created);
        assert_eq!(out.customer.profile.name.as_deref(), Some("Ann"));
        assert_eq!(out.customer.source_id.as_deref(), Some("c-1"));
    }

    #[test]
    fn absent_fields_are_kept_and_null_fields_are_cleared() {
        let mut ids = SequentialIds::starting_at(2);
        let first = CustomerPatch {
            name: Patch::Set("Ann".into()),
            email: Patch::Set("ann@example.com".into()),
            ..Default::default()
        };
        let created = decide_upsert(&project(), None, &first, now(), &mut ids).unwrap().customer;
        let second = CustomerPatch { email: Patch::Clear, ..Default::default() };
        let updated = decide_upsert(&project(), Some(&created), &second, now(), &mut ids).unwrap();
        assert!(updated.changed);
        assert_eq!(updated.customer.profile.name.as_deref(), Some("Ann"));
        assert_eq!(updated.customer.profile.email, None);
    }

    #[test]
    fn a_reference_only_upsert_changes_nothing() {
        let mut ids = SequentialIds::starting_at(2);
        let created = decide_upsert(&project(), None, &CustomerPatch::default(), now(), &mut ids).unwrap().customer;
        let again = decide_upsert(&project(), Some(&created), &CustomerPatch::default(), now(), &mut ids).unwrap();
        assert!(!again.changed && !again.created);
    }

    #[test]
    fn erasure_removes_personal_data_and_refuses_a_second_time() {
        let mut ids = SequentialIds::starting_at(2);
        let patch = CustomerPatch { source_id: Some("c".into()), name: Patch::Set("Ann".into()), ..Default::default() };
        let created = decide_upsert(&project(), None, &patch, now(), &mut ids).unwrap().customer;
        let erased = erase(&created, now()).unwrap();
        assert_eq!(erased.profile, Profile::default());
        assert_eq!(erased.source_id, None);
        assert_eq!(erased.id, created.id);
        assert_eq!(erase(&erased, now()), Err(Rejection::customer_erased()));
        assert_eq!(
            decide_upsert(&project(), Some(&erased), &patch, now(), &mut ids).map(|_| ()),
            Err(Rejection::customer_erased())
        );
    }
}
