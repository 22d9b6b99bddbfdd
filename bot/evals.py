"""Run eval sets through the real Assistant and compute the metrics the gate reads."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import BotError
from bot.safety import clean_input, redact

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


@dataclass
class EvalRun:
    """All rows of a run and the metrics computed from them."""

    sets: list[str]
    rows: list[Row]
    metrics: dict[str, float | dict] = field(default_factory=dict)

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
                    question=raw.get("question") or "",
                    topics=tuple(raw.get("topics") or ()),
                    include_all=tuple(tuple(group) for group in raw.get("include_all") or ()),
                    exclude=tuple(raw.get("exclude") or ()),
                    emergency=raw.get("emergency"),
                    expect=expect,
                    history=tuple(raw.get("history") or ()),
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
    assistant,  # bot.pipeline.Assistant (not imported: keeps this module light)
    cases: list[Case],
    progress: Callable[[int, int], None] | None = None,
) -> list[Row]:
    """Ask every case in one process; one row per case, in order (nothing goes to the gap report)."""
    rows = []
    saved, assistant.record_gaps = assistant.record_gaps, False
    try:
        for i, case in enumerate(cases):
            rows.append(_run_case(assistant, case))
            if progress:
                progress(i + 1, len(cases))
    finally:
        assistant.record_gaps = saved
    return rows


def _run_case(assistant, case: Case) -> Row:
    """Ask one case and check what came back."""
    start = time.perf_counter()
    answer = assistant.ask(case.question, list(case.history) or None)
    latency = (time.perf_counter() - start) * 1000
    passages = list(answer.passages)
    if len(passages) < 5:
        query = clean_input(case.question, assistant.settings.max_question_chars).text
        passages = assistant.retriever.search(redact(query), k=5) if query else []
    failures = check_answer(case, answer.text, answer.kind, answer.emergency)
    topic_rank = _first_topic_rank(passages, case.topics)
    if (
        case.topics
        and case.expect in (None, "answer")
        and not case.include_all
        and topic_rank is None
    ):
        failures.append("expected topic not in the top 3")
    return Row(
        id=case.id,
        question=redact(case.question)[:500],
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
            case.include_all or case.exclude or case.emergency is not None or case.expect
        ),
    )


def _topic_ranking(retrieved: list[dict]) -> list[str]:
    ranking: list[str] = []
    for r in retrieved:
        if r["topic"] not in ranking:
            ranking.append(r["topic"])
    return ranking


def _first_topic_rank(passages, topics) -> int | None:
    ranking = _topic_ranking([{"topic": p.topic} for p in passages])
    return next((i for i, t in enumerate(ranking[:3]) if t in topics), None)


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
    hits1 = hits3 = 0
    rr = 0.0
    per_topic: dict[str, list[int]] = {}
    for r in ranked:
        ranking = _topic_ranking(r.retrieved)
        rank = next((i for i, t in enumerate(ranking) if t in r.topics), None)
        hits1 += rank == 0
        hits3 += rank is not None and rank < 3
        rr += 1.0 / (rank + 1) if rank is not None else 0.0
        for t in r.topics:
            per_topic.setdefault(t, [0, 0])
            per_topic[t][0] += rank is not None and rank < 3
            per_topic[t][1] += 1
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
        "topic_at_1": round(hits1 / n, 4) if ranked else 0.0,
        "topic_at_3": round(hits3 / n, 4) if ranked else 0.0,
        "mrr": round(rr / n, 4) if ranked else 0.0,
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
    return metrics


# Metrics where a lower value is better (the gate reads thresholds as maxima for these).
LOWER_IS_BETTER = {"latency_p50_ms", "latency_p95_ms", "over_refusal", "unsure_rate"}


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
    if assistant.retriever.reranker is not None:
        modes.append("hybrid+rerank")
    out = []
    ranked = [c for c in cases if c.topics and clean_input(c.question, 400).text]
    for mode in modes:
        hits1 = hits3 = 0
        times = []
        saved = assistant.retriever.reranker
        assistant.embeddings.embed_query_vector.cache_clear()  # time real encoding in every mode
        if mode != "hybrid+rerank":
            assistant.retriever.reranker = None
        try:
            for c in ranked:
                start = time.perf_counter()
                passages = assistant.retriever.search(
                    redact(clean_input(c.question, 400).text), k=10, mode=mode.split("+")[0]
                )
                times.append((time.perf_counter() - start) * 1000)
                ranking = _topic_ranking([{"topic": p.topic} for p in passages])
                hits1 += bool(ranking) and ranking[0] in c.topics
                hits3 += bool(set(ranking[:3]) & set(c.topics))
        finally:
            assistant.retriever.reranker = saved
        n = len(ranked) or 1
        out.append(
            {
                "mode": mode,
                "topic_at_1": round(hits1 / n, 4),
                "topic_at_3": round(hits3 / n, 4),
                "search_p50_ms": round(statistics.median(times), 2) if times else 0.0,
            }
        )
    return out
