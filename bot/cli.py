"""`python -m bot ...`: thin commands over bot/, domain errors turned into plain messages."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from bot.config import Settings, apply_offline_env, load_settings
from bot.errors import BotError


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for key in ("knowledge_dir", "data_dir", "evals_dir", "chroma_host", "chroma_port"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return load_settings(**overrides)


def cmd_check(args: argparse.Namespace) -> int:
    from bot.knowledge import scan_knowledge

    settings = _settings(args)
    scan = scan_knowledge(settings.knowledge_dir)
    for problem in scan.problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    errors = len(scan.errors)
    print(
        f"{len(scan.lessons)} lessons OK, {errors} errors, {len(scan.problems) - errors} warnings"
    )
    return 1 if errors else 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.embeddings import make_embeddings
    from bot.index import IndexStore

    settings = _settings(args)
    store = IndexStore(settings, make_embeddings(settings))
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
    from bot.pipeline import build_assistant

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
    from bot.pipeline import build_assistant

    assistant = build_assistant(_settings(args))
    answer = assistant.ask(args.question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.text)
    return 0


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

    from bot import cli_more

    cli_more.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    apply_offline_env()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
