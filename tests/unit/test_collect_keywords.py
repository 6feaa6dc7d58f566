"""The shipped keyword sets: what they keep, what their noise filters drop, how errors read."""

from __future__ import annotations

import pytest

from collectors.keywords import KEYWORDS_FILE, load_keywords
from sada.errors import DataFileError


@pytest.fixture(scope="module")
def kw():
    return load_keywords()


KEPT = [
    # French
    ("Les peines alternatives entrent en vigueur au Maroc", "fr:peines_alternatives"),
    ("L'amende journalière est fixée entre 100 et 2000 DH", "fr:peines_alternatives"),
    ("Le tribunal de Tanger a prononcé le premier bracelet électronique", "fr:peines_alternatives"),
    ("Le TIG au Maroc : premiers condamnés", "fr:peines_alternatives"),
    # MSA, with the spelling variants normalization must absorb
    ("العقوبات البديلة دخلت حيز التنفيذ", "ar:uqubat_badila"),
    ("العُقُوبَـــات البَدِيلَة دخلت حيز التنفيذ", "ar:uqubat_badila"),  # harakat + tatweel
    ("بالعقوبات البديله", "ar:uqubat_badila"),  # proclitic + teh marbuta written ه
    ("#العقوبات_البديلة", "ar:uqubat_badila"),  # hashtag
    ("الحكم بالعمل لأجل المنفعة العامة بدل السجن", "ar:uqubat_badila"),
    ("الحكم بالعمل لاجل المنفعة العامة", "ar:uqubat_badila"),  # أ written ا
    ("قاضى تطبيق العقوبات", "ar:uqubat_badila"),  # ي written ى (alef maqsura)
    # Darija in Arabic script, Arabizi
    ("واش بصح اللي عندو الفلوس يشري الحبس؟", "ary:habs_bflous"),
    ("البراسلي فالرجل ديال المحكوم عليه بدل الحبس", "ary:habs_bflous"),
    ("wach l3o9oubat lbadila ghadi tkhrej ga3 li f l7bs", "arabizi:l3o9oubat_lbadila"),
    ("li 3ndo lflous ychri l7bs", "arabizi:l3o9oubat_lbadila"),
    # the law number, in its variants, next to a law word
    ("la loi n°43.22 est entrée en vigueur", "law_number"),
    ("قانون 43-22", "law_number"),
    ("القانون رقم ٤٣٫٢٢", "law_number"),
    ("loi 43/22", "law_number"),
    ("la loi 4322", "law_number"),
    ("loi 22.43", "law_number"),
    ("Loi4322", "law_number"),
    ("le décret 2.25.386 publié au BO", "law_number"),
]


@pytest.mark.parametrize(("text", "query"), KEPT)
def test_reform_mentions_are_kept_by_their_keyword_set(kw, text, query):
    assert query in kw.matching(text)


DROPPED = [
    "Il est à peine 8h, la justice est lente",  # « à peine »
    "Nouveau bracelet en or, collection été, livraison gratuite",  # jewellery
    "Montre connectée + bracelet électronique du tribunal de la mode, promo!",  # smartwatch noise
    "Une amende de 700 DH pour excès de vitesse",  # traffic fine
    "نزع الملكية من أجل المنفعة العامة",  # expropriation
    "العقوبات الأمريكية على روسيا",  # international sanctions
    "Prix : 43.22 DH le kilo",  # a price
    "Score 43-22 au basket, la loi du plus fort",  # a score, even next to « loi »
    "TIG inox soudure poste à souder",  # welding
    "Le TIG en France : les détenus de Fresnes",  # TIG without a Moroccan anchor
    "العقوبات البديلة في السعودية",  # another country, no Moroccan anchor
    "lbrasli dyal dheb zwin",  # a gold bracelet
]


@pytest.mark.parametrize("text", DROPPED)
def test_noise_is_dropped_by_every_keyword_set(kw, text):
    assert kw.matching(text) == []


def test_another_country_is_kept_with_a_moroccan_anchor_or_from_a_moroccan_source(kw):
    text = "Les peines alternatives en France et en Belgique"
    assert kw.matching(text) == []
    assert kw.matching(text + " : et au Maroc ?") == ["fr:peines_alternatives"]
    assert kw.matching(text, moroccan_context=True) == ["fr:peines_alternatives"]


def test_first_match_follows_file_order_and_moroccan_hosts(kw):
    assert kw.first_match("la loi 43.22 sur les peines alternatives") == "fr:peines_alternatives"
    assert kw.is_moroccan_host("www.hespress.com") and kw.is_moroccan_host("fr.le360.ma")
    assert not kw.is_moroccan_host("rtbf.be") and not kw.is_moroccan_host("notmaroc.com")


def test_search_strings_are_built_for_platform_search_boxes(kw):
    q = kw.get("fr:peines_alternatives")
    assert q.search_or().startswith('"peines alternatives" OR "sanctions alternatives"')
    assert "#PeinesAlternatives" in q.search_or(hashtags=True)
    assert kw.get("ar:uqubat_badila").hashtags[0] == "العقوبات_البديلة"


def _write(tmp_path, body: str):
    path = tmp_path / "keywords.yaml"
    path.write_text(body, encoding="utf-8")
    return path


BASE = """version: 1
groups:
  justice: [tribunal]
queries:
  fr:test:
    description: test
    lang: fr
    rules:
"""


@pytest.mark.parametrize(("rules", "field", "problem"), [
    ("      - any: [bracelet]\n        all: [justise]\n", "queries.fr:test.rules[0].all[0]", "unknown group 'justise'"),
    ("      - any: []\n", "queries.fr:test.rules[0].any", "at least 1"),
    ("      - any: [bracelet]\n        moroccan: required\n", "queries.fr:test.rules[0].moroccan", "'morocco'"),
    ("      - any: [bracelet]\n        near: 20\n", "queries.fr:test.rules[0].near", "needs groups"),
    ("      - any: [bracelet]\n        nearby: 20\n", "queries.fr:test.rules[0].nearby", "Extra inputs"),
    ("      - any: ['!!!']\n", "queries.fr:test.rules[0].any[0]", "empty after normalization"),
])
def test_errors_name_the_file_and_the_field(tmp_path, rules, field, problem):
    path = _write(tmp_path, BASE + rules)
    with pytest.raises(DataFileError) as err:
        load_keywords(path)
    assert err.value.field == field
    assert problem in err.value.problem
    assert str(path) in str(err.value)


def test_query_ids_must_be_ascii_and_not_reserved(tmp_path):
    for bad in ("ar:العقوبات", "own", "Fr:Test"):
        body = BASE.replace("fr:test:", f"{bad}:") + "      - any: [bracelet]\n"
        with pytest.raises(DataFileError, match="lowercase ASCII"):
            load_keywords(_write(tmp_path, body))


def test_shipped_file_has_every_language_and_the_law_number(kw):
    assert KEYWORDS_FILE.exists()
    langs = {q.lang for q in kw.queries.values()}
    assert {"fr", "ar", "ary", "arabizi"} <= langs
    assert "law_number" in kw.queries
