"""Message sets through the message check: scan a JSONL file line by line, and the set's metrics.

`python -m bot scan --file` and the eval runner's message set (evals/messages.jsonl:
`{"id","text","scam","topic","channel","flags"}`) both read lines here, so a bad line is
reported the same way in both: `{"id" or "line": N, "error": "…"}`, never a traceback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bot.reply.official import Official
from bot.reply.scan import ScanResult, scan_message


@dataclass(frozen=True)
class ScannedLine:
    """One input line: its id (or line number), the message, its scan or what was wrong."""

    line: int
    id: str | None
    text: str
    result: ScanResult | None
    error: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, object]:
        """The line's output: {"id","risk","flags","topic"} or {"id"|"line","error"}."""
        key: dict[str, object] = {"id": self.id} if self.id is not None else {"line": self.line}
        if self.result is None:
            return {**key, "error": self.error}
        return {
            **key,
            "risk": self.result.risk,
            "flags": [f.to_json() for f in self.result.flags],
            "topic": self.result.topic,
        }


def scan_lines(lines: Iterable[str], official: Official) -> Iterator[ScannedLine]:
    """Scan each JSONL line ({"id","text"}); blank lines are skipped, bad ones reported."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError:
            yield ScannedLine(number, None, "", None, "not a JSON line")
            continue
        if not isinstance(raw, dict):
            yield ScannedLine(number, None, "", None, 'a line is an object {"id","text"}')
            continue
        ident = raw.get("id")
        ident = None if ident is None else str(ident)
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            yield ScannedLine(number, ident, "", None, "empty text", raw)
            continue
        yield ScannedLine(number, ident, text, scan_message(text, official), "", raw)


def message_metrics(scanned: list[ScannedLine], seconds: float = 0.0) -> dict[str, float | dict]:
    """High-risk recall on scams, the share of genuine messages rated high, per-flag precision.

    A flag's precision is the share of the messages it was raised on that the set marks with
    that flag; its scam share is the share of them that are scams (the set's flag lists name the
    main flags only, so the scam share is the fairer number for a flag the writers left out).
    """
    rows = [s for s in scanned if s.result is not None and isinstance(s.raw.get("scam"), bool)]
    scams = [s for s in rows if s.raw["scam"]]
    genuine = [s for s in rows if not s.raw["scam"]]
    high = [s for s in rows if s.result is not None and s.result.risk == "high"]
    raised: dict[str, list[ScannedLine]] = {}
    for s in rows:
        assert s.result is not None
        for code in {f.code for f in s.result.flags}:
            raised.setdefault(code, []).append(s)
    per_flag = {
        code: {
            "raised": len(items),
            "precision": round(
                sum(code in (s.raw.get("flags") or ()) for s in items) / len(items), 4
            ),
            "scam_share": round(sum(bool(s.raw["scam"]) for s in items) / len(items), 4),
        }
        for code, items in sorted(raised.items())
    }
    evidenced = all(
        s.result is not None
        and any(0 <= f.start < f.end <= len(s.text) and s.text[f.start : f.end] == f.evidence
                for f in s.result.flags)
        for s in high
    )  # fmt: skip
    return {
        "messages": len(rows),
        "scam_high_recall": _share(scams, "high"),
        "genuine_high_rate": _share(genuine, "high"),
        "genuine_low_rate": _share(genuine, "low"),
        "high_with_evidence": 1.0 if evidenced else 0.0,
        "bad_lines": sum(s.result is None for s in scanned),
        "messages_per_s": round(len(rows) / seconds, 1) if seconds > 0 else 0.0,
        "flags": per_flag,
    }


def run_message_set(lines: Iterable[str], official: Official) -> tuple[list[ScannedLine], dict]:
    """Scan a whole set and compute its metrics (timed)."""
    start = time.perf_counter()
    scanned = list(scan_lines(lines, official))
    seconds = time.perf_counter() - start
    return scanned, message_metrics(scanned, seconds)


def is_message_set(first_lines: Iterable[str]) -> bool:
    """True when a JSONL set holds messages ({"text","scam"}) rather than questions."""
    for line in first_lines:
        if line.strip():
            try:
                raw = json.loads(line)
            except ValueError:
                return False
            return isinstance(raw, dict) and "text" in raw and "scam" in raw
    return False


def _share(items: list[ScannedLine], risk: str) -> float:
    if not items:
        return 0.0
    return round(sum(s.result is not None and s.result.risk == risk for s in items) / len(items), 4)


def run_message_cases(assistant, name: str, cases: list, limits: dict[str, float] | None):
    """The eval runner's message set: scan each case's text with the assistant's official list.

    A scam passes when it is rated high, a genuine message when it is not; the gate compares
    the set's metrics with evals/thresholds.json like any other set.
    """
    from bot.reply.official import FILENAME, load_official
    from bot.staff.evals import EvalRun, Row, gated

    official = getattr(assistant, "official", None)
    if official is None:
        official = load_official(assistant.settings.knowledge_dir / FILENAME)
    lines = [
        json.dumps({"id": c.id, "text": c.question, "scam": c.scam, "flags": list(c.scan_flags)})
        for c in cases
    ]
    scanned, metrics = run_message_set(lines, official)
    rows = []
    for s in scanned:
        result = s.result
        risk = result.risk if result is not None else "error"
        scam = bool(s.raw.get("scam"))
        passed = result is not None and (risk == "high") == scam
        failures = [] if passed else [f"{'scam' if scam else 'genuine'} rated {risk}"]
        answer = " ".join(f"{f.code}:{f.evidence}" for f in result.flags) if result else s.error
        rows.append(
            Row(
                id=s.id or f"{name}-{s.line}",
                question=s.text,
                topics=[str(s.raw.get("topic") or "")],
                retrieved=[],
                answer=f"{risk} {answer}".strip(),
                kind="scan",
                emergency=False,
                passed=passed,
                failures=failures,
                latency_ms=0.0,
            )
        )
    metrics["genuine_not_high_rate"] = round(1 - float(metrics["genuine_high_rate"]), 4)
    return gated(EvalRun(sets=[name], rows=rows, metrics=metrics), name, limits)
