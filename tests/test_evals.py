"""The eval runner, its metrics, the gate, the report, and the shipped eval sets and lessons."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from helpers import KNOWLEDGE, ROOT, make_settings

from bot.knowledge.lessons import scan_knowledge
from bot.knowledge.topics import SECTIONS, TOPICS
from bot.staff.evals import (
    LOWER_IS_BETTER,
    EvalRun,
    EvalSetError,
    Row,
    compute_metrics,
    gate,
    load_cases,
    percentile,
    resolve_set,
    run_cases,
)
from bot.staff.report import write_report


def write_set(path: Path, cases: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", "utf-8")
    return path


# ---------------------------------------------------------------- the runner on a tiny set

TINY_SET = [
    # right retrieval: the police lesson comes first
    {
        "id": "right",
        "question": "公安局打电话说我的卡涉嫌洗钱，要转到安全账户",
        "topics": ["fake-police"],
    },
    # wrong at 1, right at 3: the question is about WeChat, the case claims verification codes
    {"id": "second", "question": "微信字太小看不清怎么办", "topics": ["verification-code"]},
    # wrong retrieval: no lesson of this topic exists in the tiny corpus
    {"id": "miss", "question": "银行客服要验证码能给吗", "topics": ["collectibles"]},
    {
        "id": "check-pass",
        "question": "微信的字怎么变大？",
        "topics": ["wechat-basics"],
        "include_all": [["关怀模式"], ["字体", "字"]],
        "exclude": ["验证码"],
        "emergency": False,
        "expect": "answer",
    },
    {
        "id": "check-fail",
        "question": "银行客服要验证码能给吗",
        "topics": ["verification-code"],
        "include_all": [["关怀模式"]],
        "exclude": ["验证码"],
        "emergency": False,
        "expect": "answer",
    },
    {
        "id": "emergency",
        "question": "钱已经打过去了 对方说是公安局的",
        "topics": ["fake-police"],
        "include_all": [["110"], ["96110"], ["冻结", "止付"]],
        "emergency": True,
        "expect": "answer",
    },
    {"id": "empty", "question": "", "emergency": False, "expect": "prompt"},
    {"id": "weather", "question": "今天天气怎么样", "emergency": False, "expect": "redirect"},
    {"id": "deposit", "question": "存三年定期利息是多少", "emergency": False, "expect": "unsure"},
]


def test_run_cases_on_a_tiny_set_gives_known_rows_and_metrics(tmp_path, tiny_kb, encoder):
    from bot.reply.assistant import build_assistant

    assistant = build_assistant(make_settings(tmp_path, knowledge_dir=tiny_kb), embeddings=encoder)
    cases = load_cases(write_set(tmp_path / "tiny.jsonl", TINY_SET))
    seen = []
    rows = run_cases(assistant, cases, progress=lambda done, total: seen.append((done, total)))

    assert [r.id for r in rows] == [c["id"] for c in TINY_SET]  # every case, in order
    assert seen[-1] == (9, 9)
    by_id = {r.id: r for r in rows}

    right = by_id["right"]
    assert right.passed
    assert right.failures == []
    assert right.retrieved[0]["doc_id"] == "tiny-police"
    assert set(right.retrieved[0]) == {"doc_id", "topic", "title", "score"}
    # the tiny corpus has three lessons: all of them are listed, each once
    assert sorted(r["doc_id"] for r in right.retrieved) == [
        "tiny-code",
        "tiny-police",
        "tiny-wechat",
    ]

    assert by_id["second"].retrieved[0]["topic"] == "wechat-basics"
    assert by_id["second"].passed  # the claimed topic is still within the top 3
    miss = by_id["miss"]
    assert not miss.passed
    assert miss.failures == ["expected topic not in the top 3"]

    ok = by_id["check-pass"]
    assert ok.passed
    assert ok.answer_checked
    assert ok.kind == "answer"
    assert "关怀模式" in ok.answer
    bad = by_id["check-fail"]
    assert not bad.passed
    assert bad.answer_checked
    assert "missing one of ['关怀模式']" in bad.failures
    assert any(f.startswith("contains excluded") for f in bad.failures)
    assert len(bad.failures) == 2

    emergency = by_id["emergency"]
    assert emergency.passed, emergency.failures
    assert emergency.emergency
    assert emergency.expected_emergency
    assert emergency.kind == "emergency"
    assert "96110" in emergency.answer

    empty = by_id["empty"]
    assert empty.question == ""
    assert empty.kind == "prompt"
    assert empty.passed
    assert empty.retrieved == []
    assert by_id["weather"].kind == "redirect"
    assert by_id["weather"].passed
    assert by_id["deposit"].kind == "unsure"
    assert by_id["deposit"].passed
    assert all(r.latency_ms >= 0 for r in rows)

    m = compute_metrics(rows)
    assert m["cases"] == 9
    # ranked cases: right(1), second(2), miss(-), check-pass(1), check-fail(1), emergency(1)
    assert m["topic_at_1"] == round(4 / 6, 4)
    assert m["topic_at_3"] == round(5 / 6, 4)
    assert m["mrr"] == round((1 + 0.5 + 0 + 1 + 1 + 1) / 6, 4)
    assert m["per_topic_recall"] == {
        "collectibles": 0.0,
        "fake-police": 1.0,
        "verification-code": 1.0,
        "wechat-basics": 1.0,
    }
    assert m["answer_pass_rate"] == round(5 / 6, 4)  # only check-fail fails among the checked
    assert m["emergency_precision"] == 1.0
    assert m["emergency_recall"] == 1.0
    assert m["scope_correct"] == 1.0
    assert m["over_refusal"] == 0.0
    assert m["unsure_rate"] == 0.0
    assert m["latency_p95_ms"] >= m["latency_p50_ms"] > 0


# ---------------------------------------------------------------- loading sets


def test_load_cases_reads_fields_and_defaults(tmp_path):
    path = tmp_path / "mini.jsonl"
    path.write_text(
        '{"id": "a", "question": "问", "topics": ["fake-police"], "include_all": [["110", "96110"]],'
        ' "exclude": ["转账"], "emergency": true, "expect": "answer", "history": ["前一句"]}\n'
        "\n"
        '{"question": "没有编号"}\n',
        "utf-8",
    )
    first, second = load_cases(path)
    assert first.id == "a"
    assert first.topics == ("fake-police",)
    assert first.include_all == (("110", "96110"),)
    assert first.exclude == ("转账",)
    assert first.emergency is True
    assert first.expect == "answer"
    assert first.history == ("前一句",)
    assert second.id == "mini-3"  # named by file and line when the case has no id
    assert second.topics == ()
    assert second.emergency is None
    assert second.expect is None


@pytest.mark.parametrize(
    "bad_line",
    [
        '{"id": "x", "question": "问"',
        '["not", "an", "object"]',
        '{"question": 5}',
        '{"question": "问", "expect": "maybe"}',
    ],
)
def test_a_malformed_line_names_file_and_line(tmp_path, bad_line):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": "ok", "question": "好的"}\n' + bad_line + "\n", "utf-8")
    with pytest.raises(EvalSetError, match=r"broken\.jsonl:2: "):
        load_cases(path)


def test_a_set_that_is_not_utf8_is_an_eval_set_error(tmp_path):
    path = tmp_path / "gbk.jsonl"
    path.write_bytes('{"question": "验证码"}\n'.encode("gbk"))
    with pytest.raises(EvalSetError, match="gbk.jsonl"):
        load_cases(path)


def test_resolve_set_by_name_and_by_path(tmp_path):
    evals = tmp_path / "evals"
    evals.mkdir()
    named = write_set(evals / "tiny.jsonl", [{"question": "问"}])
    elsewhere = write_set(tmp_path / "other.jsonl", [{"question": "问"}])
    assert resolve_set("tiny", evals) == named
    assert resolve_set("tiny.jsonl", evals) == named
    assert resolve_set(str(elsewhere), evals) == elsewhere
    with pytest.raises(EvalSetError, match=r"'nope' not found.*tiny"):
        resolve_set("nope", evals)


# ---------------------------------------------------------------- metric arithmetic


def row(
    id: str = "r",
    topics: tuple[str, ...] = (),
    got: tuple[str, ...] = (),
    *,
    passed: bool = True,
    checked: bool = False,
    emergency: bool = False,
    expected_emergency: bool | None = None,
    expect: str | None = None,
    kind: str = "answer",
    latency: float = 10.0,
) -> Row:
    """A hand-made row: got is the topics of the retrieved passages, best first."""
    return Row(
        id=id,
        question="问",
        topics=list(topics),
        retrieved=[
            {"doc_id": f"d{i}", "topic": t, "title": t, "score": 1.0} for i, t in enumerate(got)
        ],
        answer="答",
        kind=kind,
        emergency=emergency,
        passed=passed,
        failures=[] if passed else ["x"],
        latency_ms=latency,
        expected_emergency=expected_emergency,
        expect=expect,
        answer_checked=checked,
    )


def test_topic_hits_and_mrr_rank_by_distinct_topic():
    rows = [
        row("first", ("a",), ("a", "b", "c")),
        # two passages of topic a count as one rank: c is the third topic, so a hit at 3
        row("third", ("c",), ("a", "a", "b", "c")),
        # e is the fourth topic: outside the top 3, yet counted by MRR
        row("fourth", ("e",), ("a", "b", "c", "e")),
        row("never", ("z",), ("a", "b")),
        # any of several expected topics counts; the best ranked one decides
        row("either", ("x", "b"), ("a", "b", "x")),
        row("unranked", (), ("a",)),  # no topics: not part of the retrieval metrics
    ]
    m = compute_metrics(rows)
    assert m["cases"] == 6
    assert m["topic_at_1"] == round(1 / 5, 4)
    assert m["topic_at_3"] == round(3 / 5, 4)
    assert m["mrr"] == round((1 + 1 / 3 + 1 / 4 + 0 + 1 / 2) / 5, 4)
    assert m["per_topic_recall"] == {"a": 1.0, "b": 1.0, "c": 1.0, "e": 0.0, "x": 1.0, "z": 0.0}


def test_per_topic_recall_counts_hits_over_cases_of_the_topic():
    rows = [
        row("1", ("a",), ("a",)),
        row("2", ("a",), ("b", "c", "d", "a")),
        row("3", ("a",), ("b", "a")),
    ]
    assert compute_metrics(rows)["per_topic_recall"] == {"a": round(2 / 3, 4)}


def test_no_ranked_cases_gives_zero_retrieval_metrics():
    m = compute_metrics([row("x", (), ("a",))])
    assert (m["topic_at_1"], m["topic_at_3"], m["mrr"], m["unsure_rate"]) == (0.0, 0.0, 0.0, 0.0)
    assert m["per_topic_recall"] == {}


def test_answer_pass_rate_counts_only_checked_rows():
    rows = [
        row("1", checked=True),
        row("2", checked=True, passed=False),
        row("3", checked=True),
        row("4", checked=True, passed=False),
        row("5", passed=False),  # a retrieval-only failure is not an answer check
    ]
    assert compute_metrics(rows)["answer_pass_rate"] == 0.5
    assert compute_metrics([row("only", passed=False)])["answer_pass_rate"] == 1.0


def test_emergency_precision_and_recall():
    rows = [
        row("tp1", emergency=True, expected_emergency=True),
        row("tp2", emergency=True, expected_emergency=True),
        row("fp", emergency=True, expected_emergency=False),
        row("fn", emergency=False, expected_emergency=True),
        row("tn", emergency=False, expected_emergency=False),
        row("unlabelled", emergency=True),  # no expectation: counts for neither
    ]
    m = compute_metrics(rows)
    assert m["emergency_precision"] == round(2 / 3, 4)
    assert m["emergency_recall"] == round(2 / 3, 4)


def test_emergency_metrics_without_positives_do_not_divide_by_zero():
    quiet = compute_metrics([row("tn", expected_emergency=False)])
    assert quiet["emergency_precision"] == 1.0
    assert quiet["emergency_recall"] == 1.0
    # never fired, yet one was expected: precision has nothing to judge, recall is 0
    missed = compute_metrics([row("fn", expected_emergency=True)])
    assert missed["emergency_precision"] == 1.0
    assert missed["emergency_recall"] == 0.0
    # fired only where it should not: precision 0, recall has nothing to judge
    alarm = compute_metrics([row("fp", emergency=True, expected_emergency=False)])
    assert alarm["emergency_precision"] == 0.0
    assert alarm["emergency_recall"] == 1.0
    assert compute_metrics([])["emergency_precision"] == 1.0


def test_scope_correct_over_refusal_and_unsure_rate():
    rows = [
        row("r", expect="redirect", kind="redirect"),
        row("u", expect="unsure", kind="redirect"),  # nothing made up either way
        row("f", expect="refuse", kind="answer"),  # wrong
        row("p", expect="prompt", kind="prompt"),
        row("a1", ("t",), ("t",), expect="answer", kind="redirect"),  # over-refused
        row("a2", ("t",), ("t",), expect="answer", kind="unsure"),
        row("a3", ("t",), ("t",), expect="answer", kind="answer"),
        row("a4", ("t",), ("t",), expect="answer", kind="emergency"),
    ]
    m = compute_metrics(rows)
    assert m["scope_correct"] == 0.75
    assert m["over_refusal"] == 0.25
    assert m["unsure_rate"] == 0.25  # unsure among the cases with topics
    none = compute_metrics([row("x")])
    assert none["scope_correct"] == 1.0
    assert none["over_refusal"] == 0.0


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, 0.0),
        ([7.0], 95, 7.0),
        ([2.0, 1.0], 50, 1.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([float(v) for v in range(1, 7)], 50, 3.0),
        ([float(v) for v in range(1, 21)], 95, 19.0),
        ([float(v) for v in range(1, 101)], 95, 95.0),
        ([float(v) for v in range(1, 11)], 95, 10.0),
        ([5.0, 9.0, 1.0], 0, 1.0),
        ([5.0, 9.0, 1.0], 100, 9.0),
    ],
)
def test_percentile_is_nearest_rank(values, q, expected):
    assert percentile(values, q) == expected


def test_latency_metrics_are_percentiles_of_the_rows():
    rows = [row(str(i), latency=float(ms)) for i, ms in enumerate([40, 10, 30, 20, 1000])]
    m = compute_metrics(rows)
    assert m["latency_p50_ms"] == 30.0
    assert m["latency_p95_ms"] == 1000.0


# ---------------------------------------------------------------- the gate


def test_gate_reads_thresholds_as_minima():
    metrics = {"topic_at_1": 0.8, "topic_at_3": 0.95, "mrr": 0.9}
    assert gate(metrics, {"topic_at_1": 0.8, "topic_at_3": 0.9}) == []  # equal is enough
    failures = gate(metrics, {"topic_at_1": 0.85, "mrr": 0.5})
    assert failures == ["topic_at_1 = 0.8 is below the threshold 0.85"]


def test_gate_reads_lower_is_better_metrics_as_maxima():
    assert {"latency_p50_ms", "latency_p95_ms", "over_refusal", "unsure_rate"} <= LOWER_IS_BETTER
    metrics = {"latency_p95_ms": 250.0, "over_refusal": 0.05, "unsure_rate": 0.0}
    assert gate(metrics, {"latency_p95_ms": 250.0, "over_refusal": 0.1, "unsure_rate": 0.0}) == []
    failures = gate(metrics, {"latency_p95_ms": 200.0, "over_refusal": 0.01})
    assert failures == [
        "latency_p95_ms = 250.0 is above the limit 200.0",
        "over_refusal = 0.05 is above the limit 0.01",
    ]


def test_gate_fails_a_threshold_on_a_metric_it_cannot_read():
    failures = gate({"per_topic_recall": {"a": 1.0}}, {"per_topic_recall": 0.5, "made_up": 1.0})
    assert failures == ["per_topic_recall: not measured", "made_up: not measured"]


# ---------------------------------------------------------------- the report


def _run(rows: list[Row]) -> EvalRun:
    return EvalRun(sets=["tiny"], rows=rows, metrics=compute_metrics(rows))


def test_report_files_and_change_since_the_last_run(tmp_path):
    out = tmp_path / "report"
    before = [
        row("stays", ("a",), ("a", "b"), checked=True, latency=5.0),
        row("breaks", ("a",), ("a", "b"), checked=True, latency=6.0),
        row("mends", ("b",), ("a", "b"), checked=True, passed=False, latency=7.0),
    ]
    ablation = [
        {"mode": m, "topic_at_1": 0.5, "topic_at_3": 1.0, "search_p50_ms": 1.0}
        for m in ("bm25", "dense", "hybrid")
    ]
    first = write_report(_run(before), out, ablation, gate_failures=[])
    text = first.read_text("utf-8")
    for name in ("report.md", "per_topic_recall.png", "latency.png", "run.json"):
        assert (out / name).stat().st_size > 0, name
    assert "Change since the last run" not in text
    assert "## Gate: passed" in text
    for mode in ("bm25", "dense", "hybrid"):
        assert f"| {mode} | 0.5 | 1.0 | 1.0 |" in text
    assert json.loads((out / "run.json").read_text("utf-8"))["rows"][1]["id"] == "breaks"

    after = [
        row("stays", ("a",), ("a", "b"), checked=True, latency=500.0),
        row("breaks", ("a",), ("b", "c", "d"), checked=True, passed=False, latency=600.0),
        row("mends", ("b",), ("a", "b"), checked=True, latency=700.0),
    ]
    text = write_report(
        _run(after), out, None, gate_failures=["tiny: topic_at_1 = 0.3 is below"]
    ).read_text()
    assert "## Gate: FAILED" in text
    assert "tiny: topic_at_1 = 0.3 is below" in text
    change = text.split("## Change since the last run", 1)[1].split("## Metrics", 1)[0]
    regressions, improvements = change.split("**Improvements**")
    assert "**Regressions**" in regressions
    assert "case breaks: pass → fail" in regressions
    assert "topic_at_1: 0.6667 → 0.3333" in regressions
    assert "case mends: fail → pass" in improvements
    assert "latency" not in change  # latency moves are noise, never called a regression
    assert change.index("case breaks") < change.index("case mends")
    assert "### breaks" in text
    assert "- why: x" in text
    assert "## Ablation" not in text


# ---------------------------------------------------------------- the shipped sets and lessons


def _raw(name: str) -> list[dict]:
    lines = (ROOT / "evals" / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("name", ["retrieval.jsonl", "answers.jsonl", "unanswerable.jsonl"])
def test_shipped_sets_are_well_formed(name):
    raw = _raw(name)
    cases = load_cases(ROOT / "evals" / name)
    assert len(cases) == len(raw)
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert all(isinstance(r.get("id"), str) and r["id"] for r in raw)
    # a blank question is a case only where the set expects the 'what would you like' prompt
    assert all(c.question.strip() or c.expect == "prompt" for c in cases)
    assert all(c.topics for c in cases if c.expect is None)  # a retrieval case names its topics
    unknown = {t for c in cases for t in c.topics} - set(TOPICS)
    assert not unknown


def test_shipped_sets_have_the_promised_size():
    retrieval = load_cases(ROOT / "evals" / "retrieval.jsonl")
    assert len(retrieval) >= 240
    per_topic = Counter(t for c in retrieval for t in c.topics)
    thin = {t: per_topic[t] for t in TOPICS if per_topic[t] < 10}
    assert not thin, thin
    assert len(load_cases(ROOT / "evals" / "answers.jsonl")) >= 60
    all_ids = [
        c.id
        for name in ("retrieval", "answers", "unanswerable")
        for c in load_cases(ROOT / "evals" / f"{name}.jsonl")
    ]
    assert len(all_ids) == len(set(all_ids))


def test_shipped_lessons_cover_every_topic_in_full():
    scan = scan_knowledge(KNOWLEDGE)
    assert not scan.errors
    assert len(scan.lessons) >= 26
    assert {lesson.topic for lesson in scan.lessons} == set(TOPICS)
    for lesson in scan.lessons:
        assert len(re.findall(r"[\u4e00-\u9fff]", lesson.body)) >= 600, lesson.doc_id
        headings = {s.heading for s in lesson.sections if s.level == 2}
        missing = [s for s in SECTIONS if s not in headings]
        assert not missing, (lesson.doc_id, missing)
