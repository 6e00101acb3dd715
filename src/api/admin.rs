//! The endpoints for the shop's back office: health, metrics, link tokens, reports, customers.

use super::ApiError;
use crate::context::AppContext;
use crate::signing::same_secret;
use crate::store::outbox as rows;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// 200 while the database answers, else 503; either way with this process's role and
/// instance (CONTRACT §3), so a load balancer or an operator can tell the leader from a standby.
pub async fn healthz(State(ctx): State<AppContext>) -> impl IntoResponse {
    let (status, word) = if ctx.store.ping().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        status,
        Json(json!({
            "status": word,
            "role": ctx.role.get().as_str(),
            "instance": ctx.instance.host_pid(),
        })),
    )
}

/// Bearer auth with the admin token, compared in constant time ([`same_secret`]).
fn authorise(ctx: &AppContext, headers: &HeaderMap) -> Result<(), ApiError> {
    let expected = ctx.config.http.admin_token.expose_secret().as_bytes();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::as_bytes);
    if given.is_some_and(|given| same_secret(given, expected)) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer <http.admin_token>",
        ))
    }
}

pub async fn create_link(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
    Path(customer_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorise(&ctx, &headers)?;
    let link = crate::flows::linking::create_link_token(&ctx, &customer_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no customer `{customer_id}`; send customer.upserted first"
            ))
        })?;
    Ok(Json(json!({
        "token": link.token,
        "telegram_url": link.telegram_url,
        "discord_command": link.discord_command,
        "expires_at": link.expires_at.to_rfc3339(),
    })))
}

pub async fn customer(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
    Path(customer_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorise(&ctx, &headers)?;
    let record = crate::flows::privacy::stored_about(&ctx, &customer_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no customer `{customer_id}` (unknown or forgotten)"
            ))
        })?;
    Ok(Json(record))
}

pub async fn broadcast_report(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorise(&ctx, &headers)?;
    let report = ctx
        .broadcast_report(&id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no broadcast `{id}`")))?;
    Ok(Json(
        serde_json::to_value(report).map_err(ApiError::internal)?,
    ))
}

/// `GET /v1/report?since=DATE`: the period report (CONTRACT §7).
pub async fn period_report(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
    Query(query): Query<SinceQuery>,
) -> Result<Json<Value>, ApiError> {
    authorise(&ctx, &headers)?;
    let Some(since) = query.since else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_since",
            "name the start of the period: ?since=YYYY-MM-DD",
        ));
    };
    let since = crate::report::parse_since(&since, ctx.config.shop.timezone)
        .map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, "bad_since", message))?;
    let report = ctx
        .store
        .period_report(since)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        serde_json::to_value(report).map_err(ApiError::internal)?,
    ))
}

#[derive(Debug, serde::Deserialize)]
pub struct SinceQuery {
    since: Option<String>,
}

/// Prometheus text format.
pub async fn metrics(State(ctx): State<AppContext>) -> Result<impl IntoResponse, ApiError> {
    let mut out = String::new();
    out.push_str("# HELP encore_messages_total Messages by platform, kind and state.\n# TYPE encore_messages_total counter\n");
    for (platform, kind, state, n) in rows::totals(&ctx.store).await.map_err(ApiError::internal)? {
        out.push_str(&format!(
            "encore_messages_total{{platform=\"{platform}\",kind=\"{kind}\",state=\"{state}\"}} {n}\n"
        ));
    }
    let depth = rows::queue_depth(&ctx.store)
        .await
        .map_err(ApiError::internal)?;
    out.push_str(&format!("# HELP encore_queue_depth Messages waiting to be sent.\n# TYPE encore_queue_depth gauge\nencore_queue_depth {depth}\n"));
    out.push_str("# HELP encore_rate_limited_total 429 answers seen, by platform.\n# TYPE encore_rate_limited_total counter\n");
    for platform in ["telegram", "discord"] {
        let n = ctx
            .store
            .counter(&format!("rate_limited:{platform}"))
            .await
            .map_err(ApiError::internal)?;
        out.push_str(&format!(
            "encore_rate_limited_total{{platform=\"{platform}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP encore_invalid_requests_total Sends the platform refused (429, 403 and other 4xx), by platform.\n# TYPE encore_invalid_requests_total counter\n");
    for platform in ["telegram", "discord"] {
        let n = ctx
            .store
            .counter(&format!("invalid_requests:{platform}"))
            .await
            .map_err(ApiError::internal)?;
        out.push_str(&format!(
            "encore_invalid_requests_total{{platform=\"{platform}\"}} {n}\n"
        ));
    }
    let mut conn = ctx.store.conn().await.map_err(ApiError::internal)?;
    out.push_str("# HELP encore_events Events by state.\n# TYPE encore_events gauge\n");
    for state in ["applied", "pending", "expired"] {
        let n = crate::store::events::count_by_state(&mut conn, state)
            .await
            .map_err(ApiError::internal)?;
        out.push_str(&format!("encore_events{{state=\"{state}\"}} {n}\n"));
    }
    drop(conn);
    out.push_str(
        &crate::events_out::metrics(&ctx.store)
            .await
            .map_err(ApiError::internal)?,
    );
    out.push_str(&role_metric(ctx.role.get(), &ctx.instance.host_pid()));
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}

/// `encore_role`: which role the scraped process has (1) and has not (0). Every other metric is
/// read from the shared database, so it is the same whichever process is asked.
fn role_metric(role: crate::cluster::Role, instance: &str) -> String {
    let mut out = String::from(
        "# HELP encore_role This process's role on its database (1 = current): leader, standby or single; instance is host:pid.\n# TYPE encore_role gauge\n",
    );
    for each in crate::cluster::Role::ALL {
        out.push_str(&format!(
            "encore_role{{worker=\"{instance}\",role=\"{each}\"}} {}\n",
            u8::from(each == role)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_gauge_names_the_instance_and_marks_the_current_role() {
        let text = role_metric(crate::cluster::Role::Standby, "web-2:4242");
        assert!(text.contains("# TYPE encore_role gauge"));
        assert!(text.contains("encore_role{worker=\"web-2:4242\",role=\"standby\"} 1\n"));
        assert!(text.contains("encore_role{worker=\"web-2:4242\",role=\"leader\"} 0\n"));
        assert!(text.contains("encore_role{worker=\"web-2:4242\",role=\"single\"} 0\n"));
    }
}
