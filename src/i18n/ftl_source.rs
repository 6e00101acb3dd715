//! What an `.ftl` source declares, read from its text: fluent-bundle lists neither a resource's
//! ids nor the calls in it, yet loading must refuse duplicate ids and `JOSA(…)` calls with a
//! form we cannot write. Runs only on sources the Fluent parser has already accepted; renders
//! nothing and never touches a bundle.

use super::josa;

/// One top-level entry of an `.ftl` file, found by its text.
pub(super) struct Entry<'s> {
    /// Message id, or `-term`.
    pub(super) id: &'s str,
    /// The entry's lines, id line included.
    pub(super) text: &'s str,
}

/// Splits a source the Fluent parser has accepted into its messages and terms.
///
/// fluent-bundle does not list a resource's ids, so they are read from the text: in valid
/// Fluent every entry starts at column 0 with its identifier (or `-` for a term), and every
/// other line of it is indented, blank, or a closing bracket or variant at column 0.
pub(super) fn entries(source: &str) -> Vec<Entry<'_>> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let first = line.chars().next();
        if first.is_some_and(|c| c.is_ascii_alphabetic() || c == '-')
            && let Some((id, _)) = line.split_once('=')
        {
            let id = id.trim();
            let is_identifier = id
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if is_identifier {
                starts.push((offset, id));
            }
        }
        // Comments end an entry too, so a comment between entries is not scanned for JOSA.
        if first == Some('#') {
            starts.push((offset, ""));
        }
        offset += line.len();
    }
    let ends = starts
        .iter()
        .skip(1)
        .map(|&(start, _)| start)
        .chain([source.len()]);
    starts
        .iter()
        .zip(ends)
        .filter(|((_, id), _)| !id.is_empty())
        .map(|(&(start, id), end)| Entry {
            id,
            text: &source[start..end],
        })
        .collect()
}

/// Checks every `JOSA(…)` in an entry's text: a word, then one supported form in quotes.
pub(super) fn check_josa_calls(text: &str) -> Result<(), String> {
    let usage = || {
        format!(
            "JOSA takes a word and a form in quotes, e.g. {{ $item }}{{ JOSA($item, \"이/가\") }}; forms: {}",
            josa::supported_forms().collect::<Vec<_>>().join(", ")
        )
    };
    for (i, _) in text.match_indices("JOSA(") {
        let args = &text[i + "JOSA(".len()..];
        let call = call_arguments(args).ok_or_else(usage)?;
        let (word, form) = call.rsplit_once(',').ok_or_else(usage)?;
        let form = form.trim();
        let form = form
            .strip_prefix('"')
            .and_then(|f| f.strip_suffix('"'))
            .ok_or_else(usage)?;
        if word.trim().is_empty() {
            return Err(usage());
        }
        if josa::particle("", form).is_none() {
            return Err(format!(
                "JOSA form \"{form}\" is not supported. {}",
                usage()
            ));
        }
    }
    Ok(())
}

/// The text up to the `)` that closes a call, skipping nested calls and quoted strings.
fn call_arguments(args: &str) -> Option<&str> {
    let mut depth = 0_usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in args.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string && depth == 0 => return Some(&args[..i]),
            ')' if !in_string => depth -= 1,
            _ => {}
        }
    }
    None
}
