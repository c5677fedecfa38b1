//! The OpenAPI document, generated from the handlers' annotations.

use crate::routes::{customers, events, members, ops, orders, programs, rules, segments};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Fidelis API", description = "Loyalty and promotions: customers, orders, events, points programs. \
        Authenticate with `Authorization: Bearer <secret key>`. Money is integer minor units of the project currency. \
        Every POST accepts an `Idempotency-Key`; a retry returns the original response with `Idempotent-Replayed: true`."),
    paths(
        customers::upsert, customers::update, customers::get, customers::list, customers::erase, customers::memberships,
        orders::upsert, orders::refund, orders::get, orders::list,
        events::record, events::record_batch, events::list,
        programs::create, programs::update, programs::get, programs::list,
        members::enrol, members::list, members::get, members::add_points, members::remove_points, members::transfer,
        members::transactions, members::expiring,
        customers::segments,
        segments::create, segments::update, segments::get, segments::list, segments::members,
        segments::change_members, segments::import, segments::recompute, segments::preview,
        rules::validate, rules::evaluate,
        ops::healthz, ops::readyz, ops::metrics, ops::project, ops::outbox,
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
