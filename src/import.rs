//! `encore import orders FILE.csv [--notify]` (CONTRACT §5): all or nothing, beside a running
//! bot. Every bad row is reported as `line N: <what is wrong>` and nothing is imported. History
//! sends nothing unless `--notify`; a re-import of the same orders updates them and sends
//! nothing twice.
//!
//! How a file goes in without stopping the bot (CONTRACT §1: "it commits in short batches"):
//!
//! 1. The file is read as a stream, never whole, and refused beyond [`MAX_IMPORT_BYTES`] or
//!    [`MAX_IMPORT_ROWS`].
//! 2. Every row is checked. While none is bad, checked rows are staged (`import_rows`) in
//!    transactions of [`STAGE_BATCH`] rows. One bad row anywhere: the staging is dropped, every
//!    bad line is reported, and nothing was imported.
//! 3. The staged rows are applied in file order, [`APPLY_BATCH`] rows per short transaction that
//!    also removes them from the stage; after each, the importer pauses as long as the batch took,
//!    so the running bot's writes (a viewer's reply, a send's bookkeeping) get the write lock.
//! 4. A crash or a database error part-way through step 3 leaves the import `applying` with the
//!    rest of its rows staged: the next `encore import orders` finishes it before its own file
//!    (applying a row is idempotent: a re-import of an order updates it and sends nothing twice).
//!
//! This module decides nothing about orders: each row goes through the same flows as the shop's
//! events (`after_broadcast`, `order_notes`, `vip`, `journeys`).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use crate::context::AppContext;
use crate::domain::events::{OrderItem, OrderRecord, OrderStatusChanged, validate_order};
use crate::domain::{Lang, OrderStatus};
use crate::flows::{Effects, after_broadcast, order_notes};
use crate::store::{Conn, StoreError, customers, orders};

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

/// The largest file one import takes (512 MiB): a bigger export is split.
pub const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;
/// The most rows one import takes: a bigger export is split.
pub const MAX_IMPORT_ROWS: u64 = 1_000_000;
/// Checked rows staged per transaction.
pub const STAGE_BATCH: usize = 1_000;
/// Staged rows applied per transaction: a few hundred keep each hold of the write lock short.
pub const APPLY_BATCH: i64 = 200;
/// The shortest pause between two applied batches, for the bot's writes.
const MIN_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause between two applied batches.
const MAX_PAUSE: Duration = Duration::from_millis(250);
/// A staging this old was left by a crash while a file was read (nothing of it was applied).
const ABANDONED_STAGING_HOURS: i64 = 6;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error(
        "`{path}` is larger than {MAX_IMPORT_BYTES} bytes (512 MiB), the most one import takes; nothing was imported: split the file"
    )]
    TooLarge { path: String },
    #[error(
        "`{path}` has more than {MAX_IMPORT_ROWS} rows, the most one import takes; nothing was imported: split the file"
    )]
    TooManyRows { path: String },
    #[error("the header row must name the columns {expected}; {problem}")]
    Header { expected: String, problem: String },
    #[error("{} bad row(s); nothing was imported:\n{}", .0.len(), .0.join("\n"))]
    BadRows(Vec<String>),
    #[error(
        "the import stopped after {applied} of {rows} rows: {reason}. Run `encore import orders` again: it finishes this import first, and a row applied twice changes nothing and sends nothing twice"
    )]
    Interrupted {
        applied: u64,
        rows: u64,
        reason: StoreError,
    },
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

/// An order CSV read one record at a time.
struct OrdersCsv<R: Read> {
    reader: csv::Reader<R>,
    index: [usize; COLUMNS.len()],
    record: csv::StringRecord,
}

/// A row's fields in [`COLUMNS`] order, as read (trimmed): what is staged.
type Fields = Vec<String>;

/// One record as read: where it is, and its fields and checked row or what is wrong with it.
struct ReadRow {
    line: u64,
    /// Bytes of the file read up to this record.
    bytes: u64,
    row: Result<(Fields, OrderRow), String>,
}

impl<R: Read> OrdersCsv<R> {
    fn open(input: R) -> Result<Self, ImportError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(input);
        let header_problem = |problem: String| ImportError::Header {
            expected: COLUMNS.join(","),
            problem,
        };
        let headers = reader
            .headers()
            .map_err(|e| header_problem(e.to_string()))?
            .clone();
        let mut index = [0; COLUMNS.len()];
        for (slot, column) in index.iter_mut().zip(COLUMNS) {
            *slot = headers
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == column)
                .ok_or_else(|| header_problem(format!("`{column}` is missing")))?;
        }
        Ok(OrdersCsv {
            reader,
            index,
            record: csv::StringRecord::new(),
        })
    }

    /// The next record, `None` at the end of the file.
    fn next_row(&mut self) -> Option<ReadRow> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let position = self.record.position();
                let line = position.map(|p| p.line()).unwrap_or(0);
                let bytes = position.map(|p| p.byte()).unwrap_or(0);
                let fields: Fields = self
                    .index
                    .iter()
                    .map(|&i| self.record.get(i).unwrap_or("").trim().to_string())
                    .collect();
                let row = parse_row(line, &fields_by_name(&fields)).map(|row| (fields, row));
                Some(ReadRow { line, bytes, row })
            }
            Err(err) => {
                let line = err.position().map(|p| p.line()).unwrap_or(0);
                let bytes = err.position().map(|p| p.byte()).unwrap_or(0);
                Some(ReadRow {
                    line,
                    bytes,
                    row: Err(err.to_string()),
                })
            }
        }
    }
}

fn fields_by_name(fields: &[String]) -> HashMap<&'static str, String> {
    COLUMNS
        .iter()
        .copied()
        .zip(fields.iter().cloned())
        .collect()
}

/// Reads and checks every row; returns all problems at once.
pub fn parse_orders_csv(text: &str) -> Result<Vec<OrderRow>, ImportError> {
    let mut csv = OrdersCsv::open(text.as_bytes())?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    while let Some(ReadRow { line, row, .. }) = csv.next_row() {
        match row {
            Ok((_, row)) => rows.push(row),
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

/// Imports a file beside a running bot (see the module's doc). `show_progress` draws a bar on
/// a terminal.
pub async fn import_orders(
    ctx: &AppContext,
    path: &Path,
    notify: bool,
    show_progress: bool,
) -> Result<ImportSummary, ImportError> {
    let display = path.display().to_string();
    let unreadable = |e: std::io::Error| ImportError::Read {
        path: display.clone(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge { path: display });
    }
    finish_interrupted_imports(ctx, show_progress).await?;

    // 1–2. Read, check and stage.
    let bar = progress(
        show_progress,
        size,
        "{bar:40} {percent}% of the file checked",
    );
    let mut csv = OrdersCsv::open(std::io::BufReader::new(file))?;
    let import = {
        let mut conn = ctx.store.conn().await?;
        orders::begin_import(&mut conn, &display, notify, ctx.clock.now()).await?
    };
    let staged = stage_checked_rows(ctx, import, &mut csv, &bar, &display).await;
    bar.finish_and_clear();
    let rows = match staged {
        Ok(rows) => rows,
        Err(err) => {
            let mut conn = ctx.store.conn().await?;
            orders::drop_import(&mut conn, import).await?;
            return Err(err);
        }
    };

    // 3. Apply.
    let bar = progress(show_progress, rows, "{bar:40} {pos}/{len} orders {elapsed}");
    let applied = apply_staged_rows(ctx, import, rows, notify, &bar).await?;
    bar.finish_and_clear();
    Ok(ImportSummary {
        rows: rows as usize,
        new_orders: applied.new_orders as usize,
        updated_orders: applied.updated_orders as usize,
    })
}

fn progress(show: bool, len: u64, template: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Checks every row and stages the good ones while no row is bad. Returns the number of rows.
async fn stage_checked_rows<R: Read>(
    ctx: &AppContext,
    import: i64,
    csv: &mut OrdersCsv<R>,
    bar: &ProgressBar,
    path: &str,
) -> Result<u64, ImportError> {
    let mut rows = 0u64;
    let mut problems = Vec::new();
    let mut batch: Vec<(u64, String)> = Vec::with_capacity(STAGE_BATCH);
    while let Some(ReadRow { line, bytes, row }) = csv.next_row() {
        rows += 1;
        if rows > MAX_IMPORT_ROWS {
            return Err(ImportError::TooManyRows { path: path.into() });
        }
        if bytes > MAX_IMPORT_BYTES {
            return Err(ImportError::TooLarge { path: path.into() });
        }
        match row {
            // Once a row is bad nothing will be applied: only checking goes on.
            Ok((fields, _)) if problems.is_empty() => {
                let fields = serde_json::to_string(&fields).map_err(|e| {
                    StoreError::Corrupt(format!("line {line} cannot be staged: {e}"))
                })?;
                batch.push((line, fields));
            }
            Ok(_) => {}
            Err(problem) => problems.push(format!("line {line}: {problem}")),
        }
        if batch.len() >= STAGE_BATCH {
            let mut tx = ctx.store.begin().await?;
            orders::stage_rows(&mut tx, import, &batch).await?;
            tx.commit().await?;
            batch.clear();
            bar.set_position(bytes);
            tokio::task::yield_now().await;
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::BadRows(problems));
    }
    let mut tx = ctx.store.begin().await?;
    orders::stage_rows(&mut tx, import, &batch).await?;
    orders::start_applying(&mut tx, import, rows).await?;
    tx.commit().await?;
    Ok(rows)
}

#[derive(Debug, Clone, Copy, Default)]
struct Applied {
    rows: u64,
    new_orders: u64,
    updated_orders: u64,
}

/// Applies an import's staged rows in short batches, then marks it done.
async fn apply_staged_rows(
    ctx: &AppContext,
    import: i64,
    rows: u64,
    notify: bool,
    bar: &ProgressBar,
) -> Result<Applied, ImportError> {
    let effects = if notify {
        Effects::Notify
    } else {
        Effects::Silent
    };
    let mut applied = Applied::default();
    loop {
        let started = Instant::now();
        match apply_one_batch(ctx, import, effects).await {
            Ok(Some(batch)) => {
                applied.rows += batch.rows;
                applied.new_orders += batch.new_orders;
                applied.updated_orders += batch.updated_orders;
                bar.inc(batch.rows);
            }
            Ok(None) => break,
            Err(reason) => {
                return Err(ImportError::Interrupted {
                    applied: applied.rows,
                    rows,
                    reason,
                });
            }
        }
        ctx.outbox.wake().await;
        // As long as the batch held the lock, others may have it (within bounds).
        tokio::time::sleep(started.elapsed().clamp(MIN_PAUSE, MAX_PAUSE)).await;
    }
    Ok(applied)
}

/// One transaction: the next staged rows applied and unstaged, or the import marked done when
/// none is left (`None`).
async fn apply_one_batch(
    ctx: &AppContext,
    import: i64,
    effects: Effects,
) -> Result<Option<Applied>, StoreError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin().await?;
    let staged = orders::next_staged_rows(&mut tx, import, APPLY_BATCH).await?;
    let Some(&(last_line, _)) = staged.last() else {
        orders::finish_import(&mut tx, import, now).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let mut batch = Applied {
        rows: staged.len() as u64,
        ..Applied::default()
    };
    for (line, fields) in &staged {
        let row = unstage(*line, fields)?;
        match apply_row(ctx, &mut tx, &row, effects, now).await? {
            Some(true) => batch.new_orders += 1,
            Some(false) => batch.updated_orders += 1,
            None => {}
        }
    }
    orders::rows_applied(
        &mut tx,
        import,
        last_line,
        batch.rows,
        batch.new_orders,
        batch.updated_orders,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(batch))
}

/// A staged row, checked again into an [`OrderRow`] (it passed when it was staged).
fn unstage(line: u64, fields: &str) -> Result<OrderRow, StoreError> {
    let fields: Fields = serde_json::from_str(fields)
        .map_err(|e| StoreError::Corrupt(format!("staged import line {line}: {e}")))?;
    parse_row(line, &fields_by_name(&fields))
        .map_err(|problem| StoreError::Corrupt(format!("staged import line {line}: {problem}")))
}

/// Before a new file: imports a crash stopped part-way are finished, and stagings a crash
/// left while a file was read are dropped.
async fn finish_interrupted_imports(
    ctx: &AppContext,
    show_progress: bool,
) -> Result<(), ImportError> {
    let unfinished = {
        let mut conn = ctx.store.conn().await?;
        let stale = ctx.clock.now() - chrono::Duration::hours(ABANDONED_STAGING_HOURS);
        orders::drop_abandoned_staging(&mut conn, stale).await?;
        orders::unfinished_imports(&mut conn).await?
    };
    for import in unfinished {
        tracing::warn!(
            file = %import.file,
            started_at = %import.started_at,
            "an earlier import stopped after {} of {} rows; finishing it first",
            import.applied_rows,
            import.rows
        );
        let left = (import.rows - import.applied_rows).max(0) as u64;
        let bar = progress(
            show_progress,
            left,
            "{bar:40} {pos}/{len} orders left of an earlier import",
        );
        apply_staged_rows(ctx, import.id, left, import.notify, &bar).await?;
        bar.finish_and_clear();
    }
    Ok(())
}

/// Applies one checked row inside the batch's transaction. Returns whether the order is new
/// (`Some(true)`), updated (`Some(false)`), or skipped: a forgotten customer's (`None`).
async fn apply_row(
    ctx: &AppContext,
    tx: &mut Conn,
    row: &OrderRow,
    effects: Effects,
    now: DateTime<Utc>,
) -> Result<Option<bool>, StoreError> {
    // A forgotten customer is not created again; a merged-away one means the other.
    let Some(customer_id) =
        crate::flows::privacy::resolve_customer(tx, &row.order.customer_id).await?
    else {
        tracing::info!("an imported order of a forgotten customer was skipped");
        return Ok(None);
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
        tx,
        &order.customer_id,
        &row.customer_name,
        row.locale.map(Lang::code),
        None,
        now,
    )
    .await?;
    crate::ingest::release_waiting(ctx, tx, &format!("customer:{}", order.customer_id), now)
        .await?;
    let new = !orders::order_exists(tx, &order.id).await?;
    after_broadcast::order_placed(&ctx.config, tx, order, row.placed_at, effects, now).await?;
    // The file's status is as of the import, but a file is an export from some earlier
    // moment: it never overwrites a status the shop's events (or staff) set.
    let live = orders::status_set_live(tx, &order.id).await?;
    if row.status != OrderStatus::Placed && !live {
        let change = OrderStatusChanged {
            order_id: order.id.clone(),
            status: row.status,
            tracking: None,
            delay: None,
            payment_deadline: None,
        };
        order_notes::status_changed(&ctx.config, tx, &change, now, "import", effects, now).await?;
    }
    crate::ingest::release_waiting(ctx, tx, &format!("order:{}", order.id), now).await?;
    crate::flows::vip::recompute_tier(&ctx.config, tx, &order.customer_id, effects, now).await?;
    crate::flows::journeys::order_placed(
        &ctx.config,
        tx,
        &order.customer_id,
        &order.id,
        effects,
        now,
    )
    .await?;
    Ok(Some(new))
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
