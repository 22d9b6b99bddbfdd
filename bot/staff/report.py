"""The human eval report: Markdown with PNG charts, the change since the last run, regressions first."""

from __future__ import annotations

import json
from pathlib import Path

from bot.staff.evals import LOWER_IS_BETTER, EvalRun

LAST_RUN = "last_run.json"


def load_previous(out_dir: Path) -> dict | None:
    """The previous run kept in the report folder, if any."""
    try:
        return json.loads((out_dir / LAST_RUN).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def compare(run: EvalRun, previous: dict | None) -> tuple[list[str], list[str]]:
    """(regressions, improvements): metric moves and cases that flipped, as lines."""
    if not previous:
        return [], []
    worse: list[str] = []
    better: list[str] = []
    for name, value in run.metrics.items():
        old = previous.get("metrics", {}).get(name)
        if not isinstance(value, (int, float)) or not isinstance(old, (int, float)) or value == old:
            continue
        line = f"{name}: {old} → {value}"
        is_better = (value < old) if name in LOWER_IS_BETTER else (value > old)
        if name.startswith("latency"):
            continue  # noisy on shared machines: shown in the table, never called a regression
        (better if is_better else worse).append(line)
    old_rows = {r["id"]: r for r in previous.get("rows", [])}
    for row in run.rows:
        old = old_rows.get(row.id)
        if old is None or old.get("passed") == row.passed:
            continue
        line = f"case {row.id}: {'pass → fail' if not row.passed else 'fail → pass'} ({row.question[:40]})"
        (better if row.passed else worse).append(line)
    return worse, better


def _charts(run: EvalRun, out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    recall = run.metrics.get("per_topic_recall") or {}
    if isinstance(recall, dict) and recall:
        fig, ax = plt.subplots(figsize=(8, 6))
        names = list(recall)
        ax.barh(names, [recall[n] for n in names], color="#1f6f43")
        ax.set_xlim(0, 1)
        ax.set_xlabel("topic recall@3")
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(out_dir / "per_topic_recall.png", dpi=90)
        plt.close(fig)
        files.append("per_topic_recall.png")
    latencies = [r.latency_ms for r in run.rows]
    if latencies:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.hist(latencies, bins=30, color="#2c5d8f")
        ax.set_xlabel("latency per question (ms)")
        ax.set_ylabel("questions")
        fig.tight_layout()
        fig.savefig(out_dir / "latency.png", dpi=90)
        plt.close(fig)
        files.append("latency.png")
    return files


def write_report(
    run: EvalRun,
    out_dir: Path,
    ablation: list[dict] | None = None,
    gate_failures: list[str] | None = None,
) -> Path:
    """Write report.md, the charts and run.json; keep this run as the base of the next comparison."""
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = load_previous(out_dir)
    worse, better = compare(run, previous)
    charts = _charts(run, out_dir)
    lines = [f"# SilverGuard eval report ({', '.join(run.sets)})", ""]
    if gate_failures:
        lines += ["## Gate: FAILED", *[f"- {f}" for f in gate_failures], ""]
    elif gate_failures is not None:
        lines += ["## Gate: passed", ""]
    if previous is not None:
        lines += ["## Change since the last run", ""]
        lines += ["**Regressions**", *([f"- {w}" for w in worse] or ["- none"]), ""]
        lines += ["**Improvements**", *([f"- {b}" for b in better] or ["- none"]), ""]
    lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in run.metrics.items() if not isinstance(v, dict)]
    lines.append("")
    if ablation:
        lines += [
            "## Ablation (same cases)",
            "",
            "| retrieval | topic@1 | topic@3 | search p50 ms |",
        ]
        lines.append("|---|---|---|---|")
        lines += [
            f"| {a['mode']} | {a['topic_at_1']} | {a['topic_at_3']} | {a['search_p50_ms']} |"
            for a in ablation
        ]
        lines.append("")
    lines += [f"![{c}]({c})" for c in charts]
    failing = [r for r in run.rows if not r.passed]
    lines += ["", f"## Failing cases ({len(failing)})", ""]
    for r in failing:
        got = ", ".join(f"{x['topic']}:{x['doc_id']}" for x in r.retrieved[:3]) or "nothing"
        lines += [
            f"### {r.id}",
            f"- question: {r.question}",
            f"- expected topics: {', '.join(r.topics) or '-'}; retrieved: {got}",
            f"- why: {'; '.join(r.failures)}",
            f"- answered ({r.kind}): {r.answer[:160].replace(chr(10), ' / ')}",
            "",
        ]
    report = out_dir / "report.md"
    report.write_text("\n".join(lines), "utf-8")
    data = json.dumps(run.to_json(), ensure_ascii=False, indent=1)
    (out_dir / "run.json").write_text(data, "utf-8")
    (out_dir / LAST_RUN).write_text(data, "utf-8")
    return report
