"""Benchmark of the in-loop CRF: retrain time, prediction time, and F1 on gold data.

    python benchmarks/bench_model.py            # 100 and 1,000 labelled documents
    python benchmarks/bench_model.py --quick    # a tiny smoke run
    python benchmarks/bench_model.py --json     # figures as JSON

Labelled documents are synthetic Kyrgyz and Russian news (templates filled with names,
places and organisations in their case forms, ~450 tokens a document like the seed
articles), imported with spans through ``annotations.import_paths`` as a user would.
Retrain time is :meth:`CRFModel.train` as the loop calls it: read the labelled documents,
train on 80 %, score the held-out 20 %, refit on everything. Prediction time is
:meth:`CRFModel.analyse` (spans, scores and uncertainty) per document.

If ``benchmarks/gold/`` holds gold JSONL files (text + spans), the CRF alone is also scored
on them: trained on the first k documents (k = 1, 2, 3, 5, 10), scored on the rest.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from annotations import Store, import_paths
from annotations.model import CRFModel, labelled_documents
from annotations.model.curve import learning_curve

HERE = Path(__file__).resolve().parent

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


def _fill(template: str, lang: str, rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    """A sentence from ``template`` and its entity spans (offsets within the sentence)."""
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
            if lang == "ky":
                first, last = rng.choice(KY_FIRST + RU_FIRST), rng.choice(KY_LAST + RU_LAST)
                text = ky_form(f"{first} {last}", case) if rng.random() < 0.8 else ky_form(last, case)
            else:
                first, last = rng.choice(RU_FIRST + KY_FIRST), rng.choice(RU_LAST + KY_LAST)
                text = ru_form(f"{first} {last}", case) if rng.random() < 0.8 else ru_form(last, case)
        elif slot == "LOC":
            label = "LOC"
            text = ky_form(rng.choice(PLACES), case) if lang == "ky" else ru_form(rng.choice(RU_PLACES), case)
        elif slot == "ORG":
            label = "ORG"
            text = ky_form(rng.choice(ORGS), case) if lang == "ky" else ru_form(rng.choice(RU_ORGS), case)
        if not out or out.endswith(("\n", ". ")):
            text = text[:1].upper() + text[1:]
        if label:
            spans.append((len(out), len(out) + len(text), label))
        out += text
        i = j + 1
    return out, spans


def synthetic_record(rng: random.Random, lang: str, n_sentences: int = 36) -> dict[str, Any]:
    """One labelled news-like document as a JSONL record (text + spans)."""
    templates, fillers = (KY_TEMPLATES, KY_FILLERS) if lang == "ky" else (RU_TEMPLATES, RU_FILLERS)
    text, spans = "", []
    for k in range(n_sentences):
        sentence, local = _fill(rng.choice(templates if rng.random() < 0.6 else fillers), lang, rng)
        if text:
            text += "\n" if k % 4 == 0 else " "
        spans += [(len(text) + s, len(text) + e, lab) for s, e, lab in local]
        text += sentence
    text += f" ({rng.randrange(10**9)})"  # every document distinct
    return {"text": text, "meta": {"lang": lang}, "answer": "accept",
            "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]}


def build_store(path: Path, n_docs: int, seed: int = 0, n_sentences: int = 36) -> Store:
    """A database with ``n_docs`` labelled synthetic documents (half Kyrgyz, half Russian)."""
    rng = random.Random(seed)
    src = path.with_suffix(".jsonl")
    with src.open("w", encoding="utf-8") as fh:
        for k in range(n_docs):
            fh.write(json.dumps(synthetic_record(rng, "ky" if k % 2 == 0 else "ru", n_sentences),
                                ensure_ascii=False) + "\n")
    store = Store(path, "bench")
    report = import_paths(store, [src])
    if report.errors:
        raise SystemExit(f"synthetic import failed: {report.errors[0]}")
    return store


# -- measurements ----------------------------------------------------------------------------


def measure_retrain(n_docs: int, tmp: Path, repeats: int, n_sentences: int) -> dict[str, Any]:
    """Retrain time (as the loop runs it) and prediction time per document."""
    store = build_store(tmp / f"bench-{n_docs}.db", n_docs, n_sentences=n_sentences)
    docs = labelled_documents(store)
    tokens = sum(len(s) for d in docs for s in d.sentences())
    times, fit_times, reports = [], [], []
    model = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        model, report = CRFModel.train(store, "bench")
        times.append(time.perf_counter() - t0)
        reports.append(report)
        t0 = time.perf_counter()
        CRFModel.fit(docs, params=model.state.params)
        fit_times.append(time.perf_counter() - t0)
    assert model is not None
    sample = docs[: min(50, len(docs))]
    t0 = time.perf_counter()
    for d in sample:
        model.analyse(d.text, d.tokens, d.lang)
    per_doc = (time.perf_counter() - t0) / len(sample)
    store.close()
    last = reports[-1]
    return {
        "documents": n_docs,
        "tokens": tokens,
        "tokens_per_document": round(tokens / n_docs),
        "iterations": model.state.params["max_iterations"],
        "retrain_seconds": round(statistics.median(times), 3),
        "retrain_seconds_all": [round(t, 3) for t in times],
        "fit_all_seconds": round(statistics.median(fit_times), 3),
        "phases_seconds": {k: round(v, 3) for k, v in last.timings.items()},
        "held_out_f1": round(last.held_out.f1, 4) if last.held_out else None,
        "predict_ms_per_document": round(per_doc * 1000, 2),
    }


def gold_files() -> list[Path]:
    gold = HERE / "gold"
    return sorted(gold.glob("*.jsonl")) if gold.is_dir() else []


def measure_gold(files: list[Path], tmp: Path, sizes: list[int]) -> dict[str, Any]:
    """CRF alone on gold documents: trained on the first k, scored on the rest."""
    store = Store(tmp / "gold.db", "gold")
    report = import_paths(store, files)
    if report.errors:
        raise SystemExit(f"gold import failed: {report.errors[0]}")
    for doc_id in report.doc_ids:
        store.set_status(doc_id, "done")
    docs = labelled_documents(store, "gold")
    out: dict[str, Any] = {"files": [f.name for f in files], "documents": len(docs), "points": []}
    for k in sizes:
        if k >= len(docs):
            break
        point = learning_curve(docs[:k], docs[k:], sizes=[k])[0]
        row = point.to_dict()
        row["labels"] = {n: round(s.f1, 4) for n, s in point.scores.labels.items()}
        out["points"].append(row)
    store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (20 documents)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--sizes", default=None, help="comma-separated document counts (default 100,1000)")
    parser.add_argument("--repeats", type=int, default=3, help="retrains per size (median reported)")
    parser.add_argument("--sentences", type=int, default=36, help="sentences per synthetic document")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([20] if args.quick else [100, 1000])
    repeats = 1 if args.quick else args.repeats
    results: dict[str, Any] = {"retrain": [], "gold": None}
    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp_name:
        tmp = Path(tmp_name)
        for n in sizes:
            results["retrain"].append(measure_retrain(n, tmp, repeats, args.sentences))
        files = gold_files()
        if files:
            results["gold"] = measure_gold(files, tmp, [1, 2, 3] if args.quick else [1, 2, 3, 5, 10])
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    for r in results["retrain"]:
        print(f"{r['documents']:>5} labelled docs ({r['tokens']} tokens, {r['iterations']} L-BFGS iterations):"
              f" retrain {r['retrain_seconds']:.3f} s (median of {len(r['retrain_seconds_all'])};"
              f" phases {r['phases_seconds']}), one fit on all {r['fit_all_seconds']:.3f} s,"
              f" held-out F1 {r['held_out_f1']}, predict {r['predict_ms_per_document']:.1f} ms/doc")
    if results["gold"] is None:
        print("benchmarks/gold/ not found (or holds no .jsonl): gold-data F1 not measured.")
    else:
        g = results["gold"]
        print(f"Gold: {g['documents']} documents from {', '.join(g['files'])}")
        for p in g["points"]:
            print(f"  trained on {p['documents']:>2}: P {p['precision']:.3f}  R {p['recall']:.3f}"
                  f"  F1 {p['f1']:.3f}  per label {p['labels']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
