//! The `encore` command line (CONTRACT §1). Thin: parse, build, run, report one line on failure.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use encore::app::RunningApp;
use encore::clock::SystemClock;
use encore::config::Config;
use encore::context::AppContext;
use encore::domain::Lang;
use encore::i18n::Texts;
use encore::store::Store;

#[derive(Parser)]
#[command(
    name = "encore",
    version,
    about = "Keeps live-commerce viewers close after the broadcast ends"
)]
struct Cli {
    /// Configuration file (default: encore.toml if present, else built-in defaults)
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot: platforms, HTTP API, dispatcher and scheduler, until SIGINT/SIGTERM
    Serve,
    /// A scripted after-broadcast on the built-in chat emulator; no token, no network
    Demo {
        #[arg(long, default_value_t = 50)]
        viewers: usize,
        #[arg(long, default_value = "ko")]
        lang: Lang,
        /// Database URL (default: a temporary SQLite file, removed afterwards)
        #[arg(long)]
        db: Option<String>,
    },
    /// Apply database migrations and exit
    Migrate,
    /// Import orders or codes
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Broadcast commands
    Broadcast {
        #[command(subcommand)]
        what: BroadcastCommand,
    },
    /// Print a broadcast report
    Report {
        broadcast_id: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "FILE.png")]
        chart: Option<PathBuf>,
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
    /// Journey messages
    Journeys {
        #[command(subcommand)]
        what: JourneysCommand,
    },
    /// Configuration commands
    Config {
        #[command(subcommand)]
        what: ConfigCommand,
    },
    /// Apply [retention] now: scrub old message texts and payloads, keep the counts
    Prune {
        /// Only say what would be removed
        #[arg(long)]
        dry_run: bool,
    },
    /// List what failed for good and was set aside, or put one back
    Deadletters {
        #[command(subcommand)]
        what: Option<DeadlettersCommand>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DeadlettersCommand {
    /// Put one set-aside update (handled again now) or message (queued again) back
    Retry { id: String },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import orders from a CSV file (CONTRACT §5)
    Orders {
        file: PathBuf,
        /// Tell buyers about what the file changes (history sends nothing without it)
        #[arg(long)]
        notify: bool,
    },
    /// Add one-per-customer codes to a campaign's pool
    Codes { campaign: String, file: PathBuf },
}

#[derive(Subcommand)]
enum BroadcastCommand {
    /// Same effect as a broadcast.ended event
    End { broadcast_id: String },
}

#[derive(Subcommand)]
enum JourneysCommand {
    /// List journey messages that would be due
    Preview {
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective settings, secrets masked
    Check {
        #[arg(long)]
        online: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints a transcript; its log stays quiet unless asked for with RUST_LOG.
    let default_filter = match cli.command {
        Command::Demo { .. } => "warn",
        _ => "encore=info,warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(format!("cannot start the async runtime: {err}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

/// Prints a line to stdout; a closed pipe (`encore report b-1 | head`) is not an error.
/// A report as JSON (`--json`) or as the text a person reads.
fn print_report<T: serde::Serialize>(
    report: &T,
    json: bool,
    text: impl FnOnce() -> Result<String, encore::i18n::I18nError>,
) -> Result<(), String> {
    if json {
        print_out(&serde_json::to_string_pretty(report).map_err(|e| e.to_string())?)
    } else {
        print_out(&text().map_err(|e| e.to_string())?)
    }
}

/// `--chart FILE.png`: the report's charts as a PNG, labels in the shop's language.
fn write_chart(
    report: &encore::report::BroadcastReport,
    ctx: &AppContext,
    path: &std::path::Path,
) -> Result<(), String> {
    let png =
        encore::charts::broadcast_charts_png(report, &ctx.texts, ctx.config.shop.default_locale)
            .map_err(|e| e.to_string())?;
    std::fs::write(path, png)
        .map_err(|e| format!("cannot write the chart to `{}`: {e}", path.display()))
}

fn print_out(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}") {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(err.to_string()),
        _ => Ok(()),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn load_config(path: Option<&PathBuf>) -> Result<Config, String> {
    Config::load(path.map(PathBuf::as_path)).map_err(|e| e.to_string())
}

/// The store a command opens: `[database] max_connections` at most, migrated.
async fn open_store(config: &Config) -> Result<Store, String> {
    let store = Store::open_with(&config.database.url, config.database.max_connections)
        .await
        .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(store)
}

async fn context(config: Config) -> Result<AppContext, String> {
    let store = open_store(&config).await?;
    let texts = Texts::load().map_err(|e| e.to_string())?;
    Ok(AppContext::new(
        config,
        store,
        Arc::new(SystemClock),
        Arc::new(texts),
    ))
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Demo { viewers, lang, db } => {
            let options = encore::demo::DemoOptions {
                viewers,
                lang,
                db_url: db,
            };
            let mut out = std::io::stdout().lock();
            match encore::demo::run(&options, &mut out).await {
                Err(encore::demo::DemoError::Output(err))
                    if err.kind() == std::io::ErrorKind::BrokenPipe =>
                {
                    Ok(())
                }
                other => other.map_err(|e| e.to_string()),
            }
        }
        Command::Serve => serve(load_config(cli.config.as_ref())?).await,
        Command::Migrate => {
            let config = load_config(cli.config.as_ref())?;
            open_store(&config).await?;
            print_out(&format!(
                "database is up to date: {}",
                encore::config::masked_database_url(&config.database.url)
            ))?;
            Ok(())
        }
        Command::Import {
            what: ImportCommand::Orders { file, notify },
        } => {
            let ctx = context(load_config(cli.config.as_ref())?).await?;
            let summary =
                encore::import::import_orders(&ctx, &file, notify, std::io::stderr().is_terminal())
                    .await
                    .map_err(|e| e.to_string())?;
            print_out(&format!(
                "imported {} row(s): {} new order(s), {} updated{}",
                summary.rows,
                summary.new_orders,
                summary.updated_orders,
                if notify {
                    "; buyers will be told"
                } else {
                    "; nothing sent (history)"
                }
            ))?;
            Ok(())
        }
        Command::Import {
            what: ImportCommand::Codes { campaign, file },
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
            let ctx = context(load_config(cli.config.as_ref())?).await?;
            let (in_file, added) = encore::import::import_codes(&ctx, &campaign, &text)
                .await
                .map_err(|e| e.to_string())?;
            print_out(&format!(
                "campaign {campaign}: {added} new code(s) added to the pool ({} already there)",
                in_file as u64 - added
            ))?;
            Ok(())
        }
        Command::Broadcast {
            what: BroadcastCommand::End { broadcast_id },
        } => {
            let ctx = context(load_config(cli.config.as_ref())?).await?;
            let thanked = encore::ingest::end_broadcast(&ctx, &broadcast_id)
                .await
                .map_err(|e| e.to_string())?;
            print_out(&format!(
                "broadcast {broadcast_id} ended: {thanked} new thank-you note(s) queued"
            ))?;
            Ok(())
        }
        Command::Report {
            broadcast_id,
            json,
            chart,
            since,
        } => {
            if let Some(since) = since {
                if chart.is_some() {
                    return Err("`--chart` draws one broadcast's report: encore report BROADCAST_ID --chart FILE.png (the period report has no chart)".into());
                }
                let ctx = context(load_config(cli.config.as_ref())?).await?;
                let since = encore::report::parse_since(&since, ctx.config.shop.timezone)?;
                let report = ctx
                    .store
                    .period_report(since)
                    .await
                    .map_err(|e| e.to_string())?;
                return print_report(&report, json, || {
                    report.to_text(&ctx.texts, ctx.config.shop.default_locale)
                });
            }
            let Some(broadcast_id) = broadcast_id else {
                return Err("name a broadcast: encore report BROADCAST_ID".into());
            };
            let ctx = context(load_config(cli.config.as_ref())?).await?;
            let report = ctx
                .broadcast_report(&broadcast_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no broadcast `{broadcast_id}` is known"))?;
            if let Some(path) = chart {
                write_chart(&report, &ctx, &path)?;
            }
            print_report(&report, json, || {
                report.to_text(&ctx.texts, ctx.config.shop.default_locale)
            })
        }
        Command::Journeys {
            what: JourneysCommand::Preview { at, json },
        } => {
            let ctx = context(load_config(cli.config.as_ref())?).await?;
            let at = match at {
                Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
                    .map(|at| at.with_timezone(&chrono::Utc))
                    .map_err(|_| {
                        format!(
                            "`--at {text}` is not an RFC 3339 time (like 2026-12-01T09:00:00+09:00)"
                        )
                    })?,
                None => ctx.clock.now(),
            };
            let due = encore::flows::journeys::preview(&ctx, at)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                print_out(&serde_json::to_string_pretty(&due).map_err(|e| e.to_string())?)?;
            } else if due.is_empty() {
                print_out(&format!("nothing is due at {}", at.to_rfc3339()))?;
            } else {
                let tz = ctx.config.shop.timezone;
                let mut lines = vec![format!(
                    "{} journey message(s) due at {}:",
                    due.len(),
                    at.with_timezone(&tz).to_rfc3339()
                )];
                for item in &due {
                    lines.push(format!(
                        "  {}  {:<10} {:<13} {}  {}",
                        encore::domain::policy::shop_minute(item.due_at, tz),
                        item.journey,
                        item.kind,
                        item.language,
                        item.customer_id
                    ));
                }
                print_out(&lines.join("\n"))?;
            }
            Ok(())
        }
        Command::Prune { dry_run } => {
            let ctx = context(load_config(cli.config.as_ref())?).await?;
            let pruned = encore::store::retention::prune(
                &ctx.store,
                &ctx.config.retention,
                ctx.clock.now(),
                dry_run,
            )
            .await
            .map_err(|e| e.to_string())?;
            print_out(&pruned.summary(dry_run))
        }
        Command::Deadletters { what: None, json } => {
            let ctx = context(load_config(cli.config.as_ref())?).await?;
            let letters = encore::store::dead_letters::waiting(&ctx.store)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                return print_out(
                    &serde_json::to_string_pretty(&letters).map_err(|e| e.to_string())?,
                );
            }
            if letters.is_empty() {
                return print_out("nothing is set aside");
            }
            let tz = ctx.config.shop.timezone;
            let mut lines = vec![format!("{} set aside:", letters.len())];
            for letter in &letters {
                lines.push(format!(
                    "  {:<6} {:<9} {}  {}\n         why: {}",
                    letter.id.to_string(),
                    letter.platform,
                    encore::domain::policy::shop_minute(letter.when, tz),
                    letter.what,
                    letter.why
                ));
            }
            lines.push("put one back with: encore deadletters retry ID".to_string());
            print_out(&lines.join("\n"))
        }
        Command::Deadletters {
            what: Some(DeadlettersCommand::Retry { id }),
            ..
        } => {
            let id: encore::store::dead_letters::DeadLetterId = id.parse()?;
            let ctx = context(load_config(cli.config.as_ref())?).await?;
            encore::router::retry_dead_letter(&ctx, id)
                .await
                .map_err(|e| e.to_string())?;
            print_out(&match id {
                encore::store::dead_letters::DeadLetterId::Update(_) => {
                    format!("update {id} was handled again")
                }
                encore::store::dead_letters::DeadLetterId::Message(_) => {
                    format!("message {id} is queued again")
                }
            })
        }
        Command::Config {
            what: ConfigCommand::Check { online },
        } => {
            let config = load_config(cli.config.as_ref())?;
            print_out(config.masked_summary().trim_end())?;
            for warning in config.warnings() {
                eprintln!("warning: {warning}");
            }
            if online {
                let findings = encore::platforms::rights::check_online(&config).await;
                if findings.is_empty() {
                    print_out("no platform is configured: nothing to check online")?;
                }
                for finding in &findings {
                    print_out(&finding.line())?;
                }
                let missing = findings.iter().filter(|f| !f.ok).count();
                if missing > 0 {
                    return Err(format!(
                        "{missing} platform right(s) or setting(s) are missing; see MISSING above"
                    ));
                }
            }
            print_out("configuration is valid")?;
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    if let Some(unsafe_secret) = config.unsafe_secrets().first() {
        return Err(unsafe_secret.to_string());
    }
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let mut app = RunningApp::start(config).await.map_err(|e| e.to_string())?;
    let outcome = tokio::select! {
        _ = shutdown_signal() => Ok(()),
        stopped = app.stopped() => stopped.map_err(|e| e.to_string()),
    };
    tracing::info!("stopping: finishing messages on the wire");
    app.stop().await.map_err(|e| e.to_string())?;
    outcome
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
