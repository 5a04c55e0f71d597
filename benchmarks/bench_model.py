"""Benchmark of the in-loop CRF: retrain time, key-press latency while it runs, prediction time,
and F1 — on synthetic labelled news and, if present, on gold data.

Usage::

    python -m benchmarks.bench_model            # 100 and 1,000 labelled documents
    python -m benchmarks.bench_model --quick    # 20 documents, smoke run
    python -m benchmarks.bench_model --json     # one JSON object

Labelled documents are synthetic Kyrgyz and Russian news: template sentences naming
people, places and organisations in their case forms, between filler sentences from a
Zipf-distributed vocabulary — about 500 tokens a document, like the seed articles — and
are imported with their spans through ``annotations.import_paths``, as a user would.

Measured for each size:

* the loop's retrain (:class:`annotations.model.loop.ModelLoop`, in this process): the
  first one (cold: sentences and features computed) and warm ones (median), wall and CPU
  seconds, with the tokens and L-BFGS iterations its time budget allowed;
* the same retrain in :class:`annotations.model.process.TrainingProcess` (what the app
  runs), warm, and the longest pause a thread of this process sees while it runs —
  compared with a retrain in a thread of this process (python-crfsuite holds the GIL);
* one full fit on every document with 50 iterations (what ``annotate train -o`` adds);
* prediction (spans, scores and uncertainty) per document;
* F1 on 40 held-out documents naming people and places the training never saw, for the
  budgeted loop model and the full fit.

If ``benchmarks/gold/`` holds gold JSONL files (text + spans), the CRF alone is scored on
them: trained on the first k documents (k = 1, 2, 3, 5, 10), scored on the rest.
Targets (issue 7): retrain <= 1 s for 100 labelled documents, <= 10 s for 1,000.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from bisect import bisect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annotations import Store, detect_language, import_paths
from annotations.evaluate import read_gold
from annotations.importer import ImportFailure
from annotations.model import CRFModel, LabelledDocument, labelled_documents
from annotations.model.curve import learning_curve
from annotations.model.features import lexicon_keys
from annotations.model.loop import ModelLoop
from annotations.model.process import TrainingProcess
from annotations.tokenize import tokenize

from ._util import format_table

HERE = Path(__file__).resolve().parent
TARGETS = {"retrain_100_s": 1.0, "retrain_1000_s": 10.0}

# -- synthetic Kyrgyz and Russian news -------------------------------------------------------

KY_FIRST = ["Садыр", "Алмазбек", "Акылбек", "Кубанычбек", "Улукбек", "Нурлан", "Айбек", "Таалайбек",
            "Жээнбек", "Эдил", "Азамат", "Марат", "Бакыт", "Темир", "Камчыбек", "Адылбек", "Жылдыз",
            "Айгүл", "Гүлнара", "Чолпон", "Нуржан", "Бектур", "Данияр", "Эрлан", "Мирлан", "Женишбек"]
KY_LAST = ["Жапаров", "Атамбаев", "Ташиев", "Касымалиев", "Байсалов", "Жээнбеков", "Бакиев", "Акаев",
           "Исаков", "Мамытов", "Сариев", "Абдылдаев", "Кулов", "Текебаев", "Бабанов", "Мадумаров",
           "Жумабеков", "Кожошев", "Турдуматов", "Осмоналиев", "Токтогулов", "Асанов", "Мусаев", "Орозбеков"]
RU_FIRST = ["Владимир", "Михаил", "Сергей", "Алексей", "Дмитрий", "Антон", "Александр", "Виктор",
            "Николай", "Денис", "Андрей", "Игорь", "Павел", "Евгений"]
RU_LAST = ["Путин", "Мишустин", "Лавров", "Оверчук", "Медведев", "Силуанов", "Новак", "Ткаченко",
           "Мантуров", "Белоусов", "Решетников", "Козак", "Соболев", "Макаров"]
PLACES = ["Бишкек", "Ош", "Москва", "Россия", "Кыргызстан", "Казакстан", "Өзбекстан", "Тажикстан",
          "Баткен", "Нарын", "Талас", "Кытай", "Түркия", "Минск", "Астана", "Ташкент", "Душанбе",
          "Сочи", "Алматы", "Каракол", "Токмок", "Жалал-Абад"]
RU_PLACES = ["Бишкек", "Ош", "Москва", "Россия", "Киргизия", "Казахстан", "Узбекистан", "Таджикистан",
             "Баткен", "Нарын", "Талас", "Китай", "Турция", "Минск", "Астана", "Ташкент", "Душанбе",
             "Сочи", "Алматы", "Каракол", "Токмок", "Екатеринбург"]
ORGS = ["ЕАЭБ", "КМШ", "ЖККУ", "ШКУ", "БУУ", "Жогорку Кеңеш", "Улуттук банк", "Кыргызпатент",
        "Газпром", "Росатом", "Кыргызтелеком", "Евразия өнүктүрүү банкы"]
RU_ORGS = ["ЕАЭС", "СНГ", "ОДКБ", "ШОС", "ООН", "Газпром", "Росатом", "Сбербанк", "Роснефть",
           "Нацбанк", "Кыргызтелеком", "Аэрофлот"]
KY_TITLES = ["Президент", "Министр", "Төрага", "Депутат", "Элчи", "Мамлекет башчысы", "Губернатор"]
RU_TITLES = ["Президент", "Министр", "Председатель", "Депутат", "Посол", "Глава государства", "Губернатор"]

_BACK = set("аыоуяё")
_ROUND_BACK = set("оу")
_FRONT_ROUND = set("өү")


def _harmony(word: str) -> tuple[str, str]:
    """The (a-type, y-type) vowels a Kyrgyz ending takes after ``word``."""
    for ch in reversed(word.lower()):
        if ch in _ROUND_BACK:
            return "о", "у"
        if ch in _FRONT_ROUND:
            return "ө", "ү"
        if ch in _BACK:
            return "а", "ы"
        if ch in "еиэю":
            return "е", "и"
    return "а", "ы"


def ky_form(word: str, case: str) -> str:
    """A Kyrgyz case form of the last word of ``word`` (good enough for synthetic text)."""
    if case == "nom":
        return word
    head, _, last = word.rpartition(" ")
    a, y = _harmony(last)
    end = last[-1].lower()
    vowel = end in "аеиоуыэюяөү"
    voiceless = end in "пткфсшчхцщ"
    first = {"gen": "н" if vowel else "т" if voiceless else "д",
             "acc": "н" if vowel else "т" if voiceless else "д",
             "dat": "к" if voiceless else "г",
             "loc": "т" if voiceless else "д",
             "abl": "н" if end in "нмң" else "т" if voiceless else "д"}[case]
    tail = {"gen": y + "н", "acc": y, "dat": a, "loc": a, "abl": a + "н"}[case]
    if last.isupper():
        first = {"gen": "д", "acc": "д", "dat": "г", "loc": "д", "abl": "д"}[case]
        a, y = "е", "и"
        tail = {"gen": y + "н", "acc": y, "dat": a, "loc": a, "abl": a + "н"}[case]
    return (head + " " if head else "") + last + first + tail


def ru_form(word: str, case: str, female: bool = False) -> str:
    """A Russian case form of each word of a name or place (regular patterns only)."""
    if case == "nom" or word.isupper() or word in ("Сочи", "Душанбе", "Алматы", "Кыргызтелеком"):
        return word
    out = []
    for w in word.split(" "):
        if w.endswith("ия"):
            w = w[:-1] + {"gen": "и", "dat": "и", "pre": "и", "acc": "ю", "ins": "ей"}[case]
        elif w.endswith("ва") and female:
            w = w[:-1] + {"gen": "ой", "dat": "ой", "pre": "ой", "acc": "у", "ins": "ой"}[case]
        elif w.endswith(("а", "я")):
            soft = w.endswith("я") or w[-2] in "гкхжшчщ"
            w = w[:-1] + {"gen": "и" if soft else "ы", "dat": "е", "pre": "е", "acc": "у",
                          "ins": "ой"}[case]
        elif w.endswith("ь"):
            w = w[:-1] + {"gen": "и", "dat": "и", "pre": "и", "acc": "ь", "ins": "ью"}[case]
        elif w.endswith("й"):
            w = w[:-1] + {"gen": "я", "dat": "ю", "pre": "е", "acc": "я", "ins": "ем"}[case]
        elif w.endswith(("ов", "ев", "ин")):
            w = w + {"gen": "а", "dat": "у", "pre": "е", "acc": "а", "ins": "ым"}[case]
        else:
            w = w + {"gen": "а", "dat": "у", "pre": "е", "acc": "", "ins": "ом"}[case]
        out.append(w)
    return " ".join(out)


KY_TEMPLATES = [
    "{TITLE} {PER} {LOC:dat} иш сапары менен барды.",
    "{PER} {LOC:loc} {ORG:gen} жыйынына катышты.",
    "Бул тууралуу {ORG:gen} маалымат кызматы билдирди.",
    "{LOC} менен {LOC:gen} ортосундагы товар жүгүртүү {NUM} пайызга өстү.",
    "{PER:gen} айтымында, {LOC:gen} экономикасы туруктуу өнүгүүдө.",
    "Жолугушууда {PER} жана {PER} эки тараптуу кызматташтыкты талкуулашты.",
    "{ORG} {LOC:loc} жаңы долбоорду ишке киргизди.",
    "{TITLE} {PER} {PER:acc} кабыл алды.",
    "{PER} {ORG:abl} келген делегацияны тосуп алды.",
    "{LOC:loc} {NUM} жаңы мектеп курулат, деп билдирди {PER}.",
]
KY_FILLERS = [
    "Тараптар соода-экономикалык байланыштарды чыңдоо маселелерин карашты.",
    "Ошондой эле билим берүү жана маданият тармагындагы кызматташтык талкууланды.",
    "Жыйынтыгында бир катар документтерге кол коюлду.",
    "{NUM}-жылы долбоордун биринчи этабы аяктайт.",
    "Мамлекет башчылары аймактык коопсуздук маселелерин да карашты.",
    "Жолугушуу жылуу жана ачык маанайда өттү.",
]
RU_TEMPLATES = [
    "{TITLE} {PER} прибыл в {LOC:acc} с официальным визитом.",
    "Об этом сообщила пресс-служба {ORG:gen}.",
    "{PER} провел переговоры с {PER:ins} в {LOC:pre}.",
    "Товарооборот между {LOC:ins} и {LOC:ins} вырос на {NUM} процентов.",
    "По словам {PER:gen}, экономика {LOC:gen} продолжает расти.",
    "Стороны обсудили сотрудничество в рамках {ORG:gen}.",
    "Делегация {LOC:gen} во главе с {PER:ins} посетила {LOC:acc}.",
    "{TITLE} {PER} встретился с представителями {ORG:gen}.",
    "В {LOC:pre} откроют {NUM} новых школ, заявил {PER}.",
]
RU_FILLERS = [
    "Стороны обсудили вопросы торгово-экономического сотрудничества.",
    "Также были рассмотрены вопросы образования и культуры.",
    "По итогам встречи подписан ряд документов.",
    "Первый этап проекта завершится в {NUM} году.",
    "Встреча прошла в теплой и открытой атмосфере.",
    "Особое внимание было уделено региональной безопасности.",
]


_SYLLABLES = {
    "ky": ["ка", "кы", "көр", "бер", "ал", "жа", "ма", "на", "та", "са", "ба", "ты", "кү", "тү", "бү", "сү", "ор", "өз", "үй", "ке", "ше", "ле", "ре", "жол", "бол", "кол", "тоо", "суу", "жер", "эл", "баш", "иш"],
    "ru": ["ра", "про", "го", "ве", "ст", "но", "ли", "ко", "мо", "за", "пре", "де", "ти", "ни", "ва", "ло", "ре", "ми", "ту", "ба", "ны", "по", "ста", "ви", "жи", "ку"],
}
_SUFFIXES = {
    "ky": ("", "", "", "дун", "дүн", "нын", "га", "ге", "да", "де", "дан", "лар", "лер", "ды", "ган", "уу"),
    "ru": ("", "", "", "ов", "ая", "ого", "ами", "ения", "ский", "ных", "ет", "ают", "ость", "ому", "ие"),
}


class NewsGenerator:
    """Deterministic labelled news-like documents.

    ``half`` (0 or 1) keeps every other name, place and organisation, so a held-out set
    built with the other half names only entities the training never saw.
    """

    def __init__(self, seed: int = 0, half: int | None = None, vocabulary: int = 20_000) -> None:
        self.rng = random.Random(seed)
        self.half = half
        vocab_rng = random.Random(1234)  # the same common words in every set
        self.vocab: dict[str, list[str]] = {}
        for lang in ("ky", "ru"):
            seen: dict[str, None] = {}
            while len(seen) < vocabulary:
                stem = "".join(vocab_rng.choice(_SYLLABLES[lang]) for _ in range(vocab_rng.randint(1, 3)))
                seen[stem + vocab_rng.choice(_SUFFIXES[lang])] = None
            self.vocab[lang] = list(seen)
        self.cum = list(itertools.accumulate(1 / (i + 1) for i in range(vocabulary)))

    def _pick(self, items: list[str]) -> str:
        pool = items if self.half is None else items[self.half::2]
        return self.rng.choice(pool)

    def filler(self, lang: str) -> str:
        """A sentence of common words (Zipf-distributed), no entities."""
        words = [self.vocab[lang][bisect(self.cum, self.rng.random() * self.cum[-1])]
                 for _ in range(self.rng.randint(6, 16))]
        sentence = " ".join(words)
        return sentence[0].upper() + sentence[1:] + "."

    def fill(self, template: str, lang: str) -> tuple[str, list[tuple[int, int, str]]]:
        """A sentence from ``template`` and its entity spans (offsets within the sentence)."""
        rng = self.rng
        out, spans = "", []
        i = 0
        while i < len(template):
            if template[i] != "{":
                out += template[i]
                i += 1
                continue
            j = template.index("}", i)
            slot, _, case = template[i + 1:j].partition(":")
            case = case or "nom"
            label, text = None, ""
            if slot == "NUM":
                text = str(rng.randint(2, 2030))
            elif slot == "TITLE":
                text = rng.choice(KY_TITLES if lang == "ky" else RU_TITLES)
            elif slot == "PER":
                label = "PER"
                first = self._pick(KY_FIRST + RU_FIRST if lang == "ky" else RU_FIRST + KY_FIRST)
                last = self._pick(KY_LAST + RU_LAST if lang == "ky" else RU_LAST + KY_LAST)
                name = f"{first} {last}" if rng.random() < 0.8 else last
                text = ky_form(name, case) if lang == "ky" else ru_form(name, case)
            elif slot == "LOC":
                label = "LOC"
                text = ky_form(self._pick(PLACES), case) if lang == "ky" else ru_form(self._pick(RU_PLACES), case)
            elif slot == "ORG":
                label = "ORG"
                text = ky_form(self._pick(ORGS), case) if lang == "ky" else ru_form(self._pick(RU_ORGS), case)
            if not out:
                text = text[:1].upper() + text[1:]
            if label:
                spans.append((len(out), len(out) + len(text), label))
            out += text
            i = j + 1
        return out, spans

    def record(self, lang: str, n_sentences: int = 50) -> dict[str, Any]:
        """One labelled document as a JSONL record: ~40 % entity sentences, the rest filler."""
        templates, fillers = (KY_TEMPLATES, KY_FILLERS) if lang == "ky" else (RU_TEMPLATES, RU_FILLERS)
        text, spans = "", []
        for k in range(n_sentences):
            roll = self.rng.random()
            if roll < 0.4:
                sentence, local = self.fill(self.rng.choice(templates), lang)
            elif roll < 0.5:
                sentence, local = self.fill(self.rng.choice(fillers), lang)
            else:
                sentence, local = self.filler(lang), []
            if text:
                text += "\n" if k % 5 == 0 else " "
            spans += [(len(text) + s, len(text) + e, lab) for s, e, lab in local]
            text += sentence
        text += f" ({self.rng.randrange(10**9)})"  # every document distinct
        return {"text": text, "meta": {"lang": lang}, "answer": "accept",
                "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]}


def synthetic_record(rng: random.Random, lang: str, n_sentences: int = 50) -> dict[str, Any]:
    """One labelled document (a fresh generator seeded from ``rng``)."""
    return NewsGenerator(rng.randrange(2**31), vocabulary=2_000).record(lang, n_sentences)


def build_store(
    path: Path, n_docs: int, seed: int = 0, n_sentences: int = 50, half: int | None = 0
) -> Store:
    """A database with ``n_docs`` labelled synthetic documents (Kyrgyz and Russian in turn)."""
    gen = NewsGenerator(seed, half)
    src = path.with_suffix(".jsonl")
    with src.open("w", encoding="utf-8") as fh:
        for k in range(n_docs):
            fh.write(json.dumps(gen.record("ky" if k % 2 == 0 else "ru", n_sentences), ensure_ascii=False) + "\n")
    store = Store(path, "bench")
    report = import_paths(store, [src])
    if report.errors:
        raise SystemExit(f"synthetic import failed: {report.errors[0]}")
    for doc_id in store.document_ids():
        store.tokens(doc_id)  # cached, as after a person opened the documents in the app
    return store


# -- measurements ----------------------------------------------------------------------------


def pauses_while(work: Callable[[], Any]) -> dict[str, float]:
    """Run ``work`` in a thread; from this thread, how long do 1 ms sleeps really take?

    The longest gap is how long a key press would wait if this thread were the app's
    event loop.
    """
    done = threading.Event()
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        finally:
            done.set()

    thread = threading.Thread(target=run)
    gaps: list[float] = []
    thread.start()
    last = time.perf_counter()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    thread.join()
    gaps.sort()
    return {
        "max_ms": round(gaps[-1] * 1000, 1) if gaps else 0.0,
        "p99_ms": round(gaps[int(len(gaps) * 0.99)] * 1000, 1) if gaps else 0.0,
        "seconds": round(sum(gaps), 3),
    }


def measure_size(n_docs: int, tmp: Path, repeats: int, n_sentences: int, held: list[Any], full: bool) -> dict[str, Any]:
    db = tmp / f"bench-{n_docs}.db"
    store = build_store(db, n_docs, seed=n_docs, n_sentences=n_sentences)
    docs = labelled_documents(store)
    tokens = sum(len(s) for d in docs for s in d.sentences())
    result: dict[str, Any] = {"documents": n_docs, "tokens": tokens, "tokens_per_document": round(tokens / n_docs)}

    loop = ModelLoop("bench")
    t0, c0 = time.perf_counter(), time.process_time()
    model, _ = loop.retrain(store)
    result["loop_cold_s"] = round(time.perf_counter() - t0, 3)
    result["loop_cold_cpu_s"] = round(time.process_time() - c0, 3)
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model, _ = loop.retrain(store)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    result["loop_warm_s"] = round(statistics.median(walls), 3)
    result["loop_warm_cpu_s"] = round(statistics.median(cpus), 3)
    result["loop_tokens_trained"] = model.state.tokens
    result["loop_iterations"] = model.state.iterations
    result["loop_phases_s"] = model.state.timings
    result["loop_held_out_f1"] = round(model.evaluate(held).f1, 4)

    t0 = time.perf_counter()
    for d in docs[:50]:
        model.analyse(d.text, d.tokens, d.lang)
    result["predict_ms_per_document"] = round((time.perf_counter() - t0) / min(50, len(docs)) * 1000, 2)

    def retrain_in_thread() -> None:
        own = store.reopen()  # a worker thread opens its own connection
        try:
            loop.retrain(own)
        finally:
            own.close()

    result["thread_retrain_pauses"] = pauses_while(retrain_in_thread)
    with TrainingProcess(db, "bench") as trainer:
        t0 = time.perf_counter()
        trainer.retrain()
        result["process_cold_s"] = round(time.perf_counter() - t0, 3)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            trainer.retrain()
            times.append(time.perf_counter() - t0)
        result["process_warm_s"] = round(statistics.median(times), 3)
        result["process_retrain_pauses"] = pauses_while(trainer.retrain)

    if full:
        t0, c0 = time.perf_counter(), time.process_time()
        full_model = CRFModel.fit(docs)
        result["full_fit_s"] = round(time.perf_counter() - t0, 3)
        result["full_fit_cpu_s"] = round(time.process_time() - c0, 3)
        result["full_fit_iterations"] = full_model.state.iterations
        result["full_fit_held_out_f1"] = round(full_model.evaluate(held).f1, 4)
    store.close()
    return result


def held_out_set(tmp: Path, n_sentences: int, n: int = 40) -> list[Any]:
    """Documents naming only people, places and organisations the training sets never use."""
    store = build_store(tmp / "held.db", n, seed=99, n_sentences=n_sentences, half=1)
    docs = labelled_documents(store)
    store.close()
    return docs


def gold_documents() -> tuple[list[str], list[LabelledDocument]]:
    """The gold files of ``benchmarks/gold/`` (files that are not gold, e.g. patterns, are skipped)."""
    gold_dir = HERE / "gold"
    names, docs = [], []
    for path in sorted(gold_dir.glob("*.jsonl")) if gold_dir.is_dir() else []:
        try:
            records = read_gold(path)
        except ImportFailure:
            continue
        names.append(path.name)
        for rec in records:
            lang = detect_language(rec.text)
            docs.append(LabelledDocument(len(docs) + 1, "gold", rec.text, lang, tokenize(rec.text, lang), rec.spans))
    return names, docs


def _span_lexicon(docs: list[LabelledDocument]) -> set[str]:
    """What a propagation lexicon would hold after these documents: their entities' word stems."""
    out: set[str] = set()
    for d in docs:
        for s in d.sentences():
            assert s.tags is not None
            out.update(lexicon_keys(w, d.lang)[2] for w, t in zip(s.words, s.tags) if t != "O")
    return out


def measure_gold(names: list[str], docs: list[LabelledDocument], sizes: list[int]) -> dict[str, Any]:
    """The CRF alone on gold documents: trained on the first k, scored on the rest;
    without and with a lexicon of the first k documents' entities."""
    out: dict[str, Any] = {"files": names, "documents": len(docs), "points": []}
    for k in sizes:
        if k >= len(docs):
            break
        row: dict[str, Any] = {"documents": k}
        for key, lexicon in (("crf", None), ("crf_lexicon", _span_lexicon(docs[:k]))):
            point = learning_curve(docs[:k], docs[k:], sizes=[k], lexicon=lexicon)[0]
            o = point.scores.overall
            row[key] = {"precision": round(o.precision, 4), "recall": round(o.recall, 4), "f1": round(o.f1, 4),
                        "labels": {n: round(s.f1, 4) for n, s in point.scores.labels.items()}}
        out["points"].append(row)
    return out


def _rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = [("load average at start", f"{results['load_average']:.2f}", "(2 cores)")]
    for r in results["sizes"]:
        n = r["documents"]
        target = f"<= {TARGETS['retrain_100_s'] if n <= 100 else TARGETS['retrain_1000_s']:g} s" if n in (100, 1000) else ""
        rows += [
            (f"[{n} docs] tokens (per document)", f"{r['tokens']} ({r['tokens_per_document']})", ""),
            (f"[{n} docs] loop retrain, warm (cpu)", f"{r['loop_warm_s']:.3f} s ({r['loop_warm_cpu_s']:.3f} s)", target),
            (f"[{n} docs] loop retrain, cold (cpu)", f"{r['loop_cold_s']:.3f} s ({r['loop_cold_cpu_s']:.3f} s)", ""),
            (f"[{n} docs] tokens trained / iterations", f"{r['loop_tokens_trained']} / {r['loop_iterations']}", "budget"),
            (f"[{n} docs] retrain in child process, warm", f"{r['process_warm_s']:.3f} s", target),
            (f"[{n} docs] longest pause: thread / child",
             f"{r['thread_retrain_pauses']['max_ms']} / {r['process_retrain_pauses']['max_ms']} ms",
             "key-press latency"),
            (f"[{n} docs] predict per document", f"{r['predict_ms_per_document']:.2f} ms", ""),
            (f"[{n} docs] unseen-entity F1: loop model", f"{r['loop_held_out_f1']:.3f}", ""),
        ]
        if "full_fit_s" in r:
            rows += [
                (f"[{n} docs] full fit, 50 it (cpu)", f"{r['full_fit_s']:.3f} s ({r['full_fit_cpu_s']:.3f} s)", "annotate train"),
                (f"[{n} docs] unseen-entity F1: full fit", f"{r['full_fit_held_out_f1']:.3f}", ""),
            ]
    gold = results["gold"]
    if gold is None:
        rows.append(("gold data", "benchmarks/gold/ not found", "not measured"))
    else:
        for p in gold["points"]:
            for key, what in (("crf", "CRF"), ("crf_lexicon", "CRF + lexicon")):
                q = p[key]
                rows.append((f"gold: {what}, trained on {p['documents']} doc(s)",
                             f"P {q['precision']:.3f} R {q['recall']:.3f} F1 {q['f1']:.3f}",
                             json.dumps(q["labels"])))
    rows.append(("meets targets", str(results["meets_targets"]), ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 documents, one repeat (smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sizes", default=None, help="comma-separated document counts (default 100,1000)")
    parser.add_argument("--repeats", type=int, default=3, help="warm retrains per size (median reported)")
    parser.add_argument("--sentences", type=int, default=50, help="sentences per synthetic document")
    parser.add_argument("--no-full", action="store_true", help="skip the full 50-iteration fit")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([20] if args.quick else [100, 1000])
    repeats = 1 if args.quick else args.repeats
    results: dict[str, Any] = {"load_average": os.getloadavg()[0], "targets": TARGETS, "sizes": [], "gold": None}
    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp_name:
        tmp = Path(tmp_name)
        held = held_out_set(tmp, args.sentences, 10 if args.quick else 40)
        for n in sizes:
            results["sizes"].append(measure_size(n, tmp, repeats, args.sentences, held, not args.no_full))
        names, gold = gold_documents()
        if gold:
            results["gold"] = measure_gold(names, gold, [1, 2, 3] if args.quick else [1, 2, 3, 5, 10])
    by_n = {r["documents"]: r for r in results["sizes"]}
    checks = [by_n[n]["loop_warm_s"] <= TARGETS[f"retrain_{n}_s"] for n in (100, 1000) if n in by_n]
    results["meets_targets"] = all(checks) if checks else None
    if args.json:
        print(json.dumps(results, ensure_ascii=False, sort_keys=True))
    else:
        print(format_table(_rows(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
