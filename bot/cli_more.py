"""The eval, gaps and bench commands (kept apart so cli.py stays short)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

THRESHOLDS = "thresholds.json"


def cmd_eval(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.cli import _settings
    from bot.evals import (
        EvalRun,
        EvalSetError,
        ablation,
        compute_metrics,
        gate,
        load_cases,
        resolve_set,
        run_cases,
    )
    from bot.pipeline import build_assistant

    settings = _settings(args)
    names = args.set or sorted(p.stem for p in settings.evals_dir.glob("*.jsonl"))
    try:
        paths = [resolve_set(n, settings.evals_dir) for n in names]
        sets = [(p, load_cases(p)) for p in paths]
        thresholds = _thresholds(settings.evals_dir)
    except EvalSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    assistant = build_assistant(settings)
    all_failures: list[str] = []
    results = {}
    for path, cases in sets:
        bar = tqdm(total=len(cases), desc=path.stem, unit="q", file=sys.stderr, disable=args.json)
        rows = run_cases(assistant, cases, progress=_advance(bar))
        bar.close()
        run = EvalRun(sets=[path.stem], rows=rows, metrics=compute_metrics(rows))
        limits = thresholds.get(path.stem, {}) if not args.no_gate else {}
        failures = [f"{path.stem}: {f}" for f in gate(run.metrics, limits)]
        if failures:
            failing = [r.id for r in rows if not r.passed][:15]
            failures.append(f"{path.stem}: failing cases: {', '.join(failing)}")
        all_failures += failures
        results[path.stem] = run
        if args.report:
            from bot.report import write_report

            abl = ablation(assistant, cases) if not args.no_ablation else None
            write_report(run, Path(args.report) / path.stem, abl, failures if limits else None)
    if args.json:
        payload: dict[str, Any] = {
            name: {"metrics": run.metrics, "rows": [r.__dict__ for r in run.rows]}
            for name, run in results.items()
        }
        if len(payload) == 1:
            payload = next(iter(payload.values()))
        print(json.dumps(payload, ensure_ascii=False))
    else:
        for name, run in results.items():
            print(f"== {name} ({len(run.rows)} cases)")
            for key, value in run.metrics.items():
                if not isinstance(value, dict):
                    print(f"  {key:22} {value}")
        if args.report:
            print(f"report written to {args.report}")
    for failure in all_failures:
        print(f"GATE: {failure}", file=sys.stderr)
    return 1 if all_failures else 0


def _advance(bar: Any) -> Callable[[int, int], None]:
    """A progress callback that moves a tqdm bar one case on."""
    return lambda done, total: bar.update(1)


def _thresholds(evals_dir: Path) -> dict:
    from bot.evals import EvalSetError

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


def cmd_gaps(args: argparse.Namespace) -> int:
    from bot.cli import _settings
    from bot.embeddings import make_embeddings
    from bot.gaps import group_questions, load_unanswered

    settings = _settings(args)
    try:
        since = dt.date.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(f"error: --since must be YYYY-MM-DD, got {args.since!r}", file=sys.stderr)
        return 2
    rows = load_unanswered(settings.unanswered_path, since)
    groups = []
    if rows:
        embeddings = make_embeddings(settings)
        vectors = embeddings.embed_documents_array([r["question"] for r in rows])
        groups = group_questions(rows, vectors)
    if args.json:
        print(json.dumps([g.__dict__ for g in groups], ensure_ascii=False))
        return 0
    if not groups:
        print("没有记录到答不上来的问题。")
    for g in groups:
        print(
            f"{g.count:4d} × {g.example}   (nearest topic: {g.nearest_topic or '-'}, last {g.last_seen})"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the eval/gaps/bench sub-commands."""
    p = sub.add_parser("eval", help="run eval sets and the gate")
    p.add_argument("--set", action="append", help="set name (in evals/) or path; repeatable")
    p.add_argument("--json", action="store_true")
    p.add_argument("--report", help="write a report (Markdown + charts) to this folder")
    p.add_argument("--no-gate", action="store_true", help="report only, never fail on thresholds")
    p.add_argument("--no-ablation", action="store_true", help="skip the retrieval ablation")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("gaps", help="questions the assistant could not answer, grouped")
    p.add_argument("--since", help="YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_gaps)

    p = sub.add_parser("bench", help="benchmark against the textbook LangChain RAG")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="smaller scale corpus (for smoke tests)")
    p.add_argument("--scale", type=int, help="chunks in the synthetic scale corpus (default 10000)")
    p.add_argument("--chroma-host", dest="bench_chroma_host", help="run against a Chroma server")
    p.add_argument("--chroma-port", dest="bench_chroma_port", type=int, default=8000)
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.bench import run_bench

    args.chroma_host = args.bench_chroma_host or args.chroma_host
    args.chroma_port = (
        args.bench_chroma_port if args.bench_chroma_host else (args.chroma_port or 8000)
    )
    return run_bench(args)
