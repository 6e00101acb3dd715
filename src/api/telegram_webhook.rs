//! `POST /telegram/webhook` (CONTRACT §3, §10): Telegram posts each update here in webhook mode.
//! Any process takes it: the secret token is checked, the update is stored once by its
//! `update_id`, and the answer is 200 (also for one stored before, so Telegram stops resending).
//! The Telegram adapter of the process handling updates takes it from the store; this handler
//! only rings its bell. It never parses the update beyond its id.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{ApiError, MAX_BODY_BYTES};
use crate::context::AppContext;
use crate::signing::same_secret;
use crate::store::telegram_updates;

/// The header Telegram sends `setWebhook`'s `secret_token` in.
pub const SECRET_TOKEN_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

pub async fn post_update(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let Some(telegram) = ctx.config.telegram.as_ref().filter(|t| t.webhook_mode()) else {
        return Err(ApiError::not_found(
            "Telegram updates are not taken by webhook here: telegram.mode is not \"webhook\"",
        ));
    };
    let given = headers
        .get(SECRET_TOKEN_HEADER)
        .map(axum::http::HeaderValue::as_bytes);
    let expected = telegram.webhook_secret_token.expose_secret().as_bytes();
    if !given.is_some_and(|given| same_secret(given, expected)) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("send {SECRET_TOKEN_HEADER}: <telegram.webhook_secret_token>"),
        ));
    }
    let body = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes; a Telegram update is not"),
        )
    })?;
    let update_id = update_id_of(&body)?;
    // serde_json read it, so it is UTF-8.
    let text = String::from_utf8_lossy(&body);
    let new = telegram_updates::store_once(&ctx.store, update_id, &text, ctx.clock.now())
        .await
        .map_err(ApiError::internal)?;
    if new {
        ctx.telegram_updates.notify_one();
        // On a standby the adapter runs in the leader: the database's bell wakes it there.
        ctx.outbox.wake().await;
    } else {
        tracing::debug!(update_id, "a Telegram update posted again; stored before");
    }
    Ok(Json(json!({ "update_id": update_id, "duplicate": !new })))
}

/// The update's id: the body must be a JSON object with an integer `update_id`.
fn update_id_of(body: &[u8]) -> Result<i64, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not JSON: {err}"),
        )
    })?;
    value
        .get("update_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_update",
                "a Telegram update is a JSON object with an integer `update_id`",
            )
            .with("field", "update_id")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_with_an_integer_update_id_is_an_update() {
        assert_eq!(
            update_id_of(br#"{"update_id": 7, "message": {}}"#).unwrap(),
            7
        );
        for bad in [
            &br#"not json"#[..],
            br#"[1, 2]"#,
            br#"{"message": {}}"#,
            br#"{"update_id": "7"}"#,
            br#"{"update_id": 7.5}"#,
        ] {
            let err = update_id_of(bad).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }
}
