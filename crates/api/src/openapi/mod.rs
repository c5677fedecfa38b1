//! The OpenAPI document. The handlers' annotations (`ApiDoc`) give the operations and the wire types;
//! `refine` then states what the annotations cannot say, from the same constants the code checks: string
//! lengths and formats, enums, "by `id` or `source_id`" as `oneOf`, the `Idempotency-Key` format, query
//! bounds, and per operation every status it can answer with, the errors with their keys. The refined
//! document is what `/v1/openapi.json` and `/docs` serve, and what `.ci/fuzz` fuzzes the server with.

mod operations;
mod schemas;
#[cfg(test)]
mod tests;

use crate::routes::{
    customers, earning_rules, events, home, members, ops, orders, pending, programs, rule_sets, rules, segments,
    tier_history,
};
use serde_json::Value;
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Fidelis API", description = "Loyalty and promotions: customers, orders, events, points programs. \
        Authenticate with `Authorization: Bearer <secret key>`. Money is integer minor units of the project currency. \
        Every POST and DELETE accepts an `Idempotency-Key`; a retry returns the original status and body with \
        `Idempotent-Replayed: true`, and the same key with another request is 422 `idempotency_key_reused`. \
        Writes that take `?dry_run=true` answer what they would do, commit nothing and set `Fidelis-Dry-Run: true`. \
        Errors are `{code, key, message, details, request_id}`; each operation lists the keys it can answer with."),
    paths(
        customers::upsert, customers::update, customers::get, customers::list, customers::erase, customers::memberships,
        orders::upsert, orders::refund, orders::get, orders::list,
        events::record, events::record_batch, events::list,
        programs::create, programs::update, programs::get, programs::list,
        earning_rules::create, earning_rules::update, earning_rules::get, earning_rules::list,
        rule_sets::list, rule_sets::get,
        members::enrol, members::list, members::get, members::add_points, members::remove_points, members::transfer,
        members::transactions, members::expiring, pending::list, pending::activate, pending::cancel,
        tier_history::list,
        customers::segments,
        segments::create, segments::update, segments::get, segments::list, segments::members,
        segments::change_members, segments::import, segments::recompute, segments::preview,
        rules::validate, rules::evaluate,
        home::home, ops::healthz, ops::readyz, ops::metrics, ops::project, ops::outbox,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as served: generated, then refined. Built once.
pub fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let generated = serde_json::to_value(ApiDoc::openapi()).expect("the generated document is JSON");
        operations::refine(generated)
    });
    &DOCUMENT
}
