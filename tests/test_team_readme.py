"""The README's "Working as a team" workflow runs as written.

Every ``annotate`` command of the section's code block runs through click's runner in a
fresh folder; the interactive ones (the app, the review screen) are replaced by what a
person would do in them, through the library: annotators label their assigned documents and
mark them done, the reviewer takes one annotator's version and marks documents reviewed.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from team_helpers import TEAM, span_of

from annotations import Store, seeds_dir
from annotations.team import assigned_ids
from annotations.team.review import load_review, review_queue, take_all
from tui.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def team_block() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Working as a team", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block, "no shell block in the README's team section"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def annotate_queue(db: Path, name: str) -> None:
    """What ``name`` does in the app: label their documents (the scripted team's spans), mark done."""
    with Store(db, name) as store:
        for doc_id in assigned_ids(store):
            for needle, label in TEAM.get(doc_id, {}).get(name, []):
                store.add_span(doc_id, *span_of(store, doc_id, needle), label)
            store.set_status(doc_id, "done")


def review(db: Path, reviewer: str, annotators: list[str]) -> None:
    """What the reviewer does in the review screen: all of the first annotator, then reviewed."""
    with Store(db, reviewer) as store:
        for doc_id, _ in review_queue(store, annotators):
            doc = load_review(store, doc_id, annotators)
            take_all(store, doc, doc.annotators[0])
            store.set_status(doc_id, "done")


def test_the_team_workflow_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(seeds_dir(), tmp_path / "corpus")
    runner = CliRunner()
    ran = []
    for line in team_block():
        argv = shlex.split(line)
        if argv[0] == "cp":
            shutil.copy(argv[1], argv[2])
            continue
        assert argv[0] == "annotate", line
        args = argv[1:]
        opts = dict(zip(args[::2], args[1::2]))
        if args[0].startswith("--"):  # the app, as an annotator
            annotate_queue(Path(opts["--db"]), opts["--annotator"])
            continue
        if args[0] == "review":
            review(Path(args[2]), args[args.index("--as") + 1], args[args.index("--annotators") + 1].split(","))
            continue
        result = runner.invoke(main, args)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        ran.append(args[0])
    assert ran == ["import", "assign", "merge", "agree", "agree", "export", "agree"]
    gold = [json.loads(x) for x in (tmp_path / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    assert gold and {r["_annotator_id"] for r in gold} == {"lead"}
    with Store(tmp_path / "news.db", "lead") as lead:
        assert assigned_ids(lead, "bek") and lead.progress("bek")["done"] == len(assigned_ids(lead, "bek"))
