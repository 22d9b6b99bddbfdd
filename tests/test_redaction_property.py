"""Redaction holds however a number is written: no 4-digit piece of a value is ever written.

Valid card (Luhn), ID (check digit), phone and 6-digit code values are written with separators,
zero-width characters, full-width digits, Chinese numerals and traditional characters, put in
Chinese sentences, and looked for in everything that is written: the redacted question (what
the chat echoes), the assistant's log line and the gap store's row.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_safety import id_complete, luhn_complete

from bot.records import Answer
from bot.reply.assistant import log_answer
from bot.reply.safety import read_input, redact
from bot.staff.gaps import record_unanswered

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
SEPARATORS = [" ", ".", "/", ",", "，", "\n", "-", " - ", ". "]
CODE_SEPARATORS = [" ", ".", "-"]
NUMERALS = {
    "0": ["零", "〇"],
    "1": ["一", "幺"],
    "2": ["二", "两"],
    **{d: [c] for d, c in zip("3456789", "三四五六七八九", strict=True)},
}
TEMPLATES = {
    "card": [
        "我的卡号是{v}，这张卡安全吗",
        "銀行卡{v}被凍結了怎麼辦",
        "客服让我把{v}这张卡里的钱转走",
        "卡号：{v}",
        "{v}是我的工资卡",
        "他要我念卡号{v}给他听",
    ],
    "id": [
        "身份证号{v}给了他",
        "身份證{v}會不會被冒用",
        "那人让我报身份证{v}核对",
        "{v}这个号码被人知道了",
    ],
    "phone": [
        "我儿子手机{v}打不通",
        "對方電話{v}說是公安",
        "这个号{v}一直打给我",
        "手机号是{v}",
    ],
    "code": [
        "验证码是{v}要不要给客服",
        "驗證碼{v}能給他嗎",
        "短信里说{v}",
        "簡訊裡說{v}",
        "刚收到{v}这个码",
        "验\u200b证\u200b码{v}，他催我念",
        "他说{v}，让我快点",
        "{v}是验证码吗",
        "收到的{v}那个人要",
    ],
}
FILLER = ["", "今天上午", "那个人很凶，", "我好着急，", "老伴不在家，", "请问一下，"]


@st.composite
def values(draw: st.DrawFn) -> tuple[str, str]:
    """(kind, digits) of a valid card, ID, phone or 6-digit code."""
    kind = draw(st.sampled_from(sorted(TEMPLATES)))
    body = lambda n: draw(st.text("0123456789", min_size=n, max_size=n))  # noqa: E731
    if kind == "card":
        length = draw(st.sampled_from([16, 17, 18, 19]))
        prefix = draw(st.sampled_from(["62", "4", "5"]))
        return kind, luhn_complete(prefix + body(length - 1 - len(prefix)))
    if kind == "id":
        region = draw(st.sampled_from(["110105", "310104", "440305", "320102", "510107"]))
        year = draw(st.integers(1930, 2005))
        month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
        return kind, id_complete(f"{region}{year}{month:02d}{day:02d}{body(3)}")
    if kind == "phone":
        return kind, "1" + draw(st.sampled_from("3456789")) + body(9)
    return kind, draw(st.sampled_from("123456789")) + body(5)


@st.composite
def written(draw: st.DrawFn, kind: str, digits: str) -> str:
    """The value as a senior might type it: grouped, hidden breaks, full-width, in numerals."""
    seps = CODE_SEPARATORS if kind == "code" else SEPARATORS
    form = draw(st.sampled_from(["ascii", "fullwidth", "numerals", "mixed"]))
    out = []
    for i, ch in enumerate(digits):
        style = (
            form if form != "mixed" else draw(st.sampled_from(["ascii", "fullwidth", "numerals"]))
        )
        if ch in "Xx":
            out.append(draw(st.sampled_from(["X", "x", "Ｘ"])))
        elif style == "fullwidth":
            out.append(chr(0xFF10 + int(ch)))
        elif style == "numerals":
            out.append(draw(st.sampled_from(NUMERALS[ch])))
        else:
            out.append(ch)
        if i < len(digits) - 1:
            cut = draw(st.integers(0, 9))
            if cut == 0:
                out.append(draw(st.sampled_from(ZERO_WIDTH)))
            elif cut == 1 and (i + 1) % draw(st.sampled_from([3, 4, 5, 6])) == 0:
                out.append(draw(st.sampled_from(seps)))
    return "".join(out)


@st.composite
def sentences(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, digits, sentence) with the value written some way inside a Chinese sentence."""
    kind, digits = draw(values())
    template = draw(st.sampled_from(TEMPLATES[kind]))
    text = template.format(v=draw(written(kind, digits)))
    return kind, digits, draw(st.sampled_from(FILLER)) + text + draw(st.sampled_from(FILLER))


_TO_DIGIT = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")


def digit_runs(text: str) -> list[str]:
    """Every run of digits in text as a reader would see it (numerals and breaks read through)."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text) if c not in ZERO_WIDTH)
    text = text.translate(_TO_DIGIT)
    return [re.sub(r"\D", "", m) for m in re.findall(r"\d(?:[\s.,/，-]*\d)*", text)]


def escapes(digits: str, written_out: str) -> list[str]:
    """The 4-digit pieces of the value that survive in written_out."""
    digits = re.sub(r"\D", "", digits)
    pieces = {digits[i : i + 4] for i in range(len(digits) - 3)}
    runs = digit_runs(written_out)
    return sorted(p for p in pieces if any(p in run for run in runs))


def check(kind: str, digits: str, text: str, gaps: Path, caplog: pytest.LogCaptureFixture) -> None:
    limit = 10 + len(text) % 60  # often cuts through the value: redacted before it is cut
    question = read_input(text, limit)
    answer = Answer(text="", kind="unsure", sensitive=question.sensitive)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot"):
        log_answer(question, answer, 1.0)
    gaps.unlink(missing_ok=True)
    record_unanswered(gaps, question, "verification-code", 0.1)
    row = json.loads(gaps.read_text("utf-8"))["question"]
    written_everywhere = {
        "echoed": question.redacted,
        "whole": question.whole_redacted,
        # the question as logged (the figures before it are the log line's own)
        "log": caplog.records[-1].getMessage().split(" question=", 1)[1],
        "gap store": row,
    }
    assert not [w for w, out in written_everywhere.items() if escapes(digits, out)], (kind, text)


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(max_examples=300, **COMMON)
@given(sentences())
def test_no_piece_of_a_value_survives_anywhere_written(tmp_path, caplog, case):
    check(*case, tmp_path / "unanswered.jsonl", caplog)


@pytest.mark.slow
@settings(max_examples=10_000, **COMMON)
@given(sentences())
def test_no_piece_of_a_value_survives_in_ten_thousand_examples(tmp_path, caplog, case):
    check(*case, tmp_path / "unanswered.jsonl", caplog)


# ---------------------------------------------------------------- the escapes the pass found

CARD = luhn_complete("622202123456789012")


@pytest.mark.parametrize(
    "text",
    [
        f"卡号{'.'.join(CARD[i : i + 4] for i in range(0, 19, 4))}",
        f"卡号{'/'.join(CARD[i : i + 4] for i in range(0, 19, 4))}",
        f"卡号{','.join(CARD[i : i + 4] for i in range(0, 19, 4))}",
        "卡号\n" + "\n".join(CARD[i : i + 4] for i in range(0, 19, 4)),
        "手机138.1234.5678",
        "验\u200b证\u200b码是730516",
        "驗證碼是730516",
        "短信里说730516",
        "卡号" + CARD.translate(str.maketrans("0123456789", "零一二三四五六七八九")),
        "卡号" + "".join(chr(0xFF10 + int(c)) for c in CARD),
    ],
)
def test_the_escapes_found_by_the_security_pass_are_redacted(text):
    digits = CARD if "卡" in text else "13812345678" if "138" in text else "730516"
    assert escapes(digits, redact(text)) == []
    assert escapes(digits, read_input(text, 8).redacted) == []


@pytest.mark.parametrize(
    "text",
    [
        "转了两万块给他",
        "2026-11-28那天来的电话",
        "打110还是96110、12381、95588",
        "拨10086或者12306问问",
        "他说5000块就能办好",
        "收到2026年的社保通知",
        "转了 5000, 6000, 7000 三次",
        "我今年七十八岁，住1201室",
        "三三两两的人在门口",
    ],
)
def test_amounts_dates_and_hotlines_are_left_alone(text):
    assert redact(text) == text


def test_a_long_message_echoes_no_piece_of_a_card_cut_at_the_limit():
    text = "我" * 380 + f"卡号{CARD}被人知道了"
    question = read_input(text, 389)
    assert question.truncated
    assert escapes(CARD, question.redacted) == []
