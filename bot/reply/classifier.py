"""The learned half of the question reading: softmax regression for stage and ask.

Trained on our own labelled examples (bot/data/reading_examples.jsonl) over the encoder's
vectors, shipped as bot/data/reading_model.npz (`python scripts/train_reading.py` rebuilds it and
prints the held-out accuracy of the rules, the model and both together).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STAGES = ("ahead", "now", "done", "past_or_other", "learning")
ASKS = ("verdict", "what_to_do", "how_to", "explain", "help_others")


@dataclass(frozen=True)
class ReadingModel:
    """Softmax regression for stage and ask on the encoder's (L2-normalised) vectors."""

    stage_w: np.ndarray
    stage_b: np.ndarray
    ask_w: np.ndarray
    ask_b: np.ndarray
    encoder: str  # which encoder the vectors came from; another encoder needs another model

    @property
    def dim(self) -> int:
        return int(self.stage_w.shape[0])

    def probabilities(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(stage probabilities over STAGES, ask probabilities over ASKS) for one vector."""
        v = _unit(np.asarray(vector, dtype=np.float32))
        return _softmax(v @ self.stage_w + self.stage_b), _softmax(v @ self.ask_w + self.ask_b)

    def save(self, path: Path) -> None:
        """Write the model as a small .npz file."""
        np.savez_compressed(
            path,
            stage_w=self.stage_w.astype(np.float16),
            stage_b=self.stage_b,
            ask_w=self.ask_w.astype(np.float16),
            ask_b=self.ask_b,
            encoder=np.array(self.encoder),
        )

    @classmethod
    def load(cls, path: Path) -> ReadingModel:
        """Read a model written by save()."""
        with np.load(path) as data:
            return cls(
                data["stage_w"].astype(np.float32),
                data["stage_b"].astype(np.float32),
                data["ask_w"].astype(np.float32),
                data["ask_b"].astype(np.float32),
                str(data["encoder"]),
            )


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-9)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_softmax(
    x: np.ndarray, y: np.ndarray, classes: int, *, l2: float = 1e-3, steps: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch gradient descent with momentum (numpy only)."""
    x = _unit(x.astype(np.float32))
    n, d = x.shape
    w = np.zeros((d, classes), np.float32)
    b = np.zeros(classes, np.float32)
    onehot = np.eye(classes, dtype=np.float32)[y]
    # classes weighted by inverse frequency, so a rare stage is not drowned by a common one
    counts = np.bincount(y, minlength=classes).astype(np.float32)
    weights = (n / (classes * np.maximum(counts, 1)))[y][:, None]
    vw, vb, lr = np.zeros_like(w), np.zeros_like(b), 2.0
    for _ in range(steps):
        grad = (_softmax(x @ w + b) - onehot) * weights / n
        gw = x.T @ grad + l2 * w
        gb = grad.sum(axis=0)
        vw = 0.9 * vw - lr * gw
        vb = 0.9 * vb - lr * gb
        w += vw
        b += vb
    return w, b


def load_examples(path: Path) -> list[dict]:
    """Labelled examples: one JSON object a line with text, stage and ask."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("stage") in STAGES and row.get("ask") in ASKS and row.get("text"):
                rows.append(row)
    return rows


def train_model(
    rows: Sequence[dict], embed: Callable[[list[str]], np.ndarray], encoder: str
) -> ReadingModel:
    """Fit the stage and ask classifiers on labelled examples with the given encoder."""
    x = np.asarray(embed([r["text"] for r in rows]), dtype=np.float32)
    stage_w, stage_b = fit_softmax(x, np.array([STAGES.index(r["stage"]) for r in rows]), 5)
    ask_w, ask_b = fit_softmax(x, np.array([ASKS.index(r["ask"]) for r in rows]), 5)
    return ReadingModel(stage_w, stage_b, ask_w, ask_b, encoder)
