"""The benchmark runs end to end (small scale corpus) and reports every figure the issue names."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import ROOT

from benchmarks.bench import KEYS

pytestmark = pytest.mark.slow

SYSTEM_KEYS = set(KEYS)


def test_bench_json_has_every_figure_for_both_systems():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--json", "--scale", "400"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    for system in ("ours", "baseline"):
        assert set(result[system]) >= SYSTEM_KEYS
        assert all(result[system][k] > 0 for k in SYSTEM_KEYS)
    assert result["scale_10k"]["chunks"] >= 400
    assert {"ingest_chunks_per_s", "search_p50_ms", "search_p95_ms", "rss_mb"} <= set(
        result["scale_10k"]
    )
    # Editing one lesson re-embeds that lesson only.
    assert (
        0 < result["incremental"]["reembedded_chunks"] < result["incremental"]["total_chunks"] / 10
    )
    assert result["machine"]["cores"] >= 1
    # Ours must beat the tutorial baseline on retrieval by a wide margin on the same questions.
    assert result["ours"]["topic_at_1"] > 2 * result["baseline"]["topic_at_1"]
