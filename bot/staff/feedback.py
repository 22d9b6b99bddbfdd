"""Seniors' "这个回答有用吗？" answers: stored redacted with the lesson, read back for the desk."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from bot.records import Question

# What a senior can say was wrong (the "哪里不对" list on the page); anything else is dropped.
REASONS = ("没回答我的问题", "看不懂", "太长了", "说得不对")


@dataclass(frozen=True)
class Feedback:
    """One "was this useful" answer, as stored (no personal data, no session or device id)."""

    time: str
    question: str  # redacted
    lesson: str  # doc_id of the lesson the answer came from ("" when none)
    useful: bool
    reason: str = ""
    key: str = ""  # one answer's id on the page: a later row with the same key replaces it


def record_feedback(
    path: Path, question: Question, lesson: str, useful: bool, reason: str = "", *, key: str = ""
) -> Feedback:
    """Append one answer to the feedback store: the redacted question, its lesson, the verdict."""
    item = Feedback(
        time=dt.datetime.now().isoformat(timespec="seconds"),
        question=question.redacted[:300],
        lesson=lesson[:80],
        useful=bool(useful),
        reason=reason if reason in REASONS and not useful else "",
        key=key,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"), path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(item.__dict__, ensure_ascii=False) + "\n")
    return item


def read_feedback(path: Path) -> list[Feedback]:
    """Every stored answer, oldest first; of rows with the same key the last (unreadable skipped)."""
    if not path.exists():
        return []
    rows: dict[str | int, Feedback] = {}
    for i, line in enumerate(path.read_text("utf-8").splitlines()):
        try:
            item = Feedback(**json.loads(line))
        except (ValueError, TypeError):
            continue
        rows.pop(item.key or i, None)  # a replaced answer moves to where it was last said
        rows[item.key or i] = item
    return list(rows.values())
