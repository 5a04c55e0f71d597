"""``agree`` on the scripted team: every number against an independent computation.

Cohen's κ is checked against scikit-learn's ``cohen_kappa_score`` and Krippendorff's α
against the ``krippendorff`` package, both on BIO tags built here from spaCy's own tokens
(``doc.char_span``, whitespace tokens left out), not from the code under test. Span
precision/recall/F1 and the confusion table are worked out by hand from the fixture.
"""

from __future__ import annotations

import math
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from team_helpers import ANNOTATORS, TEAM, build_team, span_of

from annotations import Store
from annotations.team.agree import agree, cohen_kappa, krippendorff_alpha
from annotations.tokenize import blank_nlp


@pytest.fixture(scope="module")
def team_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("team") / "team.db"
    build_team(path)
    return path


@pytest.fixture
def lead(team_db: Path):
    with Store(team_db, "lead") as store:
        yield store


def spacy_tags(store: Store, doc_id: int, annotator: str) -> list[str]:
    """BIO tags from spaCy's tokens of the document, straight from the fixture's needles."""
    doc = blank_nlp(store.document(doc_id).lang).make_doc(store.text(doc_id))
    tags = ["O"] * len(doc)
    for needle, label in TEAM[doc_id].get(annotator, []):
        start, end = span_of(store, doc_id, needle)
        span = doc.char_span(start, end)
        assert span is not None, needle
        for k, tok in enumerate(t for t in span if not t.is_space):
            tags[tok.i] = ("B-" if k == 0 else "I-") + label
    return [t for t, tok in zip(tags, doc) if not tok.is_space]


def test_cohen_kappa_per_pair_matches_scikit_learn(lead: Store) -> None:
    report = agree(lead)
    assert [(p.a, p.b) for p in report.pairs] == [("aida", "bek"), ("aida", "chyngyz"), ("bek", "chyngyz")]
    for pair in report.pairs:
        a = [t for d in (1, 2, 3) for t in spacy_tags(lead, d, pair.a)]
        b = [t for d in (1, 2, 3) for t in spacy_tags(lead, d, pair.b)]
        assert pair.tokens == len(a) == len(b)
        assert pair.kappa == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
        assert 0.5 < pair.kappa < 1.0


def test_krippendorff_alpha_matches_the_package(lead: Store) -> None:
    report = agree(lead)
    rows = {a: [] for a in ANNOTATORS}
    for doc_id in (1, 2, 3, 4):  # doc 4: aida alone, so its tokens are not pairable
        tags = {a: spacy_tags(lead, doc_id, a) for a in ANNOTATORS}
        for a in ANNOTATORS:
            rows[a] += tags[a] if a in TEAM[doc_id] else [None] * len(tags["aida"])
    values = sorted({t for r in rows.values() for t in r if t is not None})
    code = {t: i for i, t in enumerate(values)}
    data = np.array([[np.nan if t is None else code[t] for t in rows[a]] for a in ANNOTATORS])
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert report.alpha == pytest.approx(expected, abs=1e-12)
    assert report.documents == 3 and report.tokens == len([t for t in rows["bek"] if t is not None])


def test_span_scores_worked_by_hand(lead: Store) -> None:
    pairs = {(p.a, p.b): p for p in agree(lead).pairs}
    ab = pairs[("aida", "bek")]
    # aida 11 spans, bek 11; exact in common: doc 1: Жапаров, Кыргыз Республикасынын; doc 2:
    # Жапаровдун, Бишкектен; doc 3: all four = 8. Overlap adds Мишустинди inside Михаил Мишустинди.
    assert (ab.overall.gold, ab.overall.predicted) == (11, 11)
    assert ab.overall.exact.f1 == pytest.approx(8 / 11)
    assert ab.overall.overlap.f1 == pytest.approx(9 / 11)
    # PER: aida 5, bek 5, exact 4 (the Мишустинди boundaries differ), overlap 5.
    assert ab.labels["PER"].exact.f1 == pytest.approx(4 / 5) and ab.labels["PER"].overlap.f1 == 1.0
    # LOC: aida 6 (with Москвага), bek 4 (Россия Федерациясынын is ORG for him): 4 in common.
    loc = ab.labels["LOC"]
    assert (loc.exact.precision, loc.exact.recall) == (pytest.approx(4 / 4), pytest.approx(4 / 6))
    ac = pairs[("aida", "chyngyz")]
    # chyngyz: 10 spans (misses Кыргыз Республикасынын), Казакстан Республикасы as ORG: 9 in common.
    assert ac.overall.exact.precision == pytest.approx(9 / 10) and ac.overall.exact.recall == pytest.approx(9 / 11)
    # F1 does not depend on which side is the reference.
    swapped = agree(lead, ["chyngyz", "aida"]).pairs[0]
    assert swapped.overall.exact.f1 == pytest.approx(ac.overall.exact.f1)


def test_confusion_table_and_lowest_documents(lead: Store) -> None:
    report = agree(lead)
    c = report.confusion
    # Same boundaries, different label: Россия Федерациясынын (aida LOC / bek ORG, bek ORG /
    # chyngyz LOC) and Казакстан Республикасы (aida LOC / chyngyz ORG, bek LOC / chyngyz ORG).
    assert c["LOC"]["ORG"] == c["ORG"]["LOC"] == 4
    # Same span, same label, over the three pairs: doc 1: Жапаров 3, Кыргыз Республикасынын 1,
    # Россия Федерациясынын 1 (aida-chyngyz); Михаил Мишустинди 1; doc 2: Жапаровдун 3,
    # Бишкектен 3, Москвага 1; doc 3: Нур-Султан 3, Казакстан 1, Акылбек 3, Мишустин 3.
    assert c["PER"]["PER"] == 3 + 1 + 3 + 3 + 3
    assert c["LOC"]["LOC"] == 1 + 1 + 3 + 1 + 3 + 1
    lowest = report.documents_by_agreement
    assert [d.doc_id for d in lowest] == [1, 2, 3]
    # Doc 1: aida-bek 2 of 4+4, aida-chyngyz 3 of 4+3, bek-chyngyz 1 of 4+3 in common.
    assert lowest[0].f1 == pytest.approx((2 * 2 / 8 + 2 * 3 / 7 + 2 * 1 / 7) / 3)


def test_label_filter_and_annotator_subset(lead: Store) -> None:
    report = agree(lead, ["aida", "bek"], labels=["PER"])
    assert report.labels == ["PER"] and len(report.pairs) == 1
    pair = report.pairs[0]
    assert set(pair.labels) == {"PER"} and pair.overall.exact.f1 == pytest.approx(4 / 5)
    a = [t if t.endswith("PER") else "O" for d in (1, 2, 3) for t in spacy_tags(lead, d, "aida")]
    b = [t if t.endswith("PER") else "O" for d in (1, 2, 3) for t in spacy_tags(lead, d, "bek")]
    assert pair.kappa == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_small_worked_examples() -> None:
    # κ: 10 items, 7 agreed; marginals a = (6 X, 4 Y), b = (5 X, 5 Y): pe = .5, po = .7 -> κ = .4.
    conf = {("X", "X"): 4, ("X", "Y"): 2, ("Y", "X"): 1, ("Y", "Y"): 3}
    assert cohen_kappa(conf) == pytest.approx(0.4)
    assert cohen_kappa({("O", "O"): 5}) is None  # no variation: undefined, not 1
    # α (Krippendorff 2011, nominal, 3 coders with missing values): the package agrees.
    units = [(1, 1, None), (2, 2, 3), (3, 3, 3), (3, 3, 3), (2, 2, 2), (1, 2, 3), (4, 4, 4), (1, 1, 2),
             (2, 2, 2), (None, 5, 5), (None, None, 1), (None, None, 3)]
    data = np.array([[np.nan if u[i] is None else u[i] for u in units] for i in range(3)], dtype=float)
    assert krippendorff_alpha(units) == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    assert krippendorff_alpha([(1, 1), (1, 1)]) is None
    assert not math.isnan(krippendorff_alpha([(1, 2), (1, 1)]) or 0)


def test_one_documents_team_data_is_that_of_the_whole_load(lead: Store) -> None:
    from annotations.team.agree import load_team

    whole = load_team(lead, list(ANNOTATORS), min_done=1)
    for doc_id in (1, 4, 5):
        one = load_team(lead, list(ANNOTATORS), min_done=1, doc_id=doc_id)
        assert one.done == {d: w for d, w in whole.done.items() if d == doc_id}
        assert {k: sorted(v) for k, v in one.spans.items()} == {
            k: sorted(v) for k, v in whole.spans.items() if k[0] == doc_id}  # a layer's order is the index's


def test_overlap_matches_do_not_depend_on_string_hashing() -> None:
    """Two of one layer's spans overlap one of the other's equally: the one-to-one pairing
    breaks the tie by position, so the count must be the same in every process, in ``agree``
    and ``annotate evaluate`` alike (it was 1 or 2 by PYTHONHASHSEED: sets iterate in hash order)."""
    import os
    import subprocess
    import sys

    code = ("from annotations.team.agree import _SpanCounts; c = _SpanCounts();"
            " a, b = {(0, 10, 'PER'), (10, 20, 'PER')}, {(5, 15, 'PER'), (18, 30, 'PER')};"
            " c.add(a, b, None); from annotations.evaluate import score_documents;"
            " print(c.overlap['PER'], score_documents([(list(a), list(b))])[1].overlap.tp_gold)")
    counts = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("0", "6")}
    assert len(counts) == 1, counts



def test_confusion_table_in_label_order(lead: Store) -> None:
    # Its order would otherwise follow sets' iteration (hash) order, and --json with it.
    table = agree(lead).confusion
    assert list(table) == sorted(table) and all(list(row) == sorted(row) for row in table.values())
