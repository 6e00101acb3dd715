//! The HTTP API (CONTRACT §3): health, metrics, signed events from the shop, link tokens,
//! reports and the customer record. Handlers are thin: they check, parse and hand over.

mod admin;
mod errors;
mod events;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::context::AppContext;

pub use errors::ApiError;
// Kept at the old path for the tests' signing helper; the scheme lives in `crate::signing`.
pub use crate::signing::{sign, verify};

/// Largest accepted body for `POST /v1/events` (CONTRACT §3).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest batch for `POST /v1/events`.
pub const MAX_EVENTS: usize = 1000;

pub fn router(ctx: AppContext) -> Router {
    Router::new()
        .route("/healthz", get(admin::healthz))
        .route("/metrics", get(admin::metrics))
        .route("/v1/events", post(events::post_events))
        .route("/v1/customers/{customer_id}/link", post(admin::create_link))
        .route("/v1/customers/{customer_id}", get(admin::customer))
        .route("/v1/broadcasts/{id}/report", get(admin::broadcast_report))
        .route("/v1/report", get(admin::period_report))
        // Every answer has the contract's error shape, unknown paths and methods included.
        .fallback(|| async { ApiError::not_found("no such endpoint; see the README's HTTP API") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            )
        })
        // The events handler reads the body itself, to answer 413 in the contract's shape.
        .layer(DefaultBodyLimit::disable())
        .with_state(ctx)
}
