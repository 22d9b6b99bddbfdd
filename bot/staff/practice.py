"""模拟提问: senior-style questions, the key points that answer each one, and fair scoring.

A trainee's answer is cut into sentences; each key point is credited by meaning (cosine of the
encoder's vectors) or by a negation-aware action cue both name ("先挂了电话" and "立刻挂断电话"
share `hang_up`; "不用挂断" does not). Any harmful sentence (bot.staff.harm) fails the answer
outright. Tone is checked apart: sentence length, jargon, warmth, a clear first step.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.knowledge.lessons import iter_section_items
from bot.records import LessonRecord, Reading
from bot.staff.harm import (
    CREDIT_CUES,
    HarmfulSentence,
    action_cues,
    harmful_sentences,
    sentences,
    wrong_moves,
)

# Cosine below LOW gives a key point no credit, at HIGH or above full credit; linear between.
# USE puts paraphrases of one step at about 0.4-0.6 and unrelated advice under 0.25.
SIM_LOW, SIM_HIGH = 0.25, 0.55
MEANING_WEIGHT = 0.75  # the rest of the score is tone
PASS_SCORE = 0.5
WRONG_CAP = 0.35  # an answer that teaches a wrong move scores at most this
LONG_SENTENCE = 35  # characters; one breath for a senior
JARGON = (
    "风控", "止付", "验资", "授权", "权限", "实名认证", "二次验证", "钓鱼网站", "木马", "后台",
    "APP", "app", "ID", "账户体系", "资金监管", "反洗钱", "征信", "理财产品", "收益率", "年化",
    "非法集资", "电信网络诈骗", "涉案账户", "冻结止付", "链接地址", "域名",
)  # fmt: skip
WARM = re.compile(
    r"您|阿姨|叔叔|大爷|大妈|奶奶|爷爷|别怕|别急|别慌|不要紧|没关系|放心|我们|一起|帮您"
)
FIRST_STEP = re.compile(
    r"先|马上|立刻|赶紧|第一|挂断|挂掉|挂了|拨打|打电话|打个电话|别转|不要转|不转|停|告诉|报警"
)

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit vectors (rows)


@dataclass(frozen=True)
class Practice:
    """A senior-style question and the key points that answer that question."""

    question: str
    key_points: tuple[str, ...]
    reference: str
    source: str  # "常见问题" or the section the key points came from


@dataclass(frozen=True)
class PointCredit:
    """How well the answer made one key point, and by which sentence."""

    point: str
    credit: float  # 0-1
    by: str  # the trainee sentence that made it ("" when none)
    how: str  # "meaning" | "cue" | ""


@dataclass(frozen=True)
class ToneCheck:
    """One tone check: its name, whether it holds, and a tip when it does not."""

    name: str
    ok: bool
    tip: str


@dataclass(frozen=True)
class Feedback:
    """The score of one practice answer and why."""

    passed: bool
    score: float  # 0-1
    points: tuple[PointCredit, ...]
    harmful: tuple[HarmfulSentence, ...]
    tone: tuple[ToneCheck, ...]
    reference: str
    wrong: tuple[HarmfulSentence, ...] = ()  # wrong moves: not harmful on their face, not a pass

    @property
    def covered(self) -> tuple[str, ...]:
        return tuple(p.point for p in self.points if p.credit >= 0.5)

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(p.point for p in self.points if p.credit < 0.5)

    def to_markdown(self) -> str:
        """The feedback a trainee reads: verdict, harmful lines, key points, tone, reference."""
        if self.harmful:
            head = "❌ **不合格：有一句会害了老人**"
        elif self.passed:
            head = f"✅ **讲得好**（{self.score:.0%}）"
        else:
            head = f"⚠️ **还不够**（{self.score:.0%}）"
        out = [head, ""]
        for h in self.harmful:
            out.append(f"- ❌ “{h.sentence}”——{h.why}")
        for w in self.wrong:
            out.append(f"- ⚠️ “{w.sentence}”——{w.why}")
        if self.harmful or self.wrong:
            out.append("")
        n = len(self.points)
        out.append(f"**讲到的要点**（{len(self.covered)}/{n}）")
        made = [f"- ✅ {p.point}（您说的：“{p.by}”）" for p in self.points if p.credit >= 0.5]
        out += made or ["- （还没有讲到）"]
        missed = [p.point for p in self.points if p.credit < 0.5]
        if missed:
            out += ["", "**还可以补充**", *[f"- ⬜ {m}" for m in missed]]
        out += ["", "**说话方式**"]
        out += [
            f"- {'✅' if t.ok else '⬜'} {t.name}{'' if t.ok else '：' + t.tip}" for t in self.tone
        ]
        out += ["", f"**参考回答**：{self.reference}"]
        return "\n".join(out)


# ---------------------------------------------------------------- questions and key points

FAQ_MATCH = 0.6  # a question this close to a FAQ heading is that FAQ, reworded
KEY_POINTS = 3


def _faq_points(answer: str) -> tuple[str, ...]:
    """The FAQ answer's sentences; a short one ("不一定。") joins the sentence after it."""
    out: list[str] = []
    carry = ""
    for s in sentences(answer):
        if len(s) < 8:
            carry += s
            continue
        out.append(carry + s)
        carry = ""
    if carry:
        out.append(carry) if not out else out.__setitem__(-1, out[-1] + carry)
    return tuple(out)


def _section_for(reading: Reading | None) -> str:
    stage = reading.stage if reading else "ahead"
    ask = reading.ask if reading else "what_to_do"
    if stage == "done":
        return "如果已经上当"
    if ask in ("explain", "verdict") and stage in ("learning", "past_or_other", "ahead"):
        return "怎么识破"
    return "正确做法"


def points_for_reading(
    lesson: LessonRecord, question: str, reading: Reading | None, embed: Embed | None = None
) -> tuple[tuple[str, ...], str]:
    """Key points for a non-FAQ question: the lesson's lines nearest to it, its reading's section first."""
    section = _section_for(reading)
    primary = list(iter_section_items(lesson.section(section)))
    others = [
        item
        for name in ("正确做法", "怎么识破", "如果已经上当")
        if name != section
        for item in iter_section_items(lesson.section(name))
    ]
    others += [p for _, a in lesson.subsections("常见问题") for p in _faq_points(a)]
    if embed is None or not primary:
        items = primary[:KEY_POINTS] or [lesson.verdict or lesson.section("一句话提醒").strip()]
        return tuple(i for i in items if i), section
    pool = [*primary, *others]
    vectors = embed([question, *pool])
    sims = vectors[1:] @ vectors[0]
    bonus = np.array([0.1] * len(primary) + [0.0] * len(others))
    order = np.argsort(-(sims + bonus))[:KEY_POINTS]
    return tuple(pool[i] for i in sorted(order)), section


def _join(points: tuple[str, ...]) -> str:
    return "".join(p if p.endswith(("。", "！", "？")) else p + "。" for p in points)


def practice_questions(
    lesson: LessonRecord,
    read: Callable[[str], Reading] | None = None,
    embed: Embed | None = None,
) -> list[Practice]:
    """Every practice question of a lesson: its FAQs, then its aliases (senior wording)."""
    out = [
        Practice(q, _faq_points(a), a.strip(), "常见问题")
        for q, a in lesson.subsections("常见问题")
        if _faq_points(a)
    ]
    for alias in lesson.aliases:
        question = alias if alias.endswith(("？", "?")) else alias + "？"
        points, section = points_for_reading(lesson, alias, read(alias) if read else None, embed)
        out.append(Practice(question, points, _join(points), section))
    return out


def practice_for(
    lesson: LessonRecord,
    question: str,
    read: Callable[[str], Reading] | None = None,
    embed: Embed | None = None,
) -> Practice:
    """The practice item for a question: its FAQ (also reworded), else by its reading and meaning."""
    faqs = [(q, a) for q, a in lesson.subsections("常见问题") if _faq_points(a)]
    for q, a in faqs:
        if q.strip() == question.strip():
            return Practice(q, _faq_points(a), a.strip(), "常见问题")
    if faqs and embed is not None:
        vectors = embed([question, *(q for q, _ in faqs)])
        sims = vectors[1:] @ vectors[0]
        best = int(np.argmax(sims))
        if sims[best] >= FAQ_MATCH:
            q, a = faqs[best]
            return Practice(question, _faq_points(a), a.strip(), "常见问题")
    points, section = points_for_reading(lesson, question, read(question) if read else None, embed)
    return Practice(question, points, _join(points), section)


class QuestionDeck:
    """Draws a lesson's practice questions in a shuffled order, none twice until all came up."""

    def __init__(self, items: list[Practice], rng: random.Random | None = None) -> None:
        self._items = list(items)
        self._rng = rng or random.Random()
        self._order: list[int] = []

    def draw(self) -> Practice | None:
        if not self._items:
            return None
        if not self._order:
            self._order = list(range(len(self._items)))
            self._rng.shuffle(self._order)
        return self._items[self._order.pop()]


# ---------------------------------------------------------------- scoring


# Sentences that sound like advice and say nothing: an answer close to these is vague.
PLATITUDES = (
    "现在骗子多，您要小心点。",
    "别上当受骗就行。",
    "多留个心眼，提高警惕。",
    "这种事情要多注意，注意安全。",
    "遇到这种情况要谨慎一点。",
)


def tone_checks(answer: str, wants_step: bool = True) -> tuple[ToneCheck, ...]:
    """Sentence length, jargon, warmth and (when the question calls for one) a clear first step."""
    said = sentences(answer)
    longest = max((len(s) for s in said), default=0)
    jargon = [j for j in JARGON if j in answer]
    first = said[0] if said else ""
    checks = [
        ToneCheck(
            "句子短", bool(said) and longest <= LONG_SENTENCE, f"最长一句{longest}个字，拆成短句"
        ),
        ToneCheck("不说行话", not jargon, f"换成大白话：{'、'.join(jargon)}"),
        ToneCheck("口气亲切", bool(WARM.search(answer)), "称呼“您”，说一句“别着急”"),
    ]
    if wants_step:
        checks.append(
            ToneCheck(
                "第一句就说先做什么",
                bool(FIRST_STEP.search(first)),
                "开头就说“您先挂断电话”",
            )
        )
    return tuple(checks)


def _credit(sim: float) -> float:
    return float(min(1.0, max(0.0, (sim - SIM_LOW) / (SIM_HIGH - SIM_LOW))))


def score_answer(practice: Practice, answer: str, embed: Embed) -> Feedback:
    """Score a trainee's answer against the key points of this question (by meaning and cues)."""
    said = sentences(answer)
    harmful = tuple(harmful_sentences(answer))
    wrong = tuple(w for w in wrong_moves(answer) if w.sentence not in {h.sentence for h in harmful})
    points = practice.key_points
    point_cues = [action_cues(p) & CREDIT_CUES for p in points]
    tone = tone_checks(answer, wants_step=any(point_cues))
    credits: list[PointCredit] = []
    if said and points:
        vectors = embed([*points, *said, *PLATITUDES])
        n, m = len(points), len(said)
        sent = vectors[n : n + m]
        sims = sent @ vectors[:n].T  # sentence x point
        generic = (sent @ vectors[n + m :].T).max(axis=1)  # how much each sentence is a platitude
        said_cues = [action_cues(s) for s in said]
        for j, point in enumerate(points):
            # a sentence nearer to a platitude than to the point earns no meaning credit
            usable = np.where(sims[:, j] > generic, sims[:, j], 0.0)
            i = int(np.argmax(usable))
            best = PointCredit(point, _credit(float(usable[i])), said[i], "meaning")
            for k, cues in enumerate(said_cues):
                if point_cues[j] & cues and best.credit < 1.0:
                    best = PointCredit(point, 1.0, said[k], "cue")
                    break
            credits.append(best if best.credit > 0 else PointCredit(point, 0.0, "", ""))
    else:
        credits = [PointCredit(p, 0.0, "", "") for p in points]
    # A good answer makes the main points, not every sentence of the reference.
    needed = max(1, math.ceil(len(credits) * 0.6))
    top = sorted((c.credit for c in credits), reverse=True)[:needed]
    meaning = sum(top) / needed if credits else 0.0
    tone_share = sum(t.ok for t in tone) / len(tone)
    score = MEANING_WEIGHT * meaning + (1 - MEANING_WEIGHT) * tone_share
    if wrong:
        score = min(score, WRONG_CAP)
    if harmful or not said:
        score = 0.0
    return Feedback(
        passed=not harmful and score >= PASS_SCORE,
        score=round(score, 4),
        points=tuple(credits),
        harmful=harmful,
        tone=tone,
        reference=practice.reference,
        wrong=wrong,
    )
