//! Reading a FAQ file's text (CONTRACT §8): the TOML shape, every check, and errors that name
//! the file, the entry and the line. Only text comes in; opening the file is the caller's
//! (`flows::faq::load_file`), so this stays free of I/O.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Faq, FaqEntry};
use crate::domain::lang::Lang;

/// What is wrong with a FAQ file. Every message names the file, and the entry (its 1-based
/// position and id) when the problem is inside one.
#[derive(Debug, thiserror::Error)]
pub enum FaqError {
    #[error("{path}: cannot read the FAQ file: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: line {line}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("{origin}: {}: no `id`; give every [[entry]] a unique id", label(*index, &None, *line))]
    MissingId {
        origin: String,
        index: usize,
        line: Option<usize>,
    },
    #[error("{origin}: {}: the id is already used by entry {first}; ids must be unique", label(*index, &Some(id.clone()), *line))]
    DuplicateId {
        origin: String,
        index: usize,
        id: String,
        first: usize,
        line: Option<usize>,
    },
    #[error("{origin}: {}: no answer; add answer.ko or answer.en", label(*index, &Some(id.clone()), *line))]
    NoAnswer {
        origin: String,
        index: usize,
        id: String,
        line: Option<usize>,
    },
    #[error("{origin}: {}: no example questions; add questions.ko or questions.en", label(*index, &Some(id.clone()), *line))]
    NoQuestions {
        origin: String,
        index: usize,
        id: String,
        line: Option<usize>,
    },
    #[error("{origin}: {}: unknown language `{key}` in `{field}`; use ko or en", label(*index, id, *line))]
    UnknownLang {
        origin: String,
        index: usize,
        id: Option<String>,
        field: String,
        key: String,
        line: Option<usize>,
    },
    #[error("{origin}: {}: {problem}", label(*index, id, *line))]
    BadEntry {
        origin: String,
        index: usize,
        id: Option<String>,
        problem: String,
        line: Option<usize>,
    },
}

fn label(index: usize, id: &Option<String>, line: Option<usize>) -> String {
    let mut s = format!("entry {index}");
    if let Some(id) = id {
        s.push_str(&format!(" (id \"{id}\")"));
    }
    if let Some(line) = line {
        s.push_str(&format!(" at line {line}"));
    }
    s
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    entry: Vec<toml::Spanned<toml::Table>>,
}

impl Faq {
    /// Reads the text of a FAQ file; `origin` names it in errors (usually the path). The
    /// pure constructor: the caller has the text already (`include_str!`, or the loader).
    pub fn from_toml(text: &str, origin: &str) -> Result<Faq, FaqError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| FaqError::Syntax {
            origin: origin.to_string(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or_default(),
            message: e.message().trim().to_string(),
        })?;
        let mut entries: Vec<FaqEntry> = Vec::with_capacity(raw.entry.len());
        for (i, spanned) in raw.entry.iter().enumerate() {
            let line = Some(line_of(text, spanned.span().start));
            let entry = read_entry(spanned.get_ref(), origin, i + 1, line)?;
            if let Some(first) = entries.iter().position(|e| e.id == entry.id) {
                return Err(FaqError::DuplicateId {
                    origin: origin.to_string(),
                    index: i + 1,
                    id: entry.id,
                    first: first + 1,
                    line,
                });
            }
            entries.push(entry);
        }
        Ok(Faq::from_entries(entries))
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    let end = byte.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn read_entry(
    table: &toml::Table,
    origin: &str,
    index: usize,
    line: Option<usize>,
) -> Result<FaqEntry, FaqError> {
    let id = match table.get("id") {
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(toml::Value::String(_)) | None => None,
        Some(other) => {
            return Err(FaqError::BadEntry {
                origin: origin.to_string(),
                index,
                id: None,
                problem: format!("`id` must be a string, not {}", other.type_str()),
                line,
            });
        }
    };
    let bad = |problem: String| FaqError::BadEntry {
        origin: origin.to_string(),
        index,
        id: id.clone(),
        problem,
        line,
    };
    for key in table.keys() {
        if !["id", "questions", "answer"].contains(&key.as_str()) {
            let hint = match key.as_str() {
                "answers" => " (did you mean `answer`?)",
                "question" => " (did you mean `questions`?)",
                _ => "",
            };
            return Err(bad(format!(
                "unknown key `{key}`{hint}; an entry has id, questions and answer"
            )));
        }
    }
    let lang_of = |field: &str, key: &str| -> Result<Lang, FaqError> {
        key.parse::<Lang>().map_err(|_| FaqError::UnknownLang {
            origin: origin.to_string(),
            index,
            id: id.clone(),
            field: field.to_string(),
            key: key.to_string(),
            line,
        })
    };

    let mut questions: BTreeMap<Lang, Vec<String>> = BTreeMap::new();
    match table.get("questions") {
        None => {}
        Some(toml::Value::Table(by_lang)) => {
            for (key, value) in by_lang {
                let lang = lang_of("questions", key)?;
                let list: Vec<String> = match value {
                    toml::Value::String(s) => vec![s.clone()],
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|v| match v {
                            toml::Value::String(s) => Ok(s.clone()),
                            other => Err(bad(format!(
                                "questions.{key} must be a list of strings, but holds {}",
                                other.type_str()
                            ))),
                        })
                        .collect::<Result<_, _>>()?,
                    other => {
                        return Err(bad(format!(
                            "questions.{key} must be a list of strings, not {}",
                            other.type_str()
                        )));
                    }
                };
                let list: Vec<String> = list
                    .into_iter()
                    .map(|q| q.trim().to_string())
                    .filter(|q| !q.is_empty())
                    .collect();
                if !list.is_empty() {
                    questions.insert(lang, list);
                }
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "`questions` must be a table like questions.ko = [\"…\"], not {}",
                other.type_str()
            )));
        }
    }

    let mut answers: BTreeMap<Lang, String> = BTreeMap::new();
    match table.get("answer") {
        None => {}
        Some(toml::Value::Table(by_lang)) => {
            for (key, value) in by_lang {
                let lang = lang_of("answer", key)?;
                match value {
                    toml::Value::String(s) if !s.trim().is_empty() => {
                        answers.insert(lang, s.trim().to_string());
                    }
                    toml::Value::String(_) => {}
                    other => {
                        return Err(bad(format!(
                            "answer.{key} must be a string, not {}",
                            other.type_str()
                        )));
                    }
                }
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "`answer` must be a table like answer.ko = \"…\", not {}",
                other.type_str()
            )));
        }
    }

    let Some(id) = id else {
        return Err(FaqError::MissingId {
            origin: origin.to_string(),
            index,
            line,
        });
    };
    if answers.is_empty() {
        return Err(FaqError::NoAnswer {
            origin: origin.to_string(),
            index,
            id,
            line,
        });
    }
    if questions.is_empty() {
        return Err(FaqError::NoQuestions {
            origin: origin.to_string(),
            index,
            id,
            line,
        });
    }
    Ok(FaqEntry {
        id,
        questions,
        answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_string_is_accepted_as_one_example_question() {
        let faq = Faq::from_toml(
            "[[entry]]\nid = \"a\"\nquestions.ko = \"환불 되나요\"\nanswer.ko = \"네\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            faq.entries()[0].questions[&Lang::Ko],
            vec!["환불 되나요".to_string()]
        );
    }

    fn error_of(text: &str) -> String {
        match Faq::from_toml(text, "shop/faq.toml") {
            Ok(_) => panic!("expected an error for {text:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bad_toml_is_reported_with_the_file_and_line() {
        let msg = error_of("[[entry]]\nid = \"a\"\nanswer.ko = \"unclosed\n");
        assert!(msg.starts_with("shop/faq.toml: line 3:"), "{msg}");
    }

    #[test]
    fn a_missing_id_names_the_entry_by_position() {
        let msg = error_of(
            "[[entry]]\nid = \"a\"\nquestions.ko = [\"가\"]\nanswer.ko = \"x\"\n\n[[entry]]\nquestions.ko = [\"나\"]\nanswer.ko = \"y\"\n",
        );
        assert!(msg.contains("shop/faq.toml"), "{msg}");
        assert!(msg.contains("entry 2 at line 6"), "{msg}");
        assert!(msg.contains("no `id`"), "{msg}");
    }

    #[test]
    fn a_duplicate_id_names_both_entries() {
        let msg = error_of(
            "[[entry]]\nid = \"a\"\nquestions.ko = [\"가\"]\nanswer.ko = \"x\"\n[[entry]]\nid = \"a\"\nquestions.ko = [\"나\"]\nanswer.ko = \"y\"\n",
        );
        assert!(msg.contains("shop/faq.toml: entry 2 (id \"a\")"), "{msg}");
        assert!(msg.contains("already used by entry 1"), "{msg}");
    }

    #[test]
    fn an_entry_without_any_answer_is_an_error() {
        let msg =
            error_of("[[entry]]\nid = \"refund\"\nquestions.ko = [\"환불\"]\nanswer.ko = \"  \"\n");
        assert!(
            msg.contains("shop/faq.toml: entry 1 (id \"refund\")"),
            "{msg}"
        );
        assert!(msg.contains("no answer"), "{msg}");
    }

    #[test]
    fn an_entry_without_example_questions_is_an_error() {
        let msg = error_of("[[entry]]\nid = \"refund\"\nanswer.ko = \"네\"\n");
        assert!(msg.contains("entry 1 (id \"refund\")"), "{msg}");
        assert!(msg.contains("no example questions"), "{msg}");
    }

    #[test]
    fn an_unknown_language_key_is_an_error() {
        let msg = error_of(
            "[[entry]]\nid = \"a\"\nquestions.ko = [\"가\"]\nanswer.ko = \"x\"\nanswer.jp = \"y\"\n",
        );
        assert!(msg.contains("entry 1 (id \"a\")"), "{msg}");
        assert!(msg.contains("unknown language `jp` in `answer`"), "{msg}");
        let msg = error_of("[[entry]]\nid = \"a\"\nquestions.fr = [\"x\"]\nanswer.ko = \"x\"\n");
        assert!(
            msg.contains("unknown language `fr` in `questions`"),
            "{msg}"
        );
    }

    #[test]
    fn a_misspelt_key_is_an_error_with_a_hint() {
        let msg = error_of("[[entry]]\nid = \"a\"\nquestions.ko = [\"가\"]\nanswers.ko = \"x\"\n");
        assert!(
            msg.contains("unknown key `answers` (did you mean `answer`?)"),
            "{msg}"
        );
        let msg = error_of("[entries]\nid = \"a\"\n");
        assert!(msg.starts_with("shop/faq.toml: line 1:"), "{msg}");
        assert!(msg.contains("entries"), "{msg}");
    }

    #[test]
    fn wrong_value_types_are_errors() {
        let msg = error_of("[[entry]]\nid = 3\n");
        assert!(msg.contains("`id` must be a string"), "{msg}");
        let msg = error_of("[[entry]]\nid = \"a\"\nquestions.ko = [1]\nanswer.ko = \"x\"\n");
        assert!(
            msg.contains("questions.ko must be a list of strings"),
            "{msg}"
        );
    }
}
