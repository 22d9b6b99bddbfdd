"""A term of twelve monthly classes: dates, balanced topics fitted to the season, 课程表 and .ics."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import BotError
from bot.knowledge.topics import TOPICS
from bot.records import LessonRecord

CLASSES = 12
# Lunar-calendar days by Gregorian year (reviewed against the published calendars).
SPRING_FESTIVAL = {
    2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17), 2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13), 2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23), 2032: dt.date(2032, 2, 11),
}  # fmt: skip
DOUBLE_NINTH = {
    2025: dt.date(2025, 10, 29), 2026: dt.date(2026, 10, 18), 2027: dt.date(2027, 10, 8),
    2028: dt.date(2028, 10, 26), 2029: dt.date(2029, 10, 16), 2030: dt.date(2030, 10, 5),
    2031: dt.date(2031, 10, 24), 2032: dt.date(2032, 10, 12),
}  # fmt: skip
TAX_MONTH = 3  # 个税汇算 opens in March: the month to teach 个人养老金 (it lowers the tax)
# Seasonal classes: (name, the topics taught together, the title of the class).
SEASONS = {
    "spring": (("impersonate-relative", "wechat-basics"), "春节前：冒充亲友借钱和微信红包"),
    "double_ninth": (("health-products", "travel-scams"), "重阳节前：保健品讲座和低价旅游团"),
    "tax": (("personal-pension",), "个税汇算季：个人养老金怎么开"),
}
# The rest of the curriculum, most asked-for first (the branches' course plan).
CURRICULUM = (
    "fake-police", "verification-code", "ai-face-swap", "phishing-sms", "large-font-banking",
    "screen-sharing", "fake-customer-service", "pension-investment", "social-security",
    "after-scam", "lottery-prize", "online-dating", "task-scams", "fake-loans",
    "utility-arrears", "collectibles", "anti-fraud-tools",
)  # fmt: skip


class ScheduleError(BotError):
    """A term cannot be made or read back (a bad month, day, date or lesson id)."""


@dataclass(frozen=True)
class ScheduledClass:
    """One class of the term: its date, title and the lessons taught."""

    date: dt.date
    title: str
    lessons: tuple[str, ...]  # doc_ids


def class_dates(year: int, month: int, day: int = 9, count: int = CLASSES) -> list[dt.date]:
    """The class day of `count` consecutive months from year-month (the last day if shorter)."""
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise ScheduleError(f"月份要在1到12之间、日子在1到31之间（收到{month}月{day}日）")
    out = []
    for i in range(count):
        y, m = divmod(month - 1 + i, 12)
        y, m = year + y, m + 1
        last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
        out.append(dt.date(y, m, min(day, last)))
    return out


def _last_before(dates: Sequence[dt.date], day: dt.date | None, within: int = 45) -> int | None:
    """Index of the last class on or before `day` and no more than `within` days ahead of it."""
    if day is None:
        return None
    best = None
    for i, d in enumerate(dates):
        if d <= day and (day - d).days <= within:
            best = i
    return best


def _lessons_by_topic(lessons: Mapping[str, LessonRecord]) -> dict[str, list[str]]:
    """doc_ids by topic; the lesson named after its topic (fake-police-…) first."""
    out: dict[str, list[str]] = {}
    for doc_id in sorted(lessons, key=lambda d: (not d.startswith(lessons[d].topic), d)):
        out.setdefault(lessons[doc_id].topic, []).append(doc_id)
    return out


def term(
    lessons: Mapping[str, LessonRecord], year: int, month: int, day: int = 9
) -> list[ScheduledClass]:
    """Twelve monthly classes from year-month on `day`: seasonal topics first, then the rest."""
    dates = class_dates(year, month, day)
    by_topic = _lessons_by_topic(lessons)
    slots: dict[int, tuple[tuple[str, ...], str]] = {}
    for year_ in sorted({d.year for d in dates}):
        wanted = [
            ("spring", _last_before(dates, SPRING_FESTIVAL.get(year_))),
            ("double_ninth", _last_before(dates, DOUBLE_NINTH.get(year_))),
            (
                "tax",
                next(
                    (i for i, d in enumerate(dates) if (d.year, d.month) == (year_, TAX_MONTH)),
                    None,
                ),
            ),
        ]
        for season, index in wanted:
            if index is not None and index not in slots:
                topics, title = SEASONS[season]
                if any(by_topic.get(t) for t in topics):
                    slots[index] = (topics, title)
    used = {t for topics, _ in slots.values() for t in topics}
    rest = [t for t in CURRICULUM if t not in used and by_topic.get(t)]
    rest += [t for t in sorted(by_topic) if t not in used and t not in rest]
    out = []
    for i, date in enumerate(dates):
        if i in slots:
            topics, title = slots[i]
        else:
            if not rest:
                rest = [t for t in CURRICULUM if by_topic.get(t)]  # a short index: topics repeat
            topic = rest.pop(0)
            topics, title = (topic,), TOPICS.get(topic, topic)
        ids = tuple(by_topic[t][0] for t in topics if by_topic.get(t))
        out.append(ScheduledClass(date, title, ids))
    return out


# ---------------------------------------------------------------- edit, print, export

HEADERS = ("日期", "课题", "课程")


def to_rows(classes: Sequence[ScheduledClass]) -> list[list[str]]:
    """The term as table rows (日期, 课题, 课程 ids separated by spaces) for editing."""
    return [[c.date.isoformat(), c.title, " ".join(c.lessons)] for c in classes]


def from_rows(
    rows: Sequence[Sequence[object]], lessons: Mapping[str, LessonRecord]
) -> list[ScheduledClass]:
    """The term as edited in the table; a bad date or an unknown lesson id is a ScheduleError."""
    out = []
    for n, row in enumerate(rows, 1):
        cells = [str(c or "").strip() for c in row]
        if not any(cells):
            continue
        date_text, title, ids = (cells + ["", "", ""])[:3]
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError as exc:
            raise ScheduleError(f"第{n}行：日期要写成2026-01-09这样（收到“{date_text}”）") from exc
        doc_ids = tuple(ids.replace("，", " ").replace(",", " ").split())
        unknown = [d for d in doc_ids if d not in lessons]
        if unknown:
            raise ScheduleError(f"第{n}行：没有这一课：{'、'.join(unknown)}")
        out.append(ScheduledClass(date, title or "反诈课", doc_ids))
    return out


def schedule_html(
    classes: Sequence[ScheduledClass], lessons: Mapping[str, LessonRecord], branch: str = ""
) -> str:
    """The printable 课程表 (A4, large print)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{c.date.year}年{c.date.month}月{c.date.day}日</td><td>{e(c.title)}</td>"
        f"<td>{'<br>'.join(e(lessons[d].title) for d in c.lessons if d in lessons)}</td></tr>"
        for c in classes
    )
    title = f"{branch}反诈课程表" if branch else "反诈课程表"
    style = (
        "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;font-size:16pt;color:#111;"
        "background:#fff;margin:2em auto;max-width:46em}h1{font-size:26pt}"
        "table{border-collapse:collapse;width:100%}th,td{border:2px solid #111;padding:.3em .5em;"
        "text-align:left;vertical-align:top}@page{size:A4;margin:15mm}@media print{body{margin:0}}"
    )
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{style}</style></head><body><h1>{e(title)}</h1><table><thead><tr>"
        f"{''.join(f'<th>{h}</th>' for h in HEADERS)}</tr></thead><tbody>{rows}</tbody></table>"
        "</body></html>"
    )


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (RFC 5545 3.1)."""
    out: list[str] = []
    current = b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += b
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def to_ics(
    classes: Sequence[ScheduledClass],
    lessons: Mapping[str, LessonRecord],
    *,
    start: dt.time = dt.time(9, 30),
    minutes: int = 45,
    location: str = "",
    stamp: dt.datetime | None = None,
) -> str:
    """The term as an iCalendar file (one VEVENT a class, local time, RFC 5545)."""
    stamp = stamp or dt.datetime.now(dt.UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//SilverGuard//staff room term schedule//ZH",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:反诈课程表",
    ]
    for c in classes:
        begin = dt.datetime.combine(c.date, start)
        end = begin + dt.timedelta(minutes=minutes)
        titles = "；".join(lessons[d].title for d in c.lessons if d in lessons)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{c.date.isoformat()}-{'-'.join(c.lessons) or 'class'}@silverguard",
            f"DTSTAMP:{stamp.strftime('%Y%m%dT%H%M%SZ')}",
            f"DTSTART:{begin.strftime('%Y%m%dT%H%M%S')}",
            f"DTEND:{end.strftime('%Y%m%dT%H%M%S')}",
            f"SUMMARY:{_ics_text('反诈课：' + c.title)}",
            f"DESCRIPTION:{_ics_text(titles)}",
        ]
        if location:
            lines.append(f"LOCATION:{_ics_text(location)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
