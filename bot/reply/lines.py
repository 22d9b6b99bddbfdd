"""Choosing a lesson's lines for one question: relevant first, contradicting ones out.

Relevance is cue overlap (the things the senior named that a line also names) plus the
encoder's similarity between the question and the line (vectors stored with the index
generation, see bot/search/store.py). A line is left out when it contradicts what the senior
said: "挂断电话" for a text message, an example's "三天…九十九元" for a week-long tour at another
price.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.knowledge.lessons import LINE_SECTIONS, record_lines
from bot.records import LessonRecord, Reading
from bot.reply.checks import usable
from bot.reply.cues import cue_codes

STEP_SECTIONS = LINE_SECTIONS


@dataclass(frozen=True)
class LessonLine:
    """One showable line of a lesson: an item of a list section or a sentence of a FAQ answer."""

    section: str  # 正确做法 | 如果已经上当 | 怎么识破 | 常见问题 > <question>
    text: str
    position: int  # order within its section
    codes: frozenset[str]


@lru_cache(maxsize=512)
def lesson_lines(lesson: LessonRecord) -> tuple[LessonLine, ...]:
    """Every line of the lesson a reply may show (harmful or instruction-like lines left out)."""
    return tuple(
        LessonLine(name, text, i, cue_codes(text))
        for name, i, text in record_lines(lesson)
        if usable(text)
    )


# What says a line is about a phone call or a message; a line for the wrong channel is left out.
_CALL_ONLY = re.compile(r"挂断电话|挂掉电话|直接挂断|挂电话|电话里|接到电话|来电")
_TEXT_ONLY = re.compile(r"短信|链接|网址|二维码")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]{1,4}(?=[天日元块万千百次个岁])")
_QUANTITY = re.compile(
    r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]{1,5})\s*(?:天|日|元|块|万|千|百|晚|夜|岁|年)"
)


@lru_cache(maxsize=8192)
def _quantities(text: str) -> frozenset[str]:
    return frozenset(_QUANTITY.findall(text))


def contradicts(line: str, reading: Reading, question: str) -> bool:
    """True when the line speaks of another channel or other figures than the senior did."""
    if reading.channel == "text" and _CALL_ONLY.search(line) and "call" not in reading.codes:
        return True
    if reading.channel == "call" and _TEXT_ONLY.search(line) and not _TEXT_ONLY.search(question):
        return False  # a call can still send a link; keep it
    asked = _quantities(question)
    said = _quantities(line)
    # An example's figures ("三天两晚九十九元") against the senior's own, different figures.
    return bool(asked and said and not (asked & said))


# What a line must do to serve a stage: stop now, repair after, or see through and check before.
_STAGE_ACTS = {
    "now": re.compile(
        r"挂断|挂掉|挂了|打回|核实|问清|问本人|别转|不转|关掉|关闭|离开|退出|报警|96110|110"
    ),
    "done": re.compile(
        r"报警|110|96110|冻结|止付|保留|保存|挂失|修改密码|改密码|卸载|删除|派出所|客服电话"
    ),
    "ahead": re.compile(r"核实|打回|老号码|不点|不转|不给|不下载|挂断|问家人|商量|官方"),
}


_UI_STEPS = re.compile(r"→|点“|点击“|打开“|选“|进入“")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=8192)
def _bigrams(text: str) -> frozenset[str]:
    han = "".join(_HAN.findall(text))
    return frozenset(han[i : i + 2] for i in range(len(han) - 1))


def _overlap(question: str, line: str) -> float:
    """Share of the line's two-character words the question also says (0–1)."""
    said, asked = _bigrams(line), _bigrams(question)
    return len(said & asked) / len(said) if said else 0.0


def rank_lines(
    lines: Sequence[LessonLine],
    reading: Reading,
    question: str,
    similarity: np.ndarray | None = None,
    *,
    prefer: Sequence[str] = ("正确做法",),
) -> list[LessonLine]:
    """The lines ordered by relevance to this question; contradicting lines dropped."""
    asked = reading.codes
    scored: list[tuple[float, int, LessonLine]] = []
    for i, line in enumerate(lines):
        if contradicts(line.text, reading, question):
            continue
        overlap = len(asked & line.codes)
        score = 0.35 * overlap
        if similarity is not None and i < len(similarity):
            score += float(similarity[i])
        if line.section in prefer:
            score += 0.15 * (len(prefer) - list(prefer).index(line.section))
        acts = _STAGE_ACTS.get(reading.stage)
        if acts is not None and acts.search(line.text):
            score += 0.2
        if reading.ask == "how_to" and _UI_STEPS.search(line.text):
            score += 0.3  # "点“我”→“设置”…" answers "怎么设置"
        score += 0.6 * _overlap(question, line.text)
        score -= 0.01 * line.position  # among equals, the lesson's own order
        scored.append((score, i, line))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [line for _, _, line in scored]


_LEAD_IN = re.compile(r"^([^。！？]{1,7}[。！？])\s*")


def lead_in(answer: str) -> tuple[str, str]:
    """(a FAQ answer's short opening verdict such as "不能。", the rest) — ("", answer) if none."""
    m = _LEAD_IN.match(answer)
    if m and len(answer) > m.end():
        return m.group(1), answer[m.end() :].strip()
    return "", answer


def sentences(text: str) -> list[str]:
    """Sentences of a paragraph, each with its end mark."""
    return [s for s in re.findall(r"[^。！？]+[。！？]?", text) if s.strip()]
