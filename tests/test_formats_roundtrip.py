"""Property: import(export(x)) == x for random texts and non-overlapping token-aligned spans
(random examples without any span included: they are negatives and must come back done).

JSONL, spaCy and brat carry the text and character offsets, so text, spans and labels must
come back exactly. CoNLL and Hugging Face carry tokens and tags only (the importer rebuilds
the text from the tokens), so there the non-whitespace tokens and each entity's tokens and
label must come back.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import annotations.formats  # noqa: F401
from annotations import Store, import_paths
from annotations.formats import Selection, run_export
from annotations.importer import ImportReport, Record, write_records
from annotations.text import is_grapheme_boundary

LABELS = ("PER", "LOC", "ORG", "GEO-POL")
ALPHABET = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяңөүАБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯҢӨҮ"
    "abcdefXYZ0123456789.,!?-«»\"'()…#:;/\u0301\u00ad🇰🇬😀"
)
SEPARATORS = [" ", " ", " ", " ", "\n", "\n\n", "  ", "\t", "\u00a0", " \n "]

word = st.text(alphabet=ALPHABET, min_size=1, max_size=9)
text = st.builds(
    lambda ws, seps, lead, trail: lead + "".join(w + s for w, s in zip(ws, seps)) + trail,
    st.lists(word, min_size=1, max_size=14),
    st.lists(st.sampled_from(SEPARATORS), min_size=14, max_size=14),
    st.sampled_from(["", " ", "\n"]),
    st.sampled_from(["", "\n"]),
)
# Each span request: (token index, extra tokens, label); resolved against the real tokens.
requests = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3), st.sampled_from(LABELS)), max_size=8)
documents = st.lists(st.tuples(text, requests), min_size=1, max_size=4, unique_by=lambda d: d[0].strip())

@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new database, migrated once: each example copies it (a Store on a new file spends
    most of an example's time creating the schema)."""
    path = tmp_path_factory.mktemp("blank") / "blank.db"
    Store(path, "alice").close()
    return path


def fresh(blank: Path, path: Path) -> Path:
    shutil.copyfile(blank, path)
    return path


FORMAT_TARGETS = {"jsonl": "x.jsonl", "spacy": "x.spacy", "brat": "brat", "conll": "x.conll", "hf": "x.jsonl"}


def build(store: Store, docs: list[tuple[str, list[tuple[int, int, str]]]]) -> None:
    """Import the texts and label the requested token runs (skipping clashes), all done."""
    report = ImportReport()
    write_records(store, [Record(text=t) for t, _ in docs], "generated", report, mode="text")
    assert report.ok and report.added == len(docs), report.to_dict()
    store.ensure_labels(LABELS)
    for doc_id, (t, reqs) in zip(store.document_ids(), docs):
        toks = store.tokens(doc_id)
        solid = [i for i, (s, e) in enumerate(zip(toks.starts, toks.ends)) if not t[s:e].isspace()]
        taken: list[tuple[int, int]] = []
        for idx, extra, label in reqs:
            if not solid:
                break
            first = solid[idx % len(solid)]
            last = solid[min(solid.index(first) + extra, len(solid) - 1)]
            start, end = toks.starts[first], toks.ends[last]
            if any(start < e and s < end for s, e in taken):
                continue
            if not (is_grapheme_boundary(t, start) and is_grapheme_boundary(t, end)):
                continue
            store.add_span(doc_id, start, end, label)
            taken.append((start, end))
        store.set_status(doc_id, "done")


def char_view(store: Store, annotator: str | None = None) -> list[tuple[str, list[tuple[int, int, str]]]]:
    return [
        (store.text(d), [(s.start, s.end, s.label) for s in store.spans(d, annotator=annotator, states=("accepted",))])
        for d in store.document_ids()
    ]


def token_view(store: Store, annotator: str | None = None) -> list[tuple[list[str], list[tuple[int, int, str]]]]:
    """Non-whitespace tokens, and each span as (first, last) indices into them plus its label."""
    out = []
    for d in store.document_ids():
        t = store.text(d)
        toks = store.tokens(d)
        solid = [(s, e) for s, e in zip(toks.starts, toks.ends) if not t[s:e].isspace()]
        index_of_start = {s: i for i, (s, _) in enumerate(solid)}
        index_of_end = {e: i for i, (_, e) in enumerate(solid)}
        spans = [(index_of_start[s.start], index_of_end[s.end], s.label) for s in store.spans(d, annotator=annotator)]
        out.append(([t[s:e] for s, e in solid], spans))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=documents)
def test_import_of_export_gives_back_what_was_exported(
    blank: Path, docs: list[tuple[str, list[tuple[int, int, str]]]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with Store(fresh(blank, root / "a.db"), "alice") as a:
            build(a, docs)
            chars, tokens = char_view(a), token_view(a)
            for fmt, target in FORMAT_TARGETS.items():
                out = root / fmt
                out.mkdir()
                stats = run_export(a, fmt, Selection(), out / target)
                assert stats.misaligned == 0 and stats.unwritten == 0, (fmt, stats)
                with Store(fresh(blank, root / f"{fmt}.db"), "bob") as b:
                    report = import_paths(b, [out / target])
                    assert report.ok and report.misaligned == 0 and report.text_mismatch == 0, (fmt, report.to_dict())
                    assert report.warnings == [], (fmt, report.warnings)
                    assert report.added == len(docs), fmt  # every example, those without entities too
                    # formats that carry the annotator give alice's annotations back as alice's
                    who = "alice" if fmt in ("jsonl", "spacy", "hf") else "bob"
                    if fmt in ("conll", "hf"):
                        assert token_view(b, who) == tokens, fmt
                    else:
                        assert char_view(b, who) == chars, fmt
                    # an annotated example comes back annotated (done), zero spans included
                    assert [b.status(d, who) for d in b.document_ids()] == ["done"] * len(docs), fmt


STATUS_FORMATS = {"jsonl": "x.jsonl", "spacy": "x.spacy", "hf": "x.jsonl"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=documents, statuses=st.lists(st.sampled_from(["done", "skipped", "todo"]), min_size=4, max_size=4))
def test_every_status_comes_back_in_the_formats_that_carry_it(
    blank: Path, docs: list[tuple[str, list[tuple[int, int, str]]]], statuses: list[str]
) -> None:
    """``--status all``: done, skipped and todo examples (with or without spans) all come back,
    in order, with their status, in the formats that carry one (JSONL, DocBin, HF)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with Store(fresh(blank, root / "a.db"), "alice") as a:
            build(a, docs)
            for doc_id, status in zip(a.document_ids(), statuses):
                a.set_status(doc_id, status)
            want = [a.status(d) for d in a.document_ids()]
            chars, tokens = char_view(a), token_view(a)
            for fmt, target in STATUS_FORMATS.items():
                out = root / fmt
                out.mkdir()
                stats = run_export(a, fmt, Selection(status="all"), out / target)
                assert stats.records == len(docs), fmt
                with Store(fresh(blank, root / f"{fmt}.db"), "bob") as b:
                    report = import_paths(b, [out / target])
                    assert report.ok and report.added == len(docs), (fmt, report.to_dict())
                    assert [b.status(d, "alice") for d in b.document_ids()] == want, fmt
                    if fmt == "hf":
                        assert token_view(b, "alice") == tokens
                    else:
                        assert char_view(b, "alice") == chars, fmt
