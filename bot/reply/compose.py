"""Grounded replies: the fixed templates and a reply composed for the question's reading.

Every sentence of a reply is a fixed template below or a line of a lesson (tests fail on any
other line). The first line answers what was asked (a verdict, "先别转！", the steps); the lines
after it are the lesson's lines that fit this question (bot/reply/lines.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from bot.records import LessonRecord, Passage, Reading
from bot.reply.checks import usable
from bot.reply.cues import AT_STAKE
from bot.reply.lines import LessonLine, lead_in, lesson_lines, rank_lines, sentences
from bot.reply.reading import rule_ask
from bot.reply.templates import (
    _CIRCLED,
    AFTER_INTRO,
    ALSO_INTRO,
    ASK_STAFF,
    DISTRESS,
    EMERGENCY_CARD,
    FLAGS_INTRO,
    HELP_OTHERS_INTRO,
    INJECTION_REFUSED,
    MESSAGE_SHOWN_CHARS,
    MORE,
    PAST_REPORT,
    SCAN_LEVEL,
    SCAN_LOW,
    SCAN_MARKED,
    STEPS_INTRO,
    STOP_ACTIONS,
    STOP_CALL,
    STOP_HEAD,
    UNSURE_ASK,
    VERDICTS,
    numbered,
    source_line,
)

# Lessons about a genuine service: a "是真的吗" about them is not answered "这很可能是骗局".
SERVICE_TOPICS = frozenset(
    {"large-font-banking", "wechat-basics", "personal-pension", "anti-fraud-tools", "after-scam"}
)
_ATM = re.compile(r"取款机|ATM|atm|柜员机")
_LEGIT_PLACE = re.compile(r"柜台|网点|营业厅|银行(?:里|的)?(?:工作人员|柜员|经理)|官方App|官方app")
_SMALL_RATE = re.compile(r"(?<![\d.])(?:[0-3](?:\.\d+)?|4(?:\.0+)?)\s*(?:%|％|个点)|百分之[一二三]")
_DEPOSIT = re.compile(r"定期|活期|存款|大额存单|国债|整存整取|零存整取")
_RATE = re.compile(r"利率|利息|几个点|多少钱利")
# What makes a use someone else's scheme: money or codes at stake, prizes, returns, loans.
_SCHEME = (AT_STAKE - {"screen_share", "meeting_app", "download"}) | {
    "prize", "high_return", "loan", "credit_repair", "refund", "police",
}  # fmt: skip


def is_plain_deposit(question: str) -> bool:
    """A plain question about a bank deposit's rate (at the counter, not a 'high-yield' pitch)."""
    deposit = _DEPOSIT.search(question) and _RATE.search(question)
    small = _LEGIT_PLACE.search(question) and _SMALL_RATE.search(question)
    return bool(deposit or small) and not _HIGH_PITCH.search(question)


def _family_use(reading: Reading, suspicious: bool) -> bool:
    """The senior or their family want to use something (a meeting app, a video call) for themselves."""
    return (
        "relative" in reading.codes
        and not reading.codes & _SCHEME
        and not suspicious
        and reading.stage not in ("now", "done")
    )


_HIGH_PITCH = re.compile(r"稳赚|保本|高息|翻倍|返利|内部|原始股|日赚|拉人|养老项目|床位|老师")


@dataclass(frozen=True)
class Composed:
    """A composed reply and how well it served the reading (for the gap report)."""

    text: str
    first_line: str
    lessons: tuple[str, ...]  # doc ids used, the main lesson first
    covered: frozenset[str]  # cue codes the chosen lines speak to
    served: bool  # the reply gave what the stage needs (steps for done/now, a verdict, …)


def scan_lines(scan: Any, message: str) -> list[str]:
    """The message check first: its level, the message with numbered marks, each mark's reason."""
    level = SCAN_LOW if scan.risk == "low" else SCAN_LEVEL.format(risk=scan.risk_text)
    lines = [level]
    shown = [f for f in scan.flags if f.end <= MESSAGE_SHOWN_CHARS]
    if shown:
        marks: dict[int, str] = {}
        for i, flag in enumerate(shown[: len(_CIRCLED)]):
            marks[flag.end] = marks.get(flag.end, "") + _CIRCLED[i]
        out, last = [], 0
        for end in sorted(marks):
            out += [message[last:end], f"〔{marks[end]}〕"]
            last = end
        out.append(message[last:MESSAGE_SHOWN_CHARS])
        text = "".join(out).replace("\n", " ")
        if len(message) > MESSAGE_SHOWN_CHARS:
            text += "……"
        lines.append(SCAN_MARKED.format(text=text))
        for i, flag in enumerate(shown[: len(_CIRCLED)]):
            lines.append(f"{_CIRCLED[i]} {flag.label}：{flag.explain}")
    if scan.domains_note:
        lines.append(scan.domains_note)
    if scan.risk != "high":
        lines.append(scan.advice)
    return lines


def head_lines(reading: Reading, *, emergency: bool) -> list[str]:
    """What goes out before any retrieval: the warm line, the emergency or stop card, refusals."""
    head: list[str] = []
    if reading.distress:
        head.append(DISTRESS)
    if emergency and reading.stage == "now" and not reading.official_warning:
        head.append(stop_card(reading))
    elif emergency:
        head.append(EMERGENCY_CARD)
    if reading.injection and reading.genuine:
        head.append(INJECTION_REFUSED)
    return head


def stop_card(reading: Reading) -> str:
    """ "先别转！" and the stop-now actions for what the senior is in the middle of."""
    codes = reading.codes
    actions = []
    if reading.coached:
        actions.append(STOP_ACTIONS["coached"])
    if "screen_share" in codes or "meeting_app" in codes:
        actions.append(STOP_ACTIONS["screen_share"])
    if _ATM.search(_cue_text(reading)):
        actions.append(STOP_ACTIONS["atm"])
    if reading.channel == "video":
        actions.append(STOP_ACTIONS["video_call"])
    elif reading.channel == "call" or "call" in codes or "police" in codes:
        actions.append(STOP_ACTIONS["call"])
    if "code" in codes or "password" in codes:
        actions.append(STOP_ACTIONS["code"])
    actions.append(STOP_ACTIONS["transfer"])
    if reading.official_warning:
        actions.insert(0, STOP_ACTIONS["official"])
    return "\n".join([STOP_HEAD, numbered(list(dict.fromkeys(actions))[:4]), STOP_CALL])


def _cue_text(reading: Reading) -> str:
    return " ".join(c.text for c in reading.cues)


def verdict_line(
    reading: Reading, lesson: LessonRecord, question: str, *, suspicious: bool = False
) -> str:
    """The first line for a verdict question, from the reading and the lesson's reviewed verdict."""
    kind = reading.verdict_kind
    if kind in ("code", "did_right", "official"):
        return VERDICTS[kind]
    if is_plain_deposit(question):
        return VERDICTS["legit"]  # a plain rate at the bank's own counter is no scam
    if _family_use(reading, suspicious) and lesson.topic not in SERVICE_TOPICS:
        return VERDICTS["family"]
    verdict = lesson.verdict.strip() if lesson.verdict else ""
    if lesson.topic in SERVICE_TOPICS and suspicious:
        return VERDICTS["scam"]  # a scam borrowing a genuine service's name
    if verdict and usable(verdict):
        return verdict
    return "" if lesson.topic in SERVICE_TOPICS else VERDICTS["scam"]


def compose(
    question: str,
    reading: Reading,
    lesson: LessonRecord,
    passages: Sequence[Passage],
    *,
    second: LessonRecord | None = None,
    similarity: np.ndarray | None = None,
    second_similarity: np.ndarray | None = None,
    emergency: bool = False,
    scan: Any = None,
    message: str = "",
    numbers: Sequence[str] = (),
    suspicious: bool = False,
    allow: Callable[[str], bool] | None = None,
) -> Composed:
    """The reply body for this reading from one lesson (and one line of a second, if it helps).

    scan/message: the check of a pasted message, shown first; numbers: the answers to
    "这个号码是真的吗" (from bot.reply.links.check_number), shown first. allow: the lesson-line
    checker (bot.reply.linecheck): a lesson line it refuses is never shown, even one that slipped
    past validation; it is asked only about the lines about to be shown.
    """
    ok = _shown_if(allow)
    more = bool(MORE.search(question))
    lines = lesson_lines(lesson)
    parts: list[str] = []
    first = ""
    served = True
    stage, ask = reading.stage, reading.ask

    orders: dict[tuple[str, ...], list[LessonLine]] = {}

    def ranked(prefer: Sequence[str]) -> list[LessonLine]:
        key = tuple(prefer)
        if key not in orders:
            orders[key] = rank_lines(lines, reading, question, similarity, prefer=prefer)
        return orders[key]

    def pick(prefer: Sequence[str], n: int, sections: Sequence[str] | None = None) -> list[str]:
        allowed = sections or prefer
        return _first(ok, (ln.text for ln in ranked(prefer) if ln.section in allowed), n)

    if not emergency and scan is None and is_plain_deposit(question):
        return _plain(VERDICTS["legit"], lesson)
    reminder = lesson.section("一句话提醒").strip()
    reminder = reminder if reminder and ok(reminder) else ""
    faq = _faq_for(lesson, passages, reading)
    if faq is not None and not ok(faq[1]):
        faq = None

    if scan is not None and not emergency:
        if reading.official_warning and scan.risk != "high":
            parts.append(VERDICTS["official"])
        parts += scan_lines(scan, message)
        first = parts[0]
        if scan.risk == "low":
            # A genuine-looking notice: the check and how to verify, no scam lesson lines.
            return Composed("\n".join(parts), first, (), frozenset(), True)
        steps = pick(("正确做法",), 3 if scan.risk == "high" else 2)
        if steps:
            parts += [STEPS_INTRO, numbered(steps)]
        served = True
    elif numbers and not emergency:
        parts += list(numbers)
        first = parts[0]
        steps = pick(("正确做法",), 2)
        if steps:
            parts += [STEPS_INTRO, numbered(steps)]
    elif emergency and stage == "done":
        after = pick(("如果已经上当",), 6 if more else 3)
        # The card already says 110 / 96110 / freeze: keep the lines that add to it for this case.
        extra = [a for a in after if _adds_to_card(a, reading)][: 4 if more else 2]
        if extra:
            parts += [AFTER_INTRO, numbered(extra)]
        else:
            served = bool(after)
    elif emergency and stage == "now":
        steps = pick(("正确做法", "怎么识破"), 3, ("正确做法", "怎么识破"))
        if steps:
            parts += [STEPS_INTRO, numbered(steps)]
    else:
        if (
            ask == "verdict"
            or reading.verdict_kind in ("official", "did_right", "code")
            or (reading.official_warning)
        ):
            first = verdict_line(reading, lesson, question, suspicious=suspicious)
            if first and first == lesson.verdict.strip() and not ok(first):
                first = "" if lesson.topic in SERVICE_TOPICS else VERDICTS["scam"]
            if first == VERDICTS["legit"]:
                return _plain(first, lesson)
            if first:
                parts.append(first)
            why = pick(("怎么识破",), 2)
            steps = pick(("正确做法",), 2)
            if faq and faq[0]:
                parts.append(faq[1])
            elif why:
                parts += [FLAGS_INTRO, numbered(why)]
            if steps:
                parts += [STEPS_INTRO, numbered(steps)]
        elif stage == "past_or_other" or ask == "help_others":
            if ask == "help_others":
                verdict = lesson.verdict if lesson.verdict and ok(lesson.verdict) else ""
                parts.append(HELP_OTHERS_INTRO + (reminder or verdict))
            elif faq:
                parts.append(faq[1])
            elif reminder:
                parts.append(reminder)
            why = pick(("怎么识破",), 3 if more else 2)
            if why:
                parts += [FLAGS_INTRO, numbered(why)]
            if ask != "help_others" and _was_scammed(question):
                parts.append(PAST_REPORT)
        elif ask == "explain" or (faq is not None and ask != "how_to"):
            if faq:
                parts.append(faq[1])
            else:
                if reminder:
                    parts.append(reminder)
                why = pick(("怎么识破",), 4 if more else 3)
                if why:
                    parts += [FLAGS_INTRO, numbered(why)]
        else:  # what_to_do, how_to
            if faq and ask == "how_to":
                parts.append(faq[1])
            else:
                if reminder and ask != "how_to":
                    parts.append(reminder)
                steps = pick(("正确做法",), 5 if more else 4)
                if steps:
                    parts += (
                        [numbered(steps)] if ask == "how_to" else [STEPS_INTRO, numbered(steps)]
                    )
                else:
                    served = False
        if more:
            why = pick(("怎么识破",), 4)
            shown = "\n".join(parts)
            why = [w for w in why if w not in shown]
            if why:
                parts += [FLAGS_INTRO, numbered(why)]

    if not parts:
        # A lesson without the standard sections (e.g. an uploaded .docx): quote the best passage.
        best = next((p for p in passages if p.doc_id == lesson.doc_id), None)
        quoted = [ln for ln in best.text.splitlines() if ln.strip() and ok(ln)] if best else []
        if quoted:
            parts.append("\n".join(quoted))
        else:
            served = False

    used = [lesson]
    body = "\n".join(parts)
    covered = _covered(reading, body)
    if second is not None and second.doc_id != lesson.doc_id:
        also = _second_line(reading, question, second, second_similarity, covered, body, ok)
        if also:
            parts.append(ALSO_INTRO + also)
            used.append(second)
            covered = _covered(reading, "\n".join(parts))
    parts.append(source_line([u.title for u in used]))
    text = "\n".join(p for p in parts if p)
    first_line = text.split("\n", 1)[0]
    return Composed(text, first or first_line, tuple(u.doc_id for u in used), covered, served)


def _shown_if(allow: Callable[[str], bool] | None) -> Callable[[str], bool]:
    """The test every lesson text passes before it is shown: the output checks and the checker."""
    if allow is None:
        return usable
    return lambda text: usable(text) and allow(text)


def _first(ok: Callable[[str], bool], texts: Iterable[str], n: int) -> list[str]:
    """The first n texts that pass ok (the later ones are never checked)."""
    return list(islice((t for t in texts if ok(t)), n))


def _plain(first: str, lesson: LessonRecord) -> Composed:
    """A genuine matter (a posted deposit rate): say so, and where to ask; no scam lines."""
    text = "\n".join([first, ASK_STAFF, source_line([lesson.title])])
    return Composed(text, first, (lesson.doc_id,), frozenset(), True)


def unsure_with_verdict(reading: Reading) -> str:
    """For a low-confidence question that still asked a clear yes/no: the answer that holds."""
    if reading.verdict_kind in ("did_right", "code"):
        return "\n".join([VERDICTS[reading.verdict_kind], UNSURE_ASK])
    return ""


def _faq_for(
    lesson: LessonRecord, passages: Sequence[Passage], reading: Reading
) -> tuple[str, str] | None:
    """(lead-in kept or "", the FAQ answer to show) when a FAQ entry of the lesson ranked first."""
    top = next((p for p in passages if p.doc_id == lesson.doc_id), None)
    if top is None or top.section == "常见问题":
        return None
    for faq_question, answer in lesson.subsections("常见问题"):
        if faq_question != top.section:
            continue
        answer = answer.strip()
        if not answer or not usable(answer):
            return None
        opening, rest = lead_in(answer)
        if not opening:
            return "", answer
        # "不一样。" / "非常高。" answers the FAQ's own question; keep it only when the senior asked
        # the same kind of question.
        faq_ask = rule_ask(faq_question)
        if reading.ask == "verdict" and faq_ask is not None and faq_ask.label == "verdict":
            return opening, answer
        return "", rest
    return None


def _adds_to_card(line: str, reading: Reading) -> bool:
    """A 如果已经上当 line worth showing under the card: it names what this senior named."""
    from bot.reply.cues import cue_codes

    generic = re.search(r"^(?:立刻|马上|立即)?(?:拨打|打)?110|^保留|^保存", line)
    return bool(cue_codes(line) & reading.codes) or not generic


def _covered(reading: Reading, body: str) -> frozenset[str]:
    from bot.reply.cues import cue_codes

    return reading.codes & cue_codes(body)


_SCAMMED = re.compile(r"被骗|上当|骗走|骗了|受骗|损失")


def _was_scammed(question: str) -> bool:
    return bool(_SCAMMED.search(question))


def _second_line(
    reading: Reading,
    question: str,
    second: LessonRecord,
    similarity: np.ndarray | None,
    covered: frozenset[str],
    body: str,
    ok: Callable[[str], bool] = usable,
) -> str:
    """One line of a second lesson that speaks to a cue the first lesson's lines left out."""
    missing = reading.codes - covered
    if not missing:
        return ""
    prefer = ("如果已经上当",) if reading.stage == "done" else ("正确做法", "怎么识破")
    for line in rank_lines(lesson_lines(second), reading, question, similarity, prefer=prefer):
        if line.codes & missing and line.text not in body and ok(line.text):
            return line.text
    return ""


def faq_sentences(answer: str) -> list[str]:
    """The sentences of a FAQ answer (used by the staff room's key points)."""
    return sentences(answer)
