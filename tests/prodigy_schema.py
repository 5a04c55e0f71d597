"""Prodigy's db-out layout for NER, checked field by field (shared by the format tests)."""

from __future__ import annotations

from typing import Any

__all__ = ["prodigy_problems"]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def prodigy_problems(rec: dict[str, Any]) -> list[str]:
    """Everything in ``rec`` that breaks Prodigy's db-out layout for NER (empty list = valid)."""
    problems: list[str] = []

    def need(cond: bool, what: str) -> None:
        if not cond:
            problems.append(what)

    need(isinstance(rec.get("text"), str), "text is a string")
    text = rec.get("text", "")
    meta = rec.get("meta")
    need(isinstance(meta, dict), "meta is an object")
    if isinstance(meta, dict):
        need(_is_int(meta.get("id")), "meta.id is an int")
        for k in ("source", "lang", "title"):
            need(isinstance(meta.get(k), str), f"meta.{k} is a string")
    for k in ("_input_hash", "_task_hash", "_timestamp"):
        need(_is_int(rec.get(k)), f"{k} is an int")
    for k in ("_input_hash", "_task_hash"):
        need(_is_int(rec.get(k)) and -(2**31) <= rec[k] < 2**31, f"{k} fits 32 bits like Prodigy's")
    need(isinstance(rec.get("_annotator_id"), str), "_annotator_id is a string")
    need(rec.get("answer") in ("accept", "reject", "ignore"), "answer is accept/reject/ignore")
    tokens = rec.get("tokens")
    need(isinstance(tokens, list), "tokens is a list")
    for i, tok in enumerate(tokens or []):
        need(set(tok) == {"text", "start", "end", "id", "ws"}, f"token {i} has exactly text/start/end/id/ws")
        if set(tok) != {"text", "start", "end", "id", "ws"}:
            continue
        need(tok.get("id") == i, f"token {i} id is its index")
        need(text[tok["start"]:tok["end"]] == tok["text"], f"token {i} text matches its offsets")
        need(isinstance(tok["ws"], bool), f"token {i} ws is a bool")
        need(tok["ws"] == (text[tok["end"]:tok["end"] + 1] == " "), f"token {i} ws is right")
    for key, extra in (("spans", set()), ("suggestions", {"source", "score"})):
        for j, sp in enumerate(rec.get(key, [])):
            need(set(sp) == {"start", "end", "token_start", "token_end", "label", "text"} | extra,
                 f"{key}[{j}] keys")
            need(text[sp["start"]:sp["end"]] == sp["text"], f"{key}[{j}] text matches offsets")
            need(tokens[sp["token_start"]]["start"] == sp["start"], f"{key}[{j}] token_start")
            need(tokens[sp["token_end"]]["end"] == sp["end"], f"{key}[{j}] token_end (inclusive)")
    need(isinstance(rec.get("spans"), list), "spans is a list")
    return problems
