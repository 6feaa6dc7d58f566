"""Entities: gazetteer ids across languages and scripts, law-number variants, spaCy NER."""

from __future__ import annotations

import pytest

from enrichers.base import Pipeline
from enrichers.entities import EntityEnricher, TextView, load_gazetteer, load_ner, tokenize
from enrichers.language import LanguageEnricher
from sada.errors import DataFileError
from tests.builders import mention


@pytest.fixture(scope="module")
def gazetteer_only() -> EntityEnricher:
    return EntityEnricher(use_spacy=False)


@pytest.fixture(scope="module")
def enricher() -> EntityEnricher:
    return EntityEnricher()


def entities(enricher: EntityEnricher, text: str, **fields) -> list[dict]:
    return [e.model_dump() for e in enricher.label(mention(text=text, **fields)).values["entities"]]


def ids(enricher: EntityEnricher, text: str, **fields) -> set[str]:
    return {e["id"] for e in entities(enricher, text, **fields) if e["id"]}


@pytest.mark.parametrize(("text", "expected"), [
    # French, full names and abbreviations
    ("La DGAPR et le ministère de la Justice présentent le bilan.", {"dgapr", "ministry_of_justice"}),
    ("La Délégation générale à l'administration pénitentiaire et à la réinsertion recrute.", {"dgapr"}),
    ("Le CSPJ publie ses chiffres, la Présidence du ministère public sa circulaire.", {"cspj", "public_prosecution"}),
    ("Le Conseil supérieur du pouvoir judiciaire a réuni les juges.", {"cspj"}),
    ("Le Conseil national des droits de l'Homme (CNDH) salue la réforme.", {"cndh"}),
    ("L'Observatoire marocain des prisons demande une évaluation.", {"omp"}),
    ("Texte adopté par la Chambre des représentants puis la Chambre des conseillers.", {"parliament"}),
    # MSA
    ("المندوبية العامة لإدارة السجون وإعادة الإدماج تتابع التنفيذ", {"dgapr"}),
    ("أكدت رئاسة النيابة العامة ووزارة العدل", {"public_prosecution", "ministry_of_justice"}),
    ("المجلس الأعلى للسلطة القضائية والمجلس الوطني لحقوق الإنسان", {"cspj", "cndh"}),
    ("صادق مجلس النواب على القانون، ثم لجنة العدل والتشريع", {"parliament"}),
    ("دعا المرصد المغربي للسجون إلى تقييم مستقل", {"omp"}),
    # Darija, Arabic script (proclitics, article)
    ("بالمندوبية قالو ليا سير للنيابة العامة", {"dgapr", "public_prosecution"}),
    ("فالبرلمان ما فهمو والو", {"parliament"}),
    # Arabizi
    ("lmandoubiya 9alt bli kolchi mzyan", {"dgapr"}),
    ("wizarat l3adl khassha tchr7 l nass", {"ministry_of_justice"}),
    ("niyaba l3amma hiya li kat9rrer", {"public_prosecution"}),
    ("lbarlaman sadda9 3la l9anoun", {"parliament"}),
    # English
    ("The National Center for State Courts (NCSC) worked with Morocco's prison administration.", {"ncsc", "dgapr"}),
    ("Morocco's Ministry of Justice and the House of Representatives", {"ministry_of_justice", "parliament"}),
])
def test_institutions_get_their_id_in_every_language_and_script(gazetteer_only, text, expected):
    assert ids(gazetteer_only, text) == expected


@pytest.mark.parametrize("text", [
    "La loi 43.22 est entrée en vigueur.",
    "loi n°43-22 relative aux peines alternatives",
    "Loi 43/22 : ce qui change",
    "la loi 4322",
    "القانون رقم ٤٣٫٢٢ المتعلق بالعقوبات البديلة",
    "القانون رقم 22.43",
    "l9anoun 43 22 ghadi yt9ad",
    "#Loi4322 #PeinesAlternatives",
    "#قانون_43_22",
    "#Loi43_22 enfin appliquée",
    "Nothing to do with drafting 43.22, whatever Facebook says about this law.",
    "Morocco's Law 43.22 on alternative sentences",
    "La loi sur les peines alternatives entre en vigueur",
    "قانون العقوبات البديلة دخل حيز التنفيذ",
])
def test_every_variant_of_the_law_number_with_a_law_word(gazetteer_only, text):
    assert ids(gazetteer_only, text) == {"law_43_22"}


@pytest.mark.parametrize("text", [
    "Promo : 43.22 DH seulement ce week-end",
    "Score final 43-22 pour l'équipe de Rabat",
    "Il était 22.43 quand le train est parti",
    "Le kilo de crevettes à 43,22 DH, c'est la loi du marché",
    "سجل زمن 43.22 ثانية في سباق قانوني",
])
def test_the_number_alone_is_not_the_law(gazetteer_only, text):
    assert "law_43_22" not in ids(gazetteer_only, text)


def test_european_parliament_is_not_the_moroccan_parliament(gazetteer_only):
    ents = entities(gazetteer_only, "Le Parlement européen n'a rien voté, le parlement marocain si.")
    assert [e["id"] for e in ents if e["id"]] == ["parliament"]
    assert {"id": None, "text": "Parlement européen", "label": "ORG"} in ents


def test_people_places_and_other_orgs_have_null_ids_and_surface_text(gazetteer_only):
    ents = entities(gazetteer_only, "Abdellatif Ouahbi à Tanger, puis وهبي في طنجة ; la CNDP et l'UE observent.")
    got = {(e["text"], e["label"], e["id"]) for e in ents}
    assert ("Abdellatif Ouahbi", "PER", None) in got
    assert ("Tanger", "LOC", None) in got
    assert ("CNDP", "ORG", None) in got
    assert ("UE", "ORG", None) in got
    # one entity per entry: وهبي is Ouahbi again, طنجة is Tanger again
    assert sum(1 for e in ents if e["label"] == "PER") == 1
    assert sum(1 for e in ents if e["label"] == "LOC") == 1


def test_an_institution_named_twice_is_listed_once_with_its_first_spelling(gazetteer_only):
    ents = entities(gazetteer_only, "La DGAPR, pardon la délégation générale à l'administration pénitentiaire, et DGAPR encore")
    assert [e for e in ents if e["id"] == "dgapr"] == [{"id": "dgapr", "text": "DGAPR", "label": "ORG"}]


def test_a_title_is_not_the_institution_only_the_name_is(gazetteer_only):
    ents = entities(gazetteer_only, "أكد وزير العدل عبد اللطيف وهبي أن القاضي يبقى صاحب السلطة")
    assert ents == [{"id": None, "text": "عبد اللطيف وهبي", "label": "PER"}]
    assert ids(gazetteer_only, "Le ministre de la Justice a répondu aux députés") == set()


@pytest.mark.parametrize("text", [
    "Egypt's justice ministry is studying wider use of community service",
    "وزارة العدل الجزائرية تدرس توسيع العقوبات البديلة",
    "تونس: مجلس نواب الشعب يناقش مقترحا لتوسيع العمل بالعقوبات البديلة",
])
def test_foreign_look_alikes_keep_a_null_id(gazetteer_only, text):
    ents = entities(gazetteer_only, text)
    assert not [e for e in ents if e["id"]]
    assert any(e["label"] == "ORG" and e["id"] is None for e in ents)


def test_arabic_proclitics_are_left_out_of_the_surface(gazetteer_only):
    ents = entities(gazetteer_only, "فوزارة العدل ما جاوبوش، وبالمندوبية قالو سير والنيابة العامة ففاس")
    assert [e["text"] for e in ents] == ["وزارة العدل", "المندوبية", "النيابة العامة", "فاس"]


def test_lowercase_eu_in_french_is_not_the_european_union(gazetteer_only):
    assert entities(gazetteer_only, "il a eu de la chance") == []


@pytest.mark.parametrize(("text", "place"), [
    ("خويا فسجن تولال، قالو ليه غادي يخرج قبل راس العام", "تولال"),  # a prison, Arabic script
    ("ana mn tawnat w 3ammi f l7bs", "tawnat"),  # a town, Arabizi only
    ("Mon frère est détenu à Tiflet depuis six mois", "Tiflet"),
    ("حنا فمدينة ميسور ما وصلنا حتى خبر", "مدينة ميسور"),
    ("Il habite à Salé depuis 2010", "Salé"),
])
def test_smaller_towns_and_prisons_are_places(gazetteer_only, text, place):
    assert {"id": None, "text": place, "label": "LOC"} in entities(gazetteer_only, text)


@pytest.mark.parametrize("text", [
    "هل يمكن لشخص ميسور أن يطلب الغرامة اليومية بدل الحبس؟",  # ميسور "well-off", not Missour
    "عندو المعاريف وخرج فجمعة",  # Darija "connections", not the Maârif district
    "ana mdi9 bzaf mn had l9anoun",  # Darija "fed up", not M'diq
    "@Ali_Benslimane le texte est paru au Bulletin officiel",  # a surname, not Benslimane
    "Cette loi est une sale blague",  # French "sale" (dirty), not Salé
    "Bracelets for sale, DM me",  # English "sale"
])
def test_ordinary_words_that_look_like_towns_are_not_places(gazetteer_only, text):
    assert [e for e in entities(gazetteer_only, text) if e["label"] == "LOC"] == []


def test_tokens_keep_their_place_in_the_original_text():
    text = "Selon l'OMP (٤٣٫٢٢)"
    view = TextView(text)
    assert [t.norm for t in view.tokens] == ["selon", "l", "omp", "43.22"]
    assert [text[t.start:t.end] for t in tokenize(text)] == ["Selon", "l", "OMP", "٤٣٫٢٢"]


# -- spaCy ---------------------------------------------------------------------------------------


def test_spacy_is_loaded_offline_with_only_the_ner():
    nlp = load_ner("fr_core_news_sm")
    assert nlp.pipe_names == ["ner"]
    assert load_ner("fr_core_news_sm") is nlp  # loaded once


def test_spacy_adds_names_the_gazetteer_does_not_know(enricher):
    ents = entities(enricher, "Selon l'avocate Karima Benslimane, la DGAPR manque de moyens à Marrakech.",
                    lang="fr", script="latn")
    # the small French model's label for a name is not always PER; the span is what matters here
    assert any(e["text"] == "Karima Benslimane" and e["id"] is None for e in ents)
    assert {"id": "dgapr", "text": "DGAPR", "label": "ORG"} in ents
    # the gazetteer's span wins: no second, spaCy, entity for DGAPR or Marrakech
    assert [e["text"] for e in ents].count("DGAPR") == 1
    assert [e["text"] for e in ents].count("Marrakech") == 1


def test_spacy_is_skipped_for_arabic_script_darija_and_short_posts(enricher):
    before = enricher.spacy_calls
    enricher.label(mention(text="قال المحامي كريم بنسليمان إن المندوبية العامة لإدارة السجون تفتقر للوسائل",
                           lang="ar", script="arab"))
    enricher.label(mention(text="Karim 9al bli lmandoubiya ma 3ndhach lwsa2il f Marrakech", lang="ary", script="latn"))
    enricher.label(mention(text="Merci Karim", lang="fr", script="latn"))
    enricher.label(mention(text="les peines alternatives, c'est une bonne chose pour tout le monde", lang="fr",
                           script="latn"))  # nothing capitalised to explain
    assert enricher.spacy_calls == before


def test_label_many_batches_and_agrees_with_label(enricher):
    texts = ["Selon Karima Benslimane, la loi 43.22 avance.", "La CNDH à Rabat.", "مجلس النواب",
             "Le juge Youssef Alaoui a prononcé un TIG à Agadir."]
    ms = [mention(i, text=t, lang="ar" if i == 2 else "fr", script="arab" if i == 2 else "latn")
          for i, t in enumerate(texts)]
    assert [lab.values for lab in enricher.label_many(ms)] == [enricher.label(m).values for m in ms]


def test_in_a_pipeline_after_language(enricher):
    pipe = Pipeline([LanguageEnricher(), enricher])
    out = pipe.run(mention(text="La Présidence du ministère public et l'OMP commentent la loi 43.22."))
    assert {e.id for e in out.entities if e.id} == {"public_prosecution", "omp", "law_43_22"}
    assert out.provenance["entities"].enricher == "entities.v1"


# -- the gazetteer file --------------------------------------------------------------------------


def test_the_shipped_gazetteer_is_valid():
    gaz = load_gazetteer()
    assert {e.id for e in gaz.entries.values() if e.id} == {
        "law_43_22", "ministry_of_justice", "dgapr", "public_prosecution", "cspj", "cndh", "parliament", "ncsc", "omp"}


@pytest.mark.parametrize(("body", "field"), [
    ("version: 1\ninstitutions:\n  prisons_dept:\n    terms: {fr: [x]}\n", "institutions.prisons_dept"),
    ("version: 1\ninstitutions:\n  dgapr:\n    terms: {fr: [DGAPR, '  ']}\n", "institutions.dgapr.terms.fr[1]"),
    ("version: 1\ninstitutions:\n  dgapr:\n    terms: {fr: [DGAPR, no]}\n", "institutions.dgapr.terms.fr[1]"),
    ("version: 1\ninstitutions:\n  dgapr:\n    label: BANK\n    terms: {fr: [DGAPR]}\n", "institutions.dgapr.label"),
    ("version: 1\ninstitutions:\n  dgapr:\n    terms: {fr: [DGAPR]}\n  cndh:\n    terms: {fr: [dgapr]}\n",
     "institutions.cndh.terms.fr[0]"),
    ("version: 1\npeople:\n  - terms: {fr: [x]}\n", "people[0].name"),
    ("version: 1\nplaces:\n  - name: Rabat\n    terms: {fr: ['!!!']}\n", "places[0].terms.fr[0]"),
    ("version: 1\nsettings:\n  spacy_max_chars: -1\n", "settings.spacy_max_chars"),
    ("version: 2\n", "version"),
])
def test_gazetteer_errors_name_the_file_and_the_field(tmp_path, body, field):
    path = tmp_path / "gazetteer.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_gazetteer(path)
    assert str(path) in str(err.value)
    assert err.value.field == field
