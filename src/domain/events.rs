//! The events a shop sends (CONTRACT §3), parsed at the boundary. Once an [`Event`] exists, its
//! shape is right: the rest of the code trusts it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::alimtalk::MobileNumber;
use super::order::OrderStatus;

/// Why an event was refused, naming the field (a dotted path inside the event).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct EventShapeError {
    pub field: String,
    pub message: String,
}

impl EventShapeError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        EventShapeError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub body: EventBody,
}

impl Event {
    pub fn type_name(&self) -> &'static str {
        self.body.type_name()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    CustomerUpserted(CustomerUpserted),
    CustomerMerged(CustomerMerged),
    CustomerDeleted(CustomerDeleted),
    BroadcastScheduled(BroadcastScheduled),
    BroadcastStarted(BroadcastStarted),
    BroadcastEnded(BroadcastEnded),
    ViewerEngaged(ViewerEngaged),
    OrderPlaced(OrderPlaced),
    OrderStatusChanged(OrderStatusChanged),
    CodePoolAdded(CodePoolAdded),
    CodeRedeemed(CodeRedeemed),
    CartAbandoned(CartAbandoned),
    ProductRelated(ProductRelated),
}

pub const EVENT_TYPES: [&str; 13] = [
    "customer.upserted",
    "customer.merged",
    "customer.deleted",
    "broadcast.scheduled",
    "broadcast.started",
    "broadcast.ended",
    "viewer.engaged",
    "order.placed",
    "order.status_changed",
    "code.pool_added",
    "code.redeemed",
    "cart.abandoned",
    "product.related",
];

impl EventBody {
    pub fn type_name(&self) -> &'static str {
        match self {
            EventBody::CustomerUpserted(_) => "customer.upserted",
            EventBody::CustomerMerged(_) => "customer.merged",
            EventBody::CustomerDeleted(_) => "customer.deleted",
            EventBody::BroadcastScheduled(_) => "broadcast.scheduled",
            EventBody::BroadcastStarted(_) => "broadcast.started",
            EventBody::BroadcastEnded(_) => "broadcast.ended",
            EventBody::ViewerEngaged(_) => "viewer.engaged",
            EventBody::OrderPlaced(_) => "order.placed",
            EventBody::OrderStatusChanged(_) => "order.status_changed",
            EventBody::CodePoolAdded(_) => "code.pool_added",
            EventBody::CodeRedeemed(_) => "code.redeemed",
            EventBody::CartAbandoned(_) => "cart.abandoned",
            EventBody::ProductRelated(_) => "product.related",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CustomerUpserted {
    pub customer: CustomerRecord,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CustomerRecord {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub birthday: Option<String>,
    /// Boxed: it is the largest part of the largest event, and most records carry none.
    #[serde(default)]
    pub consent: Option<Box<ConsentRecord>>,
    /// `customer.phone` (CONTRACT §3, used only by §11): absent changes nothing, `null` removes
    /// the stored number, a string must be a Korean mobile number, digits only.
    #[serde(default, deserialize_with = "phone_field")]
    pub phone: Option<Option<MobileNumber>>,
}

/// `customer.phone` when present: `null`, or a number checked here so the error names the field.
/// Neither error repeats what was sent: it may be someone's number.
fn phone_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<MobileNumber>>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Some(None)),
        Value::String(text) => MobileNumber::parse(&text)
            .map(|number| Some(Some(number)))
            .map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom(
            "must be a text of digits (01012345678), or null to remove the number",
        )),
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConsentRecord {
    pub marketing: bool,
    #[serde(default)]
    pub night: Option<bool>,
    pub at: DateTime<Utc>,
    pub source: String,
    pub wording: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CustomerMerged {
    pub from: String,
    pub into: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CustomerDeleted {
    pub customer_id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BroadcastScheduled {
    pub broadcast: ScheduledBroadcast,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScheduledBroadcast {
    pub id: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    #[serde(default)]
    pub url: Option<String>,
    /// The lineup, when the shop sends it: personalised picks read it (CONTRACT §6).
    #[serde(default)]
    pub products: Vec<LineupProduct>,
}

/// A product in a live's lineup.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LineupProduct {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub category: Option<String>,
}

/// `product.related`: the shop's own "goes with" pairs for one sku.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProductRelated {
    pub sku: String,
    pub related: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BroadcastStarted {
    pub broadcast: StartedBroadcast,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StartedBroadcast {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub products: Vec<LineupProduct>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BroadcastEnded {
    pub broadcast: EndedBroadcast,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EndedBroadcast {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ViewerEngaged {
    pub broadcast_id: String,
    pub customer_id: String,
    #[serde(default)]
    pub watched_seconds: Option<u64>,
    #[serde(default)]
    pub chat_messages: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderPlaced {
    pub order: OrderRecord,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderRecord {
    pub id: String,
    pub customer_id: String,
    #[serde(default)]
    pub broadcast_id: Option<String>,
    pub items: Vec<OrderItem>,
    pub total: i64,
    pub currency: String,
    #[serde(default)]
    pub placed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct OrderItem {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub category: Option<String>,
    pub quantity: i64,
    pub unit_price: i64,
}

/// `cart.abandoned` (CONTRACT §3, §6): a cart left during or after a live.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CartAbandoned {
    pub cart: CartRecord,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CartRecord {
    pub id: String,
    pub customer_id: String,
    #[serde(default)]
    pub broadcast_id: Option<String>,
    pub items: Vec<OrderItem>,
    pub abandoned_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderStatusChanged {
    pub order_id: String,
    #[serde(deserialize_with = "shop_status")]
    pub status: OrderStatus,
    #[serde(default)]
    pub tracking: Option<Tracking>,
    #[serde(default)]
    pub delay: Option<Delay>,
    #[serde(default)]
    pub payment_deadline: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tracking {
    pub carrier: String,
    pub number: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Delay {
    pub reason: String,
    #[serde(deserialize_with = "date_or_datetime")]
    pub new_eta: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CodePoolAdded {
    pub campaign: String,
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CodeRedeemed {
    pub code: String,
    pub customer_id: String,
    #[serde(default)]
    pub order_id: Option<String>,
}

/// The shop never sends `placed`: that is encore's own name for "no status yet".
fn shop_status<'de, D: Deserializer<'de>>(d: D) -> Result<OrderStatus, D::Error> {
    let text = String::deserialize(d)?;
    match text.parse::<OrderStatus>() {
        Ok(OrderStatus::Placed) => Err(serde::de::Error::custom(
            "`placed` is not a status a shop sends: an order is placed by `order.placed`",
        )),
        Ok(status) => Ok(status),
        Err(message) => Err(serde::de::Error::custom(message)),
    }
}

/// A new ETA is a day; shops send either `2026-12-01` or a full timestamp.
fn date_or_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(d)?;
    if let Ok(date) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        return Ok(date);
    }
    DateTime::parse_from_rfc3339(&text)
        .map(|dt| dt.date_naive())
        .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a date (YYYY-MM-DD)")))
}

/// Parses one event object. The error names the field, as a dotted path inside the event.
pub fn parse_event(value: &Value) -> Result<Event, EventShapeError> {
    let object = value
        .as_object()
        .ok_or_else(|| EventShapeError::new("", "an event must be a JSON object"))?;
    let id = match object.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(_) => return Err(EventShapeError::new("id", "must be a string")),
        None => return Err(EventShapeError::new("id", "is required")),
    };
    let id_chars = id.chars().count();
    if !(1..=128).contains(&id_chars) {
        return Err(EventShapeError::new(
            "id",
            format!("must be 1 to 128 characters, not {id_chars}"),
        ));
    }
    let type_name = match object.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err(EventShapeError::new("type", "must be a string")),
        None => return Err(EventShapeError::new("type", "is required")),
    };
    let occurred_at = match object.get("occurred_at") {
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text)
            .map(|dt| dt.with_timezone(&Utc))
            .map_err(|_| {
                EventShapeError::new("occurred_at", format!("`{text}` is not an RFC 3339 time"))
            })?,
        Some(_) => return Err(EventShapeError::new("occurred_at", "must be a string")),
        None => return Err(EventShapeError::new("occurred_at", "is required")),
    };
    let body = match type_name {
        "customer.upserted" => EventBody::CustomerUpserted(fields(value)?),
        "customer.merged" => EventBody::CustomerMerged(fields(value)?),
        "customer.deleted" => EventBody::CustomerDeleted(fields(value)?),
        "broadcast.scheduled" => EventBody::BroadcastScheduled(fields(value)?),
        "broadcast.started" => EventBody::BroadcastStarted(fields(value)?),
        "broadcast.ended" => EventBody::BroadcastEnded(fields(value)?),
        "viewer.engaged" => EventBody::ViewerEngaged(fields(value)?),
        "order.placed" => EventBody::OrderPlaced(fields(value)?),
        "order.status_changed" => EventBody::OrderStatusChanged(fields(value)?),
        "code.pool_added" => EventBody::CodePoolAdded(fields(value)?),
        "code.redeemed" => EventBody::CodeRedeemed(fields(value)?),
        "cart.abandoned" => EventBody::CartAbandoned(fields(value)?),
        "product.related" => EventBody::ProductRelated(fields(value)?),
        other => {
            return Err(EventShapeError::new(
                "type",
                format!(
                    "unknown event type `{other}`; expected one of: {}",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
    };
    validate(&body)?;
    Ok(Event {
        id,
        occurred_at,
        body,
    })
}

fn fields<T: DeserializeOwned>(value: &Value) -> Result<T, EventShapeError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        // serde names a missing field in its message and points the path at the parent.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        let field = match (missing, path.as_str()) {
            (Some(name), "." | "") => name,
            (Some(name), parent) => format!("{parent}.{name}"),
            (None, path) => path.to_string(),
        };
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        EventShapeError::new(field, message)
    })
}

fn non_empty(field: &str, value: &str) -> Result<(), EventShapeError> {
    if value.trim().is_empty() {
        Err(EventShapeError::new(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// CONTRACT §3: names and titles (and the ids, codes and other short texts beside them).
pub const MAX_NAME_CHARS: usize = 200;
/// CONTRACT §3: reasons and comments (and consent wordings and links).
pub const MAX_TEXT_CHARS: usize = 2_000;
/// CONTRACT §3: item lists.
pub const MAX_LIST_ENTRIES: usize = 200;

fn at_most(field: &str, value: &str, max: usize) -> Result<(), EventShapeError> {
    let chars = value.chars().count();
    if chars > max {
        Err(EventShapeError::new(
            field,
            format!("must be at most {max} characters, not {chars}"),
        ))
    } else {
        Ok(())
    }
}

fn optional_at_most(field: &str, value: Option<&str>, max: usize) -> Result<(), EventShapeError> {
    value.map_or(Ok(()), |value| at_most(field, value, max))
}

fn list_at_most(field: &str, entries: usize) -> Result<(), EventShapeError> {
    if entries > MAX_LIST_ENTRIES {
        Err(EventShapeError::new(
            field,
            format!("must list at most {MAX_LIST_ENTRIES} entries, not {entries}"),
        ))
    } else {
        Ok(())
    }
}

/// A live's lineup (`broadcast.products`): at most [`MAX_LIST_ENTRIES`], each bounded.
fn lineup_bounds(products: &[LineupProduct]) -> Result<(), EventShapeError> {
    list_at_most("broadcast.products", products.len())?;
    for (i, product) in products.iter().enumerate() {
        at_most(
            &format!("broadcast.products[{i}].sku"),
            &product.sku,
            MAX_NAME_CHARS,
        )?;
        at_most(
            &format!("broadcast.products[{i}].name"),
            &product.name,
            MAX_NAME_CHARS,
        )?;
        optional_at_most(
            &format!("broadcast.products[{i}].category"),
            product.category.as_deref(),
            MAX_NAME_CHARS,
        )?;
    }
    Ok(())
}

fn lineup_non_empty(products: &[LineupProduct]) -> Result<(), EventShapeError> {
    for (i, product) in products.iter().enumerate() {
        non_empty(&format!("broadcast.products[{i}].sku"), &product.sku)?;
        non_empty(&format!("broadcast.products[{i}].name"), &product.name)?;
    }
    Ok(())
}

/// Every text an event carries is bounded before anything is stored (CONTRACT §3, §12); the
/// error names the field by its dotted path.
fn bounds(body: &EventBody) -> Result<(), EventShapeError> {
    const NAME: usize = MAX_NAME_CHARS;
    const TEXT: usize = MAX_TEXT_CHARS;
    match body {
        EventBody::CustomerUpserted(e) => {
            let c = &e.customer;
            at_most("customer.id", &c.id, NAME)?;
            at_most("customer.name", &c.name, NAME)?;
            optional_at_most("customer.locale", c.locale.as_deref(), NAME)?;
            if let Some(consent) = &c.consent {
                at_most("customer.consent.source", &consent.source, NAME)?;
                at_most("customer.consent.wording", &consent.wording, TEXT)?;
            }
        }
        EventBody::CustomerMerged(e) => {
            at_most("from", &e.from, NAME)?;
            at_most("into", &e.into, NAME)?;
        }
        EventBody::CustomerDeleted(e) => at_most("customer_id", &e.customer_id, NAME)?,
        EventBody::BroadcastScheduled(e) => {
            at_most("broadcast.id", &e.broadcast.id, NAME)?;
            at_most("broadcast.title", &e.broadcast.title, NAME)?;
            optional_at_most("broadcast.url", e.broadcast.url.as_deref(), TEXT)?;
            lineup_bounds(&e.broadcast.products)?;
        }
        EventBody::BroadcastStarted(e) => {
            at_most("broadcast.id", &e.broadcast.id, NAME)?;
            optional_at_most("broadcast.title", e.broadcast.title.as_deref(), NAME)?;
            optional_at_most("broadcast.url", e.broadcast.url.as_deref(), TEXT)?;
            lineup_bounds(&e.broadcast.products)?;
        }
        EventBody::ProductRelated(e) => {
            at_most("sku", &e.sku, NAME)?;
            list_at_most("related", e.related.len())?;
            for (i, sku) in e.related.iter().enumerate() {
                at_most(&format!("related[{i}]"), sku, NAME)?;
            }
        }
        EventBody::BroadcastEnded(e) => {
            at_most("broadcast.id", &e.broadcast.id, NAME)?;
            optional_at_most("broadcast.title", e.broadcast.title.as_deref(), NAME)?;
        }
        EventBody::ViewerEngaged(e) => {
            at_most("broadcast_id", &e.broadcast_id, NAME)?;
            at_most("customer_id", &e.customer_id, NAME)?;
        }
        // The order's own texts are bounded in `validate_order`, shared with the CSV import;
        // a cart's in `validate_cart`.
        EventBody::OrderPlaced(_) | EventBody::CartAbandoned(_) => {}
        EventBody::OrderStatusChanged(e) => {
            at_most("order_id", &e.order_id, NAME)?;
            if let Some(tracking) = &e.tracking {
                at_most("tracking.carrier", &tracking.carrier, NAME)?;
                at_most("tracking.number", &tracking.number, NAME)?;
                optional_at_most("tracking.url", tracking.url.as_deref(), TEXT)?;
            }
            if let Some(delay) = &e.delay {
                at_most("delay.reason", &delay.reason, TEXT)?;
            }
        }
        EventBody::CodePoolAdded(e) => {
            at_most("campaign", &e.campaign, NAME)?;
            for (i, code) in e.codes.iter().enumerate() {
                at_most(&format!("codes[{i}]"), code, NAME)?;
            }
        }
        EventBody::CodeRedeemed(e) => {
            at_most("code", &e.code, NAME)?;
            at_most("customer_id", &e.customer_id, NAME)?;
            optional_at_most("order_id", e.order_id.as_deref(), NAME)?;
        }
    }
    Ok(())
}

/// The rules serde cannot say: bounded texts, non-empty ids, positive quantities, a delay for
/// `delayed`.
fn validate(body: &EventBody) -> Result<(), EventShapeError> {
    bounds(body)?;
    match body {
        EventBody::CustomerUpserted(e) => {
            non_empty("customer.id", &e.customer.id)?;
            if let Some(birthday) = &e.customer.birthday {
                let valid = NaiveDate::parse_from_str(&format!("2000-{birthday}"), "%Y-%m-%d")
                    .is_ok()
                    && birthday.len() == 5;
                if !valid {
                    return Err(EventShapeError::new(
                        "customer.birthday",
                        format!("`{birthday}` is not a day of the year (MM-DD)"),
                    ));
                }
            }
        }
        EventBody::CustomerMerged(e) => {
            non_empty("from", &e.from)?;
            non_empty("into", &e.into)?;
            if e.from == e.into {
                return Err(EventShapeError::new("into", "must differ from `from`"));
            }
        }
        EventBody::CustomerDeleted(e) => non_empty("customer_id", &e.customer_id)?,
        EventBody::BroadcastScheduled(e) => {
            non_empty("broadcast.id", &e.broadcast.id)?;
            lineup_non_empty(&e.broadcast.products)?;
        }
        EventBody::BroadcastStarted(e) => {
            non_empty("broadcast.id", &e.broadcast.id)?;
            lineup_non_empty(&e.broadcast.products)?;
        }
        EventBody::BroadcastEnded(e) => non_empty("broadcast.id", &e.broadcast.id)?,
        EventBody::ViewerEngaged(e) => {
            non_empty("broadcast_id", &e.broadcast_id)?;
            non_empty("customer_id", &e.customer_id)?;
        }
        EventBody::OrderPlaced(e) => validate_order(&e.order, "order")?,
        EventBody::CartAbandoned(e) => validate_cart(&e.cart)?,
        EventBody::ProductRelated(e) => {
            non_empty("sku", &e.sku)?;
            for (i, sku) in e.related.iter().enumerate() {
                non_empty(&format!("related[{i}]"), sku)?;
            }
        }
        EventBody::OrderStatusChanged(e) => {
            non_empty("order_id", &e.order_id)?;
            if e.status == OrderStatus::Delayed && e.delay.is_none() {
                return Err(EventShapeError::new(
                    "delay",
                    "is required when status is `delayed` (reason and new_eta)",
                ));
            }
            if let Some(delay) = &e.delay {
                non_empty("delay.reason", &delay.reason)?;
            }
            if let Some(tracking) = &e.tracking {
                non_empty("tracking.carrier", &tracking.carrier)?;
                non_empty("tracking.number", &tracking.number)?;
            }
        }
        EventBody::CodePoolAdded(e) => {
            non_empty("campaign", &e.campaign)?;
            for (i, code) in e.codes.iter().enumerate() {
                non_empty(&format!("codes[{i}]"), code)?;
            }
        }
        EventBody::CodeRedeemed(e) => {
            non_empty("code", &e.code)?;
            non_empty("customer_id", &e.customer_id)?;
        }
    }
    Ok(())
}

/// Shared with the CSV import, which builds the same record from a row.
pub fn validate_order(order: &OrderRecord, prefix: &str) -> Result<(), EventShapeError> {
    const NAME: usize = MAX_NAME_CHARS;
    at_most(&format!("{prefix}.id"), &order.id, NAME)?;
    at_most(&format!("{prefix}.customer_id"), &order.customer_id, NAME)?;
    optional_at_most(
        &format!("{prefix}.broadcast_id"),
        order.broadcast_id.as_deref(),
        NAME,
    )?;
    non_empty(&format!("{prefix}.id"), &order.id)?;
    non_empty(&format!("{prefix}.customer_id"), &order.customer_id)?;
    validate_items(&order.items, prefix)?;
    if order.total < 0 {
        return Err(EventShapeError::new(
            format!("{prefix}.total"),
            "must not be negative",
        ));
    }
    let currency_ok =
        order.currency.len() == 3 && order.currency.chars().all(|c| c.is_ascii_uppercase());
    if !currency_ok {
        return Err(EventShapeError::new(
            format!("{prefix}.currency"),
            format!("`{}` is not a currency code like KRW", order.currency),
        ));
    }
    Ok(())
}

fn validate_cart(cart: &CartRecord) -> Result<(), EventShapeError> {
    const NAME: usize = MAX_NAME_CHARS;
    at_most("cart.id", &cart.id, NAME)?;
    at_most("cart.customer_id", &cart.customer_id, NAME)?;
    optional_at_most("cart.broadcast_id", cart.broadcast_id.as_deref(), NAME)?;
    non_empty("cart.id", &cart.id)?;
    non_empty("cart.customer_id", &cart.customer_id)?;
    validate_items(&cart.items, "cart")
}

/// An order's or a cart's items: at least one, at most [`MAX_LIST_ENTRIES`], each bounded.
fn validate_items(items: &[OrderItem], prefix: &str) -> Result<(), EventShapeError> {
    const NAME: usize = MAX_NAME_CHARS;
    if items.is_empty() {
        return Err(EventShapeError::new(
            format!("{prefix}.items"),
            "must name at least one item",
        ));
    }
    if items.len() > MAX_LIST_ENTRIES {
        return Err(EventShapeError::new(
            format!("{prefix}.items"),
            format!(
                "must list at most {MAX_LIST_ENTRIES} items, not {}",
                items.len()
            ),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        at_most(&format!("{prefix}.items[{i}].sku"), &item.sku, NAME)?;
        at_most(&format!("{prefix}.items[{i}].name"), &item.name, NAME)?;
        optional_at_most(
            &format!("{prefix}.items[{i}].category"),
            item.category.as_deref(),
            NAME,
        )?;
        non_empty(&format!("{prefix}.items[{i}].name"), &item.name)?;
        if item.quantity < 1 {
            return Err(EventShapeError::new(
                format!("{prefix}.items[{i}].quantity"),
                format!("must be at least 1, not {}", item.quantity),
            ));
        }
        if item.unit_price < 0 {
            return Err(EventShapeError::new(
                format!("{prefix}.items[{i}].unit_price"),
                "must not be negative",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_order_placed_event_parses() {
        let event = parse_event(&json!({
            "id": "e-1", "type": "order.placed", "occurred_at": "2026-11-20T12:00:00+09:00",
            "order": {"id": "o-1", "customer_id": "c-1", "broadcast_id": "b-1",
                      "items": [{"sku": "S1", "name": "울 코트", "quantity": 1, "unit_price": 39000}],
                      "total": 39000, "currency": "KRW"}
        }))
        .unwrap();
        assert_eq!(event.type_name(), "order.placed");
        assert_eq!(event.occurred_at.to_rfc3339(), "2026-11-20T03:00:00+00:00");
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        let err = parse_event(&json!({
            "id": "e-1", "type": "order.placed", "occurred_at": "2026-11-20T12:00:00Z",
            "order": {"id": "o-1", "customer_id": "c-1", "items": [{"sku": "S1", "name": "x", "quantity": 1}],
                      "total": 1, "currency": "KRW"}
        }))
        .unwrap_err();
        assert_eq!(err.field, "order.items[0].unit_price");
    }

    #[test]
    fn a_wrongly_typed_field_is_named() {
        let err = parse_event(&json!({
            "id": "e-1", "type": "order.placed", "occurred_at": "2026-11-20T12:00:00Z",
            "order": {"id": "o-1", "customer_id": "c-1", "items": [], "total": "lots", "currency": "KRW"}
        }))
        .unwrap_err();
        assert_eq!(err.field, "order.total");
    }

    #[test]
    fn delayed_without_a_delay_is_refused() {
        let err = parse_event(&json!({
            "id": "e-1", "type": "order.status_changed", "occurred_at": "2026-11-20T12:00:00Z",
            "order_id": "o-1", "status": "delayed"
        }))
        .unwrap_err();
        assert_eq!(err.field, "delay");
    }

    #[test]
    fn texts_longer_than_the_contract_allows_are_refused_naming_the_field() {
        let customer = |name: String| {
            json!({"id": "e-1", "type": "customer.upserted", "occurred_at": "2026-11-20T12:00:00Z",
                "customer": {"id": "c-1", "name": name}})
        };
        assert!(parse_event(&customer("가".repeat(MAX_NAME_CHARS))).is_ok());
        let err = parse_event(&customer("가".repeat(MAX_NAME_CHARS + 1))).unwrap_err();
        assert_eq!(err.field, "customer.name");
        assert_eq!(err.message, "must be at most 200 characters, not 201");

        let delayed = |reason: String| {
            json!({"id": "e-1", "type": "order.status_changed", "occurred_at": "2026-11-20T12:00:00Z",
                "order_id": "o-1", "status": "delayed", "delay": {"reason": reason, "new_eta": "2026-12-01"}})
        };
        assert!(parse_event(&delayed("x".repeat(MAX_TEXT_CHARS))).is_ok());
        let err = parse_event(&delayed("x".repeat(MAX_TEXT_CHARS + 1))).unwrap_err();
        assert_eq!(err.field, "delay.reason");

        let item = json!({"sku": "S1", "name": "울 코트", "quantity": 1, "unit_price": 1});
        let order = |items: Vec<Value>| {
            json!({"id": "e-1", "type": "order.placed", "occurred_at": "2026-11-20T12:00:00Z",
                "order": {"id": "o-1", "customer_id": "c-1", "items": items, "total": 1, "currency": "KRW"}})
        };
        assert!(parse_event(&order(vec![item.clone(); MAX_LIST_ENTRIES])).is_ok());
        let err = parse_event(&order(vec![item; MAX_LIST_ENTRIES + 1])).unwrap_err();
        assert_eq!(err.field, "order.items");
    }

    #[test]
    fn a_phone_is_kept_removed_or_refused_naming_the_field() {
        let customer = |phone: Option<Value>| {
            let mut customer = json!({"id": "c-1", "name": "민수"});
            if let Some(phone) = phone {
                customer["phone"] = phone;
            }
            parse_event(&json!({"id": "e-1", "type": "customer.upserted",
                "occurred_at": "2026-11-20T12:00:00Z", "customer": customer}))
        };
        let phone_of = |event: Event| match event.body {
            EventBody::CustomerUpserted(e) => e.customer.phone,
            _ => panic!("a customer event"),
        };
        let given = phone_of(customer(Some(json!("01012345678"))).unwrap());
        assert_eq!(
            given.flatten().map(|n| n.as_str().to_string()),
            Some("01012345678".to_string())
        );
        assert_eq!(phone_of(customer(Some(Value::Null)).unwrap()), Some(None));
        assert_eq!(phone_of(customer(None).unwrap()), None);
        for bad in [
            json!("010-9876-5432"),
            json!(1098765432),
            json!("+821098765432"),
        ] {
            let err = customer(Some(bad.clone())).unwrap_err();
            assert_eq!(err.field, "customer.phone", "{bad}");
            assert!(!err.message.contains("9876"), "{}", err.message);
        }
    }

    #[test]
    fn an_unknown_status_and_an_overlong_id_are_refused() {
        let err = parse_event(&json!({
            "id": "e-1", "type": "order.status_changed", "occurred_at": "2026-11-20T12:00:00Z",
            "order_id": "o-1", "status": "placed"
        }))
        .unwrap_err();
        assert_eq!(err.field, "status");
        let err = parse_event(&json!({"id": "x".repeat(129), "type": "broadcast.ended",
            "occurred_at": "2026-11-20T12:00:00Z", "broadcast": {"id": "b"}}))
        .unwrap_err();
        assert_eq!(err.field, "id");
    }
}
