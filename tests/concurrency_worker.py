"""One annotator hammering a shared database through the library API (run as a subprocess).

Usage: python concurrency_worker.py DB ANNOTATOR ACTIONS SEED OUT.json

Makes ``ACTIONS`` random actions (label, relabel, delete, status, undo, redo) as fast as it
can and writes what it expects the database to hold for this annotator afterwards, plus any
error it met, to ``OUT.json``.
"""

from __future__ import annotations

import json
import random
import sys
import traceback

from annotations import open_store


def main(db: str, annotator: str, actions: int, seed: int, out: str) -> None:
    rng = random.Random(seed)
    store = open_store(db, annotator)
    errors: list[str] = []
    docs = store.document_ids()
    tokens = {d: store.tokens(d) for d in docs}
    text_len = {d: len(store.text(d)) for d in docs}
    counts = {"add": 0, "relabel": 0, "delete": 0, "status": 0, "undo": 0, "redo": 0}
    try:
        for _ in range(actions):
            doc = rng.choice(docs)
            toks = tokens[doc]
            roll = rng.random()
            mine = store.spans(doc, states=("accepted",))
            if roll < 0.45 or not mine:
                i = rng.randrange(len(toks))
                j = min(len(toks) - 1, i + rng.randrange(3))
                start, end = toks.starts[i], toks.ends[j]
                if start < end <= text_len[doc]:
                    store.add_span(doc, start, end, rng.choice(["PER", "LOC", "ORG"]))
                    counts["add"] += 1
            elif roll < 0.6:
                store.relabel_span(rng.choice(mine).id, rng.choice(["PER", "LOC", "ORG"]))
                counts["relabel"] += 1
            elif roll < 0.7:
                store.delete_span(rng.choice(mine).id)
                counts["delete"] += 1
            elif roll < 0.8:
                store.set_status(doc, rng.choice(["todo", "done", "skipped"]))
                counts["status"] += 1
            elif roll < 0.92:
                if store.undo() is not None:
                    counts["undo"] += 1
            else:
                if store.redo() is not None:
                    counts["redo"] += 1
    except Exception:
        errors.append(traceback.format_exc())
    spans = sorted(
        (s.doc_id, s.start, s.end, s.label)
        for d in docs
        for s in store.spans(d, states=("accepted",))
    )
    statuses = {str(d): store.status(d) for d in docs}
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"errors": errors, "spans": spans, "statuses": statuses, "counts": counts}, fh)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
