//! Per-platform escaping and splitting of a rendered plain text.
//!
//! Owns what each platform's markup makes special (Telegram's HTML `parse_mode`, Discord's
//! Markdown and mentions) and each platform's length limit. It never renders a message and
//! never decides what to send: it takes plain text and returns parts that are safe to send as
//! they are, so a viewer's name like `<b>` or `@everyone` arrives as written.

use std::borrow::Cow;

/// How a platform reads the text of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Markup {
    /// Telegram with `parse_mode` HTML.
    TelegramHtml,
    /// Discord message content (Markdown, mentions).
    DiscordMarkdown,
    /// No markup: logs, the command line, tests.
    Plain,
}

impl Markup {
    /// The longest text one message may carry, in UTF-16 code units (see [`prepare`]).
    pub fn max_len(self) -> usize {
        match self {
            Markup::TelegramHtml => 4096,
            Markup::DiscordMarkdown => 2000,
            Markup::Plain => usize::MAX,
        }
    }

    /// The longest caption a photo may carry (Telegram: 1024 characters; on Discord the
    /// photo's URL shares the 2,000 characters with the text).
    pub fn max_caption_len(self) -> usize {
        match self {
            Markup::TelegramHtml => 1024,
            Markup::DiscordMarkdown => 1500,
            Markup::Plain => usize::MAX,
        }
    }
}

/// Escapes `text` so the platform shows it literally.
///
/// - Telegram HTML: `&`, `<`, `>` become entities (`"` needs nothing outside attributes).
/// - Discord: a backslash before `\ * _ ~ ` | < > [ ]` anywhere and before `#` or `-` that
///   starts a line (headings, lists); a zero-width space after the `@` of `@everyone` and
///   `@here` so they never ping. Bare `http(s)://` links are left as they are, because Discord
///   links them before reading escapes and a backslash would end up in the address.
/// - Plain: unchanged.
pub fn escape(text: &str, markup: Markup) -> String {
    atoms(text, markup).into_iter().map(|a| a.text).collect()
}

/// Escapes `text` and splits it into messages for the platform.
///
/// 1. Each part is at most [`Markup::max_len`] long, counted in UTF-16 code units as Telegram
///    counts; Discord counts fewer or the same, so the count is safe for both. Escapes count
///    at their escaped length (Telegram counts `&amp;` as one character: we stay on the safe
///    side).
/// 2. Parts are cut at line breaks, and the cut line break is dropped, so
///    `parts.join("\n") == escape(text)` whenever no single line is too long.
/// 3. A line longer than the limit is cut between characters, at the last space of the
///    second half of the chunk when there is one (the space stays at the end of the earlier
///    part); an entity, an escape or a surrogate pair is never cut.
/// 4. No part is empty or only whitespace (platforms refuse those): an empty text gives no
///    parts.
pub fn prepare(text: &str, markup: Markup) -> Vec<String> {
    let max = markup.max_len();
    let atoms = atoms(text, markup);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    let mut has_line = false;

    for line in atoms.split(|a| a.text == "\n") {
        let line_len: usize = line.iter().map(|a| a.len).sum();
        if line_len > max {
            flush(&mut parts, &mut current, &mut current_len, &mut has_line);
            parts.extend(split_long_line(line, max));
            continue;
        }
        let needed = if has_line {
            current_len + 1 + line_len
        } else {
            line_len
        };
        if needed > max {
            flush(&mut parts, &mut current, &mut current_len, &mut has_line);
        } else if has_line {
            current.push('\n');
            current_len += 1;
        }
        current.extend(line.iter().map(|a| a.text.as_ref()));
        current_len += line_len;
        has_line = true;
    }
    flush(&mut parts, &mut current, &mut current_len, &mut has_line);
    parts.retain(|p| !p.trim().is_empty());
    parts
}

/// The smallest piece of escaped text that may not be cut: one source character with its
/// escape (`&amp;`, `\*`, `@` + zero-width space).
struct Atom<'a> {
    text: Cow<'a, str>,
    /// UTF-16 code units.
    len: usize,
}

impl<'a> Atom<'a> {
    fn new(text: Cow<'a, str>) -> Self {
        let len = text.encode_utf16().count();
        Atom { text, len }
    }
}

fn atoms(text: &str, markup: Markup) -> Vec<Atom<'_>> {
    let mut atoms = Vec::with_capacity(text.len());
    let mut at_line_start = true;
    let mut url_end = 0; // byte offset up to which Discord escaping is suspended
    for (i, c) in text.char_indices() {
        let raw = &text[i..i + c.len_utf8()];
        let escaped: Cow<'_, str> = match markup {
            Markup::Plain => raw.into(),
            Markup::TelegramHtml => match c {
                '&' => "&amp;".into(),
                '<' => "&lt;".into(),
                '>' => "&gt;".into(),
                _ => raw.into(),
            },
            Markup::DiscordMarkdown => {
                let rest = &text[i..];
                if i >= url_end && (rest.starts_with("https://") || rest.starts_with("http://")) {
                    url_end = i + rest.find(char::is_whitespace).unwrap_or(rest.len());
                }
                if i < url_end {
                    raw.into()
                } else {
                    match c {
                        '\\' | '*' | '_' | '~' | '`' | '|' | '<' | '>' | '[' | ']' => {
                            format!("\\{c}").into()
                        }
                        '#' | '-' if at_line_start => format!("\\{c}").into(),
                        '@' if rest[1..].starts_with("everyone")
                            || rest[1..].starts_with("here") =>
                        {
                            "@\u{200B}".into()
                        }
                        _ => raw.into(),
                    }
                }
            }
        };
        at_line_start = c == '\n' || (at_line_start && (c == ' ' || c == '\t'));
        atoms.push(Atom::new(escaped));
    }
    atoms
}

fn flush(parts: &mut Vec<String>, current: &mut String, len: &mut usize, has_line: &mut bool) {
    if *has_line {
        parts.push(std::mem::take(current));
    }
    *len = 0;
    *has_line = false;
}

/// Cuts one line that is longer than `max` into chunks of at most `max` units.
fn split_long_line(line: &[Atom<'_>], max: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        // The longest prefix that fits; at least one atom, as an atom is never longer than 6
        // units and every limit is far longer.
        let mut len = 0;
        let mut fit = 0;
        for atom in rest {
            if len + atom.len > max {
                break;
            }
            len += atom.len;
            fit += 1;
        }
        let fit = fit.max(1);
        let cut = if fit == rest.len() {
            fit
        } else {
            // Prefer a space in the second half, so no chunk becomes tiny.
            rest[fit / 2..fit]
                .iter()
                .rposition(|a| a.text == " ")
                .map_or(fit, |p| fit / 2 + p + 1)
        };
        chunks.push(rest[..cut].iter().map(|a| a.text.as_ref()).collect());
        rest = &rest[cut..];
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16_len(s: &str) -> usize {
        s.encode_utf16().count()
    }

    #[test]
    fn a_name_with_markup_arrives_as_written_on_telegram() {
        assert_eq!(
            prepare("<b>&_*[", Markup::TelegramHtml),
            vec!["&lt;b&gt;&amp;_*[".to_string()]
        );
        assert_eq!(escape("\"민수\"", Markup::TelegramHtml), "\"민수\"");
    }

    #[test]
    fn a_name_with_markdown_arrives_as_written_on_discord() {
        let parts = prepare("<b>&_*[", Markup::DiscordMarkdown);
        assert_eq!(parts, vec![r"\<b\>&\_\*\[".to_string()]);
        assert_eq!(
            escape(r"a\b ~~s~~ `c` ||x|| > q", Markup::DiscordMarkdown),
            r"a\\b \~\~s\~\~ \`c\` \|\|x\|\| \> q"
        );
    }

    #[test]
    fn discord_headings_and_lists_are_escaped_only_at_a_line_start() {
        assert_eq!(
            escape("# 제목\n  - 항목\n1-2 #3", Markup::DiscordMarkdown),
            "\\# 제목\n  \\- 항목\n1-2 #3"
        );
    }

    #[test]
    fn everyone_and_here_never_ping_on_discord() {
        let escaped = escape("@everyone @here mail@example.com", Markup::DiscordMarkdown);
        assert_eq!(escaped, "@\u{200B}everyone @\u{200B}here mail@example.com");
        assert!(!escaped.contains("@everyone"));
        assert_eq!(escape("<@123>", Markup::DiscordMarkdown), r"\<@123\>");
    }

    #[test]
    fn links_stay_clickable_on_discord() {
        assert_eq!(
            escape(
                "배송 조회: https://t.example/a_b*c 에서 _확인_",
                Markup::DiscordMarkdown
            ),
            r"배송 조회: https://t.example/a_b*c 에서 \_확인\_"
        );
    }

    #[test]
    fn plain_text_is_left_alone() {
        let text = "<b>&_*[ @everyone\n# x";
        assert_eq!(escape(text, Markup::Plain), text);
        assert_eq!(prepare(text, Markup::Plain), vec![text.to_string()]);
    }

    #[test]
    fn limits_are_the_platforms_limits() {
        assert_eq!(Markup::TelegramHtml.max_len(), 4096);
        assert_eq!(Markup::DiscordMarkdown.max_len(), 2000);
        assert_eq!(Markup::Plain.max_len(), usize::MAX);
    }

    #[test]
    fn a_long_text_is_split_at_line_boundaries() {
        let line = format!("{}&<>", "a".repeat(97));
        let text = vec![line; 100].join("\n");
        assert_eq!(text.chars().count(), 10_099);
        for markup in [Markup::TelegramHtml, Markup::DiscordMarkdown] {
            let parts = prepare(&text, markup);
            assert!(parts.len() > 1);
            for part in &parts {
                assert!(utf16_len(part) <= markup.max_len(), "{markup:?}");
                assert!(!part.starts_with('\n') && !part.ends_with('\n'));
            }
            assert_eq!(parts.join("\n"), escape(&text, markup));
        }
    }

    #[test]
    fn a_single_long_line_never_cuts_an_entity_or_a_surrogate_pair() {
        // 5,000 characters: ampersands and emoji at every offset a cut could land on.
        let text: String = "a&😀".repeat(1_667)[..].chars().take(5_000).collect();
        let parts = prepare(&text, Markup::TelegramHtml);
        assert!(parts.len() >= 2);
        for part in &parts {
            assert!(utf16_len(part) <= 4096);
            // Every `&` in a part starts a whole entity.
            assert_eq!(part.matches('&').count(), part.matches("&amp;").count());
        }
        assert_eq!(parts.concat(), escape(&text, Markup::TelegramHtml));
    }

    #[test]
    fn a_long_line_is_cut_at_a_space_when_there_is_one() {
        let text = "단어 ".repeat(1_000); // 3,000 units
        let parts = prepare(&text, Markup::DiscordMarkdown);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].ends_with(' '));
        assert!(parts[1].starts_with('단'));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn hangul_counts_one_unit_per_syllable_and_emoji_two() {
        let hangul = "가".repeat(5_000);
        let parts = prepare(&hangul, Markup::TelegramHtml);
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            vec![4096, 904]
        );
        let emoji = "😀".repeat(2_100);
        let parts = prepare(&emoji, Markup::DiscordMarkdown);
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            vec![1000, 1000, 100]
        );
    }

    #[test]
    fn no_part_is_empty() {
        assert!(prepare("", Markup::TelegramHtml).is_empty());
        assert!(prepare("\n\n  \n", Markup::TelegramHtml).is_empty());
        let text = format!("{}\n\n\n{}", "a".repeat(4096), "b".repeat(10));
        let parts = prepare(&text, Markup::TelegramHtml);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| !p.trim().is_empty()));
    }
}
