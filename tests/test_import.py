"""Corpus import: .txt, .jsonl and folders; validation; one transaction per file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from annotations import Store, import_paths
from annotations.importer import BATCH

KY = "Садыр Жапаров Бишкекте өкмөт мүчөлөрү менен жолукту."
RU = "Президент России Владимир Путин прилетел в Бишкек."

Dump = Callable[[Store], dict[str, list[tuple[Any, ...]]]]

#: Every test here that takes ``store`` runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_BACKENDS = True


@pytest.fixture
def dump_db() -> Dump:
    """Every row of every table, on either backend (SQLite: FTS5's shadow tables included)."""
    from conftest import _dump

    def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
        if store.backend.name == "sqlite":
            return _dump(store)
        names = [r[0] for r in store.backend.all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE' ORDER BY 1")]
        return {t: sorted(store.backend.all(f"SELECT * FROM {t}"), key=repr) for t in names}

    return dump


def span(doc_text: str, word: str, label: str, **extra: Any) -> dict[str, Any]:
    start = doc_text.index(word)
    return {"start": start, "end": start + len(word), "label": label, **extra}


def fts_ok(store: Store) -> None:
    """FTS5's own consistency check of the index against the documents table (PostgreSQL's
    ``tsv`` is a generated column, always in step: no import may be left noted as publishing)."""
    assert not store.backend.import_in_progress()
    if store.backend.name != "sqlite":
        return
    store.db.conn.execute("INSERT INTO documents_fts(documents_fts, rank) VALUES ('integrity-check', 1)")
    assert store.db.conn.execute("SELECT count(*) FROM fts_deferred").fetchone()[0] == 0


# -- plain text and folders -------------------------------------------------------------------


def test_txt_file_is_one_document(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "news.txt"
    path.write_text("\n  " + KY + "  \nЭкинчи сап.\n", encoding="utf-8")
    report = import_paths(store, [path])
    assert (report.files, report.added, report.duplicates, report.errors) == (1, 1, 0, [])
    doc = store.document(report.doc_ids[0])
    assert doc.text == "\n  " + KY + "  \nЭкинчи сап.\n"
    assert (doc.title, doc.source, doc.line, doc.lang, doc.meta) == (KY, "news.txt", None, "ky", {})
    assert report.to_dict()["added"] == 1


def test_bom_dropped_crlf_becomes_lf_lone_cr_kept(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "Ош\r\nНарын\rТалас\r\n".encode())
    report = import_paths(store, [path])
    assert store.text(report.doc_ids[0]) == "Ош\nНарын\rТалас\n"


def test_folder_is_read_recursively(store: Store, tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    root = tmp_path / "corpus"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a.txt").write_text(KY, encoding="utf-8")
    write_jsonl([{"text": RU}, {"text": "Ош шаары."}], name="corpus/sub/b.jsonl")
    (root / "sub" / "deeper" / "c.TXT").write_text("Нарын облусу.", encoding="utf-8")
    (root / "notes.md").write_text("# not a document", encoding="utf-8")
    (root / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (root / ".hidden.txt").write_text("hidden", encoding="utf-8")
    (root / ".git" / "HEAD.txt").write_text("ref", encoding="utf-8")
    report = import_paths(store, [root])
    assert report.errors == [] and report.added == 4 and report.files == 3
    rows = [(d.source, d.line) for d in store.documents()]
    assert rows == [("corpus/a.txt", None), ("corpus/sub/b.jsonl", 1), ("corpus/sub/b.jsonl", 2),
                    ("corpus/sub/deeper/c.TXT", None)]


def test_empty_file_and_empty_folder_are_notices(store: Store, tmp_path: Path, dump_db: Dump) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_text("\n\n  \n", encoding="utf-8")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "readme.md").write_text("x", encoding="utf-8")
    (tmp_path / "space.txt").write_text("  \n\t\n", encoding="utf-8")
    before = dump_db(store)
    report = import_paths(
        store,
        [tmp_path / "empty.jsonl", tmp_path / "blank.jsonl", tmp_path / "nothing",
         tmp_path / "other", tmp_path / "space.txt"],
    )
    assert report.ok and report.added == 0
    notices = "\n".join(report.notices)
    assert "empty.jsonl: empty file" in notices and "blank.jsonl: empty file" in notices
    assert "nothing: no .txt or .jsonl files" in notices and "other: no .txt or .jsonl" in notices
    assert report.skipped == [("space.txt", "empty text")]
    assert dump_db(store) == before


def test_missing_source_is_an_error(store: Store, tmp_path: Path) -> None:
    report = import_paths(store, [tmp_path / "nope.txt"])
    assert not report.ok and "no such file or folder" in str(report.errors[0])


def test_bad_arguments_raise(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown language"):
        import_paths(store, [tmp_path], lang="de")
    with pytest.raises(ValueError, match="unknown import mode"):
        (tmp_path / "a.txt").write_text("x", encoding="utf-8")
        import_paths(store, [tmp_path / "a.txt"], mode="maybe")


# -- JSONL ----------------------------------------------------------------------------------


def test_jsonl_meta_and_extra_keys(store: Store, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([
        {"text": RU, "meta": {"url": "https://x.kg/1", "id": 7}, "id": "ignored", "date": "2025-08-15"},
        {"text": KY, "source": "kabar", "tags": ["a", "b"]},
    ])
    report = import_paths(store, [path])
    first, second = (store.document(i) for i in report.doc_ids)
    assert first.meta == {"url": "https://x.kg/1", "id": 7, "date": "2025-08-15"}  # meta wins a clash
    assert second.meta == {"source": "kabar", "tags": ["a", "b"]}
    assert (first.source, first.line, second.line) == ("data.jsonl", 1, 2)


def test_jsonl_spans_become_accepted_annotations(store: Store, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([{"text": KY, "spans": [span(KY, "Садыр Жапаров", "PER"), span(KY, "Бишкекте", "LOC")]}])
    report = import_paths(store, [path])
    assert (report.spans, report.suggestions, report.misaligned) == (2, 0, 0)
    doc = store.document(report.doc_ids[0])
    assert [(doc.text[s.start:s.end], s.label, s.state, s.origin, s.annotator) for s in doc.spans] == [
        ("Садыр Жапаров", "PER", "accepted", "import", "alice"),
        ("Бишкекте", "LOC", "accepted", "import", "alice"),
    ]


def test_spans_as_suggestions_may_overlap(store: Store, write_jsonl: Callable[..., Path]) -> None:
    spans = [span(KY, "Садыр Жапаров", "PER", score=0.9), span(KY, "Жапаров", "PER", score=0.4)]
    report = import_paths(store, [write_jsonl([{"text": KY, "spans": spans}])], mode="suggestions")
    assert (report.spans, report.suggestions) == (0, 2)
    pending = store.document(report.doc_ids[0]).pending
    assert [(s.state, s.score) for s in pending] == [("pending", 0.9), ("pending", 0.4)]


def test_spans_ignored_as_text(store: Store, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([{"text": KY, "spans": [span(KY, "Бишкекте", "CITY")]}])
    report = import_paths(store, [path], mode="text")
    assert (report.added, report.spans, report.labels_added) == (1, 0, [])
    assert store.document(report.doc_ids[0]).spans == [] and store.label("CITY") is None


def test_unknown_labels_are_added_and_reported(store: Store, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([
        {"text": KY, "spans": [span(KY, "Бишкекте", "GPE"), span(KY, "Садыр", "PER")]},
        {"text": RU, "spans": [span(RU, "Бишкек", "GPE"), span(RU, "России", "NORP")]},
    ])
    report = import_paths(store, [path])
    assert report.labels_added == ["GPE", "NORP"]
    keys = {lab.name: lab.key for lab in store.labels()}
    assert keys == {"PER": "1", "LOC": "2", "ORG": "3", "GPE": "4", "NORP": "5"}


def test_misaligned_spans_are_kept_and_counted(store: Store, write_jsonl: Callable[..., Path]) -> None:
    text = "Жапаровдун сапары."
    path = write_jsonl([{"text": text, "spans": [{"start": 0, "end": 7, "label": "PER"}]}])
    report = import_paths(store, [path])
    assert report.misaligned == 1
    (kept,) = store.document(report.doc_ids[0]).spans
    assert (kept.start, kept.end) == (0, 7)


def test_span_text_mismatch_is_counted(store: Store, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([{"text": RU, "spans": [span(RU, "Путин", "PER", text="Putin")]}])
    assert import_paths(store, [path]).text_mismatch == 1


def test_prodigy_tokens_and_answers_are_kept(store: Store, write_jsonl: Callable[..., Path]) -> None:
    text = "Ош-шаары Нарын"
    tokens = [{"text": "Ош-шаары", "start": 0, "end": 8, "id": 0, "ws": True},
              {"text": "Нарын", "start": 9, "end": 14, "id": 1, "ws": False}]
    path = write_jsonl([
        {"text": text, "tokens": tokens, "spans": [{"start": 0, "end": 8, "label": "LOC",
                                                     "token_start": 0, "token_end": 0}],
         "answer": "accept", "_input_hash": 1, "_view_id": "ner_manual"},
        {"text": RU, "answer": "ignore"},
    ])
    report = import_paths(store, [path])
    first, second = (store.document(i) for i in report.doc_ids)
    assert list(zip(first.tokens.starts, first.tokens.ends)) == [(0, 8), (9, 14)]
    assert report.misaligned == 0
    assert (first.status, second.status) == ("done", "skipped")
    assert first.meta["_view_id"] == "ner_manual"
    assert store.backend.cached_tokens(first.id)[0] == "import"


def test_crlf_inside_jsonl_text_keeps_spans_on_their_words(store: Store, write_jsonl: Callable[..., Path]) -> None:
    raw = "Ош\r\nНарын\r\nТалас"
    tokens = [{"start": 0, "end": 2}, {"start": 2, "end": 4}, {"start": 4, "end": 9},
              {"start": 9, "end": 11}, {"start": 11, "end": 16}]
    path = write_jsonl([{"text": raw, "tokens": tokens, "spans": [
        {"start": 4, "end": 9, "label": "LOC", "text": "Нарын"},
        {"start": 11, "end": 16, "label": "LOC"},
    ]}])
    report = import_paths(store, [path])
    doc = store.document(report.doc_ids[0])
    assert doc.text == "Ош\nНарын\nТалас"
    assert [doc.text[s.start:s.end] for s in doc.spans] == ["Нарын", "Талас"]
    assert doc.tokens.words(doc.text) == ["Ош", "\n", "Нарын", "\n", "Талас"]
    assert report.text_mismatch == 0 and report.misaligned == 0


def test_duplicates_are_added_once(store: Store, tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([{"text": KY}, {"text": RU}, {"text": KY, "meta": {"again": True}}])
    (tmp_path / "same.txt").write_text(RU, encoding="utf-8")
    report = import_paths(store, [path, tmp_path / "same.txt"])
    assert (report.added, report.duplicates) == (2, 2)
    again = import_paths(store, [path])
    assert (again.added, again.duplicates) == (0, 3)
    assert store.count_documents() == 2


def test_reimporting_spans_adds_none_twice(store: Store, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([{"text": KY, "spans": [span(KY, "Бишкекте", "LOC")]}])
    import_paths(store, [path])
    report = import_paths(store, [path])
    assert (report.added, report.duplicates, report.spans) == (0, 1, 0)
    assert len(store.spans(1)) == 1


def test_language_is_detected_per_document_unless_given(store: Store, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([{"text": KY}, {"text": RU}, {"text": "Hello from Osh"},
                        {"text": "Қазақстан Республикасы және Өзбекстан"}])
    report = import_paths(store, [path])
    assert [store.document(i).lang for i in report.doc_ids] == ["ky", "ru", "xx", "xx"]
    other = write_jsonl([{"text": KY + " 2"}, {"text": RU + " 2"}], name="forced.jsonl")
    report = import_paths(store, [other], lang="ru")
    assert [store.document(i).lang for i in report.doc_ids] == ["ru", "ru"]


def test_meta_lang_is_taken_when_valid(store: Store, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([{"text": KY, "meta": {"lang": "ru"}}, {"text": RU, "meta": {"lang": "english"}}])
    report = import_paths(store, [path])
    assert [store.document(i).lang for i in report.doc_ids] == ["ru", "ru"]


# -- bad input: named, nothing half-written, other files still imported -----------------------

# Each case: (file name, raw bytes, expected line, words the message must hold).
GOOD_LINE = b'{"text": "ok"}\n'
ZWJ_TEXT = "Мен 👩\u200d💻 Ошто иштейм"
COMBINING = "Ко\u0301кшетау"
BAD_CASES: dict[str, tuple[str, bytes, int | None, list[str]]] = {
    "invalid utf-8 txt": ("bad.txt", "Ош шаары ".encode() + b"\xff\xfe" + " Нарын".encode(), None,
                          ["invalid UTF-8", "byte 16"]),
    "invalid utf-8 jsonl": ("bad.jsonl", GOOD_LINE + b'{"text": "\xc3("}\n', 2,
                            ["invalid UTF-8", "byte 25"]),
    "bad json": ("bad.jsonl", GOOD_LINE + b'{"text": "no end}\n', 2, ["not valid JSON"]),
    "not an object": ("bad.jsonl", GOOD_LINE + b'["text"]\n', 2, ["expected a JSON object"]),
    "no text": ("bad.jsonl", GOOD_LINE + b'{"meta": {}}\n', 2, ['has no "text"']),
    "text not a string": ("bad.jsonl", GOOD_LINE + b'{"text": 5}\n', 2, ['"text" is int']),
    "lone surrogate": ("bad.jsonl", GOOD_LINE + b'{"text": "a\\ud800b"}\n', 2, ["lone surrogate", "offset 1"]),
    "span out of range": ("bad.jsonl", json.dumps({"text": "Ош", "spans": [{"start": 0, "end": 3, "label": "LOC"}]},
                                                  ensure_ascii=False).encode(), 1, ["out of range", "0-3"]),
    "span negative": ("bad.jsonl", b'{"text": "abc", "spans": [{"start": -1, "end": 2, "label": "X"}]}', 1,
                      ["out of range"]),
    "span reversed": ("bad.jsonl", b'{"text": "abcdef", "spans": [{"start": 4, "end": 2, "label": "X"}]}', 1,
                      ["empty or reversed", "start 4, end 2"]),
    "span empty": ("bad.jsonl", b'{"text": "abcdef", "spans": [{"start": 2, "end": 2, "label": "X"}]}', 1,
                   ["empty or reversed"]),
    "spans overlap": ("bad.jsonl", b'{"text": "abcdef", "spans": [{"start": 0, "end": 3, "label": "X"},'
                                   b' {"start": 2, "end": 5, "label": "Y"}]}', 1, ["overlap", "X 0-3", "Y 2-5"]),
    "span cuts combining mark": ("bad.jsonl", json.dumps({"text": COMBINING, "spans": [
        {"start": 0, "end": 2, "label": "LOC"}]}, ensure_ascii=False).encode(), 1,
        ["cuts through a character sequence", "offset 2"]),
    "span cuts emoji zwj sequence": ("bad.jsonl", json.dumps({"text": ZWJ_TEXT, "spans": [
        {"start": 4, "end": 6, "label": "X"}]}, ensure_ascii=False).encode(), 1,
        ["cuts through a character sequence", "offset 6"]),
    "span cuts emoji modifier": ("bad.jsonl", json.dumps({"text": "Салам 👋🏽!", "spans": [
        {"start": 6, "end": 7, "label": "X"}]}, ensure_ascii=False).encode(), 1, ["cuts through", "offset 7"]),
    "span cuts flag": ("bad.jsonl", json.dumps({"text": "🇰🇬🇷🇺", "spans": [
        {"start": 1, "end": 4, "label": "X"}]}, ensure_ascii=False).encode(), 1, ["cuts through", "offset 1"]),
    "span without label": ("bad.jsonl", b'{"text": "abc", "spans": [{"start": 0, "end": 2}]}', 1, ['"label"']),
    "span offsets not integers": ("bad.jsonl", b'{"text": "abc", "spans": [{"start": "0", "end": 2, "label": "X"}]}',
                                  1, ["integer"]),
    "label with spaces": ("bad.jsonl", b'{"text": "abc", "spans": [{"start": 0, "end": 2, "label": "A B"}]}', 1,
                          ["invalid label"]),
    "spans not a list": ("bad.jsonl", b'{"text": "abc", "spans": {"start": 0}}', 1, ['"spans" must be a list']),
    "meta not an object": ("bad.jsonl", b'{"text": "abc", "meta": [1]}', 1, ['"meta" must be an object']),
    "tokens out of order": ("bad.jsonl", b'{"text": "ab cd", "tokens": [{"start": 3, "end": 5},'
                                         b' {"start": 0, "end": 2}]}', 1, ["token 2"]),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_refused_whole_and_named(
    case: str, seeded_store: Store, tmp_path: Path, dump_db: Dump, write_jsonl: Callable[..., Path]
) -> None:
    store = seeded_store
    name, data, line, words = BAD_CASES[case]
    good_before = write_jsonl([{"text": "Биринчи жакшы документ."}], name="a_good.jsonl")
    bad = tmp_path / name
    # A bad .jsonl starts with a good record, which must not be written either.
    prefix = b"" if name.endswith(".txt") or data.startswith(GOOD_LINE) else GOOD_LINE
    bad.write_bytes(prefix + data)
    expected_line = None if line is None else line + (1 if prefix else 0)
    good_after = write_jsonl([{"text": "Акыркы жакшы документ.", "spans": [{"start": 0, "end": 6, "label": "NEW"}]}],
                             name="z_good.jsonl")
    before = dump_db(store)

    bad_only = import_paths(store, [bad])
    assert dump_db(store) == before  # nothing half-written
    (error,) = bad_only.errors
    assert error.source == name and error.line == expected_line
    where = f"{name}:{expected_line}" if expected_line else name
    assert str(error).startswith(where + ": ")
    for word in words:
        assert word in str(error), (word, str(error))

    report = import_paths(store, [good_before, bad, good_after])
    assert [e.source for e in report.errors] == [name]
    assert report.added == 2 and report.labels_added == ["NEW"]
    assert {d.source for d in store.documents(limit=100)} >= {"a_good.jsonl", "z_good.jsonl"}
    assert name not in {d.source for d in store.documents(limit=100)}
    fts_ok(store)


def test_utf8_error_offset_counts_bytes_from_the_start_of_the_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "offset.jsonl"
    first = '{"text": "Ош"}\n'.encode()
    path.write_bytes(first + b'{"text": "ab\xe2\x82"}\n')
    (error,) = import_paths(store, [path]).errors
    assert error.line == 2 and f"byte {len(first) + 12}" in error.message


def test_overlap_with_spans_already_in_the_database_keeps_the_old_one(
    store: Store, write_jsonl: Callable[..., Path]
) -> None:
    import_paths(store, [write_jsonl([{"text": KY, "spans": [span(KY, "Садыр Жапаров", "PER")]}])])
    path = write_jsonl([{"text": KY, "spans": [span(KY, "Жапаров", "ORG")]}], name="second.jsonl")
    report = import_paths(store, [path])
    # the same text annotated differently: a conflicting duplicate, the first kept (issue 10 item 7)
    assert report.spans == 0 and "kept the first" in report.conflicts[0]
    assert [s.label for s in store.spans(1)] == ["PER"]


def test_imported_suggestions_never_compete_with_accepted_spans(
    store: Store, write_jsonl: Callable[..., Path]
) -> None:
    import_paths(store, [write_jsonl([{"text": KY, "spans": [span(KY, "Садыр Жапаров", "PER")]}])])
    path = write_jsonl([{"text": KY, "spans": [span(KY, "Жапаров", "ORG"), span(KY, "Бишкекте", "LOC")]}],
                       name="model.jsonl")
    report = import_paths(store, [path], mode="suggestions")
    assert report.suggestions == 1 and len(report.warnings) == 1
    assert [(s.label, s.state) for s in store.spans(1)] == [("PER", "accepted"), ("LOC", "pending")]


# -- the full-text index under bulk import -----------------------------------------------------


def test_bulk_import_indexes_every_batch(store: Store, write_jsonl: Callable[..., Path]) -> None:
    n = BATCH * 2 + 7
    records = [{"text": f"Документ номер {i} Бишкек"} for i in range(n)]
    records[0]["text"] += " Баткенде"
    records[BATCH]["text"] += " Баткенде"
    records[-1]["text"] += " Баткенде"
    report = import_paths(store, [write_jsonl(records)])
    assert report.added == n
    hits = store.documents(search="баткен", limit=10)
    assert [d.id for d in hits] == [1, BATCH + 1, n]
    assert len(store.documents(search="бишкек", limit=n + 1)) == n
    fts_ok(store)
    if store.backend.name != "sqlite":
        return
    # Inserts outside a bulk import are indexed by the trigger as before.
    store.db.conn.execute(
        "INSERT INTO documents (hash, title, text, created) VALUES ('x', 'Талас', 'Талас', 'now')"
    )
    assert [d.title for d in store.documents(search="талас")] == ["Талас"]
    fts_ok(store)


def test_nested_bulk_imports_index_each_document_once(store: Store, write_jsonl: Callable[..., Path]) -> None:
    first = write_jsonl([{"text": "Ош шаары"}], name="first.jsonl")
    second = write_jsonl([{"text": "Нарын шаары"}], name="second.jsonl")
    with store.transaction(), store.backend.bulk_index():
        import_paths(store, [first])
        import_paths(store, [second])
    assert [d.title for d in store.documents(search="шаары")] == ["Ош шаары", "Нарын шаары"]
    fts_ok(store)


def test_failed_import_leaves_the_index_consistent(store: Store, write_jsonl: Callable[..., Path], dump_db: Dump) -> None:
    import_paths(store, [write_jsonl([{"text": "Ош"}], name="first.jsonl")])
    before = dump_db(store)
    records: list[Any] = [{"text": f"Текст {i}"} for i in range(BATCH + 10)] + ["{broken"]
    report = import_paths(store, [write_jsonl(records)])
    assert not report.ok and report.errors[0].line == BATCH + 11
    assert dump_db(store) == before
    assert store.documents(search="текст") == []
    fts_ok(store)


def test_progress_is_reported_in_bytes(store: Store, tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([{"text": f"Саптар {i}"} for i in range(50)])
    (tmp_path / "one.txt").write_text("Бир", encoding="utf-8")
    calls: list[tuple[int, int, str]] = []
    import_paths(store, [path, tmp_path / "one.txt"], progress=lambda d, t, n: calls.append((d, t, n)))
    total = path.stat().st_size + (tmp_path / "one.txt").stat().st_size
    assert calls[-1] == (total, total, "one.txt")
    done = [d for d, _, _ in calls]
    assert done == sorted(done) and {t for _, t, _ in calls} == {total}
