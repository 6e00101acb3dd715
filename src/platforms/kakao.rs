//! KakaoTalk 알림톡 through SOLAPI (CONTRACT §11): the only module that knows the dealer's REST
//! API (docs/kakao.md; the facts it relies on, and which of them SOLAPI's documents leave open).
//!
//! It owns the signed `Authorization` header, one `POST /messages/v4/send-many/detail` for the
//! notes handed to it while its previous request was on the wire (batched with the dispatcher's
//! `Batches`; one note a number in each request), and what each message's result means to the
//! dispatcher: delivered (SOLAPI took it and named it), this number refused ([`SendError::Blocked`]:
//! the dispatcher marks the number unreachable), or failed. A refusal of the whole request (a
//! wrong key or secret, an empty balance) is the same failure for every note in it and marks no
//! number. It decides nothing: which note goes here, and when, is the dispatcher's.
//!
//! 1. A note arrives as a [`TemplateMessage`] (encore's name for it and its variables) for a
//!    phone number; the name is mapped to the approved template's id from `[kakao.templates]`.
//! 2. Each request is signed anew: `HMAC-SHA256 apiKey=…, date=…, salt=…, signature=…`, the
//!    signature the hex HMAC-SHA256 of date followed by salt, keyed with the API secret. SOLAPI
//!    refuses a signature it saw in the last 15 minutes, so a retry never reuses one.
//! 3. 429 answers [`SendError::RetryAfter`] (the dispatcher pauses KakaoTalk), 5xx and a refused
//!    connection [`SendError::Transient`] (backoff); a request written without an answer is
//!    [`SendError::Unknown`] for every note in it, which the dispatcher does not repeat blindly.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{Delivered, Messenger, Part, PlatformLimits, Reach, SendError, TemplateMessage};
use crate::config::KakaoConfig;
use crate::domain::Platform;
use crate::domain::alimtalk::placeholder;
use crate::i18n::Markup;
use crate::outbox::batch::Batches;

/// encore's own pace on KakaoTalk: SOLAPI publishes no request rate limit (docs/kakao.md), so
/// this stays well below anything a dealer would call a burst; its 429 is obeyed all the same.
pub const PER_SECOND: u32 = 20;
/// The most notes in one request (SOLAPI takes up to 10,000).
const MOST_IN_A_REQUEST: usize = 100;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait after a 429 that does not say (`Retry-After` is not documented).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The statuses of a message SOLAPI did not take that are about the number itself: blocked
/// (1060, 2060), not a valid number (3010), not a KakaoTalk user (3104), not using KakaoTalk or
/// having blocked 알림톡 (3107). The number is not tried again; anything else fails the note.
const NUMBER_REFUSED: [&str; 5] = ["1060", "2060", "3010", "3104", "3107"];
/// The request-level refusals of the credentials (HTTP 403).
const BAD_CREDENTIALS: [&str; 3] = ["InvalidAPIKey", "InvalidApiKey", "SignatureDoesNotMatch"];

/// SOLAPI's REST API for one account, signed.
#[derive(Clone)]
pub struct Solapi {
    http: reqwest::Client,
    api_url: String,
    api_key: String,
    api_secret: SecretString,
    pf_id: String,
    sender: String,
}

/// One note for one number, its template id already looked up.
struct Note {
    to: String,
    template_id: String,
    variables: BTreeMap<String, String>,
}

/// An answer that arrived.
struct Answer {
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    body: Value,
}

impl Solapi {
    pub fn new(config: &KakaoConfig) -> Solapi {
        Solapi {
            http: reqwest::Client::new(),
            api_url: config.api_url.clone(),
            api_key: config.api_key.clone(),
            api_secret: config.api_secret.clone(),
            pf_id: config.pf_id.clone(),
            sender: config.sender.clone(),
        }
    }

    /// The `Authorization` header for a request signed at `date` with `salt`.
    fn authorization(&self, date: &str, salt: &str) -> String {
        authorization(&self.api_key, self.api_secret.expose_secret(), date, salt)
    }

    /// One signed call; `Err` only when no answer arrived.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, SendError> {
        // The dealer compares the date with its own clock (±15 minutes), so it is the wall
        // clock's, not encore's injected one.
        let date = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let salt: String = rand::rng()
            .sample_iter(&rand::distr::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api_url))
            .header("authorization", self.authorization(&date, &salt))
            .timeout(REQUEST_TIMEOUT);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| SendError::unanswered(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.json().await.unwrap_or(Value::Null);
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// Sends `notes` (each to a different number) in one request: one answer per note, in order.
    async fn send_many(&self, notes: &[&Note]) -> Vec<Result<Delivered, SendError>> {
        let messages: Vec<Value> = notes
            .iter()
            .enumerate()
            .map(|(i, note)| {
                let variables: BTreeMap<String, &String> = note
                    .variables
                    .iter()
                    .map(|(name, value)| (placeholder(name), value))
                    .collect();
                json!({
                    "to": note.to,
                    "from": self.sender,
                    "type": "ATA",
                    // Echoed with each message's result: how the answers are told apart.
                    "customFields": {"ref": i.to_string()},
                    "kakaoOptions": {
                        "pfId": self.pf_id,
                        "templateId": note.template_id,
                        "variables": variables,
                        // KakaoTalk or nothing: a text message instead would not be the
                        // approved words, and the report counts KakaoTalk.
                        "disableSms": true,
                    },
                })
            })
            .collect();
        let body = json!({
            "messages": messages,
            "allowDuplicates": false,
            "showMessageList": true,
            "agent": {
                "sdkVersion": concat!("encore/", env!("CARGO_PKG_VERSION")),
                "osPlatform": std::env::consts::OS,
            },
        });
        let answer = match self
            .call(
                reqwest::Method::POST,
                "/messages/v4/send-many/detail",
                Some(&body),
            )
            .await
        {
            Ok(answer) if answer.status.is_success() => answer,
            Ok(answer) => {
                let err = refusal(&answer);
                return vec![Err(err); notes.len()];
            }
            Err(err) => return vec![Err(err); notes.len()],
        };
        results(&answer.body, notes)
    }

    /// `GET /quota/v1/me`: the account's daily sending quota. Reads, sends nothing: how
    /// `config check --online` proves the key and secret work.
    pub async fn daily_quota(&self) -> Result<i64, SendError> {
        let answer = self
            .call(reqwest::Method::GET, "/quota/v1/me", None)
            .await?;
        if !answer.status.is_success() {
            return Err(refusal(&answer));
        }
        answer.body["quota"].as_i64().ok_or_else(|| {
            SendError::Permanent(format!("SOLAPI answered {} without a quota", answer.status))
        })
    }
}

/// `HMAC-SHA256 apiKey=<key>, date=<date>, salt=<salt>, signature=<hex HMAC of date + salt>`.
pub fn authorization(api_key: &str, api_secret: &str, date: &str, salt: &str) -> String {
    let signature =
        crate::signing::hmac_sha256_hex(api_secret.as_bytes(), &[date.as_bytes(), salt.as_bytes()]);
    format!("HMAC-SHA256 apiKey={api_key}, date={date}, salt={salt}, signature={signature}")
}

/// What a non-2xx answer means for every note of the request. A refusal of the credentials is
/// logged here once per request, in words a host can act on.
fn refusal(answer: &Answer) -> SendError {
    let status = answer.status.as_u16();
    let code = answer.body["errorCode"].as_str().unwrap_or("");
    let message = answer.body["errorMessage"].as_str().unwrap_or("");
    match status {
        429 => SendError::RetryAfter(answer.retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
        500..=599 => SendError::Transient(format!("SOLAPI answered {status} {code}")),
        // A salt used twice within 15 minutes: the next attempt is signed anew.
        403 if code == "DuplicatedSignature" => {
            SendError::Transient("SOLAPI saw this signature before (DuplicatedSignature)".into())
        }
        403 if BAD_CREDENTIALS.contains(&code) => {
            tracing::error!(
                error_code = code,
                "SOLAPI refused encore's credentials: check kakao.api_key and kakao.api_secret \
                 (`encore config check --online` tries them)"
            );
            SendError::Permanent(format!(
                "SOLAPI refused the credentials ({code}): check kakao.api_key and kakao.api_secret"
            ))
        }
        403 if code == "RequestTimeTooSkewed" => {
            tracing::error!(
                error_code = code,
                "SOLAPI refused the request: this machine's clock is more than 15 minutes off"
            );
            SendError::Permanent(
                "SOLAPI refused the request (RequestTimeTooSkewed): set this machine's clock"
                    .into(),
            )
        }
        _ => {
            tracing::error!(
                status,
                error_code = code,
                error_message = message,
                "SOLAPI refused the request"
            );
            SendError::Permanent(format!(
                "SOLAPI refused the request: {status} {code} {message}"
            ))
        }
    }
}

/// Each note's result from a 200 answer: `failedMessageList` names what SOLAPI did not take (by
/// number); the rest was taken, with its id from `messageList` (by the `ref` sent with it).
fn results(body: &Value, notes: &[&Note]) -> Vec<Result<Delivered, SendError>> {
    let Some(group_id) = body["groupInfo"]["groupId"]
        .as_str()
        .or_else(|| body["groupInfo"]["_id"].as_str())
    else {
        // It came back 200, so the messages may be on their way: not a plain failure.
        let err = SendError::Unknown("SOLAPI answered without a message group".to_string());
        return vec![Err(err); notes.len()];
    };
    let failed: HashMap<&str, (&str, &str)> = body["failedMessageList"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some((
                m["to"].as_str()?,
                (
                    m["statusCode"].as_str().unwrap_or(""),
                    m["statusMessage"].as_str().unwrap_or(""),
                ),
            ))
        })
        .collect();
    let ids: HashMap<&str, &str> = body["messageList"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["customFields"]["ref"].as_str()?, m["messageId"].as_str()?)))
        .collect();
    notes
        .iter()
        .enumerate()
        .map(|(i, note)| match failed.get(note.to.as_str()) {
            Some((code, message)) => Err(message_refused(code, message)),
            None => Ok(Delivered {
                message_id: ids
                    .get(i.to_string().as_str())
                    .copied()
                    .unwrap_or(group_id)
                    .to_string(),
                slow_down: None,
                poll_id: None,
            }),
        })
        .collect()
}

/// One message SOLAPI did not take, by its status code.
fn message_refused(code: &str, message: &str) -> SendError {
    if NUMBER_REFUSED.contains(&code) {
        return SendError::Blocked;
    }
    let hint = match code {
        "1030" | "2230" => ": the SOLAPI balance is too low",
        "1041" => ": check kakao.pf_id",
        "1042" | "1043" => {
            ": check [kakao.templates] against the approved templates (docs/kakao.md)"
        }
        "1062" | "2062" => ": check kakao.sender (a number registered at SOLAPI)",
        _ => "",
    };
    SendError::Permanent(format!(
        "SOLAPI did not take the message ({code} {message}){hint}"
    ))
}

/// The dispatcher's KakaoTalk: notes to phone numbers, as templates.
pub struct KakaoSender {
    templates: BTreeMap<String, String>,
    requests: Batches<Note, Result<Delivered, SendError>>,
}

impl KakaoSender {
    /// Starts the task that sends the batched requests (it stops when the sender is dropped),
    /// so it is made inside the runtime.
    pub fn new(config: &KakaoConfig) -> KakaoSender {
        let solapi = Arc::new(Solapi::new(config));
        let (requests, _worker) = Batches::start(
            1,
            MOST_IN_A_REQUEST,
            Duration::ZERO,
            move |notes: Vec<Note>| {
                let solapi = solapi.clone();
                async move { send_batch(&solapi, &notes).await }
            },
        );
        KakaoSender {
            templates: config.templates.clone(),
            requests,
        }
    }
}

/// A batch as requests in which each number appears once (SOLAPI refuses a repeated number in
/// one request as a duplicate); one answer per note, in order.
async fn send_batch(solapi: &Solapi, notes: &[Note]) -> Vec<Result<Delivered, SendError>> {
    let mut answers: Vec<Option<Result<Delivered, SendError>>> = vec![None; notes.len()];
    let mut left: Vec<usize> = (0..notes.len()).collect();
    while !left.is_empty() {
        let mut numbers = HashSet::new();
        let (this, later): (Vec<usize>, Vec<usize>) = left
            .iter()
            .partition(|&&i| numbers.insert(notes[i].to.as_str()));
        let round: Vec<&Note> = this.iter().map(|&i| &notes[i]).collect();
        for (i, answer) in this.iter().zip(solapi.send_many(&round).await) {
            answers[*i] = Some(answer);
        }
        left = later;
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(SendError::Transient("not sent".to_string()))))
        .collect()
}

impl Messenger for KakaoSender {
    fn platform(&self) -> Platform {
        Platform::Kakao
    }

    fn markup(&self) -> Markup {
        Markup::Plain
    }

    fn limits(&self) -> PlatformLimits {
        // One note at a time to a number: a customer's notes keep their order.
        PlatformLimits {
            per_second: PER_SECOND,
            per_chat_interval: Duration::from_secs(1),
            per_group_interval: Duration::from_secs(1),
        }
    }

    fn is_group(&self, _chat_id: &str) -> bool {
        false
    }

    fn reach(&self) -> Reach {
        Reach::PhoneNumber
    }

    fn carries(&self, note: &str) -> bool {
        self.templates.contains_key(note)
    }

    fn send_part<'a>(
        &'a self,
        chat_id: &'a str,
        part: &'a Part,
    ) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            let Some(TemplateMessage { name, variables }) = part.template.as_deref() else {
                return Err(SendError::Permanent(
                    "KakaoTalk carries 알림톡 templates only".to_string(),
                ));
            };
            let Some(template_id) = self.templates.get(name) else {
                return Err(SendError::Permanent(format!(
                    "no 알림톡 template for `{name}` in [kakao.templates]"
                )));
            };
            let note = Note {
                to: chat_id.to_string(),
                template_id: template_id.clone(),
                variables: variables.clone(),
            };
            self.requests.ask(note).await.unwrap_or_else(|_| {
                Err(SendError::Transient(
                    "the KakaoTalk sender is stopping".to_string(),
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors computed from SOLAPI's documented algorithm (docs/kakao.md).
    #[test]
    fn the_signature_is_the_hex_hmac_of_date_and_salt() {
        let header = authorization(
            "NCSAYU7YDBXYORXC",
            "test-api-secret",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
        );
        assert_eq!(
            header,
            "HMAC-SHA256 apiKey=NCSAYU7YDBXYORXC, date=2019-07-01T00:41:48Z, salt=jqsba2jxjnrjor, \
             signature=0012d7796a0671e2f2eac00d56fac3ee9212f507dab85021973f3cce353c113b"
        );
        assert!(
            authorization(
                "k",
                "test-api-secret",
                "2026-05-01T09:00:00+09:00",
                "0123456789abcdefghijABCDEFGHIJ01"
            )
            .ends_with(
                "signature=328b9876d397dfff9050ccd3570a5cc850174ebefc24b482f20c941de4b4ca5c"
            )
        );
    }

    fn note(to: &str) -> Note {
        Note {
            to: to.to_string(),
            template_id: "KA01TP1".to_string(),
            variables: BTreeMap::new(),
        }
    }

    #[test]
    fn each_note_gets_its_own_result_from_one_answer() {
        let notes = [
            note("01011112222"),
            note("01033334444"),
            note("01055556666"),
        ];
        let refs: Vec<&Note> = notes.iter().collect();
        let body = json!({
            "groupInfo": {"groupId": "G4V20260501090000ABCDEFGHIJKLMNO", "count": {"total": 3}},
            "failedMessageList": [
                {"to": "01033334444", "statusCode": "1060", "statusMessage": "차단된 수신번호"},
                {"to": "01055556666", "statusCode": "1042", "statusMessage": "유효한 템플릿 아이디가 아님"}
            ],
            "messageList": [{"messageId": "M4V1", "statusCode": "2000", "customFields": {"ref": "0"}}]
        });
        let got = results(&body, &refs);
        assert_eq!(
            got[0],
            Ok(Delivered {
                message_id: "M4V1".to_string(),
                slow_down: None,
                poll_id: None,
            })
        );
        assert_eq!(got[1], Err(SendError::Blocked));
        assert!(
            matches!(&got[2], Err(SendError::Permanent(why)) if why.contains("1042") && why.contains("[kakao.templates]")),
            "{:?}",
            got[2]
        );
    }

    #[test]
    fn a_refused_request_is_a_failure_of_its_kind_for_every_note() {
        let answer = |status: u16, code: &str| Answer {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            body: json!({"errorCode": code, "errorMessage": "…"}),
        };
        assert!(matches!(
            refusal(&answer(403, "SignatureDoesNotMatch")),
            SendError::Permanent(why) if why.contains("kakao.api_secret")
        ));
        assert_eq!(
            refusal(&answer(429, "TooManyRequests")),
            SendError::RetryAfter(DEFAULT_RETRY_AFTER)
        );
        assert!(matches!(refusal(&answer(503, "")), SendError::Transient(_)));
        assert!(matches!(
            refusal(&answer(403, "DuplicatedSignature")),
            SendError::Transient(_)
        ));
        assert!(matches!(
            refusal(&answer(402, "NotEnoughBalance")),
            SendError::Permanent(_)
        ));
    }
}
