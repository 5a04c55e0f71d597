"""The benchmark suite runner (``python -m benchmarks``): children, aggregation, the table.

Running every benchmark's ``--quick`` mode here would take a minute or more and each already
has its own smoke test (test_bench_smoke, test_bench_tui_smoke, test_formats_bench,
test_recognisers_bench, test_model_bench, test_keystrokes), so this file runs the real
command with ``--only import`` (the quickest) and checks the aggregation with small fake
benchmarks: one that works, one that fails, one that prints no JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks import run
from benchmarks._util import REPO

FAKE_KEYSTROKES = {
    "modes": {
        "off": {"entities": 10, "documents": 2, "keys": 27, "keys_per_entity": 2.7, "target": 3.0,
                "equals_gold": True, "suggestions": False},
        "on": {"entities": 10, "documents": 2, "keys": 15, "keys_per_entity": 1.5, "target": 1.3,
               "equals_gold": True, "suggestions": True, "left_pending": 1},
    },
}


def test_the_real_command_runs_one_benchmark_and_describes_the_machine() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", "--only", "import"],
        cwd=REPO, capture_output=True, text=True, timeout=240, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["quick"] is True and report["ok"] is True
    assert list(report["benchmarks"]) == ["import"]
    bench = report["benchmarks"]["import"]
    assert bench["command"][-2:] == ["--json", "--quick"]
    assert bench["result"]["docs"] == 2_000
    measures = [row[1] for row in report["rows"]]
    assert any(m.startswith("library import") for m in measures)
    assert any("search" in m for m in measures) and any("page" in m for m in measures)
    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["python"].startswith("3.") and machine["sqlite"].count(".") == 2
    assert machine["cpu"] and machine["ram_gb"]
    assert len(report["load_average_start"]) == 3


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[run.Benchmark]:
    """Three fake benchmark modules importable by the children (``PYTHONPATH``)."""
    (tmp_path / "fake_ok.py").write_text(
        f"import json\nprint('warming up')\nprint(json.dumps({FAKE_KEYSTROKES!r}))\n", encoding="utf-8"
    )
    (tmp_path / "fake_fails.py").write_text(
        "import sys\nprint('boom: no such corpus', file=sys.stderr)\nsys.exit(3)\n", encoding="utf-8"
    )
    (tmp_path / "fake_bad_json.py").write_text(
        textwrap.dedent("""\
            import json, sys
            print(json.dumps({"modes": {"off": {"keys_per_entity": 9.0, "target": 3.0,
                  "equals_gold": False, "entities": 1, "documents": 1, "keys": 9}}}))
            print("differences from the gold", file=sys.stderr)
            sys.exit(1)
        """),
        encoding="utf-8",
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    benches = [
        run.Benchmark("ok", "fake_ok", run.summarise_keystrokes, "works"),
        run.Benchmark("fails", "fake_fails", run.summarise_keystrokes, "exits 3"),
        run.Benchmark("differs", "fake_bad_json", run.summarise_keystrokes, "JSON, then exit 1"),
    ]
    monkeypatch.setattr(run, "BENCHMARKS", benches)
    return benches


def test_aggregation_of_results_failures_and_missed_targets(fakes: list[run.Benchmark]) -> None:
    report = run.run_suite([], quick=True, timeout=60)
    assert report["ok"] is False
    ok, fails, differs = (report["benchmarks"][n] for n in ("ok", "fails", "differs"))
    assert ok["ok"] is True and ok["command"][-2:] == ["--json", "--quick"]
    assert ok["result"] == FAKE_KEYSTROKES
    met = {row[1].split(" (")[0]: row[4] for row in ok["rows"]}
    assert met == {"keys per entity, suggestions off": True, "keys per entity, suggestions on": False}
    assert fails["ok"] is False and "exit 3" in fails["error"] and "boom: no such corpus" in fails["error"]
    assert differs["ok"] is False and "exit 1" in differs["error"] and differs["rows"]
    assert len(report["rows"]) == 3  # two from "ok", one from "differs"

    console = Console(width=200, record=True, markup=False)
    console.print(run.render(report))
    text = console.export_text()
    assert "keys per entity, suggestions on" in text and "2.70" in text and "1.50" in text
    assert text.count("FAILED") == 2 and "Machine:" in text and "Load average" in text
    md = run.markdown(report)
    assert md.splitlines()[0] == "| benchmark | measure | value | target | met |"
    assert "| fails | FAILED |" in md


def test_only_selects_and_unknown_names_are_refused(fakes: list[run.Benchmark], capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--only", "ok", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert list(report["benchmarks"]) == ["ok"]
    with pytest.raises(SystemExit) as exc:
        run.main(["--only", "nope"])
    assert exc.value.code == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err


def test_only_takes_comma_separated_names(fakes: list[run.Benchmark], capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--only", "ok,differs", "--json"]) == 1  # "differs" exits 1
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert sorted(report["benchmarks"]) == ["differs", "ok"]
    with pytest.raises(SystemExit):
        run.main(["--only", "ok,nope"])
    assert "unknown benchmark 'nope'" in capsys.readouterr().err


def test_a_saved_report_is_shown_again(fakes: list[run.Benchmark], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    report = run.run_suite(["ok"], quick=False, timeout=60)
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report), encoding="utf-8")
    assert run.main(["--from", str(saved), "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == run.markdown(report)


def test_timeout_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fake_slow.py").write_text("import time\ntime.sleep(30)\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    result = run.run_one(run.Benchmark("slow", "fake_slow", run.summarise_keystrokes, ""), quick=False, timeout=1)
    assert result["ok"] is False and "timed out after 1 s" in result["error"]


def test_every_benchmark_script_exists_and_takes_json_and_quick() -> None:
    for bench in run.BENCHMARKS:
        path = REPO / (bench.module.replace(".", "/") + ".py")
        source = path.read_text(encoding="utf-8")
        assert '"--json"' in source and '"--quick"' in source, bench.module
