"""Names Natasha finds in Russian documents, found in Kyrgyz ones (origin ``natasha-ky``)."""

from __future__ import annotations

from typing import Callable

from annotations import Store
from annotations.recognisers import run_recognisers
from annotations.recognisers.natasha_ner import NatashaToKyrgyz, russian_names


def test_russian_names_keep_one_label_and_lemmas() -> None:
    texts = ["Премьер-министр Адылбек Касымалиев встретился с Михаилом Мишустиным в Москве."]
    names = dict(russian_names(texts))
    assert names.get("Адылбек Касымалиев") == "PER" and names.get("Москве") == "LOC"
    assert russian_names(texts, min_count=2) == []


def test_russian_findings_are_suggested_in_kyrgyz_documents(
    store: Store, add_doc: Callable[..., int]
) -> None:
    ru = add_doc("БИШКЕК. Председатель кабмина Адылбек Касымалиев посетил Ташкент. "
                 "Касымалиев встретился с коллегами.", "ru")
    ky = add_doc("Министрлер Кабинетинин Төрагасы Адылбек Касымалиевдин сапары Ташкентте өттү.", "ky")
    rec = NatashaToKyrgyz()
    run_recognisers(store, [rec], status="any")
    assert store.spans(ru, states=("pending",)) == []  # Russian documents are Natasha's own job
    got = [(store.text(ky)[s.start:s.end], s.label, s.origin) for s in store.spans(ky, states=("pending",))]
    assert ("Адылбек Касымалиевдин", "PER", "natasha-ky") in got
    assert ("Ташкентте", "LOC", "natasha-ky") in got


def test_stored_natasha_suggestions_are_read_not_tagged_again(
    store: Store, add_doc: Callable[..., int], monkeypatch
) -> None:
    ru = add_doc("Председатель кабмина Адылбек Касымалиев посетил Ташкент.", "ru")
    ky = add_doc("Төрага Адылбек Касымалиевдин сапары Ташкентте өттү.", "ky")
    text = store.text(ru)
    i = text.index("Ташкент")
    store.add_suggestions(ru, [(i, i + len("Ташкент"), "LOC", 0.6)], "natasha")
    from annotations.recognisers import natasha_ner

    monkeypatch.setattr(natasha_ner, "_tag", lambda text: (_ for _ in ()).throw(AssertionError("tagged")))
    run_recognisers(store, [NatashaToKyrgyz()], status="any")
    got = [store.text(ky)[s.start:s.end] for s in store.spans(ky, states=("pending",))]
    assert got == ["Ташкентте"]  # only what Natasha's stored suggestion says
