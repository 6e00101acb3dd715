//! Embeds the texts: every `locales/<lang>/*.ftl` becomes an entry of `LOCALE_FILES` in
//! `$OUT_DIR/locales.rs`, which `src/i18n/mod.rs` includes. The binary then carries its texts
//! and runs from any directory. This script only lists files; `Texts::load` judges them.

use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let locales = manifest_dir.join("locales");
    // A new language folder or file must rebuild, not only an edited file.
    println!("cargo:rerun-if-changed=locales");

    let mut entries = String::from("static LOCALE_FILES: &[(&str, &str, &str)] = &[\n");
    for (lang, name, path) in locale_files(&locales)? {
        println!("cargo:rerun-if-changed={}", path.display());
        let path = path
            .to_str()
            .ok_or_else(|| format!("{} is not UTF-8", path.display()))?;
        // `{:?}` writes a valid Rust string literal, quotes and backslashes escaped.
        writeln!(entries, "    ({lang:?}, {name:?}, include_str!({path:?})),")?;
    }
    entries.push_str("];\n");

    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("locales.rs");
    fs::write(out, entries)?;
    Ok(())
}

/// `(lang code, file name, absolute path)`.
type LocaleFile = (String, String, PathBuf);

/// Every locale file, sorted so the generated file never changes by
/// itself. A missing `locales` folder gives an empty list: `Texts::load` then says so.
fn locale_files(locales: &Path) -> Result<Vec<LocaleFile>, Box<dyn Error>> {
    let mut files = Vec::new();
    if !locales.is_dir() {
        return Ok(files);
    }
    for lang_dir in sorted_entries(locales)? {
        if !lang_dir.is_dir() {
            continue;
        }
        let Some(lang) = visible_name(&lang_dir) else {
            continue;
        };
        println!("cargo:rerun-if-changed={}", lang_dir.display());
        for file in sorted_entries(&lang_dir)? {
            let Some(name) = visible_name(&file) else {
                continue;
            };
            if file.is_file() && name.ends_with(".ftl") {
                files.push((lang.clone(), name, fs::canonicalize(&file)?));
            }
        }
    }
    Ok(files)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut paths = fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?;
    paths.sort();
    Ok(paths)
}

/// The file name, unless it is hidden (editor swap files, `.DS_Store`) or not UTF-8.
fn visible_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    (!name.starts_with('.')).then(|| name.to_string())
}
