"""Issue 10's closing figures: per format, examples in vs out on a corpus with negatives,
and what each format's own consumer read back.

The corpus is generated (deterministic, ``--seed``): ``--examples`` Kyrgyz and Russian news
sentences (default 200), ``--negatives`` of them without any entity (default 35 %), some
with Russian ``и др.`` (which spaCy would keep as one token holding a space). It is written
as a Prodigy file: examples with entities have ``spans`` and ``"answer": "accept"``; half
of the negatives have ``"spans": []``, the other half only ``"answer": "accept"`` (no
``spans`` key, as in explosion/projects' evaluation sets).

That file is imported into a reference database. Then, for each format:

1. **source**: the reference database exported in the format (for ``jsonl``: the Prodigy
   file itself), read by the format's consumer: ``in`` is the examples it holds;
2. **import** into a fresh database: ``done`` is the annotated examples that became done;
3. **export** of that database in the same format: ``out`` is the records written;
4. **consumer**: the export read by the format's own reader, which must give back every
   example, negatives included, in order, with the same tokens/tags/spans (``same``):

* ``jsonl``: JSON lines checked against Prodigy's ``db-out`` layout
  (``tests/prodigy_schema.py``), answers counted;
* ``spacy``: ``DocBin().from_disk()``, ``doc.ents``;
* ``conll``: ``python -m spacy convert -c ner`` (one Doc per ``-DOCSTART-``), and seqeval's
  strict IOB2 entities on the tags;
* ``hf``: ``datasets.load_dataset("json")`` with ``ClassLabel(names=<stem>.labels.json)``;
* ``brat``: a standoff parser written from brat's format description, and ``annotation.conf``.

Usage::

    python -m benchmarks.roundtrip_report              # the table
    python -m benchmarks.roundtrip_report --json       # one JSON object
    python -m benchmarks.roundtrip_report --examples 60 --negatives 0.5
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._util import REPO

__all__ = ["FORMATS", "build_corpus", "main", "run"]

#: The formats, each with the file or folder name its export goes to.
FORMATS = {"jsonl": "data.jsonl", "spacy": "data.spacy", "conll": "data.conll", "hf": "data.jsonl", "brat": "brat"}

#: (text, entities as (start, end, label)) per example; or tokens and (first, last, label).
CharView = list[tuple[str, list[tuple[int, int, str]]]]
TokenView = list[tuple[list[str], list[tuple[int, int, str]]]]

_KY_PER = ["Садыр Жапаров", "Акылбек Жапаров", "Адылбек Касымалиев", "Чолпон Айтматова", "Нурлан Токтогулов"]
_KY_LOC = ["Бишкекте", "Ошто", "Нарында", "Талас шаарында", "Ысык-Көлдө", "Ала-Тоо аянтында"]
_KY_ORG = ["Жогорку Кеңеш", "Улуттук банк", "Кабар агенттиги", "Өкмөт"]
_KY_VERB = ["жолугушту", "сүйлөдү", "билдирди", "катышты", "келди", "кол койду"]
_KY_NEG = ["Бүгүн", "күн", "ачык", "болду", "жаан", "жаап", "турду", "базарда", "баалар", "өстү",
           "мектептерде", "окуу", "башталды", "жолдор", "оңдолду", "эл", "көп", "чогулду", "кечинде", "суук"]
_RU_PER = ["Владимир Путин", "Сергей Лавров", "Михаил Мишустин", "Анна Иванова", "Олег Смирнов"]
_RU_LOC = ["Москве", "Бишкеке", "Казани", "Новосибирске", "Санкт-Петербурге"]
_RU_ORG = ["Газпром", "ООН", "Сбербанк", "Минфин", "ЕАЭС"]
_RU_VERB = ["выступил", "заявил", "встретился с журналистами", "прибыл", "подписал соглашение"]
_RU_NEG = ["Погода", "была", "хорошей", "цены", "выросли", "дороги", "отремонтировали", "вечером",
           "похолодало", "в", "школах", "начались", "занятия", "люди", "собрались", "утром", "шёл", "дождь"]


def _sentence(rng: random.Random, negative: bool) -> tuple[str, list[tuple[int, int, str]]]:
    """One sentence as text and its entities; built piece by piece so offsets are exact."""
    ky = rng.random() < 0.5
    parts: list[tuple[str, str | None]] = []  # (text, label or None); joined with single spaces
    if negative:
        words = rng.sample(_KY_NEG if ky else _RU_NEG, rng.randint(4, 9))
        parts = [(w, None) for w in words]
    elif ky:
        parts = [(rng.choice(_KY_PER), "PER"), (rng.choice(_KY_LOC), "LOC")]
        if rng.random() < 0.5:
            parts.insert(1, (rng.choice(_KY_ORG) + "тин", None))
            parts.insert(2, ("өкүлдөрү", None))
        parts.append((rng.choice(_KY_VERB), None))
        if rng.random() < 0.4:
            parts.insert(0, (rng.choice(_KY_ORG), "ORG"))
            parts.insert(1, ("жана", None))
    else:
        parts = [(rng.choice(_RU_PER), "PER")]
        if rng.random() < 0.4:  # "и др.": one spaCy token holding a space, cut by the store
            parts += [(",", None), (rng.choice([p for p in _RU_PER if p != parts[0][0]]), "PER"), ("и др.", None)]
        parts += [(rng.choice(_RU_VERB), None), ("в", None), (rng.choice(_RU_LOC), "LOC")]
        if rng.random() < 0.4:
            parts += [("на", None), ("форуме", None), (rng.choice(_RU_ORG), "ORG")]
    text = ""
    spans = []
    for piece, label in parts:
        if text and piece != ",":
            text += " "
        start = len(text)
        text += piece
        if label:
            spans.append((start, len(text), label))
    text += " ." if text.endswith("др.") else "."
    return text[0].upper() + text[1:], spans


def build_corpus(n: int = 200, negatives: float = 0.35, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` Prodigy records with distinct texts, ``round(n * negatives)`` of them without entities."""
    rng = random.Random(seed)
    n_neg = round(n * negatives)
    kinds = [True] * n_neg + [False] * (n - n_neg)
    rng.shuffle(kinds)
    seen: set[str] = set()
    records = []
    for i, negative in enumerate(kinds):
        for _ in range(1000):
            text, spans = _sentence(rng, negative)
            if text not in seen:
                break
        else:  # pragma: no cover - the vocabulary allows far more sentences than asked for
            raise RuntimeError("could not make a new sentence")
        seen.add(text)
        rec: dict[str, Any] = {"text": text, "meta": {"n": i}, "answer": "accept"}
        if spans or i % 2:
            rec["spans"] = [{"start": s, "end": e, "label": label} for s, e, label in spans]
        records.append(rec)
    return records


# -- the consumers -----------------------------------------------------------------------------


def _prodigy_problems() -> Callable[[dict[str, Any]], list[str]]:
    spec = importlib.util.spec_from_file_location("prodigy_schema", REPO / "tests" / "prodigy_schema.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.prodigy_problems


def read_prodigy(path: Path, report: dict[str, Any]) -> CharView:
    """Prodigy JSONL: every record checked against the db-out layout (when it has tokens)."""
    problems = _prodigy_problems()
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    report["answers"] = dict(Counter(r.get("answer") for r in recs))
    report["schema_problems"] = sum(len(problems(r)) for r in recs if "tokens" in r)
    return [(r["text"], [(s["start"], s["end"], s["label"]) for s in r.get("spans", [])]) for r in recs]


def read_docbin(path: Path, report: dict[str, Any]) -> CharView:
    import spacy
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    return [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs]


def read_spacy_convert(path: Path, report: dict[str, Any], *, in_process: bool = False) -> TokenView:
    """``python -m spacy convert -c ner`` on the CoNLL file, read back as Docs; plus seqeval."""
    import spacy
    from spacy.tokens import DocBin

    out = path.parent / "converted"
    out.mkdir(exist_ok=True)
    if in_process:  # the very function the command runs, without a second interpreter
        from spacy.cli.convert import convert

        convert(path, out, file_type="spacy", n_sents=1, converter="ner", silent=True)
    else:
        run = subprocess.run(
            [sys.executable, "-m", "spacy", "convert", "-c", "ner", str(path), str(out)],
            capture_output=True, text=True, timeout=600,
        )
        if run.returncode:
            raise RuntimeError(f"spacy convert failed: {run.stdout}{run.stderr}")
    docs = list(DocBin().from_disk(out / f"{path.stem}.spacy").get_docs(spacy.blank("xx").vocab))
    report["seqeval_entities"] = _seqeval_entities(path.read_text(encoding="utf-8"))
    return [([t.text for t in d], [(e.start, e.end - 1, e.label_) for e in d.ents]) for d in docs]


def _seqeval_entities(text: str) -> int:
    """Entities seqeval finds in the file's tags (strict IOB2; a warning is an error)."""
    from seqeval.scheme import IOB2, Entities

    sentences: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.startswith("-DOCSTART-") or not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        current.append(line.split()[-1])
    if current:
        sentences.append(current)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return sum(len(s) for s in Entities(sentences, IOB2).entities)


def read_datasets(path: Path, report: dict[str, Any]) -> TokenView:
    """``datasets.load_dataset("json")`` with the tag names of ``<stem>.labels.json`` as a ClassLabel."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets
    from seqeval.metrics.sequence_labeling import get_entities

    datasets.disable_progress_bars()
    names = json.loads(path.with_name(f"{path.stem}.labels.json").read_text(encoding="utf-8"))
    features = datasets.Features({
        "id": datasets.Value("string"), "doc_id": datasets.Value("int64"),
        "annotator": datasets.Value("string"), "status": datasets.Value("string"),
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
    })
    ds = datasets.load_dataset(
        "json", data_files=str(path), features=features, split="train", cache_dir=str(path.parent / "hf-cache")
    )
    label = ds.features["ner_tags"].feature
    report["class_labels"] = len(label.names)
    view: TokenView = []
    for row in ds:
        tags = [label.int2str(t) for t in row["ner_tags"]]
        view.append((row["tokens"], [(s, e, lab) for lab, s, e in get_entities(tags)]))
    return view


def parse_standoff(ann: str) -> list[tuple[int, int, str, str]]:
    """Text-bound annotations of a brat ``.ann`` (``T<n>\\t<type> <start> <end>\\t<text>``)."""
    out = []
    for line in ann.splitlines():
        if not line.startswith("T"):
            continue
        _ident, middle, surface = line.split("\t")
        kind, start, end = middle.split(" ")
        out.append((int(start), int(end), kind, surface))
    return out


def read_brat(folder: Path, report: dict[str, Any]) -> CharView:
    view: CharView = []
    mismatched = 0
    for txt in sorted(folder.glob("*.txt")):
        text = txt.read_text(encoding="utf-8")
        anns = parse_standoff(txt.with_suffix(".ann").read_text(encoding="utf-8"))
        mismatched += sum(1 for s, e, _, surface in anns if text[s:e] != surface)
        view.append((text, [(s, e, kind) for s, e, kind, _ in anns]))
    conf = (folder / "annotation.conf").read_text(encoding="utf-8").split("[relations]")[0]
    report["conf_entity_types"] = sorted(line.strip() for line in conf.splitlines()[1:] if line.strip())
    report["text_column_mismatches"] = mismatched
    return view


# -- the run -----------------------------------------------------------------------------------


def _views(store: Any) -> tuple[CharView, TokenView]:
    chars: CharView = []
    tokens: TokenView = []
    for d in store.document_ids():
        text = store.text(d)
        spans = [(s.start, s.end, s.label) for s in store.spans(d)]
        chars.append((text, spans))
        toks = store.tokens(d)
        solid = [(s, e) for s, e in zip(toks.starts, toks.ends) if not text[s:e].isspace()]
        first = {s: i for i, (s, _) in enumerate(solid)}
        last = {e: i for i, (_, e) in enumerate(solid)}
        tokens.append(([text[s:e] for s, e in solid], [(first[s], last[e], lab) for s, e, lab in spans]))
    return chars, tokens


def _negatives(view: CharView | TokenView) -> int:
    return sum(1 for _, ents in view if not ents)


def _entities(view: CharView | TokenView) -> int:
    return sum(len(ents) for _, ents in view)


CONSUMERS: dict[str, tuple[str, Callable[..., Any], bool]] = {
    # format: (consumer, reader, reads tokens rather than characters)
    "jsonl": ("Prodigy db-out schema", read_prodigy, False),
    "spacy": ("spaCy DocBin.from_disk", read_docbin, False),
    "conll": ("spacy convert -c ner + seqeval", read_spacy_convert, True),
    "hf": ("datasets + ClassLabel", read_datasets, True),
    "brat": ("brat standoff parser", read_brat, False),
}


def run(n: int = 200, negatives: float = 0.35, seed: int = 0, *, in_process: bool = False) -> dict[str, Any]:
    """Build the corpus, run every format's round trip; one result per format."""
    import annotations.formats  # noqa: F401  (registers the readers)
    from annotations import Store, import_paths
    from annotations.formats import Selection, run_export

    records = build_corpus(n, negatives, seed)
    result: dict[str, Any] = {
        "examples": n, "negatives": sum(1 for r in records if not r.get("spans")),
        "negatives_without_spans_key": sum(1 for r in records if "spans" not in r),
        "entities": sum(len(r.get("spans", [])) for r in records), "formats": {},
    }
    with tempfile.TemporaryDirectory(prefix="roundtrip-") as tmp:
        root = Path(tmp)
        corpus = root / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        with Store(root / "reference.db", "ref") as ref:
            report = import_paths(ref, [corpus])
            if not (report.ok and report.added == n):
                raise RuntimeError(f"the corpus did not import: {report.to_dict()}")
            want_chars, want_tokens = _views(ref)
            for fmt, target in FORMATS.items():
                where = root / fmt
                (where / "src").mkdir(parents=True)
                (where / "out").mkdir()
                consumer, reader, by_tokens = CONSUMERS[fmt]
                want = want_tokens if by_tokens else want_chars
                kwargs = {"in_process": in_process} if fmt == "conll" else {}
                if fmt == "jsonl":
                    source = corpus
                else:
                    source = where / "src" / target
                    run_export(ref, fmt, Selection(), source)
                src_report: dict[str, Any] = {}
                read_in = reader(source, src_report, **kwargs)
                with Store(where / "copy.db", "copy") as copy:
                    imported = import_paths(copy, [source])
                    if not imported.ok:
                        raise RuntimeError(f"{fmt}: the source did not import: {imported.to_dict()}")
                    done = sum(1 for d in copy.document_ids() if copy.status(d, _whose(copy, d)) == "done")
                    out = where / "out" / target
                    stats = run_export(copy, fmt, Selection(), out)
                consumer_report: dict[str, Any] = {}
                read_out = reader(out, consumer_report, **kwargs)
                result["formats"][fmt] = {
                    "consumer": consumer,
                    "in": len(read_in), "in_negatives": _negatives(read_in),
                    "imported": imported.added, "done": done, "imported_negatives": imported.negatives,
                    "out": stats.records, "out_negatives": stats.negatives, "misaligned": stats.misaligned,
                    "read": len(read_out), "read_negatives": _negatives(read_out), "read_entities": _entities(read_out),
                    "same_as_source": read_out == read_in == want,
                    **{f"consumer_{k}": v for k, v in consumer_report.items()},
                }
    return result


def _whose(store: Any, doc_id: int) -> str:
    """The annotator whose decision a document has (formats that carry one keep the reference's)."""
    row = store.db.conn.execute("SELECT annotator FROM doc_status WHERE doc_id = ? LIMIT 1", [doc_id]).fetchone()
    return row[0] if row else store.annotator


def table(result: dict[str, Any]) -> str:
    head = ("format", "in (neg.)", "imported done", "out (neg.)", "consumer", "consumer read (neg.) / entities", "same")
    rows = [head]
    for fmt, r in result["formats"].items():
        extra = ""
        if "consumer_seqeval_entities" in r:
            extra = f"; seqeval {r['consumer_seqeval_entities']} entities"
        if "consumer_schema_problems" in r:
            extra = f"; schema problems {r['consumer_schema_problems']}, answers {r['consumer_answers']}"
        if "consumer_class_labels" in r:
            extra = f"; {r['consumer_class_labels']} ClassLabel names"
        if "consumer_conf_entity_types" in r:
            extra = f"; annotation.conf {','.join(r['consumer_conf_entity_types'])}"
        rows.append((
            fmt, f"{r['in']} ({r['in_negatives']})", f"{r['done']}", f"{r['out']} ({r['out_negatives']})",
            r["consumer"], f"{r['read']} ({r['read_negatives']}) / {r['read_entities']}{extra}",
            "yes" if r["same_as_source"] else "NO",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    intro = (
        f"Corpus: {result['examples']} examples, {result['negatives']} without entities"
        f" ({result['negatives_without_spans_key']} of them Prodigy records with no \"spans\" key),"
        f" {result['entities']} entities."
    )
    return intro + "\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--negatives", type=float, default=0.35, help="share of examples without entities")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.examples, args.negatives, args.seed)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    else:
        print(table(result))
    return 0 if all(r["same_as_source"] for r in result["formats"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
