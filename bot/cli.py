"""`python -m bot ...`: thin commands over bot/, domain errors turned into plain messages."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config import Settings, apply_offline_env, load_settings
from bot.errors import BotError, ConfigError


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for key in ("knowledge_dir", "data_dir", "evals_dir", "chroma_host", "chroma_port"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return load_settings(**overrides)


def cmd_check(args: argparse.Namespace) -> int:
    from bot.knowledge.lessons import scan_knowledge
    from bot.reply.linecheck import make_line_checker
    from bot.reply.official import FILENAME as OFFICIAL_FILE
    from bot.reply.official import check_official

    settings = _settings(args)
    # Every line a senior may read is checked like code: harmful advice, links, unknown numbers.
    scan = scan_knowledge(settings.knowledge_dir, make_line_checker(settings).check_lines)
    # knowledge/official.yaml is no lesson: it is validated on its own (numbers, domains, sources)
    official_problems: tuple = ()
    official = None
    if (settings.knowledge_dir / OFFICIAL_FILE).is_file():
        official, found = check_official(settings.knowledge_dir / OFFICIAL_FILE)
        official_problems = found
    problems = [*(p for p in scan.problems if p.path != OFFICIAL_FILE), *official_problems]
    for problem in problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    errors = sum(p.severity == "error" for p in problems)
    listed = f"; official list: {len(official.organisations)} entries" if official else ""
    print(
        f"{len(scan.lessons)} lessons OK, {errors} errors, {len(problems) - errors} warnings"
        + listed
    )
    return 1 if errors else 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.reply.linecheck import make_line_checker
    from bot.search.embeddings import make_embeddings
    from bot.search.store import IndexStore

    settings = _settings(args)
    embeddings = make_embeddings(settings)
    store = IndexStore(settings, embeddings, make_line_checker(settings, embeddings).check_lines)
    bar = tqdm(total=0, unit="chunk", desc="embedding", disable=args.quiet, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    report = store.ingest(rebuild=args.rebuild, progress=progress)
    bar.close()
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(report.summary())
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from bot.reply.assistant import build_assistant

    assistant = build_assistant(_settings(args))
    passages = assistant.retriever.search(args.question, k=args.k)
    if args.json:
        keys = ("doc_id", "title", "topic", "section", "score", "text")
        print(json.dumps([{k: getattr(p, k) for k in keys} for p in passages], ensure_ascii=False))
        return 0
    if not passages:
        print("请输入要查找的问题。")
    for i, p in enumerate(passages, 1):
        print(f"{i}. [{p.topic}] 《{p.title}》 {p.section}  score={p.score:.4f}")
        print("   " + p.text.replace("\n", " ")[:120])
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.reply.assistant import build_assistant

    assistant = build_assistant(_settings(args))
    answer = assistant.ask(args.question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.text)
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    """帮我看看这条消息: the message check of one text, or of a JSONL file of {"id","text"}."""
    from bot.reply.official import FILENAME, load_official
    from bot.reply.scan import scan_message
    from bot.staff.messages import scan_lines

    official = load_official(_settings(args).knowledge_dir / FILENAME)
    if args.file:
        try:
            handle = open(args.file, encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError as exc:
            print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 2
        bad = 0
        with handle:
            for scanned in scan_lines(handle, official):
                bad += scanned.result is None
                out = scanned.to_json()
                if args.json:
                    print(json.dumps(out, ensure_ascii=False))
                else:
                    where = out.get("id", f"line {scanned.line}")
                    print(f"{where}\t{out.get('risk') or 'error: ' + str(out['error'])}")
        return 1 if bad else 0
    if not (args.text or "").strip():
        print('error: 请把要检查的消息放在引号里，例如 python -m bot scan "…"', file=sys.stderr)
        return 1
    result = scan_message(args.text, official)
    if args.json:
        flags = [f.to_json() for f in result.flags]
        print(json.dumps({**result.to_json(), "flags": flags}, ensure_ascii=False))
        return 0
    print(f"风险：{result.risk_text}")
    for i, flag in enumerate(result.flags, 1):
        mark = chr(0x2460 + i - 1) if i <= 20 else f"({i})"
        print(f"{mark} {flag.label}：“{flag.evidence}” —— {flag.explain}")
    if result.domains_note:
        print(result.domains_note)
    print(result.advice)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.reply.assistant import build_assistant
    from bot.staff.evals import (
        EvalSetError,
        ablation,
        load_cases,
        load_thresholds,
        resolve_set,
        run_set,
    )

    settings = _settings(args)
    names = args.set or sorted(p.stem for p in settings.evals_dir.glob("*.jsonl"))
    try:
        paths = [resolve_set(n, settings.evals_dir) for n in names]
        sets = [(p, load_cases(p)) for p in paths]
        thresholds = load_thresholds(settings.evals_dir)
    except EvalSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    assistant = build_assistant(settings)
    all_failures: list[str] = []
    results = {}
    for path, cases in sets:
        bar = tqdm(total=len(cases), desc=path.stem, unit="q", file=sys.stderr, disable=args.json)
        limits = thresholds.get(path.stem, {}) if not args.no_gate else {}
        run = run_set(assistant, path.stem, cases, limits, progress=_advance(bar))
        bar.close()
        all_failures += run.failures
        results[path.stem] = run
        if args.report:
            from bot.staff.report import write_report

            abl = ablation(assistant, cases) if not args.no_ablation else None
            write_report(run, Path(args.report) / path.stem, abl, run.failures if limits else None)
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


def _date(text: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be YYYY-MM-DD, got {text!r}") from None


def cmd_gaps(args: argparse.Namespace) -> int:
    from bot.search.embeddings import make_embeddings
    from bot.staff.gaps import gap_report

    settings = _settings(args)
    # The encoder loads only when there is something to group.
    has_rows = settings.unanswered_path.exists()
    embeddings = make_embeddings(settings) if has_rows else None
    groups = gap_report(settings.unanswered_path, embeddings, args.since) if has_rows else []
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


def cmd_bench(args: argparse.Namespace) -> int:
    run_bench = _bench()

    args.chroma_host = args.bench_chroma_host or args.chroma_host
    args.chroma_port = (
        args.bench_chroma_port if args.bench_chroma_host else (args.chroma_port or 8000)
    )
    return run_bench(args)


def _bench() -> Any:
    """benchmarks.bench.run_bench: a dev tool that lives in the repository, not in the wheel."""
    root = Path(__file__).resolve().parents[1]
    if (root / "benchmarks" / "bench.py").is_file() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        from benchmarks.bench import run_bench
    except ImportError as exc:
        raise ConfigError("`bench` runs from a clone of the repository (benchmarks/)") from exc
    return run_bench


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="SilverGuard 银龄反诈助手")
    parser.add_argument("--knowledge-dir", dest="knowledge_dir")
    parser.add_argument("--data-dir", dest="data_dir")
    parser.add_argument("--evals-dir", dest="evals_dir", help="eval sets and thresholds.json")
    parser.add_argument("--chroma-host", dest="chroma_host")
    parser.add_argument("--chroma-port", dest="chroma_port", type=int)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("check", help="validate the course files").set_defaults(func=cmd_check)

    p = sub.add_parser("ingest", help="index the course files (incremental)")
    p.add_argument("--rebuild", action="store_true", help="start from scratch")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="hybrid search over the lessons")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="ask the assistant")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("scan", help="check a pasted message: risk level and red flags")
    p.add_argument("text", nargs="?", help="the message (in quotes)")
    p.add_argument("--file", help='a JSONL file of {"id","text"} lines: one JSON line out each')
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("eval", help="run eval sets and the gate")
    p.add_argument("--set", action="append", help="set name (in evals/) or path; repeatable")
    p.add_argument("--json", action="store_true")
    p.add_argument("--report", help="write a report (Markdown + charts) to this folder")
    p.add_argument("--no-gate", action="store_true", help="report only, never fail on thresholds")
    p.add_argument("--no-ablation", action="store_true", help="skip the retrieval ablation")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("gaps", help="questions the assistant could not answer, grouped")
    p.add_argument("--since", type=_date, help="YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_gaps)

    p = sub.add_parser("bench", help="benchmark against the textbook LangChain RAG")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="smaller scale corpus (for smoke tests)")
    p.add_argument("--scale", type=int, help="chunks in the synthetic scale corpus (default 10000)")
    p.add_argument("--chroma-host", dest="bench_chroma_host", help="run against a Chroma server")
    p.add_argument("--chroma-port", dest="bench_chroma_port", type=int, default=8000)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    apply_offline_env()
    parser = build_parser()
    args = parser.parse_args(argv)  # a usage error exits 2 with argparse's message
    try:
        return int(args.func(args))
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
