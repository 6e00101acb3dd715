//! `encore import orders FILE.csv [--notify]` (CONTRACT §5): all or nothing. Every bad row is
//! reported as `line N: <what is wrong>` and nothing is imported. History sends nothing unless
//! `--notify`; a re-import of the same orders updates them and sends nothing twice.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use crate::context::AppContext;
use crate::domain::events::{OrderItem, OrderRecord, OrderStatusChanged, validate_order};
use crate::domain::{Lang, OrderStatus};
use crate::flows::{Effects, after_broadcast, order_notes};
use crate::store::{StoreError, customers};

pub const COLUMNS: [&str; 10] = [
    "order_id",
    "customer_id",
    "customer_name",
    "broadcast_id",
    "status",
    "total",
    "currency",
    "placed_at",
    "locale",
    "items",
];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("the header row must name the columns {expected}; {problem}")]
    Header { expected: String, problem: String },
    #[error("{} bad row(s); nothing was imported:\n{}", .0.len(), .0.join("\n"))]
    BadRows(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One valid row.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    pub line: u64,
    pub customer_name: String,
    pub locale: Option<Lang>,
    pub status: OrderStatus,
    pub placed_at: DateTime<Utc>,
    pub order: OrderRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub rows: usize,
    pub new_orders: usize,
    pub updated_orders: usize,
}

/// Reads and checks every row; returns all problems at once.
pub fn parse_orders_csv(text: &str) -> Result<Vec<OrderRow>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_problem = |problem: String| ImportError::Header {
        expected: COLUMNS.join(","),
        problem,
    };
    let headers = reader
        .headers()
        .map_err(|e| header_problem(e.to_string()))?
        .clone();
    let mut index = HashMap::new();
    for column in COLUMNS {
        let at = headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == column)
            .ok_or_else(|| header_problem(format!("`{column}` is missing")))?;
        index.insert(column, at);
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map(|p| p.line()).unwrap_or(0);
                problems.push(format!("line {line}: {err}"));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let values: HashMap<&str, String> = index
            .iter()
            .map(|(column, &i)| (*column, record.get(i).unwrap_or("").trim().to_string()))
            .collect();
        match parse_row(line, &values) {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(format!("line {line}: {problem}")),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(ImportError::BadRows(problems))
    }
}

fn parse_row(line: u64, values: &HashMap<&str, String>) -> Result<OrderRow, String> {
    let field = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let required = |name: &str| {
        let value = field(name);
        if value.is_empty() {
            Err(format!("`{name}` is empty"))
        } else {
            Ok(value.to_string())
        }
    };
    let status_text = required("status")?;
    let status: OrderStatus = status_text
        .parse()
        .map_err(|e: String| format!("`status`: {e}"))?;
    if status == OrderStatus::Delayed {
        return Err(
            "`status` delayed needs a reason and a new date: send order.status_changed instead"
                .into(),
        );
    }
    let total_text = required("total")?;
    let total: i64 = total_text.parse().map_err(|_| {
        format!("`total` must be a whole number in the currency's minor unit, not `{total_text}`")
    })?;
    let placed_text = required("placed_at")?;
    let placed_at = DateTime::parse_from_rfc3339(&placed_text)
        .map(|dt| dt.with_timezone(&Utc))
        .map_err(|_| format!("`placed_at` must be an RFC 3339 time like 2026-11-20T20:15:00+09:00, not `{placed_text}`"))?;
    let locale = match field("locale") {
        "" => None,
        tag => Some(
            Lang::from_tag(tag).ok_or_else(|| format!("`locale` must be ko or en, not `{tag}`"))?,
        ),
    };
    let items = required("items")?
        .split('|')
        .enumerate()
        .map(|(i, entry)| parse_item(entry).map_err(|e| format!("`items` entry {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let order = OrderRecord {
        id: required("order_id")?,
        customer_id: required("customer_id")?,
        broadcast_id: Some(field("broadcast_id").to_string()).filter(|b| !b.is_empty()),
        items,
        total,
        currency: required("currency")?,
        placed_at: Some(placed_at),
    };
    validate_order(&order, "order")
        .map_err(|e| format!("`{}` {}", e.field.trim_start_matches("order."), e.message))?;
    Ok(OrderRow {
        line,
        customer_name: required("customer_name")?,
        locale,
        status,
        placed_at,
        order,
    })
}

/// `sku:name:category:quantity:unit_price`; a name may itself contain `:`.
fn parse_item(entry: &str) -> Result<OrderItem, String> {
    let parts: Vec<&str> = entry.trim().split(':').collect();
    if parts.len() < 5 {
        return Err(format!(
            "`{entry}` is not sku:name:category:quantity:unit_price"
        ));
    }
    let n = parts.len();
    let quantity = parts[n - 2]
        .trim()
        .parse()
        .map_err(|_| format!("quantity `{}` is not a whole number", parts[n - 2]))?;
    let unit_price = parts[n - 1]
        .trim()
        .parse()
        .map_err(|_| format!("unit_price `{}` is not a whole number", parts[n - 1]))?;
    Ok(OrderItem {
        sku: parts[0].trim().to_string(),
        name: parts[1..n - 3].join(":").trim().to_string(),
        category: Some(parts[n - 3].trim().to_string()).filter(|c| !c.is_empty()),
        quantity,
        unit_price,
    })
}

/// Imports a file in one transaction. `show_progress` draws a bar on a terminal.
pub async fn import_orders(
    ctx: &AppContext,
    path: &Path,
    notify: bool,
    show_progress: bool,
) -> Result<ImportSummary, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let rows = parse_orders_csv(&text)?;
    let effects = if notify {
        Effects::Notify
    } else {
        Effects::Silent
    };
    let bar = if show_progress {
        let bar = ProgressBar::new(rows.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} orders {elapsed}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let now = ctx.clock.now();
    let mut summary = ImportSummary {
        rows: rows.len(),
        ..ImportSummary::default()
    };
    let mut tx = ctx.store.begin().await?;
    for row in &rows {
        // A forgotten customer is not created again; a merged-away one means the other.
        let Some(customer_id) =
            crate::flows::privacy::resolve_customer(&mut tx, &row.order.customer_id).await?
        else {
            tracing::info!("an imported order of a forgotten customer was skipped");
            bar.inc(1);
            continue;
        };
        let resolved;
        let order = if customer_id == row.order.customer_id {
            &row.order
        } else {
            resolved = OrderRecord {
                customer_id,
                ..row.order.clone()
            };
            &resolved
        };
        customers::upsert_customer(
            &mut tx,
            &order.customer_id,
            &row.customer_name,
            row.locale.map(Lang::code),
            None,
            now,
        )
        .await?;
        crate::ingest::release_waiting(
            ctx,
            &mut tx,
            &format!("customer:{}", order.customer_id),
            now,
        )
        .await?;
        if crate::store::orders::order_exists(&mut tx, &order.id).await? {
            summary.updated_orders += 1;
        } else {
            summary.new_orders += 1;
        }
        after_broadcast::order_placed(&mut tx, order, row.placed_at, effects, now).await?;
        // The file's status is as of the import, but a file is an export from some earlier
        // moment: it never overwrites a status the shop's events (or staff) set.
        let live = crate::store::orders::status_set_live(&mut tx, &order.id).await?;
        if row.status != OrderStatus::Placed && !live {
            let change = OrderStatusChanged {
                order_id: order.id.clone(),
                status: row.status,
                tracking: None,
                delay: None,
                payment_deadline: None,
            };
            order_notes::status_changed(&mut tx, &change, now, "import", effects, now).await?;
        }
        crate::ingest::release_waiting(ctx, &mut tx, &format!("order:{}", order.id), now).await?;
        crate::flows::vip::recompute_tier(&ctx.config, &mut tx, &order.customer_id, effects, now)
            .await?;
        crate::flows::journeys::order_placed(
            &ctx.config,
            &mut tx,
            &order.customer_id,
            &order.id,
            effects,
            now,
        )
        .await?;
        bar.inc(1);
    }
    tx.commit().await?;
    bar.finish_and_clear();
    ctx.outbox.wake();
    Ok(summary)
}

/// `encore import codes CAMPAIGN FILE.csv`: one code a line (an optional `code` header),
/// made by the shop's checkout. Every bad line is named and nothing is added then; codes
/// already in the pool are skipped. Returns (codes in the file, codes new to the pool).
pub fn parse_codes(text: &str) -> Result<Vec<String>, ImportError> {
    let mut codes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut bad = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let code = raw.trim().trim_matches('"').trim();
        if code.is_empty() || (line == 1 && code.eq_ignore_ascii_case("code")) {
            continue;
        }
        if code.chars().count() > 64 {
            bad.push(format!("line {line}: a code is at most 64 characters"));
        } else if code.chars().any(|c| c.is_whitespace() || c == ',') {
            bad.push(format!(
                "line {line}: `{code}` is not one code (one code a line, no spaces or commas)"
            ));
        } else if !seen.insert(code.to_string()) {
            bad.push(format!("line {line}: `{code}` appears twice in the file"));
        } else {
            codes.push(code.to_string());
        }
    }
    if !bad.is_empty() {
        return Err(ImportError::BadRows(bad));
    }
    Ok(codes)
}

pub async fn import_codes(
    ctx: &AppContext,
    campaign: &str,
    text: &str,
) -> Result<(usize, u64), ImportError> {
    let codes = parse_codes(text)?;
    let mut tx = ctx.store.begin().await?;
    let added = crate::flows::vip::add_codes(&mut tx, campaign, &codes, ctx.clock.now()).await?;
    tx.commit().await?;
    Ok((codes.len(), added))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_codes_file_is_one_code_a_line_and_bad_lines_are_named() {
        assert_eq!(
            parse_codes("code\nA-1\n\nB-2\n").unwrap(),
            vec!["A-1".to_string(), "B-2".to_string()]
        );
        let err = parse_codes("A-1\nA-1\nB 2\n").unwrap_err().to_string();
        assert!(err.contains("line 2: `A-1` appears twice"), "{err}");
        assert!(err.contains("line 3: `B 2` is not one code"), "{err}");
    }
    use super::*;

    const HEADER: &str = "order_id,customer_id,customer_name,broadcast_id,status,total,currency,placed_at,locale,items\n";

    #[test]
    fn a_good_file_parses_with_names_containing_colons() {
        let csv = format!(
            "{HEADER}o-1,c-1,김민수,b-1,paid,39000,KRW,2026-11-20T20:15:00+09:00,ko,S1:울 코트: 겨울:outer:1:39000|S2:머플러::2:5000\n"
        );
        let rows = parse_orders_csv(&csv).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].order.items[0].name, "울 코트: 겨울");
        assert_eq!(rows[0].order.items[1].category, None);
        assert_eq!(rows[0].status, OrderStatus::Paid);
    }

    #[test]
    fn every_bad_line_is_reported_by_number() {
        let csv = format!(
            "{HEADER}o-1,c-1,김민수,b-1,paid,lots,KRW,2026-11-20T20:15:00+09:00,ko,S1:코트:outer:1:39000\n\
             o-2,c-2,이지은,b-1,paid,1000,KRW,2026-11-20T20:15:00+09:00,ko,S1:코트:outer:1:1000\n\
             o-3,c-3,박서연,b-1,teleported,1000,KRW,2026-11-20T20:15:00+09:00,ko,S1:코트:outer:1:1000\n\
             o-4,c-4,최도윤,b-1,paid,1000,KRW,yesterday,ko,S1:코트:outer:1:1000\n"
        );
        let ImportError::BadRows(problems) = parse_orders_csv(&csv).unwrap_err() else {
            panic!("expected bad rows");
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("line 2: `total`"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1].starts_with("line 4: `status`"),
            "{}",
            problems[1]
        );
        assert!(
            problems[2].starts_with("line 5: `placed_at`"),
            "{}",
            problems[2]
        );
    }

    #[test]
    fn a_missing_column_is_named() {
        let err = parse_orders_csv("order_id,customer_id\n").unwrap_err();
        assert!(
            err.to_string().contains("`customer_name` is missing"),
            "{err}"
        );
    }
}
