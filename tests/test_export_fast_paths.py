"""The export's fast paths give exactly what the plain ones give (issue 11: speed must not change results).

* the tokenising process (a first export of a large corpus) against tokenising in this
  process, and an export whose tokenising process dies part way;
* ``tokenize`` from ``Doc.to_array`` against spaCy's own tokens; ``Tokens.to_bytes`` for
  any sequences;
* the JSONL ``tokens`` list from one ``%`` format against one token at a time;
* DocBin ``doc_words`` for spaCy's usual layout against the general loop.

Only the first test starts a process (a second or two: it is the one path that needs it).
"""

from __future__ import annotations

import io
import json
import random
from json.encoder import encode_basestring
from typing import Callable

import pytest

import annotations.formats.export as export_mod
import annotations.tokenize_worker as worker_mod
from annotations import Store
from annotations.formats import ExportStats, Selection, iter_items
from annotations.formats import spacy_docbin
from annotations.formats.jsonl import _tokens_json, write_jsonl
from annotations.tokenize import Tokens, blank_nlp, tokenize

#: The export tests run on SQLite and on PostgreSQL (``store`` fixture, tests/conftest.py).
BOTH_BACKENDS = True

TEXTS = [
    "Садыр Жапаров Бишкекте Михаил Мишустинди кабыл алды.",
    'Президент сказал: "и т. д.", и др.\n\nВ Москве  — 2 000 человек.',
    "Ош\tшаары\\ жаңы \x01 мектеп ачылды.  ",
    "",
    " Ала-Тоо аянтында",
]


def _export(store: Store) -> bytes:
    """The JSONL export, read three documents a page (so there are pages to read ahead),
    its documents' serialised parts read from (and made into) the token cache as the export does."""
    out, stats = io.BytesIO(), ExportStats()
    write_jsonl(iter_items(store, Selection(status="all"), page=3, stats=stats, prodigy=True), out, stats)
    return out.getvalue()


@pytest.fixture
def docs(store: Store, add_doc: Callable[..., int]) -> list[int]:
    ids = [add_doc(text + f" №{i}") for i, text in enumerate(TEXTS * 3) if text]
    for i, doc_id in enumerate(ids):
        text = store.text(doc_id)
        if text.startswith("Садыр"):
            store.add_span(doc_id, 0, len("Садыр Жапаров"), "PER")
        store.set_status(doc_id, "done" if i % 2 else "skipped")
    return ids


def test_the_tokenising_process_gives_the_same_export_and_cache(
    store: Store, docs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    store.backend.execute("DELETE FROM doc_tokens")
    here = _export(store)
    cache_here = store.backend.all("SELECT doc_id, tokenizer, offsets, prodigy FROM doc_tokens ORDER BY doc_id")
    assert len(cache_here) == len(docs) and all(row[3] for row in cache_here)

    started: list[worker_mod.TokenWorker] = []

    class Counted(worker_mod.TokenWorker):
        def __init__(self) -> None:
            super().__init__()
            started.append(self)

    store.backend.execute("DELETE FROM doc_tokens")
    monkeypatch.setattr(export_mod._Tokeniser, "INLINE", 2)  # "a large export" after two documents
    monkeypatch.setattr(worker_mod, "TokenWorker", Counted)
    assert _export(store) == here
    assert len(started) == export_mod._Tokeniser.WORKERS == 2  # pages go to the two in turn
    for worker in started:
        assert worker.proc.returncode == 0 and worker.sent == worker.received >= 1  # started, used, and ended
    cache = store.backend.all("SELECT doc_id, tokenizer, offsets, prodigy FROM doc_tokens ORDER BY doc_id")
    assert cache == cache_here
    assert _export(store) == here  # from the cache

    with pytest.raises(worker_mod.WorkerGone):  # ended with the export
        started[0].submit([(TEXTS[0], "ru")])


def test_an_export_whose_tokenising_process_dies_finishes_here(
    store: Store, docs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    store.backend.execute("DELETE FROM doc_tokens")
    here = _export(store)
    store.backend.execute("DELETE FROM doc_tokens")

    class Dying:
        """Takes the first page, then is gone (killed, out of memory)."""

        closed = 0

        def submit(self, texts: list[tuple[str, str]], prodigy: bool = False) -> None:
            pass

        def result(self) -> list[bytes]:
            raise worker_mod.WorkerGone("the tokenising process has ended")

        def close(self) -> None:
            Dying.closed += 1

    monkeypatch.setattr(export_mod._Tokeniser, "INLINE", 0)
    monkeypatch.setattr(worker_mod, "TokenWorker", Dying)
    assert _export(store) == here and Dying.closed == export_mod._Tokeniser.WORKERS
    assert store.backend.value("SELECT count(*) FROM doc_tokens") == len(docs)


@pytest.mark.parametrize("lang", ["ru", "ky", "en"])
def test_tokenize_equals_spacys_tokens_cut_at_whitespace(lang: str) -> None:
    from annotations.tokenize import split_whitespace

    for text in TEXTS:
        doc = blank_nlp(lang).make_doc(text)
        plain = Tokens.from_pairs([(t.idx, t.idx + len(t.text)) for t in doc])
        assert tokenize(text, lang) == split_whitespace(text, plain)


def test_tokens_to_bytes_takes_any_sequences() -> None:
    for tokens in (Tokens([0, 5], [4, 9]), Tokens.from_pairs([(1, 2), (3, 7)]), Tokens([], [])):
        back = Tokens.from_bytes(tokens.to_bytes())
        assert list(back.starts) == list(tokens.starts) and list(back.ends) == list(tokens.ends)


def _one_at_a_time(text: str, tokens: Tokens) -> str:
    """The JSONL tokens list as it was written before the one-format fast path."""
    return "[" + ",".join(
        '{"text":%s,"start":%d,"end":%d,"id":%d,"ws":%s}'
        % (encode_basestring(text[s:e]), s, e, i, "true" if text[e:e + 1] == " " else "false")
        for i, (s, e) in enumerate(zip(tokens.starts, tokens.ends))
    ) + "]"


def test_jsonl_tokens_equal_one_token_at_a_time() -> None:
    rng = random.Random(7)
    texts = [*TEXTS, "\ud800 одинокий суррогат", "x" * 3]
    for _ in range(200):
        texts.append("".join(rng.choice('аб Ө"\\\n\t\x00,.') for _ in range(rng.randint(0, 30))))
    for text in texts:
        every_other = Tokens.from_pairs([(i, i + 1) for i in range(0, len(text), 2)])
        for tokens in ((every_other,) if "\ud800" in text else (tokenize(text, "ru"), every_other)):
            got = _tokens_json(text, tokens.starts, tokens.ends)
            assert got == _one_at_a_time(text, tokens)
            assert json.loads(got) == json.loads(_one_at_a_time(text, tokens))
    # a document longer than the cached formats
    long_text = "а " * 60_000
    tokens = tokenize(long_text, "ky")
    assert _tokens_json(long_text, tokens.starts, tokens.ends) == _one_at_a_time(long_text, tokens)


def test_doc_words_fast_layout_equals_the_general_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    fast = spacy_docbin._simple_words
    taken = 0
    for _ in range(3000):
        text = "".join(rng.choice("аб  \n,.") for _ in range(rng.randint(0, 12)))
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 8))))
        pairs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if b > a]
        tokens = Tokens.from_pairs(pairs)
        quick = fast(text, tokens)
        monkeypatch.setattr(spacy_docbin, "_simple_words", lambda *_: None)
        general = spacy_docbin.doc_words(text, tokens)
        monkeypatch.setattr(spacy_docbin, "_simple_words", fast)
        if quick is not None:
            taken += 1
            assert quick == general, (text, pairs)
    assert taken > 100  # the fast layout was tried often enough to mean something
    for text in TEXTS:
        tokens = tokenize(text, "ru")
        assert fast(text, tokens) in (None, spacy_docbin.doc_words(text, tokens))


def test_cached_jsonl_parts_are_what_the_export_writes_and_stale_ones_are_not_used() -> None:
    from annotations.tokenize_prodigy import cache_entry, entry_parts, input_hash

    for text in [*TEXTS, "\ud800 одинокий суррогат", "Ош\n\"шаары\""]:
        tokens = Tokens.from_pairs([(i, i + 1) for i in range(0, len(text), 2)]) if "\ud800" in text else tokenize(text, "ru")
        blob = tokens.to_bytes()
        parts = entry_parts(cache_entry(text, blob), blob)
        assert parts is not None
        in_hash, quoted, tokens_json = parts
        assert in_hash == input_hash(text)
        assert bytes(quoted) == encode_basestring(text).encode("utf-8", "surrogatepass")
        assert bytes(tokens_json) == _tokens_json(text, tokens.starts, tokens.ends).encode("utf-8", "surrogatepass")
        other = Tokens(list(tokens.starts)[:-1], list(tokens.ends)[:-1]).to_bytes() if len(tokens) else b"x"
        assert entry_parts(cache_entry(text, blob), other) is None  # made from other tokens: not used
    assert entry_parts(None, b"") is None and entry_parts(b"", b"") is None


def test_tokens_cached_without_jsonl_parts_get_them_from_the_next_export(store: Store, docs: list[int]) -> None:
    """Tokens the app cached (no JSONL parts), and parts left from tokens rewritten since:
    the export writes the same lines and (re)fills the parts."""
    here = _export(store)
    rows = store.backend.all("SELECT doc_id, tokenizer, offsets, prodigy FROM doc_tokens ORDER BY doc_id")
    assert all(r[3] for r in rows)
    store.backend.execute("UPDATE doc_tokens SET prodigy = NULL WHERE doc_id = ?", [rows[0][0]])
    store.backend.cache_tokens(rows[1][0], rows[1][1], bytes(rows[1][2]))  # the app's own write: parts left as they were
    store.backend.execute("UPDATE doc_tokens SET prodigy = ? WHERE doc_id = ?", [bytes(rows[2][3]), rows[3][0]])  # stale
    assert _export(store) == here
    again = store.backend.all("SELECT doc_id, tokenizer, offsets, prodigy FROM doc_tokens ORDER BY doc_id")
    assert [tuple(map(lambda v: bytes(v) if isinstance(v, memoryview) else v, r)) for r in again] == [
        tuple(map(lambda v: bytes(v) if isinstance(v, memoryview) else v, r)) for r in rows]


def test_docbin_without_a_doc_per_record_is_the_same_file(store: Store, docs: list[int], tmp_path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """DocBin records built from their arrays (``_add_simple``) give the very file the Doc per
    record gives, in a file and in shards, entities and whitespace tokens included."""
    from annotations.formats import run_export

    taken: list[bool] = []
    fast = spacy_docbin._add_simple

    def counted(*args: object) -> bool:
        taken.append(fast(*args))  # type: ignore[arg-type]
        return taken[-1]

    monkeypatch.setattr(spacy_docbin, "_add_simple", counted)
    run_export(store, "spacy", Selection(status="all"), tmp_path / "fast.spacy")
    run_export(store, "spacy", Selection(status="all"), tmp_path / "fast")
    assert sum(taken) >= len(docs)  # the usual layout took the array path
    monkeypatch.setattr(spacy_docbin, "_add_simple", lambda *args: False)
    run_export(store, "spacy", Selection(status="all"), tmp_path / "docs.spacy")
    run_export(store, "spacy", Selection(status="all"), tmp_path / "docs")
    assert (tmp_path / "fast.spacy").read_bytes() == (tmp_path / "docs.spacy").read_bytes()
    assert [p.read_bytes() for p in sorted((tmp_path / "fast").iterdir())] == [
        p.read_bytes() for p in sorted((tmp_path / "docs").iterdir())]


def test_simple_layout_in_numpy_equals_the_list_version() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice("аб  \n,.😀") for _ in range(rng.randint(0, 12)))
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 8))))
        tokens = Tokens.from_pairs([(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if b > a])
        lists = spacy_docbin._simple_words(text, tokens)
        arrays = spacy_docbin._simple_layout(text, tokens)
        assert (lists is None) == (arrays is None), (text, tokens)
        if lists is not None and arrays is not None:
            assert lists == (arrays[0], arrays[1].tolist())
