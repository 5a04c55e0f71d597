"""The in-loop model's training history: one JSON line per saved model.

``<db>.models/<annotator>/history.jsonl`` gets a line each time a model is saved there
(:func:`annotations.recognisers.crf.save_model`): when it was trained, on how many labelled
documents, and its held-out F1 (``null`` before there was anything to score). The
dashboard's learning curve is drawn from these lines. Read without importing the model code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["HISTORY_FILE", "read_history", "record_training"]

HISTORY_FILE = "history.jsonl"


def record_training(folder: str | Path, state: Mapping[str, Any]) -> None:
    """Append one line for a model saved in ``folder`` (``state``: its ``ModelState.to_dict()``)."""
    held = state.get("held_out") or None
    f1 = held["overall"]["f1"] if isinstance(held, Mapping) and "overall" in held else None
    line = {
        "trained_at": state.get("trained_at"),
        "kind": state.get("kind"),
        "documents": int(state.get("documents") or 0),
        "f1": None if f1 is None else round(float(f1), 4),
        "held_out_documents": int(state.get("held_out_documents") or 0),
    }
    with open(Path(folder) / HISTORY_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def read_history(folder: str | Path) -> list[dict[str, Any]]:
    """Every readable line of ``folder``'s history in file order; a missing file is empty.

    A line that is not a JSON object with a whole ``documents`` count is skipped (a file cut
    short by a crash loses at most its last line).
    """
    path = Path(folder) / HISTORY_FILE
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for raw in lines:
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(item, dict) or not isinstance(item.get("documents"), int):
            continue
        f1 = item.get("f1")
        out.append({
            "trained_at": str(item.get("trained_at") or ""),
            "documents": item["documents"],
            "f1": float(f1) if isinstance(f1, (int, float)) and not isinstance(f1, bool) else None,
            "held_out_documents": int(item.get("held_out_documents") or 0),
        })
    return out
