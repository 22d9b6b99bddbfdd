"""Train the reading's stage/ask classifier and report rules, model and both on held-out data.

    .venv/bin/python scripts/train_reading.py [--examples bot/data/reading_examples.jsonl]
        [--eval evals/situations.jsonl] [--out bot/data/reading_model.npz] [--no-save]

Trains on 80 % of our labelled examples (fixed seed), reports accuracy on the other 20 % and on
the blind-written eval set, then retrains on all examples and writes the model file.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

from bot.config import apply_offline_env, load_settings
from bot.reply import reading as R
from bot.reply.classifier import ASKS, STAGES, load_examples, train_model
from bot.search.embeddings import make_embeddings


def _accuracy(rows: list[dict], model: R.ReadingModel | None, embed, margin: float) -> dict:
    old = R.OVERRULE_MARGIN
    R.OVERRULE_MARGIN = margin
    out = {"n": len(rows)}
    try:
        for part in ("rules", "model", "combined"):
            stage_ok = ask_ok = 0
            for row in rows:
                text = row["text"]
                vec = embed(text)
                if part == "rules":
                    reading = R.read_question(text)
                elif part == "model":
                    assert model is not None
                    sp, ap = model.probabilities(vec)
                    stage_ok += STAGES[int(np.argmax(sp))] == row["stage"]
                    ask_ok += ASKS[int(np.argmax(ap))] == row["ask"]
                    continue
                else:
                    reading = R.read_question(text, vec, model)
                stage_ok += reading.stage == row["stage"]
                ask_ok += reading.ask == row["ask"]
            out[part] = {
                "stage": round(stage_ok / len(rows), 3),
                "ask": round(ask_ok / len(rows), 3),
            }
        fired = [r for r in rows if R.rule_stage(r["text"]) is not None]
        out["rule_stage_coverage"] = round(len(fired) / len(rows), 3)
        out["rule_stage_precision"] = round(
            sum(R.rule_stage(r["text"]).label.split(":")[0] == r["stage"] for r in fired)
            / max(1, len(fired)),
            3,
        )
        fired = [r for r in rows if R.rule_ask(r["text"]) is not None]
        out["rule_ask_coverage"] = round(len(fired) / len(rows), 3)
        out["rule_ask_precision"] = round(
            sum(R.rule_ask(r["text"]).label == r["ask"] for r in fired) / max(1, len(fired)), 3
        )
    finally:
        R.OVERRULE_MARGIN = old
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=Path, default=Path("bot/data/reading_examples.jsonl"))
    parser.add_argument("--eval", type=Path, default=Path("evals/situations.jsonl"))
    parser.add_argument("--out", type=Path, default=Path("bot/data/reading_model.npz"))
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    apply_offline_env()
    encoder = make_embeddings(load_settings(env_file=False))

    def embed(text: str) -> np.ndarray:
        return encoder.embed_query_vector(text)

    def embed_many(texts: list[str]) -> np.ndarray:
        return np.stack([embed(t) for t in texts])

    rows = load_examples(args.examples)
    rng = random.Random(20261201)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    cut = int(len(shuffled) * 0.8)
    train, held = shuffled[:cut], shuffled[cut:]
    model = train_model(train, embed_many, encoder.name)
    blind = []
    if args.eval.exists():
        for line in args.eval.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                blind.append({"text": row["question"], "stage": row["stage"], "ask": row["ask"]})
    report = {}
    for margin in (1.0, 2.5, 4.0):
        report[f"margin={margin}"] = {
            "held_out_20pct": _accuracy(held, model, embed, margin),
            "blind_eval_set": _accuracy(blind, model, embed, margin) if blind else None,
        }
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    print()
    if not args.no_save:
        full = train_model(rows, embed_many, encoder.name)
        full.save(args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size} bytes) from {len(rows)} examples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
