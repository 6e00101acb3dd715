//! The environment overlay: `ENCORE_<SECTION>_<KEY>` laid over the file's table before it is read,
//! so the environment wins over the file and every key of every section can be set both ways.
//!
//! This module owns which variables are ours (a known section after `ENCORE_`), where each lands
//! in the table, and remembering which keys came from which variable so an error names the
//! variable. It never reads a value: the text is typed when the section is deserialized
//! (`layered.rs`), by the same rules as the file.

use std::collections::BTreeMap;

use super::error::{ConfigError, Origin};
use super::layered::Node;

pub(super) const ENV_PREFIX: &str = "ENCORE_";

/// Top-level keys that are lists of tables; they can only come from the file.
const FILE_ONLY: [&str; 1] = ["tiers"];

/// The process environment, reduced to what could be ours. A variable whose name is not UTF-8
/// cannot be one of ours; a value that is not UTF-8 is kept lossily so that it fails visibly.
pub(super) fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            name.starts_with(ENV_PREFIX)
                .then(|| (name, value.to_string_lossy().into_owned()))
        })
        .collect()
}

/// Which dotted keys were set from which variable (`telegram.token` → `ENCORE_TELEGRAM_TOKEN`).
#[derive(Debug, Default)]
pub(super) struct EnvKeys(BTreeMap<String, String>);

impl EnvKeys {
    pub(super) fn var_for(&self, dotted: &str) -> Option<&str> {
        self.0.get(dotted).map(String::as_str)
    }

    /// Where the value of a dotted key came from.
    pub(super) fn origin(&self, dotted: &str) -> Origin {
        match self.var_for(dotted) {
            Some(var) => Origin::Env(var.to_string()),
            None => Origin::File(dotted.to_string()),
        }
    }
}

/// Lays every `ENCORE_<SECTION>_<KEY>` over `root`. `top_level` is every top-level key the
/// configuration has (its sections, and the file-only lists). A variable that names a section but
/// no key, or a key the section does not have, is kept: reading the section then reports it by
/// the variable's name. Variables outside the sections (`ENCORE_LOG`) are not ours to judge.
pub(super) fn overlay(
    root: &mut BTreeMap<String, Node>,
    env: impl IntoIterator<Item = (String, String)>,
    top_level: &[&str],
) -> Result<EnvKeys, ConfigError> {
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX))
        .collect();
    // Sorted so that the outcome does not depend on the order the process lists them in.
    vars.sort();
    let mut keys = EnvKeys::default();
    for (var, value) in vars {
        let rest = &var[ENV_PREFIX.len()..];
        let Some((section, key)) = top_level.iter().find_map(|section| {
            let upper = section.to_ascii_uppercase();
            if rest == upper {
                return Some((*section, String::new()));
            }
            let key = rest.strip_prefix(&upper)?.strip_prefix('_')?;
            Some((*section, key.to_ascii_lowercase()))
        }) else {
            continue;
        };
        if FILE_ONLY.contains(&section) {
            // Silently ignoring it would leave a host wondering why their tiers did not change.
            return Err(ConfigError::Invalid {
                origin: Origin::Env(var),
                reason: format!(
                    "{section} can only be set in the config file, as [[{section}]] tables"
                ),
            });
        }
        // A variable for a section turns the section on (for a platform: it then needs a token).
        let table = root
            .entry(section.to_string())
            .or_insert_with(|| Node::Table(BTreeMap::new()));
        // A section the file wrote as something else than a table is reported as the file's error.
        if let Node::Table(entries) = table {
            entries.insert(key.clone(), Node::Env(value));
            keys.0.insert(format!("{section}.{key}"), var);
        }
    }
    Ok(keys)
}
