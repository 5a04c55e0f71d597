"""Cross-script propagation: a labelled name found spelt in the other script."""

from __future__ import annotations

from typing import Callable

from annotations import Store
from annotations.recognisers import TextDoc, refresh_document
from annotations.recognisers.propagation import CrossScript, Lexicon
from annotations.recognisers.scripts import to_cyrillic, to_latin, variants
from annotations.tokenize import tokenize


def found(lex: Lexicon, text: str, lang: str) -> list[tuple[str, str]]:
    assert lex.other_script is not None
    doc = TextDoc(text, lang, None, tokenize(text, lang))
    return [(text[s.start:s.end], s.label) for s in lex.other_script.suggest(doc)]


def test_spellings() -> None:
    assert "Sadyr Japarov" in to_latin("Садыр Жапаров")  # ж as j, as Kyrgyz names are romanised
    assert "Mikhail Klimentyev" in to_latin("Михаил Климентьев")
    assert to_latin("ТАСС") == ("TASS",)
    assert to_latin("Өзгөн") == ("Ozgon",)
    assert to_cyrillic("Sputnik") == ("Спутник",)
    assert to_cyrillic("Sadyr Japarov")[0] == "Садыр Жапаров" and to_cyrillic("TASS") == ("ТАСС",)
    assert variants("KOICAнын") == ()  # mixed scripts: no other spelling


def test_cyrillic_name_found_in_a_latin_caption_and_back() -> None:
    lex = Lexicon()
    lex.learn(1, "Садыр Жапаров", "PER", "ky")
    lex.learn(2, "Владимир Путиндин", "PER", "ky")  # learned by its stem, not "Putindin"
    lex.learn(3, "Сочи", "LOC", "ru")
    lex.learn(4, "Sputnik", "ORG", "xx")
    caption = "SOCHI, RUSSIA: President Sadyr Japarov and Vladimir Putin. Putin said. Спутникке маалымат."
    assert found(lex, caption, "ky") == [
        ("SOCHI", "LOC"), ("Sadyr Japarov", "PER"), ("Vladimir Putin", "PER"), ("Putin", "PER"),
        ("Спутникке", "ORG"),
    ]
    lex.forget(1)
    assert ("Sadyr Japarov", "PER") not in found(lex, caption, "ky")


def test_translit_origin_and_refresh_after_a_label(store: Store, add_doc: Callable[..., int]) -> None:
    a = add_doc("Садыр Жапаров Москвага барды.", "ky")
    b = add_doc("Site icon\n\nKyrgyzstan's President Sadyr Japarov (L) met the press.", "ky")
    text = store.text(a)
    store.add_span(a, 0, len("Садыр Жапаров"), "PER")
    refresh_document(store, b)
    pending = [(store.text(b)[s.start:s.end], s.origin, s.score) for s in store.spans(b, states=("pending",))]
    assert pending and pending[0][:2] == ("Sadyr Japarov", "translit")
    assert pending[0][2] is not None and pending[0][2] < 1.0
    assert text.startswith("Садыр")
    assert CrossScript.name == "translit"


def test_latin_label_finds_the_cyrillic_name() -> None:
    lex = Lexicon()
    lex.learn(1, "Sadyr Japarov", "PER", "xx")
    assert found(lex, "Садыр Жапаровдун сапары. Жапаров келди.", "ky") == [
        ("Садыр Жапаровдун", "PER"), ("Жапаров", "PER"),
    ]
