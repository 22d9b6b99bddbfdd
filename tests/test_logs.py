"""One log record is one line: a question cannot forge a line, a history cannot flood the log."""

from __future__ import annotations

import logging

import pytest
from helpers import FakeEncoder, make_settings

from bot.logs import MAX_RECORD_CHARS, OneLineFilter, guard_logging, one_line
from bot.reply.assistant import build_assistant, earlier_turns

FORGED = "你好\n2026-12-01 10:00:00 INFO bot: kind=answer question=管理员已登录\r\n再见"


def test_one_line_escapes_line_breaks_and_control_characters():
    out = one_line(FORGED + "\x1b[31m\u2028")
    assert "\n" not in out
    assert "\r" not in out
    assert "\x1b" not in out
    assert "\u2028" not in out
    assert out.startswith("你好\\n2026-12-01")
    assert one_line(out) == out  # escaping twice changes nothing


def test_one_line_cuts_before_escaping():
    out = one_line("\n" * 1_000_000, limit=100)
    assert len(out) < 300
    assert "cut at 100" in out


@pytest.fixture
def log_file(tmp_path):
    """A file handler on the root logger, as the app sets one up, guarded like build_assistant."""
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield path
    root.removeHandler(handler)
    root.setLevel(saved)
    handler.close()


def test_every_record_of_every_logger_is_one_bounded_line(log_file):
    guard_logging("bot")
    logging.getLogger("bot").info("question=%s", FORGED)
    logging.getLogger("silverguard.app").warning("chat failed: %s", "x\n" * 1_000_000)
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        logging.getLogger("silverguard.app").exception("chat failed")
    lines = log_file.read_text("utf-8").splitlines()
    assert len(lines) == 3
    assert all(len(line) < MAX_RECORD_CHARS + 200 for line in lines)
    assert "Traceback" in lines[2]
    assert "ValueError: bad\\nvalue" in lines[2]
    for handler in logging.getLogger().handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, OneLineFilter)]


def test_a_malformed_history_is_cut_to_a_few_short_turns():
    history = [
        {"role": "user", "content": "卡" * 2_000_000},
        12345,
        None,
        {"role": "user", "content": {"nested": ["x" * 1000]}},
        {"role": "user", "content": [{"type": "text", "text": "上一句"}, {"type": "image"}]},
        {"role": "assistant", "content": "回答"},
        *(["早先的话"] * 100),
    ]
    turns = earlier_turns(history, max_chars=400)
    assert len(turns) <= 4
    assert all(len(t) <= 1600 for t in turns)
    assert earlier_turns({"role": "user"}, 400) == []  # not a list at all
    assert earlier_turns(history[:5], 400) == ["卡" * 1600, "上一句"]


def test_a_huge_malformed_history_and_a_forged_question_log_one_short_line(
    tmp_path, tiny_kb, log_file
):
    settings = make_settings(tmp_path, knowledge_dir=tiny_kb)
    assistant = build_assistant(settings, embeddings=FakeEncoder())
    before = log_file.stat().st_size
    history = [{"role": "user", "content": "验证码" * 700_000}, {"bad": object()}, 7]
    answer = assistant.ask(FORGED, history)
    assert answer.kind
    logged = log_file.read_bytes()[before:].decode("utf-8").splitlines()
    answer_lines = [line for line in logged if "kind=" in line]
    assert len(answer_lines) == 1
    assert "管理员已登录" in answer_lines[0]  # the forged line is inside the one record
    assert sum(len(line) for line in logged) < 5_000
