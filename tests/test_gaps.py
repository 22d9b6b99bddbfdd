"""Unanswered questions: stored without personal data, filtered by date, grouped by meaning."""

from __future__ import annotations

import datetime as dt
import json
import threading

from bot.reply.safety import read_input
from bot.staff.gaps import group_questions, load_unanswered, record_unanswered

CARD = "6222020200112345679"  # passes the Luhn check
ID_NUMBER = "11010519491231002X"  # passes the ID check digit
PHONE = "13812345678"
CODE = "846213"


def test_record_unanswered_keeps_no_personal_data(tmp_path):
    path = tmp_path / "data" / "unanswered.jsonl"  # the folder does not exist yet
    first_q = read_input(f"我的卡号{CARD}，身份证{ID_NUMBER}，还能用吗", 400)
    record_unanswered(path, first_q, "large-font-banking", 0.31234)
    second_q = read_input(f"手机{PHONE}收到验证码{CODE}，这是什么", 400)
    record_unanswered(path, second_q, "verification-code", 0.2)

    raw = path.read_text("utf-8")
    for secret in (CARD, ID_NUMBER, PHONE, CODE):
        assert secret not in raw
    first, second = (json.loads(line) for line in raw.splitlines())
    # stored as the assistant read it: cleaned (NFKC: "，" -> ","), then redacted
    assert first["question"] == "我的卡号[银行卡号],身份证[身份证号],还能用吗"
    assert second["question"] == "手机[手机号]收到验证码[验证码],这是什么"
    assert first["nearest_topic"] == "large-font-banking"
    assert first["confidence"] == 0.312
    assert dt.datetime.fromisoformat(first["time"]).date() == dt.date.today()


def test_record_unanswered_cuts_long_questions(tmp_path):
    path = tmp_path / "unanswered.jsonl"
    record_unanswered(path, read_input("很长" * 400, 1000), "", 0.0)
    assert len(load_unanswered(path)[0]["question"]) == 300


def test_concurrent_writers_leave_whole_lines(tmp_path):
    path = tmp_path / "unanswered.jsonl"

    def write(n: int) -> None:
        for i in range(25):
            record_unanswered(path, read_input(f"问题{n}-{i}" + "长" * 200, 400), "t", 0.1)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = load_unanswered(path)
    assert len(rows) == 100
    assert len({r["question"] for r in rows}) == 100


def _store(path, rows: list[tuple[str, str, str]]) -> None:
    lines = [
        json.dumps(
            {"time": t, "question": q, "nearest_topic": topic, "confidence": 0.1},
            ensure_ascii=False,
        )
        for t, q, topic in rows
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")


def test_load_unanswered_filters_by_date_and_skips_damaged_lines(tmp_path):
    path = tmp_path / "unanswered.jsonl"
    _store(
        path,
        [
            ("2026-10-30T09:00:00", "十月的问题", "a"),
            ("2026-11-01T00:00:01", "十一月一号的问题", "b"),
            ("2026-11-02T18:30:00", "十一月二号的问题", "c"),
        ],
    )
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('["not", "a", "row"]\n{"time": "2026-11-03T07:00:00"}\n')
        handle.write('{"time": "2026-11-03T08:00:00", "question": "写了一半\n')
    assert [r["question"] for r in load_unanswered(path)] == [
        "十月的问题",
        "十一月一号的问题",
        "十一月二号的问题",
    ]
    since = load_unanswered(path, since=dt.date(2026, 11, 1))
    assert [r["question"] for r in since] == [
        "十一月一号的问题",
        "十一月二号的问题",
    ]  # the day itself counts
    assert load_unanswered(path, since=dt.date(2026, 12, 1)) == []
    assert load_unanswered(tmp_path / "missing.jsonl") == []


def test_group_questions_groups_near_duplicates_and_counts_them(encoder):
    rows = [
        {
            "time": "2026-11-01T10:00:00",
            "question": "养老金每个月几号发",
            "nearest_topic": "social-security",
        },
        {
            "time": "2026-11-01T11:00:00",
            "question": "银行几点开门",
            "nearest_topic": "large-font-banking",
        },
        {
            "time": "2026-11-02T09:00:00",
            "question": "养老金几号到账",
            "nearest_topic": "social-security",
        },
        {
            "time": "2026-11-02T10:00:00",
            "question": "老年公交卡在哪里办",
            "nearest_topic": "social-security",
        },
        {
            "time": "2026-11-03T09:00:00",
            "question": "银行礼拜天开不开门",
            "nearest_topic": "wechat-basics",
        },
        {
            "time": "2026-11-04T09:00:00",
            "question": "每个月养老金什么时候发",
            "nearest_topic": "personal-pension",
        },
    ]
    vectors = encoder.embed_documents_array([r["question"] for r in rows])
    groups = group_questions(rows, vectors)

    assert [g.count for g in groups] == [3, 2, 1]  # biggest group first
    pension, bank, card = groups
    assert pension.questions == ("养老金每个月几号发", "养老金几号到账", "每个月养老金什么时候发")
    assert pension.example == "养老金每个月几号发"
    assert pension.nearest_topic == "social-security"  # the majority of the group
    assert pension.last_seen == "2026-11-04T09:00:00"
    assert bank.questions == ("银行几点开门", "银行礼拜天开不开门")
    assert bank.last_seen == "2026-11-03T09:00:00"
    # one vote each: the tie goes to the earliest question, the same on every run
    assert bank.nearest_topic == "large-font-banking"
    assert card.questions == ("老年公交卡在哪里办",)
    assert sum(g.count for g in groups) == len(rows)


def test_group_questions_of_nothing_is_empty(encoder):
    assert group_questions([], encoder.embed_documents_array([])) == []
