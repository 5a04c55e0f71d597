"""A scripted team of three on the seed articles, with known agreements and disagreements.

``aida``, ``bek`` and ``chyngyz`` each mark seeds 1-3 done; ``aida`` alone also does seed 4.
The spans (needle, label) per document and annotator are in :data:`TEAM`: some agreed by
all, some missing on one side, some with other boundaries, some with another label.
"""

from __future__ import annotations

from pathlib import Path

from annotations import Store, import_seeds

ANNOTATORS = ("aida", "bek", "chyngyz")

#: doc id -> annotator -> [(needle, label)]
TEAM: dict[int, dict[str, list[tuple[str, str]]]] = {
    1: {
        "aida": [("Садыр Жапаров", "PER"), ("Россия Федерациясынын", "LOC"),
                 ("Михаил Мишустинди", "PER"), ("Кыргыз Республикасынын", "LOC")],
        "bek": [("Садыр Жапаров", "PER"), ("Россия Федерациясынын", "ORG"),
                ("Мишустинди", "PER"), ("Кыргыз Республикасынын", "LOC")],
        "chyngyz": [("Садыр Жапаров", "PER"), ("Россия Федерациясынын", "LOC"),
                    ("Михаил Мишустинди", "PER")],
    },
    2: {
        "aida": [("Садыр Жапаровдун", "PER"), ("Бишкектен", "LOC"), ("Москвага", "LOC")],
        "bek": [("Садыр Жапаровдун", "PER"), ("Бишкектен", "LOC"), ("Sputnik", "ORG")],
        "chyngyz": [("Садыр Жапаровдун", "PER"), ("Бишкектен", "LOC"), ("Москвага", "LOC")],
    },
    3: {
        "aida": [("Нур-Султан", "LOC"), ("Казакстан Республикасы", "LOC"),
                 ("Акылбек Жапаров", "PER"), ("Михаил Мишустин", "PER")],
        "bek": [("Нур-Султан", "LOC"), ("Казакстан Республикасы", "LOC"),
                ("Акылбек Жапаров", "PER"), ("Михаил Мишустин", "PER")],
        "chyngyz": [("Нур-Султан", "LOC"), ("Казакстан Республикасы", "ORG"),
                    ("Акылбек Жапаров", "PER"), ("Михаил Мишустин", "PER")],
    },
    4: {"aida": [("Жапаров", "PER")]},
}


def span_of(store: Store, doc_id: int, needle: str) -> tuple[int, int]:
    start = store.text(doc_id).index(needle)
    return start, start + len(needle)


def build_team(path: Path | str) -> None:
    """Seeds plus the team's spans and done statuses in the database at ``path`` (a file or a URL)."""
    with Store(path, "lead") as lead:
        if lead.count_documents() == 0:
            import_seeds(lead)
    for name in ANNOTATORS:
        with Store(path, name) as store:
            for doc_id, layers in TEAM.items():
                if name not in layers:
                    continue
                for needle, label in layers[name]:
                    store.add_span(doc_id, *span_of(store, doc_id, needle), label)
                store.set_status(doc_id, "done")


def expected_spans(store: Store, doc_id: int, annotator: str) -> set[tuple[int, int, str]]:
    return {(*span_of(store, doc_id, n), lab) for n, lab in TEAM[doc_id].get(annotator, [])}
