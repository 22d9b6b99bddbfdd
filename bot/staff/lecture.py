"""Staff rehearsal from the same lessons: outlines, senior-style practice questions, scam drills."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass

from bot.knowledge.lessons import iter_section_items
from bot.records import LessonRecord
from bot.search.tokenize import tokenize

# A key point counts as covered when this share of its content words shows up in the answer.
COVERAGE = 0.34
UNSAFE_CHOICES = (
    "听他的，按他说的一步步做。",
    "先转一小笔钱试试看。",
    "把收到的验证码告诉他，早点办完。",
    "不告诉家里人，免得他们担心。",
)


@dataclass(frozen=True)
class Outline:
    """A lesson plan for one class."""

    title: str
    reminder: str
    talking_points: tuple[str, ...]
    case_story: str
    steps: tuple[str, ...]
    red_flags: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]
    timing: str

    def to_markdown(self) -> str:
        lines = [f"# 备课提纲：{self.title}", "", f"**一句话提醒**：{self.reminder}", ""]
        lines += ["## 讲课要点", *[f"{i}. {p}" for i, p in enumerate(self.talking_points, 1)], ""]
        lines += ["## 案例故事", self.case_story or "（本课没有案例）", ""]
        lines += [
            "## 关键步骤（正确做法）",
            *[f"{i}. {s}" for i, s in enumerate(self.steps, 1)],
            "",
        ]
        lines += ["## 怎么识破", *[f"{i}. {s}" for i, s in enumerate(self.red_flags, 1)], ""]
        lines += ["## 老人可能会问"]
        for q, a in self.questions:
            lines += [f"- **问**：{q}", f"  **答**：{a}"]
        lines += ["", f"**时长建议**：{self.timing or '约30分钟'}"]
        return "\n".join(lines)

    def to_html(self) -> str:
        """A printable page (large print, one column) of the outline (markdown-it-py, no raw HTML)."""
        from markdown_it import MarkdownIt

        body = MarkdownIt("commonmark", {"html": False}).render(self.to_markdown())
        style = (
            "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;font-size:18pt;"
            "line-height:1.6;max-width:40em;margin:2em auto;color:#111}h1{font-size:24pt}"
            "h2{font-size:20pt;border-bottom:2px solid #333}@media print{body{margin:0}}"
        )
        return (
            f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{html.escape(self.title)}'
            f"</title><style>{style}</style><body>{body}</body></html>"
        )


def _talk_parts(text: str) -> tuple[list[str], str, str]:
    points = list(iter_section_items(text))
    case = next(
        (line.split("：", 1)[1] for line in text.splitlines() if line.startswith("案例：")), ""
    )
    timing = next(
        (line.split("：", 1)[1] for line in text.splitlines() if line.startswith("时长建议：")), ""
    )
    return points, case.strip(), timing.strip()


def outline(lesson: LessonRecord) -> Outline:
    """The outline of one lesson: talking points, case, steps, likely questions, timing."""
    points, case, timing = _talk_parts(lesson.section("讲课要点"))
    return Outline(
        title=lesson.title,
        reminder=lesson.section("一句话提醒").strip(),
        talking_points=tuple(points),
        case_story=case,
        steps=tuple(iter_section_items(lesson.section("正确做法"))),
        red_flags=tuple(iter_section_items(lesson.section("怎么识破"))),
        questions=tuple((q, a.strip()) for q, a in lesson.subsections("常见问题")),
        timing=timing,
    )


# ---------------------------------------------------------------- 模拟提问 practice


@dataclass(frozen=True)
class Practice:
    """A senior-style question for the lesson and the points a good answer makes."""

    question: str
    key_points: tuple[str, ...]
    reference: str


@dataclass(frozen=True)
class Feedback:
    """Which key points a practice answer covered and which it missed."""

    covered: tuple[str, ...]
    missed: tuple[str, ...]
    reference: str

    @property
    def score(self) -> float:
        total = len(self.covered) + len(self.missed)
        return len(self.covered) / total if total else 0.0


def practice_question(lesson: LessonRecord, rng: random.Random | None = None) -> Practice:
    """Pick a question a senior would ask about this lesson (its FAQ, else an alias)."""
    rng = rng or random.Random()
    faqs = lesson.subsections("常见问题")
    steps = list(iter_section_items(lesson.section("正确做法")))
    reminder = lesson.section("一句话提醒").strip()
    if faqs:
        question, answer = rng.choice(faqs)
        reference = answer.strip()
    else:
        question = rng.choice(lesson.aliases) if lesson.aliases else f"{lesson.title}是怎么回事？"
        reference = reminder
    key_points = tuple(steps[:4]) or (reminder,)
    return Practice(question=question, key_points=key_points, reference=reference)


def _words(text: str) -> set[str]:
    return {t for t in tokenize(text) if not t.startswith("~") and len(t) > 1}


def score_answer(practice: Practice, answer: str) -> Feedback:
    """Compare a staff member's answer with the lesson's key points (content-word overlap)."""
    said = _words(answer) | {t for t in tokenize(answer) if t.startswith("~")}
    covered: list[str] = []
    missed: list[str] = []
    for point in practice.key_points:
        words = _words(point)
        grams = {t for t in tokenize(point) if t.startswith("~")}
        shared = words & said
        ratio = max(
            len(shared) / len(words) if words else 0.0,
            len(grams & said) / len(grams) if grams else 0.0,
        )
        # A hotline named, two content words shared, or a third of the point said.
        hit = any(w.isdigit() for w in shared) or len(shared) >= 2 or ratio >= COVERAGE
        (covered if hit else missed).append(point)
    return Feedback(tuple(covered), tuple(missed), practice.reference)


# ---------------------------------------------------------------- 防骗演练 drill


@dataclass(frozen=True)
class DrillStep:
    """One scammer line, the choices a learner has, the safe one, and the red flag to name."""

    scammer_line: str
    choices: tuple[str, ...]
    safe_index: int
    red_flag: str
    safe_reason: str


def _best_match(text: str, candidates: list[str], used: set[int]) -> int:
    words = _words(text) | {t for t in tokenize(text) if t.startswith("~")}
    scores = []
    for i, cand in enumerate(candidates):
        cw = _words(cand) | {t for t in tokenize(cand) if t.startswith("~")}
        scores.append((len(words & cw) - (0.5 if i in used else 0.0), -i))
    return -max(scores)[1] if scores else -1


def drill(lesson: LessonRecord, rng: random.Random | None = None) -> list[DrillStep]:
    """The lesson's scammer lines in order, each with choices and the red flag it shows."""
    rng = rng or random.Random(lesson.doc_id)
    lines = [line.strip('“”"') for line in iter_section_items(lesson.section("骗子怎么说"))]
    flags = list(iter_section_items(lesson.section("怎么识破")))
    steps = list(iter_section_items(lesson.section("正确做法")))
    used_flags: set[int] = set()
    out = []
    for line in lines:
        flag_i = _best_match(line, flags, used_flags) if flags else -1
        used_flags.add(flag_i)
        step_i = _best_match(line, steps, set()) if steps else -1
        safe = steps[step_i] if step_i >= 0 else "先挂断，再打官方电话核实。"
        wrong = rng.sample(UNSAFE_CHOICES, 2)
        choices = [safe, *wrong]
        rng.shuffle(choices)
        out.append(
            DrillStep(
                scammer_line=line,
                choices=tuple(choices),
                safe_index=choices.index(safe),
                red_flag=flags[flag_i] if flag_i >= 0 else lesson.section("一句话提醒").strip(),
                safe_reason=lesson.section("一句话提醒").strip(),
            )
        )
    return out
