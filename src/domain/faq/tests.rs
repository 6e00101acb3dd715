//! The matcher against the shipped `faq.toml` and small files: which entry each phrasing gets.

use super::*;

const SHIPPED: &str = include_str!("../../../faq.toml");

fn shipped() -> Faq {
    Faq::from_toml(SHIPPED, "faq.toml").unwrap()
}

fn entry_for(faq: &Faq, question: &str) -> Option<String> {
    faq.best_match(question, Lang::Ko).map(|m| m.entry_id)
}

fn assert_entry(faq: &Faq, question: &str, id: &str) {
    let got = faq.best_match(question, Lang::Ko);
    assert_eq!(
        got.as_ref().map(|m| m.entry_id.as_str()),
        Some(id),
        "{question:?} should get the {id} answer, got {got:?}"
    );
}

#[test]
fn the_shipped_file_loads_with_every_entry() {
    let faq = shipped();
    assert_eq!(faq.len(), 10);
    assert!(!faq.is_empty());
    for entry in faq.entries() {
        for lang in Lang::ALL {
            assert!(
                entry.answers.contains_key(&lang),
                "{} has no {lang} answer",
                entry.id
            );
            assert!(
                entry.questions.contains_key(&lang),
                "{} has no {lang} questions",
                entry.id
            );
        }
    }
}

#[test]
fn the_acceptance_phrasings_all_get_the_shipping_answer() {
    let faq = shipped();
    for q in [
        "배송은 언제",
        "배송 언제와요",
        "언제 배송돼요",
        "배송언제와요",
        "언제 도착해요",
        "when will it ship",
        "When does my order ship?",
    ] {
        assert_entry(&faq, q, "shipping");
        let score = faq.best_match(q, Lang::Ko).map_or(0.0, |m| m.score);
        println!("{q:?}: {score:.3}");
    }
}

#[test]
fn the_shipping_answer_comes_in_the_viewers_language() {
    let faq = shipped();
    let ko = faq.best_match("배송은 언제", Lang::Ko).unwrap();
    assert_eq!(ko.answer, faq.entries()[0].answers[&Lang::Ko]);
    let en = faq.best_match("배송은 언제", Lang::En).unwrap();
    assert_eq!(en.answer, faq.entries()[0].answers[&Lang::En]);
    assert!(ko.score >= MIN_SCORE && ko.score <= 1.0);
}

#[test]
fn more_ways_of_asking_about_shipping_get_the_shipping_answer() {
    let faq = shipped();
    for q in [
        "배송 언제쯤 되나요?",
        "배송이 언제 오나요",
        "택배 언제 오나요",
        "주문했는데 언제 와요?",
        "송장번호 언제 나와요",
        "배송기간 얼마나 걸려요",
        "how long until my order arrives",
        "When will my package arrive?",
    ] {
        assert_entry(&faq, q, "shipping");
    }
}

#[test]
fn every_entrys_own_example_questions_get_that_entry() {
    let faq = shipped();
    for entry in faq.entries() {
        for q in entry.questions.values().flatten() {
            let m = faq.best_match(q, Lang::Ko);
            assert_eq!(
                m.as_ref().map(|m| m.entry_id.as_str()),
                Some(entry.id.as_str()),
                "example {q:?} of {} got {m:?}",
                entry.id
            );
        }
    }
}

#[test]
fn a_paraphrase_of_each_entry_gets_that_entry() {
    let faq = shipped();
    let cases = [
        ("shipping", "택배 언제 오나요"),
        ("shipping", "how long until my order arrives"),
        ("shipping_fee", "배송비 있어요?"),
        ("shipping_fee", "is delivery free"),
        ("shipping_fee", "how much does shipping cost"),
        ("exchange_return", "교환 가능해요?"),
        ("exchange_return", "반품할래요"),
        ("exchange_return", "사이즈 교환 되나요"),
        ("exchange_return", "I want to return this"),
        ("refund", "환불 언제 받을 수 있어요"),
        ("refund", "when is my refund coming"),
        ("cancel", "주문 취소할래요"),
        ("cancel", "cancel my order please"),
        ("address_change", "배송지 바꿀래요"),
        ("address_change", "change my address"),
        ("size", "사이즈 추천 부탁해요"),
        ("size", "which size fits me"),
        ("restock", "언제 재입고 돼요"),
        ("restock", "back in stock when"),
        ("next_live", "라이브 언제 또 해요"),
        ("next_live", "몇시에 방송해요"),
        ("next_live", "when is your next stream"),
        ("payment", "카드로 결제할 수 있나요"),
        ("payment", "무통장입금 가능해요?"),
        ("payment", "can I pay with a card"),
    ];
    for (id, q) in cases {
        assert_entry(&faq, q, id);
    }
}

#[test]
fn unrelated_messages_get_no_answer() {
    let faq = shipped();
    for q in [
        "오늘 방송 재밌었어요",
        "사장님 너무 예뻐요",
        "ㅋㅋㅋㅋㅋ",
        "안녕하세요",
        "감사합니다 잘 쓸게요",
        "이 노래 제목이 뭐예요",
        "다음에 또 올게요",
        "이 색상 너무 예쁘네요",
        "가격이 얼마예요",
        "ㅠㅠ",
        "hello",
        "thank you so much",
        "lol",
        "you look great today",
        "good night everyone",
        "what a fun stream",
        "what's the weather like",
        "I love this color",
        "see you next time",
        "!!!",
        "강아지 옷도 파시나요?",
        "고양이 모자는요?",
    ] {
        assert_eq!(
            faq.best_match(q, Lang::Ko),
            None,
            "{q:?} should get no answer"
        );
    }
}

#[test]
fn an_empty_or_blank_question_gets_no_answer() {
    let faq = shipped();
    assert_eq!(faq.best_match("", Lang::Ko), None);
    assert_eq!(faq.best_match("   ?  ", Lang::En), None);
}

#[test]
fn an_english_question_to_a_korean_viewer_with_only_a_korean_answer_falls_back() {
    let faq = Faq::from_toml(
        r#"
[[entry]]
id = "shipping"
questions.ko = ["배송은 언제 되나요?"]
questions.en = ["When will my order ship?"]
answer.ko = "2~3일 안에 출고돼요."
"#,
        "test.toml",
    )
    .unwrap();
    let m = faq.best_match("when will it ship", Lang::Ko).unwrap();
    assert_eq!(m.answer, "2~3일 안에 출고돼요.");
    let m = faq.best_match("when will it ship", Lang::En).unwrap();
    assert_eq!(
        m.answer, "2~3일 안에 출고돼요.",
        "no English answer, so the Korean one"
    );
}

#[test]
fn a_korean_viewer_gets_the_english_answer_when_only_that_exists() {
    let faq = Faq::from_toml(
        "[[entry]]\nid = \"x\"\nquestions.ko = [\"환불 되나요\"]\nanswer.en = \"Yes.\"\n",
        "t",
    )
    .unwrap();
    assert_eq!(
        faq.best_match("환불 가능해요?", Lang::Ko).unwrap().answer,
        "Yes."
    );
}

#[test]
fn on_equal_scores_the_entry_listed_first_wins() {
    let faq = Faq::from_toml(
        r#"
[[entry]]
id = "first"
questions.ko = ["배송 언제 와요"]
answer.ko = "1"
[[entry]]
id = "second"
questions.ko = ["배송 언제 와요"]
answer.ko = "2"
"#,
        "t",
    )
    .unwrap();
    assert_eq!(entry_for(&faq, "배송 언제"), Some("first".to_string()));
}

#[test]
fn the_contract_example_parses_and_answers() {
    let faq = Faq::from_toml(
        r#"
[[entry]]
id = "shipping"
questions.ko = ["배송은 언제 되나요?", "언제 도착해요?"]
questions.en = ["When will my order ship?"]
answer.ko = "주문 후 평일 기준 2~3일 안에 출고돼요."
answer.en = "Orders ship within 2-3 business days."
"#,
        "faq.toml",
    )
    .unwrap();
    assert_eq!(faq.len(), 1);
    for q in [
        "배송은 언제",
        "배송 언제와요",
        "언제 배송돼요",
        "when will it ship",
    ] {
        assert_eq!(entry_for(&faq, q), Some("shipping".to_string()), "{q}");
    }
    assert_eq!(entry_for(&faq, "오늘 방송 재밌었어요"), None);
}

#[test]
fn the_empty_faq_and_a_file_without_entries_answer_nothing() {
    assert!(Faq::empty().is_empty());
    assert_eq!(Faq::empty().best_match("배송은 언제", Lang::Ko), None);
    let faq = Faq::from_toml("# nothing yet\n", "t").unwrap();
    assert_eq!(faq.len(), 0);
}

#[test]
fn run_together_korean_is_split_into_known_words() {
    let faq = shipped();
    assert_eq!(
        content_stems("배송언제와요", &faq.vocab),
        vec!["배송", "언제"]
    );
    assert_eq!(
        content_stems("무통장입금 가능해요?", &faq.vocab),
        vec!["무통장", "입금"]
    );
}
