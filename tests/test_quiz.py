"""考考我 items (bot/data/quiz.yaml) and the "这个回答有用吗" store (bot/staff/feedback.py)."""

from __future__ import annotations

from helpers import KNOWLEDGE

from bot.knowledge.lessons import scan_knowledge
from bot.knowledge.quiz import load_quiz
from bot.reply.safety import read_input
from bot.staff.feedback import read_feedback, record_feedback


def _records():
    from bot.records import LessonRecord

    scan = scan_knowledge(KNOWLEDGE)
    return {lesson.doc_id: LessonRecord.of(lesson, 1) for lesson in scan.lessons}


def test_every_item_names_a_real_lesson_and_has_a_one_line_reason():
    lessons = _records()
    items = load_quiz(lessons)
    assert len(items) >= 12
    for item in items:
        assert item.lesson in lessons, item.text
        assert item.title == lessons[item.lesson].title
        assert 10 <= len(item.reason) <= 80, item.reason
        assert len(item.text) <= 90, item.text  # a sentence or two


def test_scams_take_the_lessons_verdict_and_genuine_messages_are_mixed_in():
    lessons = _records()
    items = load_quiz(lessons)
    scams = [i for i in items if i.scam]
    genuine = [i for i in items if not i.scam]
    assert len(genuine) >= 5
    assert len(scams) >= 5  # a round of five can always hold one or two genuine and three scams
    for item in scams:
        assert item.reason == lessons[item.lesson].verdict
    # A genuine message asks for no money, code or tap on a link.
    for item in genuine:
        assert not any(w in item.text for w in ("验证码", "点击链接", "转到", "先交")), item.text


def test_feedback_is_stored_redacted_and_a_later_reason_replaces_the_first_row(tmp_path):
    path = tmp_path / "feedback.jsonl"
    question = read_input("我手机号13812345678，公安局让我转到安全账户", 400)
    record_feedback(path, question, "fake-police-safe-account", False, key="a1")
    record_feedback(path, question, "fake-police-safe-account", False, "太长了", key="a1")
    record_feedback(path, question, "fake-police-safe-account", True, "太长了", key="b2")
    rows = read_feedback(path)
    assert [(r.key, r.useful, r.reason) for r in rows] == [
        ("a1", False, "太长了"),
        ("b2", True, ""),
    ]
    assert "13812345678" not in path.read_text("utf-8")
    assert rows[0].lesson == "fake-police-safe-account"


def test_a_reason_not_on_the_list_is_dropped(tmp_path):
    path = tmp_path / "feedback.jsonl"
    item = record_feedback(path, read_input("问题", 400), "x", False, "<script>")
    assert item.reason == ""
