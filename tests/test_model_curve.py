"""The learning curve: sizes, one model per size scored on the same held-out documents, drawing."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from annotations import Store
from annotations.model import curve_sizes, labelled_documents, learning_curve
from annotations.model.curve import _bar, curve_table

PEOPLE = ["Садыр Жапаров", "Эдил Байсалов", "Камчыбек Ташиев", "Акылбек Жапаров", "Улукбек Марипов",
          "Нурлан Мамытов", "Жээнбек Кулубаев"]


def test_curve_sizes() -> None:
    assert curve_sizes(0) == []
    assert curve_sizes(1) == [1]
    assert curve_sizes(4) == [1, 2, 3, 4]
    assert curve_sizes(12) == [1, 2, 3, 5, 10, 12]
    assert curve_sizes(10) == [1, 2, 3, 5, 10]


def test_learning_curve_scores_each_size_on_the_same_documents(store: Store, add_doc: Callable[..., int]) -> None:
    for k, name in enumerate(PEOPLE):
        text = f"Президент {name} жаңы мыйзамга кол койду. Бул тууралуу өкмөт билдирди."
        doc = add_doc(text, lang="ky")
        store.add_span(doc, 10, 10 + len(name), "PER")
        store.set_status(doc, "done")
    docs = labelled_documents(store)
    train, held = docs[:5], docs[5:]
    seen: list[tuple[int, int]] = []
    points = learning_curve(train, held, progress=lambda step, total: seen.append((step, total)))
    assert [p.documents for p in points] == [1, 2, 3, 5]
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(p.scores.documents == 2 and p.scores.overall.support == 2 for p in points)
    assert points[-1].scores.f1 >= points[0].scores.f1 and points[-1].scores.f1 > 0.5
    assert set(points[0].to_dict()) == {"documents", "precision", "recall", "f1", "seconds"}
    assert [p.documents for p in learning_curve(train, held, sizes=[2, 9])] == [2]


def test_curve_table_draws_bars() -> None:
    assert _bar(0.0, 4) == "    " and _bar(1.0, 4) == "████" and _bar(0.5, 4) == "██  "
    assert _bar(0.53, 10).startswith("█████▎")
    console = Console(record=True, width=100, markup=False, color_system=None)
    from annotations.model.curve import CurvePoint
    from annotations.model.evaluate import score_spans

    scores = score_spans([("d", 0, 1, "PER"), ("d", 2, 3, "PER")], [("d", 0, 1, "PER")])
    console.print(curve_table([CurvePoint(3, scores, 0.1)]))
    out = console.export_text()
    assert "Learning curve" in out and "0.667" in out and "█" in out
