"""考考我: the reviewed practice items (bot/data/quiz.yaml), each with its one-line reason."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import BotError
from bot.records import LessonRecord

log = logging.getLogger("silverguard.quiz")

QUIZ_PATH = Path(__file__).resolve().parents[1] / "data" / "quiz.yaml"


@dataclass(frozen=True)
class QuizItem:
    """One practice item: a message or call, whether it is a scam, and why."""

    text: str
    scam: bool
    reason: str
    lesson: str = ""
    title: str = ""  # the lesson's title, for "来自课程：《…》"


def load_quiz(lessons: Mapping[str, LessonRecord], path: Path = QUIZ_PATH) -> tuple[QuizItem, ...]:
    """The practice items; a scam item without its own reason takes its lesson's verdict.

    A scam item whose lesson is not in the index is left out (the page still has the others).
    """
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    items = []
    for i, raw in enumerate(data.get("items") or [], 1):
        lesson = lessons.get(str(raw.get("lesson", "")))
        reason = str(raw.get("reason") or "")
        if not reason and raw.get("scam") and lesson is not None:
            reason = lesson.verdict or lesson.section("一句话提醒").strip()
        if not raw.get("text") or not isinstance(raw.get("scam"), bool):
            raise BotError(f"{path.name}: item {i} needs text and scam (true/false)")
        if not reason:  # its lesson is not in the index (removed, or kept out by a check)
            log.warning(
                "%s: item %d left out: lesson %r not found", path.name, i, raw.get("lesson")
            )
            continue
        items.append(
            QuizItem(
                text=str(raw["text"]).strip(),
                scam=raw["scam"],
                reason=reason.strip(),
                lesson=lesson.doc_id if lesson else "",
                title=lesson.title if lesson else "",
            )
        )
    return tuple(items)
