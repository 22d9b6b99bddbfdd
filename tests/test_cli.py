"""`python -m bot ...` through bot.cli.main: check, search, ask, eval (gate, JSON, report) and gaps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import KNOWLEDGE, TINY, write_lesson

from bot.cli import main


@pytest.fixture
def one_encoder(monkeypatch, encoder):
    """Every command gets the session's real encoder instead of loading its own (saves seconds)."""
    import bot.reply.assistant
    import bot.search.embeddings

    monkeypatch.setattr(bot.search.embeddings, "make_embeddings", lambda settings: encoder)
    monkeypatch.setattr(bot.reply.assistant, "make_embeddings", lambda settings: encoder)
    return encoder


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    """A tiny knowledge folder and one data folder whose index the commands of this module share."""
    root = tmp_path_factory.mktemp("cli")
    knowledge = root / "knowledge"
    knowledge.mkdir()
    for key in TINY:
        write_lesson(knowledge, key)
    return knowledge, root / "data"


@pytest.fixture
def cli(capsys, monkeypatch, one_encoder, tiny_dirs, tmp_path):
    """Run a command over the tiny lessons with an evals folder of its own; (exit code, out, err)."""
    monkeypatch.chdir(tmp_path)  # away from a developer's .env
    knowledge, data = tiny_dirs
    evals = tmp_path / "evals"
    evals.mkdir()

    def run(*argv: str, knowledge_dir: Path = knowledge, data_dir: Path = data):
        base = ["--knowledge-dir", str(knowledge_dir), "--data-dir", str(data_dir)]
        code = main([*base, "--evals-dir", str(evals), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    run.evals = evals
    return run


def write_set(path: Path, cases: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", "utf-8")
    return path


def write_thresholds(evals: Path, limits: dict) -> None:
    data = {"_comment": "minima, except maxima for lower-is-better metrics", **limits}
    (evals / "thresholds.json").write_text(json.dumps(data), "utf-8")


PASSING = [
    {
        "id": "police",
        "question": "公安局打电话说我的卡涉嫌洗钱，要转到安全账户",
        "topics": ["fake-police"],
    },
    {
        "id": "wechat",
        "question": "微信的字怎么变大？",
        "topics": ["wechat-basics"],
        "include_all": [["关怀模式"]],
        "emergency": False,
        "expect": "answer",
    },
    {"id": "weather", "question": "今天天气怎么样", "emergency": False, "expect": "redirect"},
]
FAILING = {
    "id": "code-fail",
    "question": "银行客服要验证码能给吗",
    "topics": ["verification-code"],
    "include_all": [["关怀模式"]],
    "expect": "answer",
}


# ---------------------------------------------------------------- check, search, ask


def test_check_counts_the_lessons(cli):
    code, out, err = cli("check")
    assert code == 0
    assert "3 lessons OK, 0 errors" in out
    assert err == ""


def test_check_fails_on_a_broken_lesson_and_names_it(cli, tmp_path):
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    write_lesson(knowledge, "police")
    (knowledge / "broken.md").write_text(
        "---\nid: broken\ntitle: 缺了主题\n---\n## 一句话提醒\n内容\n", "utf-8"
    )
    code, out, err = cli("check", knowledge_dir=knowledge)
    assert code == 1
    assert "broken.md" in err
    assert "topic" in err
    assert "1 lessons OK, " in out


def test_search_json_on_the_shipped_lessons(cli, shipped):
    data = shipped.settings.data_dir
    question = "有人打电话说我涉嫌洗钱，让我把钱转到安全账户"
    code, out, _ = cli("search", question, "--json", knowledge_dir=KNOWLEDGE, data_dir=data)
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 5
    assert hits[0]["topic"] == "fake-police"
    for hit in hits:
        assert set(hit) == {"doc_id", "title", "topic", "section", "score", "text"}
    assert len({h["doc_id"] for h in hits}) == 5  # one passage a lesson

    code, out, _ = cli(
        "search", "微信字太小", "-k", "2", "--json", knowledge_dir=KNOWLEDGE, data_dir=data
    )
    assert code == 0
    assert len(json.loads(out)) == 2
    code, out, _ = cli("search", "   ", "--json", knowledge_dir=KNOWLEDGE, data_dir=data)
    assert code == 0
    assert json.loads(out) == []


def test_ask_json_has_answer_sources_emergency_confidence(cli, shipped):
    data = shipped.settings.data_dir
    code, out, _ = cli(
        "ask",
        "银行客服打电话要我的验证码，能给吗",
        "--json",
        knowledge_dir=KNOWLEDGE,
        data_dir=data,
    )
    assert code == 0
    reply = json.loads(out)
    assert {"answer", "sources", "emergency", "confidence"} <= set(reply)
    assert reply["emergency"] is False
    assert 0 < reply["confidence"] <= 1
    assert reply["sources"]
    for source in reply["sources"]:
        assert set(source) == {"doc_id", "title", "topic", "score"}
    assert reply["sources"][0]["topic"] == "verification-code"
    assert f"《{reply['sources'][0]['title']}》" in reply["answer"]

    code, out, _ = cli(
        "ask", "我刚把验证码告诉他了", "--json", knowledge_dir=KNOWLEDGE, data_dir=data
    )
    assert code == 0
    reply = json.loads(out)
    assert reply["emergency"] is True
    assert "96110" in reply["answer"]


def test_ask_prints_the_plain_answer(cli):
    code, out, _ = cli("ask", "微信的字怎么变大？")
    assert code == 0
    assert "关怀模式" in out
    assert not out.lstrip().startswith("{")


# ---------------------------------------------------------------- eval: exit codes


def test_eval_exits_0_when_the_thresholds_are_met(cli):
    write_set(cli.evals / "tiny.jsonl", PASSING)
    write_thresholds(
        cli.evals,
        {
            "tiny": {
                "topic_at_1": 1.0,
                "answer_pass_rate": 1.0,
                "over_refusal": 0.0,
                "latency_p50_ms": 60000,
            }
        },
    )
    code, out, err = cli("eval", "--set", "tiny", "--no-ablation")
    assert code == 0, err
    assert "== tiny (3 cases)" in out
    assert "topic_at_1" in out
    assert "GATE" not in err


def test_eval_exits_1_naming_the_metric_and_the_failing_cases(cli):
    write_set(cli.evals / "tiny.jsonl", [*PASSING, FAILING])
    write_thresholds(
        cli.evals,
        {
            "tiny": {
                "topic_at_1": 1.0,  # met
                "answer_pass_rate": 0.9,  # 2 of 3 checked answers pass: below
                "latency_p50_ms": 0.0001,  # a maximum nobody meets: above
                "over_refusal": 0.0,  # a maximum that is met
            },
            "other": {"topic_at_1": 1.0},  # a set that did not run is not gated
        },
    )
    code, _, err = cli("eval", "--set", "tiny")
    assert code == 1
    gate_lines = [line for line in err.splitlines() if line.startswith("GATE: ")]
    assert "GATE: tiny: answer_pass_rate = 0.6667 is below the threshold 0.9" in gate_lines
    assert any(
        line.startswith("GATE: tiny: latency_p50_ms = ") and "above the limit" in line
        for line in gate_lines
    )
    assert "GATE: tiny: failing cases: code-fail" in gate_lines
    assert not any("topic_at_1" in line or "over_refusal" in line for line in gate_lines)

    code, _, err = cli("eval", "--set", "tiny", "--no-gate")
    assert code == 0
    assert "GATE" not in err


def test_eval_exits_2_on_an_unknown_set(cli):
    write_set(cli.evals / "tiny.jsonl", PASSING)
    code, out, err = cli("eval", "--set", "nope")
    assert code == 2
    assert "'nope' not found" in err
    assert "tiny" in err  # the sets that do exist
    assert out == ""


def test_eval_exits_2_on_a_malformed_set_naming_file_and_line(cli):
    path = cli.evals / "broken.jsonl"
    path.write_text('{"id": "a", "question": "问"}\n\n{"id": "b", "question": \n', "utf-8")
    code, _, err = cli("eval", "--set", "broken")
    assert code == 2
    assert f"{path}:3:" in err


@pytest.mark.parametrize(
    "text",
    [
        '{"tiny": {"topic_at_1": 0.9}',  # not JSON
        '{"tiny": {"topic_at_1": "high"}}',  # not a number
        '{"topic_at_1": 0.9}',  # not per set: would silently gate nothing
        "[0.9]",
    ],
)
def test_eval_exits_2_on_malformed_thresholds(cli, text):
    write_set(cli.evals / "tiny.jsonl", PASSING)
    (cli.evals / "thresholds.json").write_text(text, "utf-8")
    code, out, err = cli("eval", "--set", "tiny")
    assert code == 2
    assert f"error: {cli.evals / 'thresholds.json'}: " in err
    assert out == ""


def test_eval_usage_errors_exit_2(cli):
    with pytest.raises(SystemExit) as exc:
        cli("eval", "--no-such-flag")
    assert exc.value.code == 2


# ---------------------------------------------------------------- eval: JSON and sets


ROW_KEYS = {"id", "question", "retrieved", "answer", "emergency", "passed", "latency_ms"}


def test_eval_json_on_the_shipped_lessons(cli, shipped):
    cases = [
        {
            "id": "sms",
            "question": "短信说我积分要过期，点链接兑换，能点吗",
            "topics": ["phishing-sms"],
        },
        {"id": "weather", "question": "明天会下雨吗", "expect": "redirect", "emergency": False},
        {"id": "blank", "question": "", "expect": "prompt", "emergency": False},
        {"id": "paid", "question": "钱已经打过去了 对方说是公安局的", "emergency": True},
    ]
    write_set(cli.evals / "mini.jsonl", cases)
    code, out, _ = cli(
        "eval",
        "--set",
        "mini",
        "--json",
        knowledge_dir=KNOWLEDGE,
        data_dir=shipped.settings.data_dir,
    )
    assert code == 0
    payload = json.loads(out)  # one object, nothing else on stdout
    assert set(payload) == {"metrics", "rows"}
    assert payload["metrics"]["cases"] == 4
    rows = payload["rows"]
    assert [r["id"] for r in rows] == ["sms", "weather", "blank", "paid"]
    for r in rows:
        assert set(r) >= ROW_KEYS
    for r in rows:
        if r["question"]:  # the redirect too: retrieval is recorded even when nothing is answered
            assert len(r["retrieved"]) >= 5, r["id"]
            for hit in r["retrieved"]:
                assert set(hit) == {"doc_id", "topic", "title", "score"}
    by_id = {r["id"]: r for r in rows}
    assert by_id["sms"]["retrieved"][0]["topic"] == "phishing-sms"
    assert by_id["blank"]["retrieved"] == []
    assert by_id["paid"]["emergency"] is True
    assert all(r["passed"] for r in rows)
    assert all(r["latency_ms"] >= 0 for r in rows)


def test_eval_takes_sets_by_name_and_by_path(cli, tmp_path):
    write_set(cli.evals / "tiny.jsonl", PASSING[:1])
    elsewhere = write_set(tmp_path / "extra.jsonl", [FAILING])
    code, out, _ = cli("eval", "--set", "tiny", "--set", str(elsewhere), "--json")
    assert code == 0  # no thresholds, no gate
    payload = json.loads(out)
    assert set(payload) == {"tiny", "extra"}  # several sets: one object per set
    assert [r["id"] for r in payload["tiny"]["rows"]] == ["police"]
    assert [r["id"] for r in payload["extra"]["rows"]] == ["code-fail"]
    assert payload["extra"]["rows"][0]["passed"] is False
    assert payload["extra"]["metrics"]["answer_pass_rate"] == 0.0


# ---------------------------------------------------------------- eval: the report


def test_eval_report_and_change_since_the_last_run(cli, tmp_path):
    path = write_set(cli.evals / "tiny.jsonl", PASSING)
    report_dir = tmp_path / "report"
    code, out, _ = cli("eval", "--set", "tiny", "--report", str(report_dir))
    assert code == 0
    assert f"report written to {report_dir}" in out
    folder = report_dir / "tiny"
    for name in ("report.md", "per_topic_recall.png", "latency.png", "run.json"):
        assert (folder / name).stat().st_size > 0, name
    first = (folder / "report.md").read_text("utf-8")
    assert "Change since the last run" not in first
    ablation = first.split("## Ablation", 1)[1]
    for mode in ("bm25", "dense", "hybrid"):
        assert f"\n| {mode} | " in ablation
    assert "\n| hybrid | 1.0 | 1.0 | " in ablation  # both ranked cases find their lesson first
    assert [r["id"] for r in json.loads((folder / "run.json").read_text("utf-8"))["rows"]] == [
        "police",
        "wechat",
        "weather",
    ]

    # the content team changes the expectation of the WeChat case: it now fails
    broken = [dict(PASSING[0]), {**PASSING[1], "include_all": [["安全账户"]]}, dict(PASSING[2])]
    write_set(path, broken)
    code, _, _ = cli("eval", "--set", "tiny", "--report", str(report_dir), "--no-ablation")
    assert code == 0  # no thresholds: reported, not gated
    second = (folder / "report.md").read_text("utf-8")
    change = second.split("## Change since the last run", 1)[1].split("## Metrics", 1)[0]
    regressions, improvements = change.split("**Improvements**")
    assert regressions.strip().startswith("**Regressions**")  # regressions come first
    # the question as the assistant read it (cleaned: NFKC turns "？" into "?"), redacted
    assert "- case wechat: pass → fail (微信的字怎么变大?)" in regressions
    assert "- answer_pass_rate: 1.0 → 0.5" in regressions
    assert improvements.strip() == "- none"
    assert "## Failing cases (1)" in second
    assert "### wechat" in second


# ---------------------------------------------------------------- gaps


def test_gaps_json_groups_the_recorded_questions(cli, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = [
        ("2026-10-20T09:00:00", "银行几点开门", "large-font-banking"),
        ("2026-11-01T10:00:00", "养老金每个月几号发", "social-security"),
        ("2026-11-02T09:00:00", "养老金几号到账", "social-security"),
        ("2026-11-03T09:00:00", "每个月养老金什么时候发", "social-security"),
        ("2026-11-04T09:00:00", "银行礼拜天开不开门", "large-font-banking"),
    ]
    lines = [
        json.dumps(
            {"time": t, "question": q, "nearest_topic": n, "confidence": 0.1}, ensure_ascii=False
        )
        for t, q, n in rows
    ]
    (data / "unanswered.jsonl").write_text("\n".join(lines) + "\n", "utf-8")

    code, out, _ = cli("gaps", "--json", data_dir=data)
    assert code == 0
    groups = json.loads(out)
    assert [g["count"] for g in groups] == [3, 2]
    assert groups[0]["questions"] == [
        "养老金每个月几号发",
        "养老金几号到账",
        "每个月养老金什么时候发",
    ]
    assert groups[0]["nearest_topic"] == "social-security"
    assert groups[0]["last_seen"] == "2026-11-03T09:00:00"
    assert set(groups[0]) == {"example", "questions", "count", "nearest_topic", "last_seen"}

    code, out, _ = cli("gaps", "--json", "--since", "2026-11-01", data_dir=data)
    assert code == 0
    assert [(g["example"], g["count"]) for g in json.loads(out)] == [
        ("养老金每个月几号发", 3),
        ("银行礼拜天开不开门", 1),
    ]

    code, out, _ = cli("gaps", data_dir=data)
    assert code == 0
    assert "   3 × 养老金每个月几号发" in out


def test_gaps_with_nothing_recorded_and_a_bad_date(cli, tmp_path, capsys):
    code, out, _ = cli("gaps", "--json", data_dir=tmp_path / "empty")
    assert code == 0
    assert json.loads(out) == []
    code, out, _ = cli("gaps", data_dir=tmp_path / "empty")
    assert code == 0
    assert "没有记录到答不上来的问题" in out
    with pytest.raises(SystemExit) as exc:  # an argparse type: a usage error
        cli("gaps", "--since", "11/01/2026", data_dir=tmp_path / "empty")
    assert exc.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
