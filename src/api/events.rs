//! `POST /v1/events`: signed, at most 1 MiB and 1,000 events, all or nothing.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use super::{ApiError, MAX_BODY_BYTES, MAX_EVENTS};
use crate::context::AppContext;
use crate::ingest::{BatchOutcome, IngestError, ingest};
use crate::signing::{self, verify};
use secrecy::ExposeSecret;

pub async fn post_events(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<BatchOutcome>), ApiError> {
    let body = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the body is larger than {MAX_BODY_BYTES} bytes; send fewer events per request"
            ),
        )
    })?;
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secret = ctx.config.http.webhook_secret.expose_secret().as_bytes();
    verify(
        secret,
        header_text(signing::TIMESTAMP_HEADER),
        header_text(signing::SIGNATURE_HEADER),
        &body,
        ctx.clock.now().timestamp(),
    )
    .map_err(|problem| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            problem.code(),
            problem.to_string(),
        )
    })?;
    let is_json = header_text(header::CONTENT_TYPE.as_str())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| ct.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send events as Content-Type: application/json",
        ));
    }
    let value: Value = serde_json::from_slice(&body).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not JSON: {err}"),
        )
    })?;
    let events = match value {
        Value::Object(mut object)
            if object.contains_key("events") && !object.contains_key("type") =>
        {
            match object.remove("events") {
                Some(Value::Array(events)) => events,
                _ => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_event",
                        "`events` must be an array",
                    )
                    .with("field", "events"));
                }
            }
        }
        single @ Value::Object(_) => vec![single],
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_event",
                "send one event object or {\"events\": [...]}",
            ));
        }
    };
    if events.len() > MAX_EVENTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_events",
            format!(
                "{} events in one request; at most {MAX_EVENTS}",
                events.len()
            ),
        ));
    }
    match ingest(&ctx, &events).await {
        Ok(outcome) => Ok((StatusCode::ACCEPTED, Json(outcome))),
        Err(IngestError::Shape { index, source }) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_event",
            format!("event {index}: {source}"),
        )
        .with("event_index", index)
        .with("field", source.field)),
        Err(IngestError::Conflict { index, id }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "id_reused",
            format!("event {index}: id `{id}` was used before for a different event"),
        )
        .with("event_index", index)),
        Err(IngestError::Store(err)) => Err(ApiError::internal(err)),
    }
}
