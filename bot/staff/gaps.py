"""Questions the assistant could not answer: recorded redacted, grouped for the content team."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from bot.records import Question


@dataclass(frozen=True)
class GapGroup:
    """Similar unanswered questions, counted, with the nearest topic."""

    example: str
    questions: tuple[str, ...]
    count: int
    nearest_topic: str
    last_seen: str


def record_unanswered(
    path: Path, question: Question, topic: str, confidence: float, *, reason: str = "unsure"
) -> None:
    """Append one question (its redacted form: no personal data) to the unanswered store.

    reason: "unsure" (retrieval was not sure), or why the answer given did not fit the question
    (its reading and the lesson disagree).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {
        "time": dt.datetime.now().isoformat(timespec="seconds"),
        "question": question.redacted[:300],
        "nearest_topic": topic,
        "confidence": round(confidence, 3),
        "reason": reason,
    }
    with FileLock(path.with_name(path.name + ".lock")), open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def load_unanswered(path: Path, since: dt.date | None = None) -> list[dict]:
    """The recorded questions, oldest first (a damaged line is skipped)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text("utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            continue
        if since and row.get("time", "")[:10] < since.isoformat():
            continue
        rows.append(row)
    return rows


def group_questions(
    rows: list[dict], vectors: np.ndarray, threshold: float = 0.6
) -> list[GapGroup]:
    """Greedy grouping by cosine similarity of the questions' embeddings; biggest group first."""
    groups: list[list[int]] = []
    centroids: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        sims = [float(c @ vector / (np.linalg.norm(c) or 1.0)) for c in centroids]
        best = int(np.argmax(sims)) if sims else -1
        if best >= 0 and sims[best] >= threshold:
            groups[best].append(i)
            centroids[best] = centroids[best] + vector
        else:
            groups.append([i])
            centroids.append(vector.copy())
    out = []
    for members in groups:
        topics = [rows[i].get("nearest_topic", "") for i in members]
        questions = tuple(rows[i]["question"] for i in members)
        out.append(
            GapGroup(
                example=questions[0],
                questions=questions,
                count=len(members),
                # max over the list, not a set: a tie goes to the earliest question, every run
                nearest_topic=max(topics, key=topics.count),
                last_seen=max(rows[i].get("time", "") for i in members),
            )
        )
    return sorted(out, key=lambda g: (-g.count, g.example))


def gap_report(path: Path, embeddings: Any, since: dt.date | None = None) -> list[GapGroup]:
    """The recorded questions (since a day) grouped by meaning (embeddings: a bot encoder)."""
    rows = load_unanswered(path, since)
    if not rows:
        return []
    return group_questions(rows, embeddings.embed_documents_array([r["question"] for r in rows]))
