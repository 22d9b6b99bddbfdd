"""Run eval sets through the real Assistant and compute the metrics the gate reads."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import BotError
from bot.reply.safety import redact

THRESHOLDS = "thresholds.json"
EXPECT_KINDS = ("answer", "redirect", "refuse", "prompt", "unsure")


class EvalSetError(BotError):
    """An eval set cannot be found or read."""


@dataclass(frozen=True)
class Case:
    """One eval case; every field but question may be absent."""

    id: str
    question: str
    topics: tuple[str, ...] = ()
    include_all: tuple[tuple[str, ...], ...] = ()
    exclude: tuple[str, ...] = ()
    emergency: bool | None = None
    expect: str | None = None
    history: tuple[str, ...] = ()
    # a message of a message set (evals/messages.jsonl): scam or genuine, the flags it shows
    scam: bool | None = None
    scan_flags: tuple[str, ...] = ()
    # a practice case (模拟提问): the lesson, the trainee's answer and what a trainer decided
    lesson: str = ""
    practice_answer: str | None = None
    expect_pass: bool | None = None
    harmful: bool | None = None
    grade: str = ""
    # The situation labels of evals/situations.jsonl (issue 12): what the reading should find
    # and what the reply's first line must say (any of these strings).
    stage: str | None = None
    ask: str | None = None
    expect_first: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # distress, official_warning, coached, injection, pasted, followup


FLAG_FIELDS = ("distress", "official_warning", "coached", "injection", "pasted", "followup")


@dataclass
class Row:
    """What happened to one case."""

    id: str
    question: str
    topics: list[str]
    retrieved: list[dict]
    answer: str
    kind: str
    emergency: bool
    passed: bool
    failures: list[str]
    latency_ms: float
    expected_emergency: bool | None = None
    expect: str | None = None
    confidence: float = 0.0
    answer_checked: bool = False
    # practice cases only (模拟提问 sets: evals/practice.jsonl)
    practice_passed: bool | None = None
    practice_score: float | None = None
    harmful: bool | None = None
    expected_pass: bool | None = None
    expected_harmful: bool | None = None
    grade: str = ""
    stage: str | None = None  # expected (from the set)
    ask: str | None = None
    read_stage: str = ""  # what the reading found
    read_ask: str = ""
    first_line_ok: bool | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class EvalRun:
    """All rows of a run and the metrics computed from them."""

    sets: list[str]
    rows: list[Row]
    metrics: dict[str, float | dict] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # the gate's findings (not in to_json)

    def to_json(self) -> dict:
        return {"sets": self.sets, "metrics": self.metrics, "rows": [r.__dict__ for r in self.rows]}


def resolve_set(name: str, evals_dir: Path) -> Path:
    """A set by path, or by name (a file in evals/, with or without .jsonl)."""
    for candidate in (Path(name), evals_dir / name, evals_dir / f"{name}.jsonl"):
        if candidate.is_file():
            return candidate
    known = ", ".join(sorted(p.stem for p in evals_dir.glob("*.jsonl"))) or "none"
    raise EvalSetError(f"eval set '{name}' not found (sets in {evals_dir}: {known})")


def load_cases(path: Path) -> list[Case]:
    """Parse a JSONL set; a malformed line is an error naming file and line."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"{path}: cannot read the set as UTF-8 text: {exc}") from exc
    cases = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict) or not isinstance(raw.get("question", ""), str):
                raise ValueError("a case is an object with a text 'question'")
            expect = raw.get("expect")
            if expect is not None and expect not in EXPECT_KINDS:
                raise ValueError(f"expect must be one of {EXPECT_KINDS}")
            cases.append(
                Case(
                    id=str(raw.get("id") or f"{path.stem}-{number}"),
                    question=raw.get("question") or raw.get("text") or "",
                    topics=tuple(raw.get("topics") or ()),
                    include_all=tuple(tuple(group) for group in raw.get("include_all") or ()),
                    exclude=tuple(raw.get("exclude") or ()),
                    emergency=raw.get("emergency"),
                    expect=expect,
                    history=tuple(raw.get("history") or ()),
                    scam=raw.get("scam") if isinstance(raw.get("scam"), bool) else None,
                    scan_flags=tuple(raw.get("flags") or ()) if "scam" in raw else (),
                    lesson=str(raw.get("lesson") or ""),
                    practice_answer=raw.get("practice_answer"),
                    expect_pass=raw.get("expect_pass"),
                    harmful=raw.get("harmful"),
                    grade=str(raw.get("grade") or ""),
                    stage=raw.get("stage"),
                    ask=raw.get("ask"),
                    expect_first=tuple(raw.get("expect_first") or ()),
                    flags=tuple(f for f in FLAG_FIELDS if raw.get(f)),
                )
            )
        except (ValueError, TypeError) as exc:
            raise EvalSetError(f"{path}:{number}: {exc}") from exc
    return cases


def check_answer(case: Case, text: str, kind: str, emergency: bool) -> list[str]:
    """The answer checks a case asks for; returns what failed (empty = passed)."""
    failures = []
    for group in case.include_all:
        if not any(s in text for s in group):
            failures.append(f"missing one of {list(group)}")
    for s in case.exclude:
        if s and s in text:
            failures.append(f"contains excluded '{redact(s)}'")
    if case.emergency is not None and case.emergency != emergency:
        failures.append(f"emergency {emergency}, expected {case.emergency}")
    if case.expect is not None:
        accepted = {
            "answer": ("answer", "emergency", "unsure"),
            "unsure": ("unsure", "redirect"),  # either way nothing is made up
        }.get(case.expect, (case.expect,))
        ok = kind in accepted
        if not ok:
            failures.append(f"kind {kind}, expected {case.expect}")
    return failures


def run_cases(
    assistant,  # bot.reply.assistant.Assistant (not imported: keeps this module light)
    cases: list[Case],
    progress: Callable[[int, int], None] | None = None,
) -> list[Row]:
    """Ask every case in one process; one row per case, in order (nothing goes to the gap report)."""
    rows = []
    with assistant.evaluating():
        for i, case in enumerate(cases):
            rows.append(_run_case(assistant, case))
            if progress:
                progress(i + 1, len(cases))
    return rows


def _run_case(assistant, case: Case) -> Row:
    """Ask one case and check what came back."""
    start = time.perf_counter()
    question = assistant.read(case.question)
    answer = assistant.ask(question, list(case.history) or None)
    latency = (time.perf_counter() - start) * 1000
    passages = list(answer.passages)
    if len(passages) < 5:
        passages = assistant.search(question.redacted, k=5) if question.text else []
    failures = check_answer(case, answer.text, answer.kind, answer.emergency)
    first_ok = None
    if case.expect_first:
        first = next((ln for ln in answer.text.splitlines() if ln.strip()), "")
        first_ok = any(s in first for s in case.expect_first)
        if not first_ok:
            failures.append(f"first line lacks one of {list(case.expect_first)}")
    reading = answer.reading
    if (
        reading is not None
        and answer.emergency
        and ("official_warning" in case.flags or case.stage == "past_or_other")
        and case.emergency is False
    ):
        failures.append("the emergency card for a past story or a genuine warning")
    topic_rank = topic_rank_of([p.topic for p in passages], case.topics)
    topic_rank = topic_rank if topic_rank is not None and topic_rank < 3 else None
    if (
        case.topics
        and case.expect in (None, "answer")
        and not case.include_all
        and topic_rank is None
    ):
        failures.append("expected topic not in the top 3")
    return Row(
        id=case.id,
        question=question.whole_redacted[:500],
        topics=list(case.topics),
        retrieved=[
            {"doc_id": p.doc_id, "topic": p.topic, "title": p.title, "score": p.score}
            for p in passages[:5]
        ],
        answer=answer.text,
        kind=answer.kind,
        emergency=answer.emergency,
        passed=not failures,
        failures=failures,
        latency_ms=round(latency, 2),
        expected_emergency=case.emergency,
        expect=case.expect,
        confidence=answer.confidence,
        answer_checked=bool(
            case.include_all
            or case.exclude
            or case.emergency is not None
            or case.expect
            or case.expect_first
        ),
        stage=case.stage,
        ask=case.ask,
        read_stage=reading.stage if reading is not None else "",
        read_ask=reading.ask if reading is not None else "",
        first_line_ok=first_ok,
        flags=list(case.flags),
    )


def topic_rank_of(topics: Sequence[str], expected: Sequence[str]) -> int | None:
    """Rank (0 = first) of the first expected topic among the distinct topics retrieved, in order."""
    ranking = list(dict.fromkeys(topics))
    return next((i for i, t in enumerate(ranking) if t in expected), None)


def topic_hits(ranked: Sequence[tuple[Sequence[str], Sequence[str]]]) -> dict[str, float]:
    """topic@1, topic@3 and MRR of (retrieved topics, expected topics) pairs; 0 for none."""
    ranks = [topic_rank_of(topics, expected) for topics, expected in ranked]
    n = len(ranks)
    if not n:
        return {"topic_at_1": 0.0, "topic_at_3": 0.0, "mrr": 0.0}
    return {
        "topic_at_1": round(sum(r == 0 for r in ranks) / n, 4),
        "topic_at_3": round(sum(r is not None and r < 3 for r in ranks) / n, 4),
        "mrr": round(sum(1.0 / (r + 1) for r in ranks if r is not None) / n, 4),
    }


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    # Nearest rank is ceil(q/100 * n); round(x + 0.5) is not: Python rounds halves to even.
    k = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered) / 100) - 1))
    return ordered[k]


def compute_metrics(rows: list[Row]) -> dict[str, float | dict]:
    """topic@1/@3, MRR, per-topic recall, answer pass rate, emergency P/R, scope handling, latency."""
    ranked = [r for r in rows if r.topics]
    per_topic: dict[str, list[int]] = {}
    for r in ranked:
        rank = topic_rank_of([x["topic"] for x in r.retrieved], r.topics)
        for t in r.topics:
            per_topic.setdefault(t, [0, 0])
            per_topic[t][0] += rank is not None and rank < 3
            per_topic[t][1] += 1
    hits = topic_hits([([x["topic"] for x in r.retrieved], r.topics) for r in ranked])
    checked = [r for r in rows if r.answer_checked]
    emerg = [r for r in rows if r.expected_emergency is not None]
    tp = sum(bool(r.emergency and r.expected_emergency) for r in emerg)
    fp = sum(bool(r.emergency and not r.expected_emergency) for r in emerg)
    fn = sum(bool(not r.emergency and r.expected_emergency) for r in emerg)
    scoped = [r for r in rows if r.expect in ("redirect", "refuse", "prompt", "unsure")]
    answerable = [r for r in rows if r.expect == "answer"]
    latencies = [r.latency_ms for r in rows]
    n = len(ranked) or 1
    metrics: dict[str, float | dict] = {
        "cases": len(rows),
        **hits,
        "answer_pass_rate": round(sum(r.passed for r in checked) / len(checked), 4)
        if checked
        else 1.0,
        "emergency_precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "emergency_recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "scope_correct": round(
            sum(r.kind == r.expect or (r.expect, r.kind) == ("unsure", "redirect") for r in scoped)
            / len(scoped),
            4,
        )
        if scoped
        else 1.0,
        "over_refusal": round(
            sum(r.kind in ("redirect", "refuse", "prompt") for r in answerable) / len(answerable), 4
        )
        if answerable
        else 0.0,
        "unsure_rate": round(sum(r.kind == "unsure" for r in ranked) / n, 4) if ranked else 0.0,
        "latency_p50_ms": round(percentile(latencies, 50), 2),
        "latency_p95_ms": round(percentile(latencies, 95), 2),
        "per_topic_recall": {t: round(h / c, 4) for t, (h, c) in sorted(per_topic.items())},
    }
    metrics.update(situation_metrics(rows))
    return metrics


def situation_metrics(rows: list[Row]) -> dict[str, float | dict]:
    """For sets labelled with stage and ask: the reading's accuracy, first lines, pass rates."""
    labelled = [r for r in rows if r.stage or r.ask]
    if not labelled:
        return {}
    out: dict[str, float | dict] = {}
    staged = [r for r in labelled if r.stage]
    asked = [r for r in labelled if r.ask]
    firsts = [r for r in labelled if r.first_line_ok is not None]
    if staged:
        out["stage_accuracy"] = round(sum(r.read_stage == r.stage for r in staged) / len(staged), 4)
    if asked:
        out["ask_accuracy"] = round(sum(r.read_ask == r.ask for r in asked) / len(asked), 4)
    if firsts:
        out["first_line_pass"] = round(sum(bool(r.first_line_ok) for r in firsts) / len(firsts), 4)
    out["card_on_past_or_official"] = sum(
        bool(r.emergency and r.expected_emergency is False)
        and (r.stage == "past_or_other" or "official_warning" in r.flags)
        for r in labelled
    )

    def rate(group: list[Row]) -> float:
        return round(sum(r.passed for r in group) / len(group), 4)

    out["pass_by_stage"] = {
        s: rate(g)
        for s in sorted({r.stage for r in staged if r.stage})
        if (g := [r for r in staged if r.stage == s])
    }
    out["pass_by_ask"] = {
        a: rate(g)
        for a in sorted({r.ask for r in asked if r.ask})
        if (g := [r for r in asked if r.ask == a])
    }
    out["pass_by_flag"] = {
        f: rate(g) for f in FLAG_FIELDS if (g := [r for r in labelled if f in r.flags])
    }
    return out


# Metrics where a lower value is better (the gate reads thresholds as maxima for these).
LOWER_IS_BETTER = {
    "latency_p50_ms",
    "latency_p95_ms",
    "over_refusal",
    "unsure_rate",
    "card_on_past_or_official",
}


def gate(metrics: dict, thresholds: dict[str, float]) -> list[str]:
    """The gated metrics that fall short of their thresholds, as readable lines."""
    failures = []
    for name, limit in thresholds.items():
        value = metrics.get(name)
        if not isinstance(value, (int, float)):
            failures.append(f"{name}: not measured")
        elif name in LOWER_IS_BETTER and value > limit:
            failures.append(f"{name} = {value} is above the limit {limit}")
        elif name not in LOWER_IS_BETTER and value < limit:
            failures.append(f"{name} = {value} is below the threshold {limit}")
    return failures


def ablation(assistant, cases: list[Case]) -> list[dict]:
    """topic@1/@3 and search latency of BM25 only, dense only and hybrid on the same cases."""
    modes = ["bm25", "dense", "hybrid"]
    if assistant.retriever.can_rerank:
        modes.append("hybrid+rerank")
    out = []
    questions = [(assistant.read(c.question), c.topics) for c in cases if c.topics]
    questions = [(q, topics) for q, topics in questions if q.text]
    for mode in modes:
        times = []
        found = []
        assistant.clear_query_cache()  # time real encoding in every mode
        for question, topics in questions:
            start = time.perf_counter()
            passages = assistant.search(
                question.redacted, k=10, mode=mode.split("+")[0], rerank=mode == "hybrid+rerank"
            )
            times.append((time.perf_counter() - start) * 1000)
            found.append(([p.topic for p in passages], topics))
        hits = topic_hits(found)
        out.append(
            {
                "mode": mode,
                "topic_at_1": hits["topic_at_1"],
                "topic_at_3": hits["topic_at_3"],
                "search_p50_ms": round(percentile(times, 50), 2),
            }
        )
    return out


def load_thresholds(evals_dir: Path) -> dict[str, dict[str, float]]:
    """The gate's limits per set from evals/thresholds.json ({} when there is none)."""
    path = evals_dir / THRESHOLDS
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
        limits = {k: v for k, v in data.items() if not k.startswith("_")}
        for name, value in limits.items():
            if not isinstance(value, dict) or not all(
                isinstance(x, (int, float)) for x in value.values()
            ):
                raise ValueError(f"'{name}' must map metric names to numbers")
    except (ValueError, AttributeError) as exc:
        raise EvalSetError(f"{path}: {exc}") from exc
    return limits


def run_set(
    assistant,
    name: str,
    cases: list[Case],
    limits: dict[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalRun:
    """Run one set, compute its metrics and apply the gate (run.failures; empty = passed)."""
    if cases and all(c.scam is not None for c in cases):
        from bot.staff.messages import run_message_cases  # a message set: the message check

        return run_message_cases(assistant, name, cases, limits)
    if cases and all(c.practice_answer is not None for c in cases):
        from bot.staff.practice_eval import practice_metrics, run_practice

        rows = run_practice(assistant, cases, progress=progress)
        run = EvalRun(sets=[name], rows=rows, metrics=practice_metrics(rows))
    else:
        rows = run_cases(assistant, cases, progress=progress)
        run = EvalRun(sets=[name], rows=rows, metrics=compute_metrics(rows))
    return gated(run, name, limits)


def gated(run: EvalRun, name: str, limits: dict[str, float] | None) -> EvalRun:
    """The run with the gate's findings for this set (run.failures; empty = passed)."""
    failures = [f"{name}: {f}" for f in gate(run.metrics, limits or {})]
    if failures:
        failing = [r.id for r in run.rows if not r.passed][:15]
        failures.append(f"{name}: failing cases: {', '.join(failing)}")
    run.failures = failures
    return run
