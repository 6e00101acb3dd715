//! TEMPORARY stand-in until the detector lands (being written now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonRequest {
    Clear,
    Maybe,
    No,
}

pub fn person_request(text: &str) -> PersonRequest {
    if text.contains("상담원") {
        PersonRequest::Clear
    } else {
        PersonRequest::No
    }
}
