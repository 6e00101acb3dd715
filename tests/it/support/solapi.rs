//! A local stand-in for SOLAPI's REST API (KakaoTalk 알림톡 through a dealer), written from
//! SOLAPI's public documents and official SDKs (docs/kakao.md lists what they leave open; the
//! stand-in makes the same choices encore documents).
//!
//! [`FakeSolapi::start`] serves on `127.0.0.1` (a free port); `kakao.api_url` points at it.
//!
//! * Every request is authenticated as SOLAPI documents it: `Authorization: HMAC-SHA256
//!   apiKey=…, date=…, salt=…, signature=…` (keys case-insensitive), the signature the hex
//!   HMAC-SHA256 of date followed by salt keyed with the account's secret, computed here with
//!   the `hmac` crate, not with encore's code. An unknown key is 403 `InvalidAPIKey`, a date
//!   more than 15 minutes from now 403 `RequestTimeTooSkewed`, a wrong signature 403
//!   `SignatureDoesNotMatch`, a signature seen before 403 `DuplicatedSignature`, each with
//!   SOLAPI's `{errorCode, errorMessage}` body. Refused requests are counted
//!   ([`FakeSolapi::refused`]).
//! * `POST /messages/v4/send-many/detail` takes `{messages: [..]}` (1 to 10,000, else 400
//!   `ValidationError` / 413 `RecipientsTooMany`) and judges each message as SOLAPI registers
//!   it: `type` `ATA`; `kakaoOptions.pfId` the account's channel (else `1041`); `templateId`
//!   registered (else `1042`); `variables` exactly the template's `#{…}` placeholders (else
//!   `1043`); `from` the registered sender (else `1062`); `to` 10 or 11 digits (else `1011`);
//!   a number twice in one request without `allowDuplicates` (`1026`); a number the test
//!   refuses ([`FakeSolapi::refuse_number`]: `1060` 차단된 수신번호). Refused messages go to
//!   `failedMessageList`; the answer is 200 whenever the request itself was accepted, with
//!   `groupInfo.count`, and `messageList` (each with its `customFields`) when
//!   `showMessageList` is true.
//! * Every message taken is kept, with the text the buyer reads — the registered template with
//!   its variables filled in ([`FakeSolapi::sent`]). The templates are read from
//!   docs/kakao.md, so the documented texts are the ones the tests send.
//! * `GET /quota/v1/me` answers the account's daily quota (it sends nothing).
//! * A latency on command ([`FakeSolapi::set_latency`]); faults on command: the next requests answer a status with an error code
//!   ([`FakeSolapi::fail_next`]: 5xx, 429 with or without `Retry-After`), or take the messages
//!   and lose the answer's body ([`FakeSolapi::lose_next_answer`]: the client cannot know).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::{Notify, oneshot};

pub const API_KEY: &str = "NCSTESTKEY000001";
pub const API_SECRET: &str = "test-solapi-secret-0123456789abcdef";
pub const PF_ID: &str = "KA01PF2605010900000000000000TEST";
pub const SENDER: &str = "0212345678";
/// The id the stand-in registers each documented template under: this prefix and its name.
pub const TEMPLATE_PREFIX: &str = "KA01TP-";
/// The account's daily quota, as `GET /quota/v1/me` reports it.
pub const DAILY_QUOTA: i64 = 200;

const MAX_SKEW: chrono::Duration = chrono::Duration::minutes(15);
const MAX_MESSAGES: usize = 10_000;

/// A message SOLAPI took.
#[derive(Debug, Clone)]
pub struct SentAlimtalk {
    pub message_id: String,
    pub to: String,
    pub from: String,
    pub pf_id: String,
    pub template_id: String,
    /// As sent: `#{name}` → value.
    pub variables: BTreeMap<String, String>,
    /// The template with the variables filled in: what the buyer reads.
    pub text: String,
    pub disable_sms: bool,
}

/// A fault for the next request.
#[derive(Debug, Clone)]
enum Fault {
    Status {
        status: u16,
        code: String,
        retry_after: Option<u64>,
    },
    LoseAnswer,
}

#[derive(Default)]
struct ServerState {
    sent: Vec<SentAlimtalk>,
    /// Requests to send-many, with how many messages each carried.
    requests: Vec<usize>,
    refused: Vec<String>,
    seen_signatures: HashSet<String>,
    refused_numbers: HashSet<String>,
    faults: VecDeque<Fault>,
    next_id: u64,
    /// How long each send-many request takes to answer (a real dealer is not on this machine).
    latency: Duration,
}

struct Shared {
    state: Mutex<ServerState>,
    changed: Notify,
    /// Template id → text with its `#{…}` placeholders.
    templates: BTreeMap<String, String>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running stand-in; it stops when dropped (the stop signal's sender goes with it).
pub struct FakeSolapi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

/// The documented templates, by name (`thank-you`): every `### \`name\`` heading of
/// docs/kakao.md followed by a ```` ```text ```` block.
pub fn documented_templates() -> BTreeMap<String, String> {
    let doc = include_str!("../../../docs/kakao.md");
    let mut templates = BTreeMap::new();
    let mut name: Option<String> = None;
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("### `") {
            name = rest.split('`').next().map(str::to_string);
        } else if line == "```text"
            && let Some(name) = name.take()
        {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            templates.insert(name, body.join("\n"));
        }
    }
    templates
}

/// The `#{…}` placeholders of a template, as SOLAPI's SDK finds them (`/#\{([^}]+)}/g`).
pub fn placeholders(text: &str) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("#{") {
        let after = &rest[start..];
        match after.find('}') {
            Some(end) => {
                found.insert(after[..=end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    found
}

impl FakeSolapi {
    pub async fn start() -> FakeSolapi {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("fake SOLAPI: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake SOLAPI: local address");
        let templates = documented_templates()
            .into_iter()
            .map(|(name, text)| (format!("{TEMPLATE_PREFIX}{name}"), text))
            .collect();
        let shared = Arc::new(Shared {
            state: Mutex::new(ServerState::default()),
            changed: Notify::new(),
            templates,
        });
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = axum::serve(listener, router).with_graceful_shutdown(async {
            // Sent or dropped: either way the stand-in is done.
            let _ = stopped.await;
        });
        tokio::spawn(serving.into_future());
        FakeSolapi {
            shared,
            addr,
            _stop: stop,
        }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `[kakao]` section for this stand-in, with templates for `notes` only, and `secret`
    /// as the API secret.
    pub fn config_toml(&self, notes: &[&str], secret: &str) -> String {
        let mut toml = format!(
            "[kakao]\nprovider = \"solapi\"\napi_url = \"{}\"\napi_key = \"{API_KEY}\"\n\
             api_secret = \"{secret}\"\npf_id = \"{PF_ID}\"\nsender = \"{SENDER}\"\n\
             [kakao.templates]\n",
            self.api_url()
        );
        for note in notes {
            toml.push_str(&format!("{note} = \"{TEMPLATE_PREFIX}{note}\"\n"));
        }
        toml
    }

    /// Every message taken so far.
    pub fn sent(&self) -> Vec<SentAlimtalk> {
        self.shared.lock().sent.clone()
    }

    pub fn sent_to(&self, number: &str) -> Vec<SentAlimtalk> {
        self.sent().into_iter().filter(|m| m.to == number).collect()
    }

    /// How many messages each send-many request carried, in order.
    pub fn requests(&self) -> Vec<usize> {
        self.shared.lock().requests.clone()
    }

    /// The `errorCode` of every request refused before anything was looked at (auth).
    pub fn refused(&self) -> Vec<String> {
        self.shared.lock().refused.clone()
    }

    /// From now on a message to `number` is not taken: `1060` (차단된 수신번호).
    pub fn refuse_number(&self, number: &str) {
        self.shared
            .lock()
            .refused_numbers
            .insert(number.to_string());
    }

    /// The next authenticated request answers `status` with `code` (a 429 with `retry_after`
    /// seconds when given); nothing is taken.
    pub fn fail_next(&self, status: u16, code: &str, retry_after: Option<u64>) {
        self.shared.lock().faults.push_back(Fault::Status {
            status,
            code: code.to_string(),
            retry_after,
        });
    }

    /// From now on each send-many request takes `latency` before it is answered.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// The next send-many request is taken, but its answer's body breaks off after the 200.
    pub fn lose_next_answer(&self) {
        self.shared.lock().faults.push_back(Fault::LoseAnswer);
    }

    /// Waits until `condition` holds; false if `timeout` passed first.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut condition: impl FnMut(&FakeSolapi) -> bool,
    ) -> bool {
        super::wait_on(&self.shared.changed, timeout, || condition(self)).await
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorCode": code, "errorMessage": message})),
    )
        .into_response()
}

/// SOLAPI's ids: a three-letter preamble, 14 digits of time, 15 capitals or digits (32 in all).
fn solapi_id(preamble: &str, n: u64) -> String {
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
    format!("{preamble}{stamp}{n:015}")
}

/// A refusal of the request's credentials: SOLAPI's `errorCode` and `errorMessage`.
type Refusal = (&'static str, &'static str);

/// §1.7 of the reference: the scheme, then `key=value` pairs split on `,`, keys case-insensitive.
fn authenticate(shared: &Shared, header: Option<&str>) -> Result<(), Refusal> {
    let refuse = |code: &'static str, message: &'static str| {
        shared.lock().refused.push(code.to_string());
        shared.changed.notify_waiters();
        Err((code, message))
    };
    let Some((scheme, params)) = header.and_then(|h| h.split_once(' ')) else {
        return refuse("InvalidAPIKey", "인증 정보가 없습니다.");
    };
    if scheme != "HMAC-SHA256" {
        return refuse("InvalidAPIKey", "지원하지 않는 인증 방식입니다.");
    }
    let mut fields = BTreeMap::new();
    for pair in params.split(',') {
        if let Some((key, value)) = pair.trim().split_once('=') {
            fields.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    if field("apikey") != API_KEY {
        return refuse("InvalidAPIKey", "유효하지 않은 API Key 입니다.");
    }
    let Ok(date) = chrono::DateTime::parse_from_rfc3339(field("date")) else {
        return refuse("RequestTimeTooSkewed", "date 형식이 올바르지 않습니다.");
    };
    if (chrono::Utc::now() - date.with_timezone(&chrono::Utc)).abs() > MAX_SKEW {
        return refuse(
            "RequestTimeTooSkewed",
            "요청 시간이 서버 시간과 15분 이상 차이 납니다.",
        );
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(API_SECRET.as_bytes()).expect("any key");
    mac.update(field("date").as_bytes());
    mac.update(field("salt").as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    let signature = field("signature").to_ascii_lowercase();
    if field("salt").is_empty() || signature != expected {
        return refuse("SignatureDoesNotMatch", "서명이 일치하지 않습니다.");
    }
    if !shared.lock().seen_signatures.insert(signature) {
        return refuse("DuplicatedSignature", "이미 사용된 서명입니다.");
    }
    Ok(())
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let auth = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let json_body = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Ok(bytes) = axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "TooLarge",
            "요청이 너무 큽니다.",
        );
    };
    if let Err((code, message)) = authenticate(&shared, auth.as_deref()) {
        return error(StatusCode::FORBIDDEN, code, message);
    }
    let fault = shared.lock().faults.pop_front();
    if let Some(Fault::Status {
        status,
        code,
        retry_after,
    }) = &fault
    {
        let mut response = error(
            StatusCode::from_u16(*status).expect("a status"),
            code,
            "스탠드인이 실패하도록 지시받았습니다.",
        );
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                seconds.to_string().parse().expect("a header value"),
            );
        }
        return response;
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/quota/v1/me") => axum::Json(json!({
            "accountId": "26050100000001", "autoAdjustment": true, "quota": DAILY_QUOTA,
            "min": 50, "max": 100000, "overseasQuota": 0,
            "dateCreated": "2026-05-01T00:00:00.000Z", "dateUpdated": "2026-05-01T00:00:00.000Z"
        }))
        .into_response(),
        ("POST", "/messages/v4/send-many/detail") => {
            if !json_body {
                return error(
                    StatusCode::BAD_REQUEST,
                    "ValidationError",
                    "Content-Type 은 application/json 이어야 합니다.",
                );
            }
            let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "ValidationError",
                    "JSON 형식이 아닙니다.",
                );
            };
            let latency = shared.lock().latency;
            tokio::time::sleep(latency).await;
            let answer = send_many(&shared, &body);
            if matches!(fault, Some(Fault::LoseAnswer)) {
                // The messages were taken; the answer breaks off after its status line.
                let broken = futures::stream::once(async {
                    Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
                        "connection reset",
                    ))
                });
                return Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from_stream(broken))
                    .expect("a response");
            }
            answer
        }
        _ => error(StatusCode::NOT_FOUND, "NotFound", "없는 경로입니다."),
    }
}

fn send_many(shared: &Shared, body: &Value) -> Response {
    let Some(messages) = body["messages"].as_array() else {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "messages 의 데이터 타입은 배열이어야 됩니다.",
        );
    };
    if messages.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "messages 가 비어 있습니다.",
        );
    }
    if messages.len() > MAX_MESSAGES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RecipientsTooMany",
            "한 번에 추가할 수 있는 수신번호는 최대 10000건 입니다.",
        );
    }
    let allow_duplicates = body["allowDuplicates"].as_bool().unwrap_or(false);
    let show = body["showMessageList"].as_bool().unwrap_or(false);
    let mut state = shared.lock();
    state.requests.push(messages.len());
    state.next_id += 1;
    let group_id = solapi_id("G4V", state.next_id);
    let mut numbers = HashSet::new();
    let (mut failed, mut taken) = (Vec::new(), Vec::new());
    for message in messages {
        state.next_id += 1;
        let message_id = solapi_id("M4V", state.next_id);
        let to = message["to"].as_str().unwrap_or("").to_string();
        let from = message["from"].as_str().unwrap_or("").to_string();
        let options = &message["kakaoOptions"];
        let template_id = options["templateId"].as_str().unwrap_or("").to_string();
        let variables: BTreeMap<String, String> = options["variables"]
            .as_object()
            .map(|v| {
                v.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let template = shared.templates.get(&template_id);
        let refusal = if message["type"].as_str() != Some("ATA") {
            Some(("1025", "잘못된 메시지 타입"))
        } else if options["pfId"].as_str() != Some(PF_ID) {
            Some(("1041", "유효한 플러스 친구(채널) 값이 아닙니다."))
        } else if template.is_none() {
            Some(("1042", "유효한 템플릿 아이디가 아닙니다."))
        } else if template.map(|t| placeholders(t))
            != Some(variables.keys().cloned().collect::<HashSet<_>>())
            || options["variables"]
                .as_object()
                .is_some_and(|v| v.values().any(|v| !v.is_string()))
        {
            Some(("1043", "등록한 템플릿과 내용이 다릅니다."))
        } else if from != SENDER {
            Some(("1062", "발신번호 미등록"))
        } else if !(10..=11).contains(&to.len()) || !to.bytes().all(|b| b.is_ascii_digit()) {
            Some(("1011", "수신번호 형식 오류"))
        } else if !allow_duplicates && !numbers.insert(to.clone()) {
            Some(("1026", "중복 수신번호"))
        } else if state.refused_numbers.contains(&to) {
            Some(("1060", "차단된 수신번호"))
        } else {
            None
        };
        let custom_fields = message["customFields"].clone();
        if let Some((code, why)) = refusal {
            failed.push(json!({
                "to": to, "from": from, "type": "ATA", "country": "82", "messageId": message_id,
                "statusCode": code, "statusMessage": why, "accountId": "26050100000001",
                "customFields": custom_fields,
            }));
            continue;
        }
        let mut text = template.cloned().unwrap_or_default();
        for (placeholder, value) in &variables {
            text = text.replace(placeholder, value);
        }
        taken.push(json!({
            "messageId": message_id, "statusCode": "2000",
            "statusMessage": "정상 접수(이통사로 접수 예정) ", "customFields": custom_fields,
        }));
        state.sent.push(SentAlimtalk {
            message_id,
            to,
            from,
            pf_id: PF_ID.to_string(),
            template_id,
            variables,
            text,
            disable_sms: options["disableSms"].as_bool().unwrap_or(false),
        });
    }
    drop(state);
    shared.changed.notify_waiters();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut answer = json!({
        "groupInfo": {
            "_id": group_id, "groupId": group_id, "status": "SENDING", "apiVersion": "4",
            "accountId": "26050100000001", "allowDuplicates": allow_duplicates,
            "count": {
                "total": messages.len(), "sentTotal": 0, "sentFailed": 0, "sentSuccess": 0,
                "sentPending": 0, "sentReplacement": 0, "refund": 0,
                "registeredFailed": failed.len(), "registeredSuccess": taken.len(),
            },
            "price": {}, "log": [], "dateCreated": now, "dateUpdated": now,
            "scheduledDate": null, "dateSent": now, "dateCompleted": null,
        },
        "failedMessageList": failed,
    });
    if show {
        answer["messageList"] = Value::Array(taken);
    }
    axum::Json(answer).into_response()
}
