"""Train the lesson-line checker's learned half and choose its threshold on held-out folds.

    .venv/bin/python scripts/train_linecheck.py [--lines bot/data/lesson_lines.jsonl]
        [--out bot/data/linecheck_model.npz] [--max-fp 0.03] [--no-save]

Logistic regression on the encoder's vectors of our labelled reference lines. The threshold is
chosen on 5-fold out-of-fold probabilities (stratified by kind, fixed seed): the lowest one at
which at most --max-fp of the safe lines score above it. The model is then refitted on all lines
and written with that threshold. The red-team sets in tests/data are never read here.
Quoted scammer speech (kind quoted_scammer) is left out of training: the 骗子怎么说 rule covers it.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from bot.config import apply_offline_env, load_settings
from bot.reply.classifier import fit_softmax
from bot.reply.linecheck import MODEL_PATH, LineModel, model_text
from bot.reply.linerules import SCAMMER_SECTION, rule_reason
from bot.search.embeddings import make_embeddings

LINES = Path(__file__).resolve().parent.parent / "bot" / "data" / "lesson_lines.jsonl"


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Binary logistic regression (as a two-class softmax): weights and bias for P(harmful)."""
    w, b = fit_softmax(x, y, 2, l2=1e-3, steps=400)
    return (w[:, 1] - w[:, 0]).astype(np.float32), float(b[1] - b[0])


def folds(rows: list[dict], k: int, seed: int = 0) -> list[int]:
    """A fold number for every row, stratified by kind."""
    rng = random.Random(seed)
    out = [0] * len(rows)
    by_kind: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_kind.setdefault(r["kind"], []).append(i)
    for idx in by_kind.values():
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            out[i] = j % k
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=Path, default=LINES)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--max-fp", type=float, default=0.03)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    apply_offline_env()
    settings = load_settings()
    encoder = make_embeddings(settings)
    rows = [json.loads(x) for x in args.lines.read_text("utf-8").splitlines() if x.strip()]
    rows = [r for r in rows if r.get("kind") != "quoted_scammer"]
    x = encoder.embed_documents_array([model_text(r["text"]) for r in rows])
    y = np.array([int(bool(r["harmful"])) for r in rows])

    fold = np.array(folds(rows, 5))
    oof = np.zeros(len(rows))
    for f in range(5):
        w, b = fit(x[fold != f], y[fold != f])
        oof[fold == f] = 1 / (1 + np.exp(-(x[fold == f] @ w + b)))
    safe = np.sort(oof[y == 0])
    allowed = int(np.floor(args.max_fp * len(safe)))
    threshold = float(safe[len(safe) - allowed - 1]) + 1e-4 if allowed < len(safe) else 0.5
    threshold = max(threshold, 0.5)

    rules = np.array([rule_reason(r["text"], "", None) is not None for r in rows])
    model = oof >= threshold
    print(f"{len(rows)} reference lines ({y.sum()} harmful, {len(y) - y.sum()} safe); 5-fold OOF")
    for name, hit in (("rules", rules), ("model", model), ("either", rules | model)):
        print(
            f"  {name:7s} harmful caught {hit[y == 1].mean():.3f}  "
            f"safe blocked {hit[y == 0].mean():.3f}"
        )
    print(f"threshold {threshold:.3f} (lowest with OOF safe FP <= {args.max_fp:.0%})")
    for r, p in zip(rows, oof, strict=True):
        if r["harmful"] and p < threshold and not rule_reason(r["text"], "", None):
            print(f"  missed by both ({p:.2f}): {r['text']}")

    w, b = fit(x, y)
    harmful = [i for i, r in enumerate(rows) if r["harmful"]]
    final = LineModel(
        w, b, threshold, encoder.name, x[harmful], tuple(rows[i]["kind"] for i in harmful)
    )
    if not args.no_save:
        final.save(args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    _ = SCAMMER_SECTION


if __name__ == "__main__":
    main()
