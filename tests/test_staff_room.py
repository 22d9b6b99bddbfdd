"""The staff room's engines on the shipped lessons: drills, class plans, handouts, the term schedule."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bot.staff import plan as plans
from bot.staff import schedule
from bot.staff.drill import GENERIC_WRONG, WRONG_MOVES, drill, score_drill
from bot.web.staff import lesson_choices


@pytest.fixture(scope="module")
def lessons(shipped):
    return shipped.lessons()


def test_a_drill_run_has_real_choices_and_a_score(shipped, lessons):
    lesson = lessons["fake-police-safe-account"]
    steps = drill(lesson, shipped.embeddings.embed_documents_array, random.Random(3))
    assert len(steps) == 6
    victims = {m for moves in WRONG_MOVES.values() for m in moves} | set(GENERIC_WRONG)
    for step in steps:
        assert len(set(step.choices)) == 4
        assert step.right_move in lesson.section("正确做法")
        assert all(c in victims for i, c in enumerate(step.choices) if i != step.safe_index)
        assert step.red_flag in lesson.section("怎么识破")
    assert len({s.safe_index for s in steps}) > 1  # the right move is not always in one place
    assert len({s.right_move for s in steps}) > 1  # nor the same sentence on every line
    assert len({s.red_flag for s in steps}) == len(steps)  # one flag a line while they last
    safe = next(s for s in steps if "安全账户" in s.scammer_line)
    assert "安全账户" in safe.red_flag
    transfer = next(s for s in steps if "安全账户" in s.scammer_line)
    assert "只转一小部分，先看看是不是真的。" in transfer.choices

    answers = [s.safe_index for s in steps]
    answers[1] = (answers[1] + 1) % 4
    result = score_drill(steps, answers)
    assert (result.right, result.total) == (5, 6)
    assert result.missed == (steps[1],)
    summary = result.to_markdown()
    assert "5/6" in summary
    assert steps[1].red_flag in summary


@pytest.mark.parametrize("minutes", [30, 45])
def test_a_class_plan_adds_up_to_its_length(shipped, lessons, minutes):
    plan = plans.class_plan(
        [lessons["fake-police-safe-account"]], minutes, shipped.embeddings.embed_documents_array
    )
    assert plan.total_minutes == minutes
    assert [s.start for s in plan.sections] == [
        sum(s.minutes for s in plan.sections[:i]) for i in range(len(plan.sections))
    ]
    names = [s.name for s in plan.sections]
    assert names[0] == "开场提问"
    assert names[-1] == "提问答疑"
    assert any(n.startswith("互动") for n in names)
    assert "？" in plan.opening_question
    interactive = next(s for s in plan.sections if s.name.startswith("互动"))
    assert "骗子！" in interactive.lines[0]
    assert any("破绽" in line for line in interactive.lines)
    qa = next(s for s in plan.sections if s.name == "提问答疑")
    assert all(line.startswith("问：") and "答：" in line for line in qa.lines)
    md = plan.to_markdown()
    assert "- 问" not in md.replace("- 问：", "")  # no stray "- 问" line
    assert f"第{minutes - plan.sections[-1].minutes + 1}–{minutes}分钟" in md


def test_two_lessons_in_one_45_minute_class(lessons):
    plan = plans.class_plan(
        [lessons["fake-police-safe-account"], lessons["fake-police-video-record"]], 45
    )
    assert plan.total_minutes == 45
    assert plan.lessons == ("fake-police-safe-account", "fake-police-video-record")
    assert sum(s.name.startswith("案例故事：") for s in plan.sections) == 2
    with pytest.raises(plans.PlanError):
        plans.class_plan([lessons["fake-police-safe-account"]], 40)


def test_lessons_are_listed_by_chinese_title_and_topic_name(shipped):
    labels = dict(lesson_choices(shipped))
    inverse = {v: k for k, v in labels.items()}
    assert inverse["fake-police-safe-account"].endswith("（冒充公检法）")
    assert not any("fake-" in label for label in labels)


def test_a_term_from_september_fits_the_seasons(lessons):
    classes = schedule.term(lessons, 2026, 9)
    assert [c.date for c in classes] == [
        dt.date(2026 + (9 + i - 1) // 12, (9 + i - 1) % 12 + 1, 9) for i in range(12)
    ]
    topics = [tuple(lessons[d].topic for d in c.lessons) for c in classes]
    by_month = {c.date.month: t for c, t in zip(classes, topics, strict=True)}
    assert set(by_month[10]) == {"health-products", "travel-scams"}  # 重阳 2026-10-18
    assert set(by_month[1]) == {"impersonate-relative", "wechat-basics"}  # 春节 2027-02-06
    assert by_month[3] == ("personal-pension",)
    flat = [t for ts in topics for t in ts]
    assert len(flat) == len(set(flat))  # twelve classes, no topic twice


def test_the_class_day_and_a_short_month(lessons):
    classes = schedule.term(lessons, 2027, 1, day=31)
    assert classes[1].date == dt.date(2027, 2, 28)
    assert classes[0].date == dt.date(2027, 1, 31)
    with pytest.raises(schedule.ScheduleError):
        schedule.term(lessons, 2027, 13)


def test_an_edited_term_exports_a_calendar_that_parses_back(lessons):
    icalendar = pytest.importorskip("icalendar")
    rows = schedule.to_rows(schedule.term(lessons, 2026, 9))
    rows[2] = ["2026-11-12", "改到12号：验证码", "verification-code-password"]
    classes = schedule.from_rows(rows, lessons)
    text = schedule.to_ics(classes, lessons, location="静安支行二楼活动室")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = icalendar.Calendar.from_ical(text)
    events = cal.walk("VEVENT")
    assert len(events) == 12
    starts = [e.decoded("DTSTART") for e in events]
    assert starts[0] == dt.datetime(2026, 9, 9, 9, 30)
    assert starts[2] == dt.datetime(2026, 11, 12, 9, 30)
    assert str(events[2]["SUMMARY"]) == "反诈课：改到12号：验证码"
    assert lessons["verification-code-password"].title in str(events[2]["DESCRIPTION"])
    assert str(events[0]["LOCATION"]) == "静安支行二楼活动室"
    assert len({str(e["UID"]) for e in events}) == 12
    html = schedule.schedule_html(classes, lessons)
    assert "2026年11月12日" in html


def test_a_bad_row_is_named(lessons):
    with pytest.raises(schedule.ScheduleError, match="第1行"):
        schedule.from_rows([["9月9日", "x", "fake-police-safe-account"]], lessons)
    with pytest.raises(schedule.ScheduleError, match="no-such-lesson"):
        schedule.from_rows([["2026-09-09", "x", "no-such-lesson"]], lessons)


def test_a_lesson_published_through_the_desk_is_listed_without_a_restart(
    tmp_path, tiny_kb, encoder
):
    from helpers import make_settings

    from bot.reply.assistant import build_assistant
    from bot.staff.uploads import accept_upload

    assistant = build_assistant(make_settings(tmp_path, knowledge_dir=tiny_kb), embeddings=encoder)
    before = {d for _, d in lesson_choices(assistant)}
    text = (tiny_kb / "tiny-police.md").read_text("utf-8")
    new = text.replace("tiny-police", "tiny-police-two").replace(
        "冒充警察要求转账到安全账户", "冒充法院说有传票"
    )
    results = accept_upload(tiny_kb, [("tiny-police-two.md", new.encode())], 1_000_000)
    assert all(r.ok for r in results), results
    assistant.reindex()  # what the desk's 重新索引 does
    after = dict((d, label) for label, d in lesson_choices(assistant))
    assert set(after) - before == {"tiny-police-two"}
    assert after["tiny-police-two"].startswith("冒充法院说有传票")
