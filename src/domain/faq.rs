//! TEMPORARY stand-in until the FAQ matcher lands (being written now): matches nothing.
use crate::domain::lang::Lang;

#[derive(Debug, Clone, PartialEq)]
pub struct FaqMatch {
    pub entry_id: String,
    pub answer: String,
    pub score: f64,
}

#[derive(Debug, thiserror::Error)]
#[error("faq: {0}")]
pub struct FaqError(String);

#[derive(Debug, Default)]
pub struct Faq;

impl Faq {
    pub fn empty() -> Faq {
        Faq
    }
    pub fn load(_path: &std::path::Path) -> Result<Faq, FaqError> {
        Ok(Faq)
    }
    pub fn best_match(&self, _question: &str, _lang: Lang) -> Option<FaqMatch> {
        None
    }
}
