//! The host's dashboard (CONTRACT §3 `/dashboard`, §7): sign-in with the admin token, a session
//! cookie, and server-rendered pages in the shop's language — broadcasts and their reports,
//! open tickets, held messages, delivery health, a customer's consent history.
//!
//! - `mod.rs` owns the routes, the session check every page passes, sign-in and sign-out, and
//!   what every answer carries (no caching, no framing, no scripts, no secret).
//! - `session.rs` owns the cookie and the slowing of wrong tokens.
//! - `pages.rs` gathers what each page shows from the store; `views.rs` writes the HTML (maud:
//!   every value is escaped).
//!
//! It only reads: nothing here enqueues a message or changes what a flow decided.

mod pages;
mod session;
mod views;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::context::AppContext;
use crate::signing::same_secret;

use session::SESSION_HOURS;

/// Where a visitor without a session is sent.
const LOGIN_PATH: &str = "/dashboard/login";
/// A sign-in form is one short field; anything longer is not one.
const LOGIN_BODY_LIMIT: usize = 4 * 1024;
/// Every page's policy: its own inline styles and SVG, nothing else; forms post to itself only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's routes, to merge into the API's router when `http.dashboard` is on.
pub fn routes(ctx: &AppContext) -> Router<AppContext> {
    let pages = Router::new()
        .route("/dashboard", get(pages::broadcasts))
        .route("/dashboard/", get(pages::broadcasts))
        .route("/dashboard/broadcasts/{id}", get(pages::broadcast))
        .route("/dashboard/tickets", get(pages::tickets))
        .route("/dashboard/held", get(pages::held))
        .route("/dashboard/health", get(pages::health))
        .route("/dashboard/consent", get(pages::consent))
        .route("/dashboard/logout", post(sign_out))
        .route("/dashboard/{*rest}", get(pages::not_found))
        .route_layer(middleware::from_fn_with_state(ctx.clone(), require_session));
    Router::new()
        .route(
            LOGIN_PATH,
            get(login_form)
                .post(sign_in)
                .layer(DefaultBodyLimit::max(LOGIN_BODY_LIMIT)),
        )
        .merge(pages)
        .layer(middleware::map_response(guard_headers))
        .layer(Extension(Arc::new(session::LoginThrottle::default())))
}

/// Every page but the sign-in needs a session that exists and has not expired; without one,
/// 303 to the sign-in page.
async fn require_session(State(ctx): State<AppContext>, request: Request, next: Next) -> Response {
    let Some(id) = session::session_id_of(request.headers()) else {
        return Redirect::to(LOGIN_PATH).into_response();
    };
    match ctx
        .store
        .dashboard_session_valid(&session::id_hash(&id), ctx.clock.now())
        .await
    {
        Ok(true) => next.run(request).await,
        Ok(false) => Redirect::to(LOGIN_PATH).into_response(),
        Err(err) => pages::PageError::from(err).into_response(),
    }
}

/// What every dashboard answer carries: never cached (a shared computer, a proxy), never
/// framed, no script, no referrer.
async fn guard_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn login_form(State(ctx): State<AppContext>) -> Result<Html<String>, pages::PageError> {
    let words = views::Words::of(&ctx);
    Ok(page(&ctx.config, views::login(&words, false)?))
}

#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /dashboard/login`: the right admin token (compared in constant time) starts a session
/// and goes to the dashboard; a wrong one waits (longer after earlier failures from the same
/// address) and is refused with 401 and no cookie.
async fn sign_in(
    State(ctx): State<AppContext>,
    Extension(throttle): Extension<Arc<session::LoginThrottle>>,
    request: Request,
) -> Result<Response, pages::PageError> {
    let addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let secure = session::came_over_https(request.headers());
    let owed = throttle.owed(addr, Instant::now());
    if !owed.is_zero() {
        tokio::time::sleep(owed).await;
    }
    // A body that is not the form is a wrong token like any other.
    let given = Form::<LoginForm>::from_request(request, &ctx)
        .await
        .map(|Form(form)| form.token)
        .unwrap_or_default();
    let expected = ctx.config.http.admin_token.expose_secret().as_bytes();
    if !same_secret(given.trim().as_bytes(), expected) {
        // The whole refusal waits `failed`'s delay; what was owed has been waited already.
        let wait = throttle.failed(addr, Instant::now()).saturating_sub(owed);
        tracing::warn!(%addr, wait_ms = (wait + owed).as_millis() as u64, "dashboard sign-in refused: wrong token");
        tokio::time::sleep(wait).await;
        let words = views::Words::of(&ctx);
        let body = page(&ctx.config, views::login(&words, true)?);
        return Ok((StatusCode::UNAUTHORIZED, body).into_response());
    }
    throttle.succeeded(addr);
    let id = session::new_session_id();
    let now = ctx.clock.now();
    ctx.store
        .start_dashboard_session(
            &session::id_hash(&id),
            now,
            now + chrono::Duration::hours(SESSION_HOURS),
        )
        .await?;
    tracing::info!(%addr, "dashboard session started");
    Ok((
        [(header::SET_COOKIE, session::session_cookie(&id, secure))],
        Redirect::to("/dashboard"),
    )
        .into_response())
}

/// `POST /dashboard/logout`: the session ends for every worker, the cookie is cleared.
async fn sign_out(
    State(ctx): State<AppContext>,
    headers: axum::http::HeaderMap,
) -> Result<Response, pages::PageError> {
    if let Some(id) = session::session_id_of(&headers) {
        ctx.store
            .end_dashboard_session(&session::id_hash(&id))
            .await?;
    }
    let secure = session::came_over_https(&headers);
    Ok((
        [(header::SET_COOKIE, session::cleared_cookie(secure))],
        Redirect::to(LOGIN_PATH),
    )
        .into_response())
}

/// A finished page, with every configured secret masked in case one reached a stored text (a
/// platform's error message that quotes a URL with the bot token, say).
fn page(config: &Config, markup: maud::Markup) -> Html<String> {
    Html(without_secrets(markup.into_string(), config))
}

/// `text` with every secret of `config` replaced by a mask: the admin token, the webhook
/// secret, the bot tokens, Telegram's webhook secret token and the database password.
fn without_secrets(mut text: String, config: &Config) -> String {
    let mut secrets: Vec<String> = vec![
        config.http.admin_token.expose_secret().to_string(),
        config.http.webhook_secret.expose_secret().to_string(),
    ];
    if let Some(telegram) = &config.telegram {
        secrets.push(telegram.token.expose_secret().to_string());
        secrets.push(telegram.webhook_secret_token.expose_secret().to_string());
    }
    if let Some(discord) = &config.discord {
        secrets.push(discord.token.expose_secret().to_string());
    }
    if let Ok(url) = url::Url::parse(&config.database.url) {
        secrets.extend(url.password().map(str::to_string));
        secrets.extend(
            url.query_pairs()
                .filter(|(key, _)| key.to_ascii_lowercase().contains("password"))
                .map(|(_, value)| value.into_owned()),
        );
    }
    // Longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        for form in [secret.clone(), maud::html! { (secret) }.into_string()] {
            if text.contains(&form) {
                text = text.replace(&form, "********");
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_is_masked_in_a_page_even_escaped() {
        let config = Config::from_sources(
            "[database]\nurl = \"postgres://shop:db-pass-word@db/encore\"\n[http]\nadmin_token = \"admin-token-0123456789\"\nwebhook_secret = \"hook<secret>0123456789\"\n[telegram]\ntoken = \"123:bot-token-abc\"\n",
            Vec::new(),
        )
        .unwrap();
        let text = "x admin-token-0123456789 y hook&lt;secret&gt;0123456789 \
                    https://api.telegram.org/bot123:bot-token-abc/sendMessage db-pass-word";
        let masked = without_secrets(text.to_string(), &config);
        for secret in [
            "admin-token-0123456789",
            "secret",
            "bot-token-abc",
            "db-pass-word",
        ] {
            assert!(!masked.contains(secret), "{masked}");
        }
        assert!(masked.starts_with("x ******** y"), "{masked}");
    }
}
