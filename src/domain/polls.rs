//! Community polls (`/poll`, `/pollclose`, CONTRACT §4) as plain rules: what a staff member
//! may ask, the data a vote button carries, and how votes add up. No I/O.
//!
//! The bounds are Telegram's for a native poll (a question of 1–300 characters, options of
//! 1–100, no two alike), with the contract's 2–10 options, so a poll accepted here is one every
//! platform can show.

/// Fewest and most options a poll may have (CONTRACT §4).
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 10;
/// Longest question and option, in characters as Telegram counts them (UTF-16 code units).
pub const MAX_QUESTION_CHARS: usize = 300;
pub const MAX_OPTION_CHARS: usize = 100;

/// Callback data of a vote button: `poll:<poll>:<option index>` (Discord's `custom_id`).
const VOTE_PREFIX: &str = "poll:";

/// A poll as staff asked it: `/poll question | option | option …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollQuestion {
    pub question: String,
    pub options: Vec<String>,
}

/// What is wrong with a `/poll`, so the staff chat can say it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollInputError {
    #[error("a poll is `/poll question | option | option …`")]
    Usage,
    #[error("the question is empty")]
    EmptyQuestion,
    #[error("option {0} is empty")]
    EmptyOption(usize),
    #[error("a poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options, not {0}")]
    OptionCount(usize),
    #[error("the question is {0} characters long; at most {MAX_QUESTION_CHARS}")]
    QuestionTooLong(usize),
    #[error("option {number} is {length} characters long; at most {MAX_OPTION_CHARS}")]
    OptionTooLong { number: usize, length: usize },
    #[error("option {0} appears twice")]
    DuplicateOption(usize),
}

/// Characters as Telegram counts them.
fn telegram_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Reads `question | option | option …`: parts separated by `|`, each trimmed. Options are
/// numbered from 1 in the errors, as staff read them.
pub fn parse_poll(args: &str) -> Result<PollQuestion, PollInputError> {
    let mut parts = args.split('|').map(str::trim);
    let question = parts.next().unwrap_or_default().to_string();
    let options: Vec<String> = parts.map(str::to_string).collect();
    if options.is_empty() {
        return Err(if question.is_empty() {
            PollInputError::Usage
        } else {
            PollInputError::OptionCount(0)
        });
    }
    if question.is_empty() {
        return Err(PollInputError::EmptyQuestion);
    }
    if let Some(index) = options.iter().position(String::is_empty) {
        return Err(PollInputError::EmptyOption(index + 1));
    }
    if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&options.len()) {
        return Err(PollInputError::OptionCount(options.len()));
    }
    let length = telegram_length(&question);
    if length > MAX_QUESTION_CHARS {
        return Err(PollInputError::QuestionTooLong(length));
    }
    for (index, option) in options.iter().enumerate() {
        let length = telegram_length(option);
        if length > MAX_OPTION_CHARS {
            return Err(PollInputError::OptionTooLong {
                number: index + 1,
                length,
            });
        }
        if options[..index].contains(option) {
            return Err(PollInputError::DuplicateOption(index + 1));
        }
    }
    Ok(PollQuestion { question, options })
}

/// `/pollclose 3` or `/pollclose #3`.
pub fn parse_poll_number(args: &str) -> Option<i64> {
    args.split_whitespace()
        .next()?
        .trim_start_matches('#')
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

/// A press of a vote button: which poll, which option (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteButton {
    pub poll: i64,
    pub option: usize,
}

impl VoteButton {
    /// The button's data, well under Discord's 100 and Telegram's 64 bytes.
    pub fn data(self) -> String {
        format!("{VOTE_PREFIX}{}:{}", self.poll, self.option)
    }

    /// Whether button data is meant as a vote (well formed or not).
    pub fn is_vote(data: &str) -> bool {
        data.starts_with(VOTE_PREFIX)
    }

    /// `None` for data that is not a vote button's (forged data does nothing).
    pub fn parse(data: &str) -> Option<VoteButton> {
        let (poll, option) = data.strip_prefix(VOTE_PREFIX)?.split_once(':')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(poll) || !digits(option) {
            return None;
        }
        Some(VoteButton {
            poll: poll.parse().ok()?,
            option: option.parse().ok()?,
        })
    }
}

/// One option of a result: its votes and share of all votes, in whole percent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionResult {
    pub option: String,
    pub votes: i64,
    pub percent: i64,
}

/// Each option with its votes (`votes[i]` for option `i`; missing ones are 0), in the poll's
/// order, and the total.
pub fn results(options: &[String], votes: &[i64]) -> (Vec<OptionResult>, i64) {
    let total: i64 = votes.iter().sum();
    let rows = options
        .iter()
        .enumerate()
        .map(|(i, option)| {
            let votes = votes.get(i).copied().unwrap_or(0);
            let percent = if total > 0 {
                // Rounded half up, in integers.
                (votes * 200 + total) / (2 * total)
            } else {
                0
            };
            OptionResult {
                option: option.clone(),
                votes,
                percent,
            }
        })
        .collect();
    (rows, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_reads_its_question_and_options_in_order() {
        assert_eq!(
            parse_poll(" 다음 라이브 주제는? | 겨울 코트 |니트| 부츠 "),
            Ok(PollQuestion {
                question: "다음 라이브 주제는?".into(),
                options: vec!["겨울 코트".into(), "니트".into(), "부츠".into()],
            })
        );
    }

    #[test]
    fn bad_polls_say_what_is_wrong() {
        assert_eq!(parse_poll(""), Err(PollInputError::Usage));
        assert_eq!(parse_poll("질문만"), Err(PollInputError::OptionCount(0)));
        assert_eq!(
            parse_poll("질문 | 하나"),
            Err(PollInputError::OptionCount(1))
        );
        assert_eq!(parse_poll(" | a | b"), Err(PollInputError::EmptyQuestion));
        assert_eq!(
            parse_poll("q | a | | b"),
            Err(PollInputError::EmptyOption(2))
        );
        let eleven: String = (1..=11).map(|n| format!(" | {n}")).collect();
        assert_eq!(
            parse_poll(&format!("q{eleven}")),
            Err(PollInputError::OptionCount(11))
        );
        assert_eq!(
            parse_poll("q | a | a"),
            Err(PollInputError::DuplicateOption(2))
        );
    }

    #[test]
    fn the_bounds_are_telegrams_counted_as_telegram_counts() {
        let ten: String = (1..=10).map(|n| format!(" | {n}")).collect();
        assert!(parse_poll(&format!("q{ten}")).is_ok());
        let question = "가".repeat(MAX_QUESTION_CHARS);
        assert!(parse_poll(&format!("{question} | a | b")).is_ok());
        assert_eq!(
            parse_poll(&format!("{question}가 | a | b")),
            Err(PollInputError::QuestionTooLong(301))
        );
        // An emoji outside the BMP is two characters to Telegram.
        let option = format!("{}😀", "a".repeat(MAX_OPTION_CHARS - 1));
        assert_eq!(
            parse_poll(&format!("q | a | {option}")),
            Err(PollInputError::OptionTooLong {
                number: 2,
                length: 101
            })
        );
    }

    #[test]
    fn a_poll_number_may_carry_its_hash() {
        assert_eq!(parse_poll_number("#3"), Some(3));
        assert_eq!(parse_poll_number(" 12 extra"), Some(12));
        assert_eq!(parse_poll_number("0"), None);
        assert_eq!(parse_poll_number("three"), None);
        assert_eq!(parse_poll_number(""), None);
    }

    #[test]
    fn vote_buttons_round_trip_and_forged_data_is_not_a_vote() {
        let vote = VoteButton { poll: 3, option: 1 };
        assert_eq!(vote.data(), "poll:3:1");
        assert_eq!(VoteButton::parse(&vote.data()), Some(vote));
        for forged in [
            "poll:3",
            "poll:x:1",
            "poll:3:-1",
            "poll::1",
            "poll:3:1:2",
            "rate:1:5",
        ] {
            assert_eq!(VoteButton::parse(forged), None, "{forged}");
        }
        assert!(VoteButton::is_vote("poll:x"));
        assert!(!VoteButton::is_vote("rate:1:5"));
    }

    #[test]
    fn results_give_every_option_its_votes_and_share() {
        let options: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let (rows, total) = results(&options, &[2, 1]);
        assert_eq!(total, 3);
        let shown: Vec<(i64, i64)> = rows.iter().map(|r| (r.votes, r.percent)).collect();
        assert_eq!(shown, vec![(2, 67), (1, 33), (0, 0)]);
        let (rows, total) = results(&options, &[]);
        assert_eq!((total, rows[0].percent), (0, 0));
    }
}
