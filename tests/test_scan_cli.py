"""`python -m bot scan` (text and --file), `bot check` on the official list, message sets in evals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import KNOWLEDGE, ROOT

from bot.cli import main
from bot.reply.official import load_official
from bot.staff.evals import load_cases, run_set

SCAM = "【工商银行】您的账户将于今日冻结，请登录 icbc-cn.com 重新认证。"
GENUINE = "【工商银行】您的年度账单已生成，请登录 www.icbc.com.cn 查看。"


@pytest.fixture
def scan(capsys, monkeypatch, tmp_path):
    """Run `bot scan …` over the shipped knowledge folder; (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*argv: str):
        code = main(["--knowledge-dir", str(KNOWLEDGE), "scan", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_scan_text_json(scan):
    code, out, _ = scan(SCAM, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["risk"] == "high"
    assert data["topic"] == "phishing-sms"
    for flag in data["flags"]:
        assert set(flag) == {"code", "label", "evidence", "start", "end", "explain"}
        assert SCAM[flag["start"] : flag["end"]] == flag["evidence"]
    assert "link_lookalike" in {f["code"] for f in data["flags"]}


def test_scan_text_for_people_numbers_the_flags(scan):
    code, out, _ = scan(SCAM)
    assert code == 0
    assert out.startswith("风险：很可能是骗局")
    assert "①" in out
    assert "②" in out
    code, out, _ = scan(GENUINE)
    assert out.startswith("风险：没发现常见的骗局特征")
    assert "中国工商银行的官方网址" in out
    assert "96110" in out


def test_scan_empty_text_is_an_error(scan):
    code, out, err = scan("  ")
    assert code == 1
    assert out == ""
    assert "error" in err


def test_scan_file_one_line_out_per_input(scan, tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "s1", "text": SCAM}, ensure_ascii=False),
        "this is not json",
        json.dumps({"id": "e1", "text": ""}),
        "",
        json.dumps({"id": 7, "text": GENUINE}, ensure_ascii=False),
        json.dumps({"text": "妈，周末回家吃饭"}, ensure_ascii=False),
        json.dumps(["not", "an", "object"]),
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    code, out, err = scan("--file", str(path), "--json")
    assert code == 1  # bad lines make the run fail, after every line was answered
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r.get("id", r.get("line")) for r in rows] == ["s1", 2, "e1", "7", 6, 7]
    assert rows[0]["risk"] == "high"
    assert set(rows[0]) == {"id", "risk", "flags", "topic"}
    assert rows[1] == {"line": 2, "error": "not a JSON line"}
    assert rows[2] == {"id": "e1", "error": "empty text"}
    assert rows[3]["risk"] == "low"
    assert "error" in rows[5]
    assert "Traceback" not in err


def test_scan_file_all_good_exits_0_and_missing_file_2(scan, tmp_path):
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps({"id": "g", "text": GENUINE}, ensure_ascii=False) + "\n", "utf-8")
    assert scan("--file", str(path), "--json")[0] == 0
    code, _, err = scan("--file", str(tmp_path / "missing.jsonl"))
    assert code == 2
    assert "cannot read" in err


def test_scan_file_as_a_subprocess_never_shows_a_traceback(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "x", "text": "\xff\xfe broken"}\n\x00\x01garbage\n')
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--knowledge-dir", str(KNOWLEDGE), "scan", "--file",
         str(path), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stdout.splitlines()) == 2


def test_check_validates_the_official_list(capsys, tmp_path):
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "official.yaml").write_text(
        "source: x\nupdated: 2026-12-01\nnote: 以官方公布为准\norganisations:\n"
        "  - name: 工行\n    kind: bank\n    numbers: [95588]\n",
        "utf-8",
    )
    code = main(["--knowledge-dir", str(knowledge), "--data-dir", str(tmp_path / "d"), "check"])
    err = capsys.readouterr().err
    assert code == 1
    assert "official.yaml:5: 'numbers' value 95588 must be quoted" in err
    assert "official.yaml:5: missing 'checked'" in err
    assert "unsupported file type" not in err


def _message_set(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def test_message_set_metrics_and_gate(tmp_path):
    path = _message_set(
        tmp_path / "messages.jsonl",
        [
            {"id": "m1", "text": SCAM, "scam": True, "topic": "", "channel": "sms",
             "flags": ["link_lookalike", "deadline_threat"]},
            {"id": "m2", "text": "您好，我是公安局的，您涉嫌洗钱，请把钱转到安全账户。", "scam": True,
             "topic": "", "channel": "call", "flags": ["safe_account"]},
            {"id": "m3", "text": GENUINE, "scam": False, "topic": "", "channel": "sms", "flags": []},
            {"id": "m4", "text": "妈，周末我们回来吃饭。", "scam": False, "topic": "",
             "channel": "wechat", "flags": []},
        ],
    )  # fmt: skip
    cases = load_cases(path)
    assert [c.scam for c in cases] == [True, True, False, False]
    assistant = SimpleNamespace(official=load_official(KNOWLEDGE / "official.yaml"))
    limits = {"scam_high_recall": 0.95, "genuine_not_high_rate": 0.95, "high_with_evidence": 1.0}
    run = run_set(assistant, "messages", cases, limits)
    assert run.failures == []
    metrics = run.metrics
    assert metrics["scam_high_recall"] == 1.0
    assert metrics["genuine_high_rate"] == 0.0
    assert metrics["flags"]["link_lookalike"]["precision"] == 1.0
    assert metrics["flags"]["safe_account"]["scam_share"] == 1.0
    assert all(r.passed for r in run.rows)
    strict = run_set(assistant, "messages", cases[2:] + cases[:1], {"genuine_not_high_rate": 1.1})
    assert strict.failures
