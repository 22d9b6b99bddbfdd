"""A class plan for 30 or 45 minutes from one or two lessons, and the one-page large-print handout."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import BotError
from bot.knowledge.lessons import iter_section_items
from bot.knowledge.topics import TOPICS
from bot.records import LessonRecord
from bot.staff.drill import Embed, drill

LENGTHS = (30, 45)
# Minutes of each part of a class, by class length; each row adds up to the length.
PARTS: dict[int, tuple[tuple[str, int], ...]] = {
    30: (("开场提问", 3), ("讲解要点", 8), ("案例故事", 5), ("互动：骗子说，大家喊", 6),
         ("带回家的一句话", 3), ("提问答疑", 5)),
    45: (("开场提问", 5), ("讲解要点", 12), ("案例故事", 7), ("互动：骗子说，大家喊", 10),
         ("带回家的一句话", 3), ("提问答疑", 8)),
}  # fmt: skip
HOTLINES = (
    ("110", "报警（已经转了钱，马上打）"),
    ("96110", "反诈预警和咨询（拿不准就打）"),
    ("银行卡背面的电话", "挂失、止付、冻结"),
)


class PlanError(BotError):
    """A class plan cannot be made as asked (no lesson, a length other than 30 or 45)."""


@dataclass(frozen=True)
class PlanSection:
    """One timed part of the class: what happens, for how long, what the trainer says or does."""

    name: str
    minutes: int
    start: int  # minutes from the start of the class
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Handout:
    """The one-page large-print sheet seniors take home."""

    title: str
    reminder: str
    steps: tuple[str, ...]  # three
    hotlines: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ClassPlan:
    """A timed class plan for one or two lessons."""

    title: str
    minutes: int
    lessons: tuple[str, ...]  # doc_ids
    opening_question: str
    sections: tuple[PlanSection, ...]
    reminder: str
    questions: tuple[tuple[str, str], ...]  # likely questions and short answers
    handout: Handout

    @property
    def total_minutes(self) -> int:
        return sum(s.minutes for s in self.sections)

    def to_markdown(self) -> str:
        """The plan as the trainer reads it on screen."""
        out = [f"# 课堂教案：{self.title}（{self.minutes}分钟）", ""]
        out += [f"**开场先问大家**：{self.opening_question}", ""]
        for s in self.sections:
            out.append(f"## 第{s.start + 1}–{s.start + s.minutes}分钟　{s.name}（{s.minutes}分钟）")
            out += [f"- {line}" for line in s.lines]
            out.append("")
        out += [f"**带回家的一句话**：{self.reminder}"]
        return "\n".join(out)


def lesson_label(lesson: LessonRecord) -> str:
    """How a lesson is listed for staff: its Chinese title and topic name."""
    return f"{lesson.title}（{TOPICS.get(lesson.topic, lesson.topic)}）"


def _case(lesson: LessonRecord) -> str:
    for line in lesson.section("讲课要点").splitlines():
        if line.startswith("案例："):
            return line.split("：", 1)[1].strip()
    return ""


def _rhyme(lesson: LessonRecord) -> str:
    for point in iter_section_items(lesson.section("讲课要点")):
        m = re.match(r"一句口诀[：:]\s*(.+)", point)
        if m:
            return m.group(1).strip()
    return lesson.section("一句话提醒").strip() or lesson.verdict


def _short(answer: str, limit: int = 60) -> str:
    """The first sentence or two of an answer, as said in class."""
    out = ""
    for sentence in re.findall(r"[^。！？]+[。！？]?", answer.strip()):
        if out and len(out) + len(sentence) > limit:
            break
        out += sentence
    return out


def _split(minutes: int, parts: int) -> list[int]:
    base, extra = divmod(minutes, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def class_plan(
    lessons: Sequence[LessonRecord], minutes: int = 45, embed: Embed | None = None
) -> ClassPlan:
    """A class plan of exactly `minutes` (30 or 45) for one or two lessons."""
    if minutes not in LENGTHS:
        raise PlanError(f"一堂课是30或45分钟，不是{minutes}分钟")
    lessons = list(lessons)
    if not 1 <= len(lessons) <= 2:
        raise PlanError("一堂课讲一课或两课")
    first = lessons[0]
    lines0 = [x.strip('“”"') for x in iter_section_items(first.section("骗子怎么说"))]
    opening = (
        f"有没有人接到过这样的电话或短信：“{lines0[0]}”？您当时是怎么想的？"
        if lines0
        else f"大家听说过“{TOPICS.get(first.topic, first.title)}”吗？"
    )
    sections: list[PlanSection] = []
    clock = 0

    def add(name: str, length: int, lines: list[str]) -> None:
        nonlocal clock
        sections.append(PlanSection(name, length, clock, tuple(lines)))
        clock += length

    reminders = [_rhyme(lesson) for lesson in lessons]
    for name, length in PARTS[minutes]:
        if name == "开场提问":
            add(name, length, [opening, "请两三位说说，不评对错，引出今天的话题。"])
        elif name in ("讲解要点", "案例故事"):
            for lesson, share in zip(lessons, _split(length, len(lessons)), strict=True):
                label = f"{name}：{lesson.title}" if len(lessons) > 1 else name
                if name == "讲解要点":
                    points = [
                        re.sub(r"^\d+[.、]\s*", "", p)
                        for p in iter_section_items(lesson.section("讲课要点"))
                    ]
                    add(
                        label, share, points or list(iter_section_items(lesson.section("怎么识破")))
                    )
                else:
                    story = (
                        _case(lesson) or "（本课没有案例：请讲一个本网点遇到过的真事，隐去姓名。）"
                    )
                    add(label, share, [story, "讲完问大家：故事里哪一句话最可疑？"])
        elif name.startswith("互动"):
            lines = ["讲师念骗子的话，老人们一起喊“骗子！”，再请一位说出破绽："]
            for lesson in lessons:
                if embed is not None:
                    lines += [
                        f"“{d.scammer_line}”——破绽：{d.red_flag}" for d in drill(lesson, embed)[:4]
                    ]
                else:
                    lines += [
                        f"“{x.strip('“”')}”"
                        for x in list(iter_section_items(lesson.section("骗子怎么说")))[:4]
                    ]
            add(name, length, lines)
        elif name == "带回家的一句话":
            add(name, length, [*reminders, "请大家跟着念三遍，再发讲义。"])
        else:
            qa = [(q, _short(a)) for lesson in lessons for q, a in lesson.subsections("常见问题")]
            add(name, length, [f"问：{q}　答：{a}" for q, a in qa[:4]] or ["请大家提问。"])
    assert clock == minutes  # the parts of PARTS add up to the class length
    steps = [s for lesson in lessons for s in iter_section_items(lesson.section("正确做法"))]
    title = "、".join(lesson.title.split("：")[0] for lesson in lessons)
    return ClassPlan(
        title=title,
        minutes=minutes,
        lessons=tuple(lesson.doc_id for lesson in lessons),
        opening_question=opening,
        sections=tuple(sections),
        reminder="　".join(reminders),
        questions=tuple(
            (q, _short(a)) for lesson in lessons for q, a in lesson.subsections("常见问题")
        ),
        handout=Handout(title, reminders[0], tuple(_steps3(steps)), HOTLINES),
    )


def _steps3(steps: list[str]) -> list[str]:
    out = [re.sub(r"[（(][^）)]*[）)]", "", s).strip() for s in steps[:3]]
    while len(out) < 3:
        out.append(("先挂断电话。", "自己打110或96110问一问。", "告诉子女，商量了再办。")[len(out)])
    return out


# ---------------------------------------------------------------- printable pages

_PRINT_CSS = """
body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;
 color:#111;background:#fff;line-height:1.6;margin:2em auto;max-width:46em;font-size:14pt}
h1{font-size:22pt}h2{font-size:16pt;border-bottom:2px solid #333;margin-top:1.2em}
.handout{font-size:20pt;line-height:1.7}
.handout h1{font-size:30pt;margin:0 0 .4em}
.handout h2{font-size:22pt}
.handout .reminder{font-size:26pt;font-weight:700;border:4px solid #111;padding:.3em .5em}
.handout ol{padding-left:1.4em}.handout li{margin:.2em 0}
.handout table{border-collapse:collapse;width:100%}.handout td{border:2px solid #111;padding:.2em .4em}
@page{size:A4;margin:15mm}
@media print{body{margin:0;max-width:none}.plan{break-after:page}
 .handout{break-inside:avoid;height:267mm;overflow:hidden}}
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_PRINT_CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


def handout_body(handout: Handout) -> str:
    """The handout as an HTML fragment (one A4 page, every letter 20 pt or more)."""
    e = html.escape
    steps = "".join(f"<li>{e(s)}</li>" for s in handout.steps)
    rows = "".join(f"<tr><td><b>{e(n)}</b></td><td>{e(w)}</td></tr>" for n, w in handout.hotlines)
    return (
        f'<section class="handout"><h1>{e(handout.title)}</h1>'
        f'<p class="reminder">{e(handout.reminder)}</p>'
        f"<h2>遇到了，就做这三步</h2><ol>{steps}</ol>"
        f"<h2>记住这几个电话</h2><table>{rows}</table></section>"
    )


def handout_html(handout: Handout) -> str:
    """The one-page large-print handout, ready to print (A4)."""
    return _page(f"讲义：{handout.title}", handout_body(handout))


def plan_html(plan: ClassPlan) -> str:
    """The plan and, on its own page after it, the handout: print both from the browser."""
    e = html.escape
    parts = [f'<section class="plan"><h1>课堂教案：{e(plan.title)}（{plan.minutes}分钟）</h1>']
    parts.append(f"<p><b>开场先问大家</b>：{e(plan.opening_question)}</p>")
    for s in plan.sections:
        items = "".join(f"<li>{e(line)}</li>" for line in s.lines)
        parts.append(
            f"<h2>第{s.start + 1}–{s.start + s.minutes}分钟　{e(s.name)}（{s.minutes}分钟）</h2>"
            f"<ul>{items}</ul>"
        )
    parts.append("</section>")
    parts.append(handout_body(plan.handout))
    return _page(f"课堂教案：{plan.title}", "".join(parts))
