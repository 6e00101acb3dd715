//! Texts: the Fluent catalog (`locales/<lang>/*.ftl`, embedded at build time by `build.rs`)
//! and the rendering of one message id with its arguments into plain text.
//!
//! - `mod.rs` owns loading and checking the catalog and rendering: numbers with thousands
//!   separators (39,000), no Unicode isolation marks, and the Fluent function
//!   `JOSA(word, "이/가")` that writes only the particle.
//! - `ftl_source.rs` reads what the Fluent parser does not list from an `.ftl` text: its
//!   message and term ids, and the `JOSA(…)` calls to check at load.
//! - `josa.rs` owns Korean particles: which sound a word ends in.
//! - `markup.rs` owns per-platform escaping and splitting.
//!
//! This module never decides what to send, to whom or when; it only turns ids and args into
//! text. It never hard-codes a viewer-facing sentence (they live in `.ftl` files) and never
//! returns a half-rendered text: a missing message, argument or bad call is an error.

mod ftl_source;
pub mod josa;
pub mod markup;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::types::FluentNumber;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::{LanguageIdentifier, langid};

use crate::domain::lang::Lang;

use ftl_source::{check_josa_calls, entries};
pub use markup::{Markup, escape, prepare};

// `static LOCALE_FILES: &[(lang code, file name, contents)]`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// A value for a placeable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Str(String),
    /// Written with thousands separators: 39000 → `39,000`.
    Num(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Str(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Str(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Str(s.clone())
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Num(n)
    }
}

impl From<i32> for Arg {
    fn from(n: i32) -> Self {
        Arg::Num(n.into())
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Self {
        Arg::Num(n.into())
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        // No count we write comes near i64::MAX; saturate rather than wrap if one ever did.
        Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// What can go wrong with texts. Load errors name the file and the message to fix.
#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("locales/{lang}/{file}, line {line}: {detail} (in `{near}`)")]
    Syntax {
        lang: Lang,
        file: String,
        line: usize,
        detail: String,
        near: String,
    },
    #[error("locales/{lang}/{file}: `{id}` is defined twice in {lang}")]
    Duplicate {
        lang: Lang,
        file: String,
        id: String,
    },
    #[error(
        "locales/{lang}/{file}: message `{id}` has no {missing} text; add it to locales/{missing}/"
    )]
    MissingTranslation {
        lang: Lang,
        file: String,
        id: String,
        missing: Lang,
    },
    #[error(
        "locales/{lang}/{file}: message `{id}` has attribute `.{attribute}` but its {missing} text does not"
    )]
    MissingAttribute {
        lang: Lang,
        file: String,
        id: String,
        attribute: String,
        missing: Lang,
    },
    #[error("locales/{lang}/{file}: message `{id}`: {detail}")]
    BadJosa {
        lang: Lang,
        file: String,
        id: String,
        detail: String,
    },
    #[error("locales/{lang}/{file}: {detail}")]
    Rejected {
        lang: Lang,
        file: String,
        detail: String,
    },
    #[error("locales/{code}/{file}: `{code}` is not a language encore writes in (ko, en)")]
    UnknownLanguage { code: String, file: String },
    #[error("no {lang} texts: locales/{lang}/ has no .ftl file")]
    NoTexts { lang: Lang },
    #[error("no {lang} text for `{id}`")]
    UnknownMessage { lang: Lang, id: String },
    #[error("{lang} text `{id}` could not be rendered: {detail}")]
    Render {
        lang: Lang,
        id: String,
        detail: String,
    },
}

/// The texts of every language, ready to render. `Send + Sync`: share it in an `Arc`.
pub struct Texts {
    catalogs: HashMap<Lang, Catalog>,
}

struct Catalog {
    bundle: FluentBundle<FluentResource>,
    /// Message id → the file that defines it, to name the file in errors.
    files: BTreeMap<String, String>,
    /// Term id (`-shop`) → its file, only to refuse a term defined twice.
    terms: BTreeMap<String, String>,
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Texts");
        for lang in Lang::ALL {
            if let Some(c) = self.catalogs.get(&lang) {
                d.field(lang.code(), &c.files.len());
            }
        }
        d.finish()
    }
}

impl Texts {
    /// Parses the locale files embedded at build time.
    ///
    /// Fails, naming file and message, on a syntax error, a message defined twice, a message
    /// (or attribute) present in one language but not another, a `JOSA` call with an
    /// unsupported form, or a language folder encore does not write in.
    pub fn load() -> Result<Texts, I18nError> {
        Texts::from_files(LOCALE_FILES)
    }

    /// Like [`Texts::load`], from `(lang code, file name, contents)` triples.
    pub fn from_files(files: &[(&str, &str, &str)]) -> Result<Texts, I18nError> {
        let mut catalogs = HashMap::new();
        for lang in Lang::ALL {
            catalogs.insert(lang, Catalog::new(lang)?);
        }
        for &(code, file, source) in files {
            let lang = code
                .parse::<Lang>()
                .map_err(|_| I18nError::UnknownLanguage {
                    code: code.to_string(),
                    file: file.to_string(),
                })?;
            if let Some(catalog) = catalogs.get_mut(&lang) {
                catalog.add_file(lang, file, source)?;
            }
        }
        let texts = Texts { catalogs };
        texts.check_languages_match()?;
        Ok(texts)
    }

    /// Renders message `id` (or `id.attribute`) in `lang` as plain text, not escaped.
    pub fn render(&self, lang: Lang, id: &str, args: &[(&str, Arg)]) -> Result<String, I18nError> {
        let unknown = || I18nError::UnknownMessage {
            lang,
            id: id.to_string(),
        };
        let catalog = self.catalogs.get(&lang).ok_or_else(unknown)?;
        let (message_id, attribute) = match id.split_once('.') {
            Some((m, a)) => (m, Some(a)),
            None => (id, None),
        };
        let message = catalog.bundle.get_message(message_id).ok_or_else(unknown)?;
        let pattern = match attribute {
            Some(a) => message.get_attribute(a).map(|a| a.value()),
            None => message.value(),
        }
        .ok_or_else(unknown)?;

        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            match value {
                Arg::Str(s) => fluent_args.set(*name, s.as_str()),
                // Fluent keeps numbers as f64: exact for every amount below 2^53.
                Arg::Num(n) => fluent_args.set(*name, FluentNumber::from(*n)),
            }
        }

        let mut errors = Vec::new();
        FUNCTION_FAILED.with(|f| f.set(None));
        let text = catalog
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned();
        let failed = FUNCTION_FAILED.with(Cell::take);
        let detail = errors
            .first()
            .map(ToString::to_string)
            .or(failed.map(|f| format!("{f}() was given arguments it cannot use")));
        match detail {
            Some(detail) => Err(I18nError::Render {
                lang,
                id: id.to_string(),
                detail,
            }),
            None => Ok(text),
        }
    }

    /// Whether `id` (or `id.attribute`) has a text in `lang`.
    pub fn has(&self, lang: Lang, id: &str) -> bool {
        let Some(catalog) = self.catalogs.get(&lang) else {
            return false;
        };
        let (message_id, attribute) = match id.split_once('.') {
            Some((m, a)) => (m, Some(a)),
            None => (id, None),
        };
        catalog
            .bundle
            .get_message(message_id)
            .is_some_and(|m| match attribute {
                Some(a) => m.get_attribute(a).is_some(),
                None => m.value().is_some(),
            })
    }

    /// Every message id defined in `lang`, sorted (attributes not listed).
    pub fn ids(&self, lang: Lang) -> Vec<String> {
        self.catalogs
            .get(&lang)
            .map(|c| c.files.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Korean first: every language must define exactly the same messages and attributes.
    fn check_languages_match(&self) -> Result<(), I18nError> {
        for lang in Lang::ALL {
            let Some(catalog) = self.catalogs.get(&lang) else {
                continue;
            };
            if catalog.files.is_empty() {
                return Err(I18nError::NoTexts { lang });
            }
            for other in Lang::ALL.into_iter().filter(|&o| o != lang) {
                let Some(other_catalog) = self.catalogs.get(&other) else {
                    continue;
                };
                for (id, file) in &catalog.files {
                    let Some(message) = catalog.bundle.get_message(id) else {
                        continue;
                    };
                    let Some(other_message) = other_catalog.bundle.get_message(id) else {
                        return Err(I18nError::MissingTranslation {
                            lang,
                            file: file.clone(),
                            id: id.clone(),
                            missing: other,
                        });
                    };
                    let other_attributes: BTreeSet<&str> =
                        other_message.attributes().map(|a| a.id()).collect();
                    if let Some(attribute) = message
                        .attributes()
                        .map(|a| a.id())
                        .find(|a| !other_attributes.contains(a))
                    {
                        return Err(I18nError::MissingAttribute {
                            lang,
                            file: file.clone(),
                            id: id.clone(),
                            attribute: attribute.to_string(),
                            missing: other,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

impl Catalog {
    fn new(lang: Lang) -> Result<Catalog, I18nError> {
        let langid: LanguageIdentifier = match lang {
            Lang::Ko => langid!("ko"),
            Lang::En => langid!("en"),
        };
        let mut bundle = FluentBundle::new_concurrent(vec![langid]);
        // Isolation marks (U+2068/U+2069) would show up in chat apps and break copy-paste.
        bundle.set_use_isolating(false);
        bundle.set_formatter(Some(format_number));
        let register = |bundle: &mut FluentBundle<FluentResource>, name: &str, f: FluentFn| {
            bundle
                .add_function(name, f)
                .map_err(|e| I18nError::Rejected {
                    lang,
                    file: "(functions)".to_string(),
                    detail: e.to_string(),
                })
        };
        register(&mut bundle, "JOSA", josa_function)?;
        register(&mut bundle, "NUMBER", number_function)?;
        Ok(Catalog {
            bundle,
            files: BTreeMap::new(),
            terms: BTreeMap::new(),
        })
    }

    fn add_file(&mut self, lang: Lang, file: &str, source: &str) -> Result<(), I18nError> {
        let resource = FluentResource::try_new(source.to_string()).map_err(|(_, errors)| {
            let first = errors.iter().min_by_key(|e| e.pos.start);
            let start = first.map_or(0, |e| e.pos.start);
            let near_start = first
                .and_then(|e| e.slice.as_ref())
                .map_or(start, |s| s.start);
            I18nError::Syntax {
                lang,
                file: file.to_string(),
                line: source[..start.min(source.len())].matches('\n').count() + 1,
                detail: first.map_or_else(|| "syntax error".to_string(), ToString::to_string),
                near: source
                    .get(near_start..)
                    .and_then(|s| s.lines().find(|l| !l.trim().is_empty()))
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            }
        })?;

        for entry in entries(source) {
            check_josa_calls(entry.text).map_err(|detail| I18nError::BadJosa {
                lang,
                file: file.to_string(),
                id: entry.id.to_string(),
                detail,
            })?;
            // Terms (`-shop`) are private to a language, so only messages are listed.
            let seen = if entry.id.starts_with('-') {
                &mut self.terms
            } else {
                &mut self.files
            };
            if seen
                .insert(entry.id.to_string(), file.to_string())
                .is_some()
            {
                return Err(I18nError::Duplicate {
                    lang,
                    file: file.to_string(),
                    id: entry.id.to_string(),
                });
            }
        }

        // Duplicates were refused above, so this only fails if the two readings disagree.
        self.bundle
            .add_resource(resource)
            .map_err(|errors| I18nError::Rejected {
                lang,
                file: file.to_string(),
                detail: errors.first().map(ToString::to_string).unwrap_or_default(),
            })
    }
}

type FluentFn = for<'a> fn(&[FluentValue<'a>], &FluentArgs) -> FluentValue<'a>;

thread_local! {
    // Fluent writes `FUNC()` and records no error when a function returns an error value;
    // render reads this flag so such a text is refused instead of sent. Rendering is
    // synchronous, so the flag never crosses threads or renders.
    static FUNCTION_FAILED: Cell<Option<&'static str>> = const { Cell::new(None) };
}

fn function_failed(name: &'static str) -> FluentValue<'static> {
    FUNCTION_FAILED.with(|f| f.set(Some(name)));
    FluentValue::Error
}

/// `JOSA(word, "이/가")`: only the particle that follows `word` (see [`josa`]).
fn josa_function<'a>(positional: &[FluentValue<'a>], named: &FluentArgs) -> FluentValue<'a> {
    let [word, FluentValue::String(form)] = positional else {
        return function_failed("JOSA");
    };
    if named.iter().next().is_some() {
        return function_failed("JOSA");
    }
    let word = match word {
        FluentValue::String(s) => s.to_string(),
        FluentValue::Number(n) => format_number_value(n).unwrap_or_else(|| n.as_string().into()),
        _ => return function_failed("JOSA"),
    };
    match josa::particle(&word, form) {
        Some(particle) => particle.into(),
        None => function_failed("JOSA"),
    }
}

/// Fluent's own `NUMBER`, with a failure that render notices.
fn number_function<'a>(positional: &[FluentValue<'a>], named: &FluentArgs) -> FluentValue<'a> {
    match fluent_bundle::builtins::NUMBER(positional, named) {
        FluentValue::Error => function_failed("NUMBER"),
        value => value,
    }
}

/// Writes whole numbers as people write money, `39,000` in every language we write in.
/// Anything else (fractions, `useGrouping: "false"`) keeps Fluent's default.
fn format_number<M>(value: &FluentValue, _: &M) -> Option<String> {
    match value {
        FluentValue::Number(n) => format_number_value(n),
        _ => None,
    }
}

fn format_number_value(n: &FluentNumber) -> Option<String> {
    let whole = n.value.fract() == 0.0 && n.value.abs() < 9.0e15;
    let plain = n.options.minimum_fraction_digits.unwrap_or(0) == 0;
    if !(whole && plain && n.options.use_grouping) {
        return None;
    }
    let digits = (n.value.abs() as i64).to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n.value < 0.0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KO: &str = r#"
# Test texts, not the shop's.
order-shipped = { $name }님, 주문하신 { $item }{ JOSA($item, "이/가") } 출발했어요.
picked = { $item }{ JOSA($item, "을/를") } 고르셨어요.
cut-with = { $item }{ JOSA($item, "으로/로") } 잘라 주세요.
total = 합계 { $amount }원
count = { $n ->
    [one] 한 건
   *[other] { $n }건
}
ad = (광고) { -shop }
    .button = 쿠폰 받기
-shop = 앙코르샵
"#;

    const EN: &str = r#"
order-shipped = { $name }, your { $item } is on its way.
picked = You picked { $item }.
cut-with = Cut it with { $item }.
total = Total { $amount } won
count = { $n ->
    [one] one order
   *[other] { $n } orders
}
ad = [Ad] { -shop }
    .button = Get the coupon
-shop = Encore Shop
"#;

    fn texts() -> Texts {
        Texts::from_files(&[("en", "test.ftl", EN), ("ko", "test.ftl", KO)]).unwrap()
    }

    fn shipped(item: &str) -> String {
        texts()
            .render(
                Lang::Ko,
                "order-shipped",
                &[("name", "민수".into()), ("item", item.into())],
            )
            .unwrap()
    }

    #[test]
    fn texts_can_be_shared_between_tasks() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Texts>();
    }

    #[test]
    fn a_korean_order_note_reads_naturally() {
        assert_eq!(shipped("울 코트"), "민수님, 주문하신 울 코트가 출발했어요.");
        assert_eq!(shipped("Coat"), "민수님, 주문하신 Coat가 출발했어요.");
        assert_eq!(shipped("가방"), "민수님, 주문하신 가방이 출발했어요.");
        assert_eq!(shipped("3종"), "민수님, 주문하신 3종이 출발했어요.");
        assert_eq!(shipped("HBM"), "민수님, 주문하신 HBM이 출발했어요.");
        assert_eq!(
            shipped("울 코트(블랙)"),
            "민수님, 주문하신 울 코트(블랙)이 출발했어요."
        );
        assert_eq!(shipped("👜"), "민수님, 주문하신 👜이(가) 출발했어요.");
    }

    #[test]
    fn object_and_instrument_particles_follow_the_word() {
        let t = texts();
        let picked = |item: &str| {
            t.render(Lang::Ko, "picked", &[("item", item.into())])
                .unwrap()
        };
        assert_eq!(picked("코트"), "코트를 고르셨어요.");
        assert_eq!(picked("가방"), "가방을 고르셨어요.");
        let with = |item: &str| {
            t.render(Lang::Ko, "cut-with", &[("item", item.into())])
                .unwrap()
        };
        assert_eq!(with("칼"), "칼로 잘라 주세요.");
        assert_eq!(with("손"), "손으로 잘라 주세요.");
        assert_eq!(with("코트"), "코트로 잘라 주세요.");
    }

    #[test]
    fn a_number_argument_works_with_josa_too() {
        let t = Texts::from_files(&[
            ("ko", "a.ftl", "n = { $n }{ JOSA($n, \"이/가\") } 남았어요."),
            ("en", "a.ftl", "n = { $n } left."),
        ])
        .unwrap();
        let n = |n: i64| t.render(Lang::Ko, "n", &[("n", n.into())]).unwrap();
        assert_eq!(n(2), "2가 남았어요.");
        assert_eq!(n(3), "3이 남았어요.");
        assert_eq!(n(39_000), "39,000이 남았어요.");
    }

    #[test]
    fn money_is_written_with_thousands_separators_in_both_languages() {
        let t = texts();
        for (amount, written) in [
            (39_000_i64, "39,000"),
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (1_234_567, "1,234,567"),
            (-45_000, "-45,000"),
        ] {
            let args = [("amount", Arg::from(amount))];
            assert_eq!(
                t.render(Lang::Ko, "total", &args).unwrap(),
                format!("합계 {written}원")
            );
            assert_eq!(
                t.render(Lang::En, "total", &args).unwrap(),
                format!("Total {written} won")
            );
        }
    }

    #[test]
    fn numbers_still_select_plural_variants() {
        let t = texts();
        assert_eq!(
            t.render(Lang::En, "count", &[("n", 1.into())]).unwrap(),
            "one order"
        );
        assert_eq!(
            t.render(Lang::En, "count", &[("n", 1_200.into())]).unwrap(),
            "1,200 orders"
        );
        assert_eq!(
            t.render(Lang::Ko, "count", &[("n", 3_usize.into())])
                .unwrap(),
            "3건"
        );
    }

    #[test]
    fn rendered_text_carries_no_isolation_marks() {
        let text = shipped("코트");
        assert!(!text.contains(['\u{2068}', '\u{2069}']));
    }

    #[test]
    fn attributes_and_terms_render() {
        let t = texts();
        assert_eq!(t.render(Lang::Ko, "ad", &[]).unwrap(), "(광고) 앙코르샵");
        assert_eq!(t.render(Lang::Ko, "ad.button", &[]).unwrap(), "쿠폰 받기");
        assert_eq!(
            t.render(Lang::En, "ad.button", &[]).unwrap(),
            "Get the coupon"
        );
        assert!(t.has(Lang::Ko, "ad.button"));
        assert!(!t.has(Lang::Ko, "ad.missing"));
        assert!(!t.has(Lang::Ko, "shop"));
        assert!(t.render(Lang::Ko, "ad.missing", &[]).is_err());
    }

    #[test]
    fn both_languages_define_the_same_ids() {
        let t = texts();
        assert_eq!(
            t.ids(Lang::Ko),
            vec![
                "ad",
                "count",
                "cut-with",
                "order-shipped",
                "picked",
                "total"
            ]
        );
        assert_eq!(t.ids(Lang::Ko), t.ids(Lang::En));
    }

    #[test]
    fn the_embedded_locales_load_and_define_the_same_ids_in_every_language() {
        let texts = Texts::load().unwrap();
        assert!(!texts.ids(Lang::Ko).is_empty());
        for lang in Lang::ALL {
            assert_eq!(texts.ids(lang), texts.ids(Lang::Ko), "{lang}");
        }
    }

    #[test]
    fn a_missing_message_is_an_error_naming_lang_and_id() {
        let err = texts().render(Lang::En, "no-such", &[]).unwrap_err();
        assert_eq!(err.to_string(), "no en text for `no-such`");
        assert!(!texts().has(Lang::Ko, "no-such"));
    }

    #[test]
    fn a_missing_argument_is_an_error_not_a_half_rendered_text() {
        let err = texts()
            .render(Lang::Ko, "order-shipped", &[("name", "민수".into())])
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("ko text `order-shipped` could not be rendered"),
            "{message}"
        );
    }

    #[test]
    fn a_failing_function_is_an_error_not_a_half_rendered_text() {
        let t = Texts::from_files(&[
            ("ko", "a.ftl", "n = { NUMBER($n) }개"),
            ("en", "a.ftl", "n = { NUMBER($n) }"),
        ])
        .unwrap();
        assert!(t.render(Lang::Ko, "n", &[("n", "many".into())]).is_err());
        assert_eq!(t.render(Lang::Ko, "n", &[("n", 5.into())]).unwrap(), "5개");
        // The flag does not leak into the next render.
        assert_eq!(t.render(Lang::Ko, "n", &[("n", 6.into())]).unwrap(), "6개");
    }

    #[test]
    fn a_message_missing_in_english_is_refused_at_load() {
        let err = Texts::from_files(&[
            ("ko", "orders.ftl", "a = 가\nb = 나\n"),
            ("en", "orders.ftl", "a = A\n"),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "locales/ko/orders.ftl: message `b` has no en text; add it to locales/en/"
        );
    }

    #[test]
    fn a_message_missing_in_korean_is_refused_at_load() {
        let err = Texts::from_files(&[
            ("ko", "orders.ftl", "a = 가\n"),
            ("en", "orders.ftl", "a = A\nextra = X\n    .title = T\n"),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "locales/en/orders.ftl: message `extra` has no ko text; add it to locales/ko/"
        );
    }

    #[test]
    fn an_attribute_missing_in_one_language_is_refused_at_load() {
        let err = Texts::from_files(&[
            ("ko", "a.ftl", "a = 가\n    .button = 버튼\n"),
            ("en", "a.ftl", "a = A\n"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("`.button`"), "{err}");
    }

    #[test]
    fn a_syntax_error_names_file_line_and_message() {
        let err = Texts::from_files(&[
            ("ko", "orders.ftl", "a = 가\n\nbroken = { $name\nc = 다\n"),
            ("en", "orders.ftl", "a = A\n"),
        ])
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message
                .starts_with("locales/ko/orders.ftl, line 4: Expected a token starting with \"}\""),
            "{message}"
        );
        assert!(message.contains("broken = { $name"), "{message}");
    }

    #[test]
    fn a_message_defined_twice_is_refused() {
        let err = Texts::from_files(&[
            ("ko", "a.ftl", "a = 가\n"),
            ("ko", "b.ftl", "a = 나\n"),
            ("en", "a.ftl", "a = A\n"),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "locales/ko/b.ftl: `a` is defined twice in ko"
        );
    }

    #[test]
    fn an_unsupported_josa_form_is_refused_at_load() {
        let err = Texts::from_files(&[
            ("ko", "a.ftl", "a = { $x }{ JOSA($x, \"가/이\") }\n"),
            ("en", "a.ftl", "a = { $x }\n"),
        ])
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message
                .starts_with("locales/ko/a.ftl: message `a`: JOSA form \"가/이\" is not supported"),
            "{message}"
        );
    }

    #[test]
    fn josa_accepts_a_nested_call_and_checks_every_variant() {
        let ko = "n = { $n ->\n    [one] { NUMBER($n) }{ JOSA(NUMBER($n), \"이/가\") }\n   *[other] { $n }{ JOSA($n, \"을/를\") }\n}\n";
        let t = Texts::from_files(&[("ko", "a.ftl", ko), ("en", "a.ftl", "n = { $n }\n")]).unwrap();
        assert_eq!(
            t.render(Lang::Ko, "n", &[("n", 30.into())]).unwrap(),
            "30을"
        );

        let ko =
            "n = { $n ->\n    [one] { JOSA($n, \"이/가\") }\n   *[other] { JOSA($n, \"를\") }\n}\n";
        let err =
            Texts::from_files(&[("ko", "a.ftl", ko), ("en", "a.ftl", "n = { $n }\n")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("JOSA form \"를\" is not supported"),
            "{err}"
        );
    }

    #[test]
    fn a_language_encore_does_not_write_is_refused() {
        let err = Texts::from_files(&[("ja", "a.ftl", "a = ア\n")]).unwrap_err();
        assert!(err.to_string().contains("`ja` is not a language"), "{err}");
    }

    #[test]
    fn no_texts_at_all_is_refused() {
        let err = Texts::from_files(&[]).unwrap_err();
        assert_eq!(err.to_string(), "no ko texts: locales/ko/ has no .ftl file");
    }
}
