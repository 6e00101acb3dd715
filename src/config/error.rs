//! The errors a host sees when the configuration cannot be loaded, each one line naming the file,
//! the dotted key (`telegram.staff_user_ids`, `tiers[1].name`) or the environment variable to fix.
//!
//! This module owns turning serde's path to a bad value into that key or variable, and the "did
//! you mean" suggestions. It never puts a value in a message that the rule did not put there.

use std::fmt;

use serde_path_to_error::Segment;

use super::env::EnvKeys;
use super::layered::ValueError;

/// Where a setting came from, so an error can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A dotted key in the file, e.g. `limits.telegram_per_second` or `tiers[1].name`.
    File(String),
    /// An environment variable, e.g. `ENCORE_TELEGRAM_STAFF_USER_IDS`.
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(key) => write!(f, "`{key}`"),
            Origin::Env(var) => write!(f, "environment variable {var}"),
        }
    }
}

/// Why the configuration could not be loaded. Each message is one line and names the file, key
/// or environment variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("{} is not valid TOML: {}{message}", syntax_source(.file.as_deref()), syntax_place(.line_column))]
    Syntax {
        /// `None` when the text did not come from a file.
        file: Option<String>,
        /// 1-based line and column (in characters), when the parser knows them.
        line_column: Option<(usize, usize)>,
        message: String,
    },
    #[error("unknown configuration key `{key}`{}", did_you_mean(.suggestion.as_deref(), true))]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
    },
    #[error("unknown environment variable {var}: {detail}")]
    UnknownEnv { var: String, detail: String },
    #[error("{origin}: {reason}")]
    Invalid { origin: Origin, reason: String },
    #[error("{origin} is {value}, but {platform} allows at most {max}{note}")]
    LimitTooHigh {
        origin: Origin,
        value: i128,
        max: u32,
        platform: &'static str,
        /// What would allow more (Telegram's paid broadcasts), or empty.
        note: &'static str,
    },
    #[error(
        "{section}.token is required when [{section}] is configured (set it in the file or with {var})"
    )]
    MissingToken {
        section: &'static str,
        var: &'static str,
    },
    #[error(
        "{key} {problem}: encore serve refuses to start until it is a long random value (at least 16 characters; set it in the file or with {var})"
    )]
    UnsafeSecret {
        key: &'static str,
        var: &'static str,
        /// What is wrong, never the value: "is not set", "is shorter than 16 characters", …
        problem: &'static str,
    },
}

fn syntax_source(file: Option<&str>) -> String {
    match file {
        Some(file) => format!("config file `{file}`"),
        None => "the configuration".to_string(),
    }
}

fn syntax_place(line_column: &Option<(usize, usize)>) -> String {
    match line_column {
        Some((line, column)) => format!("line {line}, column {column}: "),
        None => String::new(),
    }
}

fn did_you_mean(suggestion: Option<&str>, quoted: bool) -> String {
    match (suggestion, quoted) {
        (Some(s), true) => format!(" (did you mean `{s}`?)"),
        (Some(s), false) => format!(" (did you mean {s}?)"),
        (None, _) => String::new(),
    }
}

/// A syntax error from the TOML parser, kept to one line: the CLI prints errors as one line.
pub(super) fn syntax(text: &str, file: Option<&str>, e: &toml::de::Error) -> ConfigError {
    ConfigError::Syntax {
        file: file.map(str::to_string),
        line_column: e.span().and_then(|span| line_column(text, span.start)),
        message: e.message().trim().replace('\n', "; "),
    }
}

fn line_column(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset)?;
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Some((line, before[line_start..].chars().count() + 1))
}

/// The dotted key of a path: `telegram.staff_user_ids`, `tiers[1].name`. A list item at the end
/// is returned apart (1-based), as messages say "item 2" rather than indexing the key.
fn dotted(path: &serde_path_to_error::Path) -> (String, Option<usize>) {
    let mut key = String::new();
    let mut segments: Vec<&Segment> = path
        .iter()
        .filter(|s| matches!(s, Segment::Map { .. } | Segment::Seq { .. }))
        .collect();
    let item = match segments.last() {
        Some(Segment::Seq { index }) => {
            let index = *index;
            segments.pop();
            Some(index + 1)
        }
        _ => None,
    };
    for segment in segments {
        match segment {
            Segment::Map { key: part } => {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(part);
            }
            Segment::Seq { index } => key.push_str(&format!("[{index}]")),
            _ => {}
        }
    }
    (key, item)
}

/// Names what went wrong where: the dotted key in the file, or the variable it came from.
pub(super) fn locate(
    path: &serde_path_to_error::Path,
    problem: ValueError,
    env: &EnvKeys,
) -> ConfigError {
    let (key, item) = dotted(path);
    match problem {
        ValueError::UnknownKey {
            key: unknown,
            known,
        } => {
            // serde's path already ends with the unknown key; be safe if it does not.
            let full = if key == unknown || key.ends_with(&format!(".{unknown}")) {
                key
            } else if key.is_empty() {
                unknown.clone()
            } else {
                format!("{key}.{unknown}")
            };
            let parent = full.strip_suffix(&unknown).unwrap_or("");
            match env.var_for(&full) {
                Some(var) => unknown_env(var, parent.trim_end_matches('.'), &unknown, known),
                None => ConfigError::UnknownKey {
                    suggestion: suggest(&unknown, known).map(|k| format!("{parent}{k}")),
                    key: full,
                },
            }
        }
        ValueError::MissingKey(missing) => {
            // Only tables inside a list (`[[tiers]]`) have keys without a default.
            let table = match item {
                Some(n) => format!("{key}[{}]", n - 1),
                None => key.clone(),
            };
            ConfigError::Invalid {
                origin: Origin::File(format!("{table}.{missing}")),
                reason: format!("is missing; every [[{key}]] table needs a {missing}"),
            }
        }
        ValueError::ExpectedTable { found } => {
            let reason = if item.is_some() {
                format!("expected a [[{key}]] table, found {found}")
            } else {
                format!("expected a [{key}] table, found {found}")
            };
            let origin = match item {
                Some(n) => Origin::File(format!("{key}[{}]", n - 1)),
                None => env.origin(&key),
            };
            ConfigError::Invalid { origin, reason }
        }
        ValueError::ExpectedList { found } => {
            // Top-level lists are lists of tables (`[[tiers]]`); lists inside a section hold values.
            let reason = if key.contains('.') {
                format!("expected a list like [1, 2], found {found}")
            } else {
                format!("expected [[{key}]] tables, found {found}")
            };
            ConfigError::Invalid {
                origin: env.origin(&key),
                reason,
            }
        }
        ValueError::Invalid(reason) => ConfigError::Invalid {
            origin: env.origin(&key),
            reason: match item {
                Some(n) => format!("item {n}: {reason}"),
                None => reason,
            },
        },
    }
}

fn unknown_env(var: &str, section: &str, key: &str, known: &[&str]) -> ConfigError {
    let upper = section.to_ascii_uppercase();
    let detail = if key.is_empty() {
        format!(
            "name a key after the section, like ENCORE_{upper}_{}",
            known
                .first()
                .map_or(String::new(), |k| k.to_ascii_uppercase())
        )
    } else {
        let suggestion =
            suggest(key, known).map(|k| format!("ENCORE_{upper}_{}", k.to_ascii_uppercase()));
        format!(
            "[{section}] has no key `{key}`{}",
            did_you_mean(suggestion.as_deref(), false)
        )
    };
    ConfigError::UnknownEnv {
        var: var.to_string(),
        detail,
    }
}

/// The closest known name to a misspelt one, if it is close enough to be a typo.
fn suggest<'a>(wrong: &str, known: &[&'a str]) -> Option<&'a str> {
    let wrong = wrong.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&wrong, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
