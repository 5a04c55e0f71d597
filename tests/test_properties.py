"""Property tests: whatever text goes in comes back; spans keep covering the same characters."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotations import Store, detect_language, import_paths
from annotations.text import _KY_ONLY, _OTHER_TURKIC, content_hash, is_grapheme_boundary

#: Pieces that stress decoding, newlines, grapheme clusters and the language rule.
PIECES = [
    "Ж", "ң", "ө", "ү", "Ү", "а", "ё", "Ё", "ә", "қ", "і", "\u0482", "\u0489", "b", "é", "1", " ", "\n",
    "\r\n", "\r", "\t", "\u0301", "\u0308", "👩", "\u200d", "💻", "🏽", "🇰", "🇬", "\ufeff", "\x00",
    "\x1b", "«", "»", "—", "中", "Бишкек", "Жапаровдун", "Москвага", " и ", "\u202e",
]

texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=120),
    st.lists(st.sampled_from(PIECES), max_size=60).map("".join),
)

_counter = itertools.count()

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _doc_id(store: Store, text: str) -> int | None:
    row = store.db.conn.execute("SELECT id FROM documents WHERE hash = ?", [content_hash(text)]).fetchone()
    return row[0] if row else None


@PROPERTY
@given(text=texts)
def test_text_file_comes_back_identical(store: Store, tmp_path: Path, text: str) -> None:
    path = tmp_path / f"doc{next(_counter)}.txt"
    path.write_bytes(text.encode("utf-8"))
    report = import_paths(store, [path])
    assert report.ok, report.to_dict()
    # A leading U+FEFF in the bytes is a BOM and is dropped; CRLF becomes LF; nothing else changes.
    expected = (text[1:] if text.startswith("\ufeff") else text).replace("\r\n", "\n")
    doc_id = _doc_id(store, expected)
    if not expected.strip():
        assert doc_id is None and report.skipped
        return
    assert doc_id is not None
    assert store.document(doc_id).text == expected
    assert store.text(doc_id) == expected


@PROPERTY
@given(text=texts, ascii_json=st.booleans())
def test_jsonl_record_comes_back_identical(store: Store, tmp_path: Path, text: str, ascii_json: bool) -> None:
    path = tmp_path / f"doc{next(_counter)}.jsonl"
    path.write_text(json.dumps({"text": text}, ensure_ascii=ascii_json) + "\n", encoding="utf-8")
    report = import_paths(store, [path])
    assert report.ok, report.to_dict()
    expected = text.replace("\r\n", "\n")  # inside JSON a U+FEFF is data, not a BOM
    doc_id = _doc_id(store, expected)
    if not expected.strip():
        assert doc_id is None
        return
    assert doc_id is not None and store.document(doc_id).text == expected


@st.composite
def text_with_spans(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]]]:
    """A text and non-overlapping spans whose edges fall between visible characters."""
    text = draw(texts.filter(lambda t: t.strip()))
    edges = [i for i in range(len(text) + 1) if is_grapheme_boundary(text, i)]
    chosen = sorted(draw(st.sets(st.sampled_from(edges), max_size=8)))
    labels = st.sampled_from(["PER", "LOC", "ORG", "GPE"])
    spans = [(a, b, draw(labels)) for a, b in zip(chosen[::2], chosen[1::2])]
    return text, spans


@PROPERTY
@given(case=text_with_spans(), mode=st.sampled_from(["accepted", "suggestions"]))
def test_spans_keep_their_text(store: Store, tmp_path: Path, case: tuple[str, list], mode: str) -> None:
    text, spans = case
    path = tmp_path / f"doc{next(_counter)}.jsonl"
    record = {"text": text, "spans": [{"start": a, "end": b, "label": lab} for a, b, lab in spans]}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    # A new annotator per example: the same text may come up twice with other spans.
    with Store(store.path, f"ann{next(_counter)}") as own:
        report = import_paths(own, [path], mode=mode)
        assert report.ok, report.to_dict()
        doc = own.document(_doc_id(own, text.replace("\r\n", "\n")))
        got = [(doc.text[s.start:s.end], s.label) for s in doc.spans]
        want = [(text[a:b].replace("\r\n", "\n"), lab) for a, b, lab in spans]
        assert got == want
        assert {s.state for s in doc.spans} <= {"accepted" if mode == "accepted" else "pending"}


def _reference_language(text: str) -> str:
    """The documented rule, one character at a time (what ``detect_language`` must equal)."""
    letters = cyrillic = kyrgyz = other = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        if "\u0400" <= ch <= "\u04ff":
            cyrillic += 1
            if ch in _KY_ONLY:
                kyrgyz += 1
            elif ch in _OTHER_TURKIC:
                other += 1
    if letters == 0 or cyrillic < 0.3 * letters:
        return "xx"
    if other >= 0.01 * cyrillic and other >= kyrgyz / 4:
        return "xx"
    if kyrgyz >= 0.01 * cyrillic:
        return "ky"
    return "ru"


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(
    texts,
    st.text(st.characters(min_codepoint=0x0400, max_codepoint=0x04FF), max_size=80),
    st.lists(st.sampled_from(PIECES + ["ъ", "Ӂ", "ӿ", "Ѐ", "ҁ", "Ҋ"]), max_size=200).map("".join),
))
def test_fast_language_detection_equals_the_documented_rule(text: str) -> None:
    assert detect_language(text) == _reference_language(text)
