//! The HTTP API (CONTRACT §3): health, metrics, signed events from the shop, link tokens,
//! reports, the customer record, Telegram's webhook and the host's dashboard (`dashboard/`).
//! Handlers are thin: they check, parse and hand over.

mod admin;
mod dashboard;
mod errors;
mod events;
mod telegram_webhook;

use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{BoxError, ServiceBuilder};

use crate::context::AppContext;

pub use errors::ApiError;
pub use telegram_webhook::SECRET_TOKEN_HEADER;
// Kept at the old path for the tests' signing helper; the scheme lives in `crate::signing`.
pub use crate::signing::{sign, verify};

/// Largest accepted body for `POST /v1/events` (CONTRACT §3) and `POST /telegram/webhook`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest batch for `POST /v1/events`.
pub const MAX_EVENTS: usize = 1000;

pub fn router(ctx: AppContext) -> Router {
    let time_limit = Duration::from_secs(ctx.config.http.request_timeout_seconds);
    let at_once = ctx.config.http.max_concurrent_requests;
    let mut routes = Router::new()
        .route("/healthz", get(admin::healthz))
        .route("/metrics", get(admin::metrics))
        .route("/v1/events", post(events::post_events))
        .route("/v1/customers/{customer_id}/link", post(admin::create_link))
        .route("/v1/customers/{customer_id}", get(admin::customer))
        .route("/v1/broadcasts/{id}/report", get(admin::broadcast_report))
        .route("/v1/report", get(admin::period_report))
        .route("/telegram/webhook", post(telegram_webhook::post_update));
    if ctx.config.http.dashboard {
        routes = routes.merge(dashboard::routes(&ctx));
    }
    routes
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
        // Every request is bounded in time, its body included (a slow client is cut off), and
        // in number: one over the limit is answered at once rather than queued (CONTRACT §3).
        // One semaphore is shared by every route, so the limit is on the whole server.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(limit_answer))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::new(at_once))
                .timeout(time_limit),
        )
        .with_state(ctx)
}

/// The contract's error shape for a request the limits stopped.
async fn limit_answer(err: BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request took too long to arrive or to answer; send it again",
        )
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many requests are being served at once; try again in a moment",
        )
    } else {
        ApiError::internal(err)
    }
}
