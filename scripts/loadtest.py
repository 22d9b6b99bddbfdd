"""Load test of the RUNNING app: N concurrent chat sessions over Gradio's REST API, D seconds.

    python scripts/loadtest.py --url http://127.0.0.1:7860 [--sessions 50] [--duration 60] [--json]

Each session is one senior at a tablet (one Gradio session, as one browser tab): it asks a
question taken from evals/retrieval.jsonl (POST /gradio_api/call/chat with the conversation so
far), reads the streamed reply to its end (GET the event stream), pauses --think seconds on
average (uniform 0.5x-1.5x; a senior reads a reply and types for far longer) and asks the next
one; after --turns questions it starts a new conversation ("新的对话"). The sessions start spread
over the first --think seconds. --think 0 is a stress test: all sessions start at once and ask
again the moment a reply ends.

A reply counts as an error when the HTTP call fails or times out, the stream ends in an error
event or without a reply, or the reply is the app's "busy" or "歇一歇" message. Latency is measured
from the POST to the stream's `complete` event. The app must already be running (this starts
nothing); every request goes to a loopback address only, and --max-requests caps the total.

--source 127.0.0.2[,127.0.0.3,...] sends from those loopback addresses (the sessions dealt out
among them), so that one run can be "another branch" of a second run, or 50 sessions can come
from 5 branches under the app's per-address ceiling. A refusal before the queue (HTTP 429/413,
bot/web/guard.py) counts by its kind: rate_limited, busy, too_long.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
BUSY = "系统有点忙"
TOO_FAST = "歇一歇"


@dataclass
class Results:
    """What the sessions observed."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    first_piece: list[float] = field(default_factory=list)  # seconds to the first streamed piece
    errors: Counter = field(default_factory=Counter)
    started: int = 0
    finished: int = 0


def loopback_url(url: str) -> str:
    """The URL without a trailing slash; SystemExit unless it names a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise SystemExit(f"refusing {url!r}: only http(s) URLs")
    if host == "localhost":
        return url.replace("localhost", "127.0.0.1", 1).rstrip("/")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refusing {url!r}: the load test only talks to a loopback address")
    return url.rstrip("/")


def load_questions(path: Path) -> list[str]:
    """The questions of an eval set (JSONL with a "question" field)."""
    questions = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            question = json.loads(line).get("question", "")
            if question.strip():
                questions.append(question)
    if not questions:
        raise SystemExit(f"no questions in {path}")
    return questions


def reply_text(update: object) -> str:
    """The reply's text in one update of /chat (a dict: text, done, kind, lesson, ...)."""
    return str(update.get("text", "")) if isinstance(update, dict) else ""


@dataclass
class Conversation:
    """One session's Gradio session id and its questions so far (what the page sends back)."""

    session_hash: str
    history: list = field(default_factory=list)
    turns: int = 0


async def ask(
    client: httpx.AsyncClient, base: str, question: str, chat: Conversation
) -> tuple[str, float, float]:
    """One chat request: (error kind or "", seconds to complete, seconds to first piece)."""
    start = time.perf_counter()
    body = {"data": [question, chat.history], "session_hash": chat.session_hash}
    post = await client.post(f"{base}/gradio_api/call/chat", json=body)
    if post.status_code in (413, 429):
        kind = post.json().get("kind", "") if "json" in post.headers.get("content-type", "") else ""
        return {"too_fast": "rate_limited"}.get(kind, kind or f"http_{post.status_code}"), 0.0, 0.0
    if post.status_code != 200:
        return f"http_{post.status_code}", 0.0, 0.0
    event_id = post.json().get("event_id")
    if not event_id:
        return "no_event_id", 0.0, 0.0
    first = 0.0
    event = ""
    async with client.stream("GET", f"{base}/gradio_api/call/chat/{event_id}") as stream:
        if stream.status_code != 200:
            return f"http_{stream.status_code}", 0.0, 0.0
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
                if event == "generating" and not first:
                    first = time.perf_counter() - start
            elif line.startswith("data:"):
                if event == "error":
                    return "gradio_error", 0.0, 0.0
                if event == "complete":
                    elapsed = time.perf_counter() - start
                    output = json.loads(line[5:])
                    text = reply_text(output[0] if output else None)
                    chat.history = [*chat.history, question][-6:]
                    if not text.strip():
                        return "empty_reply", 0.0, 0.0
                    if BUSY in text:
                        return "busy_reply", 0.0, 0.0
                    if TOO_FAST in text:
                        return "rate_limited", 0.0, 0.0
                    return "", elapsed, first or elapsed
    return "stream_ended_without_reply", 0.0, 0.0


async def session(
    client: httpx.AsyncClient,
    base: str,
    questions: list[str],
    rng: random.Random,
    deadline: float,
    args: argparse.Namespace,
    results: Results,
) -> None:
    """One senior asking questions one after another until the deadline or the request cap."""
    chat = Conversation(uuid.uuid4().hex)
    if args.think:  # seniors do not all press 发送 in the same millisecond: start spread out
        await asyncio.sleep(rng.uniform(0, args.think))
    while time.monotonic() < deadline and results.started < args.max_requests:
        results.started += 1
        if chat.turns >= args.turns:  # 新的对话
            chat.history, chat.turns = [], 0
        chat.turns += 1
        try:
            kind, elapsed, first = await asyncio.wait_for(
                ask(client, base, rng.choice(questions), chat), timeout=args.timeout
            )
        except (TimeoutError, httpx.TimeoutException):
            kind, elapsed, first = "timeout", 0.0, 0.0
        except httpx.HTTPError as exc:
            kind, elapsed, first = type(exc).__name__, 0.0, 0.0
        except ValueError:  # a body that is not the JSON Gradio sends
            kind, elapsed, first = "bad_json", 0.0, 0.0
        results.finished += 1
        if kind:
            results.errors[kind] += 1
            chat.history, chat.turns = [], 0
        else:
            results.latencies.append(elapsed)
            results.first_piece.append(first)
        if args.think:
            pause = rng.uniform(0.5, 1.5) * args.think
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))


def source_addresses(value: str) -> list[str | None]:
    """The --source addresses ([None]: the system's choice); SystemExit unless all loopback."""
    if not value:
        return [None]
    out: list[str | None] = []
    for item in value.split(","):
        try:
            loopback = ipaddress.ip_address(item.strip()).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise SystemExit(f"refusing --source {item!r}: only loopback addresses")
        out.append(item.strip())
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def run(args: argparse.Namespace) -> dict:
    """Drive the app and return the summary."""
    base = loopback_url(args.url)
    questions = load_questions(Path(args.questions))
    sources = source_addresses(args.source)
    limits = httpx.Limits(max_connections=args.sessions * 2 + 4, max_keepalive_connections=None)
    timeout = httpx.Timeout(args.timeout)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            # trust_env=False: no proxy from the environment may carry a request off this machine.
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.AsyncHTTPTransport(limits=limits, local_address=source),
                    timeout=timeout,
                    trust_env=False,
                    follow_redirects=False,
                )
            )
            for source in sources
        ]
        try:
            (await clients[0].get(f"{base}/gradio_api/info")).raise_for_status()
        except httpx.HTTPError as exc:
            raise SystemExit(f"the app is not answering at {base} ({exc}): start it first") from exc
        results = Results()
        start = time.perf_counter()
        deadline = time.monotonic() + args.duration
        rngs = [random.Random(args.seed + i) for i in range(args.sessions)]
        await asyncio.gather(
            *(
                session(clients[i % len(clients)], base, questions, r, deadline, args, results)
                for i, r in enumerate(rngs)
            )
        )
        wall = time.perf_counter() - start
    ms = [x * 1000 for x in results.latencies]
    first = [x * 1000 for x in results.first_piece]
    return {
        "url": base,
        "sessions": args.sessions,
        "source": args.source or "default",
        "duration_s": args.duration,
        "wall_s": round(wall, 2),
        "requests": results.finished,
        "ok": len(ms),
        "errors": sum(results.errors.values()),
        "error_kinds": dict(results.errors),
        "throughput_rps": round(results.finished / wall, 2) if wall else 0.0,
        "latency_ms": {
            "p50": round(percentile(ms, 50), 1),
            "p95": round(percentile(ms, 95), 1),
            "p99": round(percentile(ms, 99), 1),
            "max": round(max(ms, default=0.0), 1),
        },
        "first_piece_ms": {
            "p50": round(percentile(first, 50), 1),
            "p95": round(percentile(first, 95), 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the load, print the summary; exit 1 when a request failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="the running public app")
    parser.add_argument("--sessions", type=int, default=50, help="concurrent chat sessions")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--max-requests", type=int, default=100_000, help="stop after this many")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--turns", type=int, default=3, help="questions per conversation")
    parser.add_argument("--think", type=float, default=5.0, help="mean pause between questions, s")
    parser.add_argument("--questions", default=str(ROOT / "evals" / "retrieval.jsonl"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--source", default="", help="send from these loopback addresses (a,b,…)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if not (1 <= args.sessions <= 1000 and 0 < args.duration <= 3600 and args.max_requests > 0):
        parser.error("--sessions 1..1000, --duration 0..3600 s, --max-requests > 0")
    summary = asyncio.run(run(args))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        lat = summary["latency_ms"]
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(summary["error_kinds"].items())) or "none"
        print(
            f"{summary['sessions']} sessions x {summary['duration_s']:g} s against {summary['url']}\n"
            f"requests   {summary['requests']} ({summary['ok']} ok)\n"
            f"errors     {summary['errors']} ({kinds})\n"
            f"throughput {summary['throughput_rps']} requests/s\n"
            f"latency    p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, "
            f"max {lat['max']} ms\n"
            f"first piece p50 {summary['first_piece_ms']['p50']} ms, "
            f"p95 {summary['first_piece_ms']['p95']} ms"
        )
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
