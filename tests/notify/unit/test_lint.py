"""Content lint: every rule refuses its bad examples and passes its good ones, in both languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.domain.lint import Lexicon, LintRule, parse_lexicon, shipped_lexicon, word_regex
from shared.compliance import Purpose, default_pack

LEXICON = shipped_lexicon()

# (rule, purpose, text): each must be refused under that rule.
BAD = [
    (LintRule.THREAT, "reminder", "再不还钱就让你坐牢。"),
    (LintRule.THREAT, "reminder", "我们会上门抓你。"),
    (LintRule.THREAT, "reminder", "小心你的家人。"),
    (LintRule.THREAT, "reminder", "今天不还，后果自负！"),
    (LintRule.THREAT, "reminder", "You will be arrested if you do not pay."),
    (LintRule.THREAT, "reminder", "You could go to jail for this."),
    (LintRule.THREAT, "reminder", "We will come to your home tonight."),
    (LintRule.THREAT, "reminder", "We know where you live, so watch your back."),
    (LintRule.INSULT, "reminder", "你这个老赖，赶紧还钱。"),
    (LintRule.INSULT, "reminder", "骗子，还钱！"),
    (LintRule.INSULT, "reminder", "真不要脸。"),
    (LintRule.INSULT, "reminder", "Pay up, you deadbeat."),
    (LintRule.INSULT, "reminder", "Don't be stupid: pay today."),
    (LintRule.INSULT, "reminder", "You are a liar."),
    (LintRule.SHAMING, "reminder", "我们将在朋友圈曝光你。"),
    (LintRule.SHAMING, "reminder", "发到网上让所有人知道。"),
    (LintRule.SHAMING, "reminder", "将在你的小区公示。"),
    (LintRule.SHAMING, "reminder", "We will post your name online."),
    (LintRule.SHAMING, "reminder", "Everyone will know you don't pay your bills."),
    (LintRule.SHAMING, "reminder", "A public notice will name you."),
    (LintRule.IMPERSONATION, "reminder", "这里是公安局经侦大队。"),
    (LintRule.IMPERSONATION, "reminder", "法院传票已寄出。"),
    (LintRule.IMPERSONATION, "reminder", "我们的律师将联系您。"),
    (LintRule.IMPERSONATION, "reminder", "This is the police."),
    (LintRule.IMPERSONATION, "reminder", "A warrant has been issued in your name."),
    (LintRule.IMPERSONATION, "reminder", "We have a court order against you."),
    (LintRule.IMPERSONATION, "reminder", "Our lawyer will call you tomorrow."),
    (LintRule.FAKE_BLACKLIST, "reminder", "已将您列入黑名单。"),
    (LintRule.FAKE_BLACKLIST, "reminder", "您的子女将不能上学。"),
    (LintRule.FAKE_BLACKLIST, "reminder", "全国联网，终身无法贷款。"),
    (LintRule.FAKE_BLACKLIST, "reminder", "You have been blacklisted."),
    (LintRule.FAKE_BLACKLIST, "reminder", "You were added to the national debtor database."),
    (LintRule.FAKE_BLACKLIST, "reminder", "You will never get a loan again."),
    (LintRule.DISCLOSURE, "location", "请转告张三尽快还款。"),
    (LintRule.DISCLOSURE, "location", "张三的欠款已逾期。"),
    (LintRule.DISCLOSURE, "location", "Please tell Zhang San his payment is overdue."),
    (LintRule.DISCLOSURE, "location", "We are calling about a debt."),
    (LintRule.DISCLOSURE, "reminder", "我们已通知您的家人和单位。"),
    (LintRule.DISCLOSURE, "reminder", "下一步将联系您的紧急联系人。"),
    (LintRule.DISCLOSURE, "reminder", "We have told your employer."),
    (LintRule.DISCLOSURE, "reminder", "We will contact your family about this."),
    (LintRule.BORROW_TO_REPAY, "reminder", "可以向朋友借钱还款。"),
    (LintRule.BORROW_TO_REPAY, "reminder", "先借网贷还上。"),
    (LintRule.BORROW_TO_REPAY, "reminder", "用信用卡套现还款。"),
    (LintRule.BORROW_TO_REPAY, "reminder", "以贷养贷也要还。"),
    (LintRule.BORROW_TO_REPAY, "reminder", "Borrow money from a friend to pay us."),
    (LintRule.BORROW_TO_REPAY, "reminder", "Take out another loan if you must."),
    (LintRule.BORROW_TO_REPAY, "reminder", "Just put it on your credit card."),
    (LintRule.BORROW_TO_REPAY, "reminder", "Get a payday loan and pay today."),
]

# (purpose, text): nothing to find.
GOOD = [
    ("reminder", "张三，您本期应还1066.19元，已逾期3天，请尽快还款。"),
    ("reminder", "请于今日还款，以免产生罚息。"),
    ("reminder", "如有困难，请联系我们协商还款计划。"),
    ("reminder", "您可以申请分期还款计划。"),
    ("reminder", "按时还款有助于保持良好的信用记录。"),
    ("reminder", "您的信息将严格保密。感谢您一直以来的信任。"),
    ("reminder", "如有疑问，请联系公司客服热线。"),
    ("reminder", "Zhang, 1066.19 is 3 days overdue. Please pay at your earliest convenience."),
    ("reminder", "Please pay by Friday to avoid a late fee."),
    ("reminder", "Your arrears can be settled online."),
    ("reminder", "Paying on time helps you keep a good credit history."),
    ("reminder", "Your information is kept confidential. Thank you for your reply."),
    ("reminder", "If you have questions, call our customer service team."),
    ("reminder", "You can ask us for an instalment plan."),
    ("validation_notice", "You may wish to consult an attorney about the amount you borrowed."),
    ("legal_notice", "我司已委托律师事务所，将依法向人民法院提起诉讼。"),
    ("legal_notice", "We may ask a court to decide this matter; our attorney will write to you."),
    ("location", "您好，我们想联系张三，请他回电4008001234。"),
    ("location", "Hello, we are trying to reach Zhang San. Please ask him to call us back."),
    ("operational", "Follow us on Facebook for service updates."),
]


def _rules(text: str, purpose: str) -> set[LintRule]:
    return {f.rule for f in LEXICON.lint(text, locale="zh-CN", purpose=purpose)}


@pytest.mark.parametrize(("rule", "purpose", "text"), BAD, ids=[t for _, _, t in BAD])
def test_a_bad_example_is_refused_under_its_rule(rule: LintRule, purpose: str, text: str) -> None:
    assert rule in _rules(text, purpose)


@pytest.mark.parametrize(("purpose", "text"), GOOD, ids=[t for _, t in GOOD])
def test_a_good_example_passes(purpose: str, text: str) -> None:
    assert _rules(text, purpose) == set()


def test_every_rule_has_bad_examples_in_both_languages() -> None:
    def chinese(text: str) -> bool:
        return any("\u4e00" <= c <= "\u9fff" for c in text)

    for rule in LintRule:
        texts = [t for r, _, t in BAD if r is rule]
        assert any(chinese(t) for t in texts), rule
        assert any(not chinese(t) for t in texts), rule


def test_a_finding_says_where_what_and_under_which_rule() -> None:
    text = "张三，你这个老赖。"

    (finding,) = LEXICON.lint(text, locale="zh-CN", purpose="reminder")

    assert (finding.locale, finding.rule, finding.match, finding.at) == (
        "zh-CN",
        LintRule.INSULT,
        "老赖",
        text.index("老赖"),
    )


def test_debt_words_are_disclosure_only_in_location_templates() -> None:
    text = "您的贷款已逾期3天。 Your loan is overdue."

    assert _rules(text, "reminder") == set()
    assert _rules(text, "location") == {LintRule.DISCLOSURE}


def test_a_legal_notice_may_name_the_court_but_not_claim_to_be_the_police() -> None:
    assert _rules("将依法向人民法院提起诉讼。", "legal_notice") == set()
    assert _rules("将依法向人民法院提起诉讼。", "reminder") == {LintRule.IMPERSONATION}
    assert _rules("警方将向人民法院提起诉讼。", "legal_notice") == {LintRule.IMPERSONATION}


def test_english_words_match_whole_words_only() -> None:
    assert _rules("Your arrears and our policy.", "reminder") == set()
    assert _rules("ARRESTED", "reminder") == {LintRule.THREAT}


def test_each_languages_lists_apply_to_every_text() -> None:
    assert _rules("张三，you deadbeat。", "reminder") == {LintRule.INSULT}


@pytest.mark.parametrize("purpose", list(Purpose))
def test_the_shipped_opt_out_lines_pass_the_lint_for_every_purpose(purpose: Purpose) -> None:
    pack = default_pack("us")
    lines = [line.text for line in pack.opt_out_lines]

    assert lines
    assert all(_rules(line, purpose) == set() for line in lines)


_FILLER = st.lists(
    st.sampled_from(
        ["请", "按时", "谢谢", "您好", "please", "today", "thanks", "Zhang", "1066.19"]
    ),
    max_size=6,
)


@given(before=_FILLER, after=_FILLER, example=st.sampled_from(BAD))
def test_a_bad_phrase_is_found_wherever_it_stands(
    before: list[str], after: list[str], example: tuple[LintRule, str, str]
) -> None:
    rule, purpose, bad = example
    prefix = " ".join(before) + " "
    text = prefix + bad + " " + " ".join(after)

    found = [f for f in LEXICON.lint(text, locale="en", purpose=purpose) if f.rule is rule]

    assert found
    assert all(text[f.at : f.at + len(f.match)] == f.match for f in found)
    assert all(len(prefix) <= f.at < len(prefix) + len(bad) for f in found)


@given(words=_FILLER)
def test_filler_alone_is_never_refused(words: list[str]) -> None:
    assert LEXICON.lint(" ".join(words), locale="en", purpose="reminder") == []


def test_an_extension_adds_words_and_keeps_the_shipped_ones() -> None:
    extra = parse_lexicon(
        {
            "languages": {
                "en": {"insult": {"words": ["numpty"]}},
                "zh-CN": {"threat": {"patterns": [{"pattern": "收拾你", "except_purposes": []}]}},
            }
        }
    )
    assert isinstance(extra, Lexicon)

    merged = LEXICON.merged(extra)

    assert {
        f.rule for f in merged.lint("numpty, 收拾你, 老赖", locale="en", purpose="reminder")
    } == {
        LintRule.INSULT,
        LintRule.THREAT,
    }
    assert LEXICON.lint("numpty", locale="en", purpose="reminder") == []


def test_a_bad_word_list_gets_every_mistake_with_where_it_is() -> None:
    errors = parse_lexicon(
        {
            "languages": {
                "en": {
                    "threat": {"patterns": ["(unclosed", "a*"]},
                    "rudeness": {"words": ["x"]},
                    "insult": {"words": ["", {"word": "twit", "purposes": ["gossip"]}]},
                },
                "Klingon language": {},
            }
        }
    )

    assert isinstance(errors, list)
    assert {e.field for e in errors} == {
        "languages.en.threat.patterns[0]",
        "languages.en.threat.patterns[1]",
        "languages.en.rudeness",
        "languages.en.insult.words[0]",
        "languages.en.insult.words[1].purposes[0]",
        "languages.Klingon language",
    }


def test_a_word_list_that_is_not_an_object_is_refused_not_raised() -> None:
    assert isinstance(parse_lexicon(["threat"]), list)
    assert isinstance(parse_lexicon({"languages": {"en": {"threat": {"words": "kill"}}}}), list)


def test_a_latin_word_gets_word_boundaries_and_a_chinese_one_none() -> None:
    assert word_regex("arrest").startswith("(?<!")
    assert word_regex("坐牢") == "坐牢"
