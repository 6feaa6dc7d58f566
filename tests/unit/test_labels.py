"""Rule-based labels: relevance, topics, myths, stance, toxicity (pure, no services).

Realistic posts in French, MSA, Darija (Arabic script and Arabizi), English and mixes; keyword
noise; myth against correction; questions; toxicity priority; defamation needing a named
entity; data files whose mistakes name the file and the field.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from enrichers import classifier as clf
from enrichers.base import Enricher, Labels, Pipeline
from enrichers.language import LanguageEnricher
from enrichers.myths import MythEnricher
from enrichers.relevance import RelevanceEnricher
from enrichers.stance import StanceEnricher
from enrichers.topics import TopicEnricher
from enrichers.toxicity import ToxicityEnricher
from sada.errors import DataFileError, PipelineError
from tests.builders import mention


@pytest.fixture(scope="module")
def relevance():
    return RelevanceEnricher()


@pytest.fixture(scope="module")
def topics():
    return TopicEnricher()


@pytest.fixture(scope="module")
def myths():
    return MythEnricher()


@pytest.fixture(scope="module")
def stance():
    return StanceEnricher()


@pytest.fixture(scope="module")
def toxicity():
    return ToxicityEnricher()


def post(text: str, **fields):
    return mention(0, text=text, **fields)


# --------------------------------------------------------------------------------------------
# Relevance
# --------------------------------------------------------------------------------------------

RELEVANT = [
    ("fr", "Les peines alternatives entrent en vigueur ce vendredi dans tous les tribunaux."),
    ("fr", "Premier jugement à Agadir : 60 jours-amende à 300 DH."),
    ("fr", "Mon cousin a fait ses heures de TIG dans une asso après sa condamnation."),
    ("ar", "العقوبات البديلة دخلت حيز التنفيذ والمندوبية العامة لإدارة السجون تتابع التنفيذ"),
    ("ar", "تحدد الغرامة اليومية بين 100 و2000 درهم عن كل يوم حبس"),
    ("ar", "السوار الإلكتروني انتهاك صارخ للخصوصية ومن السهل نزعه"),
    ("ary", "واش بصح اللي عندو الفلوس يشري الحبس؟ هادشي حكرة"),
    ("ary", "غير يقطع البراسلي ويهرب، شكون غادي يشدو؟"),
    ("ary", "wach had l9anoun dyal l3o9oubat lbadila ghadi ykhrej ga3 li f l7bs?"),
    ("ary", "li 3ndo lflous ychri l7bs w safi"),
    ("en", "Morocco's alternative sentences law: first electronic bracelet fitted in Tangier."),
    ("en", "So you can now pay day fines of 2,000 dirhams to skip jail in Morocco?"),
    ("fr", "La loi 43.22 est enfin appliquée."),
    ("fr", "Le TIG c'est top, mieux que de rester f l7bs à rien faire."),
]

NOISE = [
    ("fr", "Nouvelle collection 💎 bracelets en argent 925, livraison partout au Maroc, DM pour commander"),
    ("fr", "Black Friday : montres et bracelets électroniques connectés en promo"),
    ("fr", "J'ai à peine eu le temps de boire mon café que le tram était parti"),
    ("fr", "Amende de 700 DH pour excès de vitesse sur l'autoroute, radar caché"),
    ("ar", "غرامة 300 درهم بسبب عدم وضع حزام السلامة على الطريق السيار"),
    ("ar", "لجنة الأخلاقيات تفرض غرامة مالية على فريق بسبب أحداث الشغب في المباراة"),
    ("ar", "الاتحاد الأوروبي يقر حزمة جديدة من العقوبات الاقتصادية على روسيا"),
    ("ar", "نزع الملكية من أجل المنفعة العامة لإنجاز الطريق الجديد"),
    ("ary", "lbrasli dyal dheb li 9ltiha f story mazal kayn, taman f DM"),
    ("en", "New drop: leather bracelets handmade in Marrakech, DM to order"),
    ("fr", "L'action cote 43.22 euros ce matin à la bourse"),
    ("fr", "Installation de caméras de surveillance électronique dans les parkings"),
]


@pytest.mark.parametrize(("lang", "text"), RELEVANT)
def test_reform_posts_are_relevant(relevance, lang, text):
    labels = relevance.label(post(text, lang=lang))
    assert labels.values == {"relevant": True}
    assert 0.0 <= labels.confidence <= 1.0


@pytest.mark.parametrize(("lang", "text"), NOISE)
def test_keyword_noise_is_not_relevant(relevance, lang, text):
    assert relevance.label(post(text, lang=lang)).values == {"relevant": False}


def test_another_country_needs_a_moroccan_anchor(relevance):
    saudi = "السعودية توسع العمل بالعقوبات البديلة في المخالفات البسيطة"
    assert relevance.label(post(saudi, lang="ar")).values["relevant"] is False
    compared = "السعودية سبقت، والمغرب طبق العقوبات البديلة منذ غشت 2025"
    assert relevance.label(post(compared, lang="ar")).values["relevant"] is True
    france = "En France on reparle de développer les peines alternatives pour désengorger les maisons d'arrêt."
    assert relevance.label(post(france, lang="fr")).values["relevant"] is False
    # Darija is a Moroccan anchor by itself.
    darija = "حتى فرانسا عندها العقوبات البديلة، ولكن حنا غادي نشوفو واش غادي تنجح"
    assert relevance.label(post(darija, lang="ary")).values["relevant"] is True


def test_a_reply_without_reform_words_is_relevant_when_the_classifier_says_so(relevance):
    # Replies under a reform article rarely repeat its words.
    reply = "Copier-coller de Paris, même la police d'écriture. On importe leurs lois et leurs problèmes avec."
    labels = relevance.label(post(reply, lang="fr"))
    assert labels.values == {"relevant": True}
    assert labels.extra == {"relevance": "classifier"}
    assert relevance.classifier.scores([clf.mention_doc(post(reply, lang="fr"))], "relevance")[0]["relevant"] >= \
        relevance.classifier.threshold("relevance:relevant")
    # The words alone would not have said so.
    assert RelevanceEnricher(classifier=None).label(post(reply, lang="fr")).values == {"relevant": False}
    # Everyday chatter stays out.
    assert relevance.label(post("Quelqu'un connaît un bon garagiste à Rabat ? Ma voiture fait un bruit bizarre.",
                                lang="fr")).values == {"relevant": False}


def test_the_classifier_never_overturns_noise_or_another_country(relevance, monkeypatch):
    class Sure(clf.Thresholds):
        def scores(self, docs, task):
            return [{"relevant": 0.99} for _ in docs]

    monkeypatch.setattr(relevance, "classifier", Sure({"relevance:relevant": 0.5}))
    jewellery = relevance.label(post("Bracelet en or 18 carats, prix en promo ce week-end", lang="fr"))
    assert jewellery.values == {"relevant": False} and jewellery.extra == {"relevance": "noise"}
    saudi = relevance.label(post("السعودية توسع العمل بالعقوبات البديلة في المخالفات البسيطة", lang="ar"))
    assert saudi.values == {"relevant": False}
    # (a post with neither reform words nor noise is left to it)
    assert relevance.label(post("Bonne journée à tous", lang="fr")).extra == {"relevance": "classifier"}


def test_law_number_needs_a_law_word(relevance):
    assert relevance.label(post("القانون رقم ٤٣٫٢٢ دخل حيز التنفيذ", lang="ar")).values["relevant"] is True
    assert relevance.label(post("Score final 43-22 pour Rabat", lang="fr")).values["relevant"] is False


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------

TOPIC_CASES = [
    ("Le travail d'intérêt général : 40 à 3600 heures, non rémunéré.", "community_service"),
    ("العمل لأجل المنفعة العامة يتراوح بين 40 و3600 ساعة", "community_service"),
    ("ghadi twli lbrasli mouda 3nd chfara, kaytswro bih f tiktok", "electronic_monitoring"),
    ("Does the ankle monitor use GPS? Morocco's electronic monitoring is new.", "electronic_monitoring"),
    ("الغرامة اليومية بين 100 و2000 درهم عن كل يوم", "day_fine"),
    ("2000dh f nhar w t9der tkhrej, hadchi howa l3o9oubat lbadila", "day_fine"),
    ("Restriction de certains droits : interdiction de fréquenter certains lieux, soins contre l'addiction.",
     "rights_restriction"),
    ("الاكتظاظ السجني وصل إلى 161%، العقوبات البديلة ضرورة", "prison_overcrowding"),
    ("Les peines alternatives contre la récidive : la prison fabrique des récidivistes.", "recidivism_reintegration"),
    ("Alternative sentences: what about the victims and their compensation?", "victims"),
    ("المرسوم 2.25.386 يحدد دور المندوبية العامة لإدارة السجون في تتبع العقوبات البديلة", "implementation"),
    ("Les récidivistes sont exclus des peines alternatives, seuls les délits de 5 ans au plus.", "eligibility"),
]


@pytest.mark.parametrize(("text", "topic"), TOPIC_CASES)
def test_topics(topics, text, topic):
    labels = topics.label(post(text, relevant=True))
    assert topic in labels.values["topics"]
    assert 0.0 <= labels.confidence <= 1.0


def test_no_topic_when_not_relevant(topics):
    text = "Nouvelle collection de bracelets, livraison gratuite"
    assert topics.label(post(text, relevant=False)).values == {"topics": []}


# --------------------------------------------------------------------------------------------
# Myths: spreading and correcting carry the same id
# --------------------------------------------------------------------------------------------

MYTH_CASES = [
    ("impunity", "On vole et on rentre dormir chez soi ? Aucune punition."),
    ("impunity", "hadchi bla 3o9oba, chffar ysre9 w yrje3 yn3es f darou"),
    ("rich_buy_freedom", "Les riches paient, les pauvres vont en prison. Voilà la loi 43.22."),
    ("rich_buy_freedom", "اللي عندو الفلوس يشري الحبس والمزلوط يدخل"),
    ("crime_will_rise", "هذا القانون سيشجع على الجريمة، فمن أمن العقوبة أساء الأدب."),
    ("crime_will_rise", "ma b9a khouf mn l7bs, chfara ghadi ykatro"),
    ("dangerous_criminals_freed", "حتى المغتصب غادي يلبس البراسلي ويتسارى؟"),
    ("dangerous_criminals_freed", "Dangerous criminals will walk free with an ankle bracelet."),
    ("mass_release", "Ils vont vider les prisons, c'est une amnistie déguisée."),
    ("mass_release", "غادي يطلقو كاع الحباسة"),
    ("foreign_agenda", "إملاءات خارجية واضحة، قانون صيغ في بروكسيل"),
    ("foreign_agenda", "l3o9oubat lbadila hadi jay mn berra, kopi koli"),
    ("bracelet_fears", "Il coupe le bracelet et disparaît. Flicage permanent."),
    ("bracelet_fears", "ghir y9te3 lbrasli w yhreb"),
    ("victims_forgotten", "Et les victimes ? On chouchoute l'agresseur."),
    ("victims_forgotten", "ضربني وخلّص الدولة وأنا بقيت بجرحي، فين هو حقي؟"),
]


@pytest.mark.parametrize(("myth", "text"), MYTH_CASES)
def test_myths_are_found(myths, myth, text):
    assert myth in myths.label(post(text, relevant=True)).values["myths"]


CORRECTIONS = [
    ("mass_release", "❌ لا علاقة للعقوبات البديلة بالعفو الملكي، القاضي يقرر حالة بحالة."),
    ("mass_release", "Faux : rien n'est automatique, ce n'est pas une amnistie."),
    ("dangerous_criminals_freed", "Non, les violeurs ne sont pas concernés : le viol est un crime, exclu."),
    ("bracelet_fears", "ila 9te3ti lbrasli rak rje3ti l7bs direct, ma kayn la hroub la walou"),
    ("rich_buy_freedom", "Rappel : l'amende journalière c'est pas « chri l7bs », il faut l'accord de la victime."),
]


@pytest.mark.parametrize(("myth", "text"), CORRECTIONS)
def test_a_correction_carries_the_myth_and_supports(myths, stance, myth, text):
    found = myths.label(post(text, relevant=True)).values["myths"]
    assert myth in found
    assert stance.label(post(text, relevant=True, myths=found)).values == {"stance": "support"}


def test_no_myth_when_not_relevant(myths):
    assert myths.label(post("Ils vont vider les prisons", relevant=False)).values == {"myths": []}


# --------------------------------------------------------------------------------------------
# Stance
# --------------------------------------------------------------------------------------------


def _stance(stance, myths, text, lang="fr"):
    found = myths.label(post(text, relevant=True)).values["myths"]
    return stance.label(post(text, relevant=True, myths=found, lang=lang)).values["stance"]


@pytest.mark.parametrize(("text", "lang"), [
    ("Ils vont vider les prisons pour faire des économies. Amnistie déguisée.", "fr"),
    ("عدالة طبقية بامتياز: الغني يشتري حريته والفقير يقبع في السجن.", "ar"),
    ("غير يقطع البراسلي ويهرب، البوليس ماعندهومش الوقت لهادشي", "ary"),
    ("So in Morocco you can now pay to skip jail? Justice for the rich.", "en"),
])
def test_spreading_a_myth_opposes(stance, myths, text, lang):
    assert _stance(stance, myths, text, lang) == "oppose"


@pytest.mark.parametrize(("text", "lang"), [
    ("Enfin une loi qui s'attaque à la surpopulation carcérale, c'est du bon sens 👏", "fr"),
    ("العقوبات البديلة خطوة متقدمة في مسار إصلاح منظومة العدالة", "ar"),
    ("l9anoun dyal l3o9oubat lbadila a7san haja, l7bs ma kayrbi 7ta wa7ed", "ary"),
    ("Second chances matter. Alternative sentences make sense.", "en"),
])
def test_defending_supports(stance, myths, text, lang):
    assert _stance(stance, myths, text, lang) == "support"


@pytest.mark.parametrize(("text", "lang"), [
    ("Bonjour, comment fonctionne le bracelet exactement ? La personne peut-elle aller travailler ?", "fr"),
    ("كيف يتم تحديد مبلغ الغرامة اليومية؟", "ar"),
    ("كيفاش نعرف واش القضية ديالي فيها العقوبات البديلة؟", "ary"),
    ("wach jon7a dyal chik bla rasid tdkhol f l3o9oubat lbadila?", "ary"),
    ("Anyone know if people already in prison can apply for an alternative sentence?", "en"),
])
def test_asking_how_it_works_is_a_question(stance, myths, text, lang):
    assert _stance(stance, myths, text, lang) == "question"


@pytest.mark.parametrize("text", [
    "المجلس الأعلى للسلطة القضائية: الغرامة اليومية تمثل 45% من العقوبات البديلة المحكوم بها.",
    "Morocco: 1,001 alternative-sentence rulings covering 1,077 people by end-2025, per the CSPJ.",
])
def test_news_is_neutral(stance, myths, text):
    assert _stance(stance, myths, text) == "neutral"


def test_toxic_posts_attack_and_articles_inform(stance):
    insult = post("Ceux qui défendent cette loi sont des naïfs", relevant=True, myths=[], toxicity="insult")
    assert stance.label(insult).values == {"stance": "oppose"}
    article = post("Le CSPJ rappelle que les peines alternatives ne sont pas une amnistie.", kind="article",
                   title="Peines alternatives : le CSPJ répond", relevant=True, myths=["mass_release"],
                   toxicity="none")
    assert stance.label(article).values == {"stance": "neutral"}


def test_asking_whether_a_rumour_is_true_is_a_question(stance, myths):
    for text, lang in [("Quelqu'un peut confirmer ? On dit que 30 000 détenus sortent le 18 novembre.", "fr"),
                       ("واش صحيح غادي يطلقو 30 ألف حباس؟", "ary"),
                       ("sme3t bli lbrasli fih micro, wach s7i7 had chi?", "ary")]:
        found = myths.label(post(text, relevant=True)).values["myths"]
        assert found, text
        assert stance.label(post(text, relevant=True, myths=found, lang=lang)).values == {"stance": "question"}


def test_not_relevant_is_neutral(stance):
    labels = stance.label(post("Amnistie déguisée, bravo", relevant=False, myths=[]))
    assert labels.values == {"stance": "neutral"}


# --------------------------------------------------------------------------------------------
# Toxicity
# --------------------------------------------------------------------------------------------

PER = {"id": None, "text": "وهبي", "label": "PER"}
ORG = {"id": "ministry_of_justice", "text": "la Justice", "label": "ORG"}


def _tox(toxicity, text, entities=()):
    return toxicity.label(post(text, entities=list(entities))).values["toxicity"]


@pytest.mark.parametrize(("text", "expected"), [
    ("سير تقرا عاد جي تعلق، حمار", "insult"),
    ("nta li khassek l7bs a 9lil l7ya", "insult"),
    ("You clearly didn't read a single line of the law, stop embarrassing yourself.", "insult"),
    ("Espèce d'abruti, retourne à l'école avant de commenter", "insult"),
    ("الحباسة كاملين ما فيهومش الخير، خليوهم يخنزو تما", "hate"),
    ("l7abbasa ga3 3la9a wa7da, ma fihom khir", "hate"),
    ("Ces détenus c'est de la racaille, qu'ils pourrissent en prison", "hate"),
    ("غادي نقتلك يلا شفتك فالزنقة", "threat"),
    ("ghadi n9tlek ila chftek", "threat"),
    ("On sait où tu habites, tu vas le payer", "threat"),
    ("Les peines alternatives entrent en vigueur ce vendredi.", "none"),
    ("العقوبات البديلة خطوة متقدمة", "none"),
])
def test_toxicity_classes(toxicity, text, expected):
    assert _tox(toxicity, text) == expected


def test_toxicity_applies_to_posts_that_are_not_relevant(toxicity):
    labels = toxicity.label(post("mabrouk 3la lmatch, nta wa7ed lmkelkh", relevant=False))
    assert labels.values == {"toxicity": "insult"}
    assert 0.0 <= labels.confidence <= 1.0


def test_defamation_needs_a_named_person_or_institution(toxicity):
    text = "وهبي دار هاد القانون باش يخرج صحابو من الحبس، عارفينكم"
    assert _tox(toxicity, text, [PER]) == "defamation"
    assert _tox(toxicity, text, []) != "defamation"
    fr = "Le ministère de la Justice est corrompu jusqu'à l'os"
    assert _tox(toxicity, fr, [ORG]) == "defamation"
    assert _tox(toxicity, "Le ministre est corrompu jusqu'à l'os", []) == "none"  # anonymous
    # A designated body in a named place is named: "le parquet de Tanger".
    tanger = "Le parquet de Tanger a fait passer le fils d'un élu sous bracelet contre une enveloppe."
    assert _tox(toxicity, tanger, [{"id": None, "text": "Tanger", "label": "LOC"}]) == "defamation"


def test_the_law_listing_corruption_is_not_defamation(toxicity):
    text = "المادة 35-3 تستثني جرائم الإرهاب والاختلاس والرشوة وغسل الأموال"
    assert _tox(toxicity, text, [{"id": "law_43_22", "text": "المادة 35-3", "label": "LAW"},
                                 {"id": None, "text": "CSPJ", "label": "ORG"}]) == "none"


def test_toxicity_priority(toxicity):
    assert _tox(toxicity, "يا حمار، غادي نقتلك") == "threat"  # threat > insult
    assert _tox(toxicity, "Bande d'idiots, ces migrants sont des parasites") == "hate"  # hate > insult
    assert _tox(toxicity, "وهبي حمار ومرتشي", [PER]) == "defamation"  # defamation > insult
    assert _tox(toxicity, "Ouahbi est corrompu, on va le tuer", [PER]) == "threat"  # threat > defamation


# --------------------------------------------------------------------------------------------
# Data files: mistakes name the file and the field
# --------------------------------------------------------------------------------------------

ENRICHERS = [RelevanceEnricher, TopicEnricher, MythEnricher, StanceEnricher, ToxicityEnricher]


@pytest.mark.parametrize("cls", ENRICHERS)
def test_unknown_label_names_file_and_field(tmp_path, cls):
    bad = tmp_path / "broken.yaml"
    bad.write_text("version: 1\nlabels:\n  not_a_label:\n    fr: [\"x\"]\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        cls(bad)
    assert str(bad) in str(err.value) and "labels.not_a_label" in str(err.value)


@pytest.mark.parametrize("cls", ENRICHERS)
def test_broken_yaml_names_the_file(tmp_path, cls):
    bad = tmp_path / "broken.yaml"
    bad.write_text("version: 1\nlabels: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        cls(bad)
    assert str(bad) in str(err.value) and "not valid YAML" in str(err.value)


def test_bad_term_and_bad_setting_name_the_field(tmp_path):
    bad = tmp_path / "topics.yaml"
    bad.write_text("version: 1\nlabels:\n  day_fine:\n    fr: [\"amende journalière\", 3]\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"labels\.day_fine\.fr"):
        TopicEnricher(bad)
    bad.write_text("version: 1\nsettings:\n  min_hits: many\nlabels:\n  day_fine:\n    fr: [\"amende\"]\n",
                   encoding="utf-8")
    with pytest.raises(DataFileError, match=r"settings\.min_hits"):
        TopicEnricher(bad)
    tox = tmp_path / "toxicity.yaml"
    tox.write_text("version: 1\nsettings:\n  priority: [threat, hate]\nlabels:\n  threat: {fr: [a]}\n"
                   "  hate: {fr: [b]}\n  insult: {fr: [c]}\n  accusation: {fr: [d]}\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"settings\.priority"):
        ToxicityEnricher(tox)


def test_missing_required_label_is_named(tmp_path):
    bad = tmp_path / "stance.yaml"
    bad.write_text("version: 1\nlabels:\n  support:\n    fr: [bravo]\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"labels\.correction"):
        StanceEnricher(bad)


# --------------------------------------------------------------------------------------------
# Contract: versions, declared fields, pipeline order
# --------------------------------------------------------------------------------------------


class _Entities(Enricher):
    name, version = "fake_entities", "1.0"
    reads: ClassVar = frozenset({"text"})
    sets: ClassVar = frozenset({"entities"})

    def label(self, m):
        return Labels({"entities": []})


def test_enrichers_chain_in_a_pipeline():
    pipeline = Pipeline([LanguageEnricher(), RelevanceEnricher(), TopicEnricher(), MythEnricher(),
                         _Entities(), ToxicityEnricher(), StanceEnricher()])
    out = pipeline.run(post("Ils vont vider les prisons, c'est une amnistie déguisée des peines alternatives"))
    assert out.relevant is True and "mass_release" in out.myths
    assert out.stance == "oppose" and out.toxicity == "none"
    # 1.1: topics, myths, toxicity and stance combine their lexicon with the shared classifier;
    # myths 1.2: the classifier may veto a lexicon hit; relevance 1.1: the classifier may find
    # a post without reform words relevant.
    expected = {"relevant": "1.1.0", "topics": "1.1.0", "myths": "1.2.0", "stance": "1.1.0", "toxicity": "1.1.0"}
    for field, version in expected.items():
        assert out.provenance[field].version == version
        assert 0.0 <= out.provenance[field].confidence <= 1.0


def test_misordered_pipeline_fails_when_built():
    with pytest.raises(PipelineError, match="stance.v1"):
        Pipeline([LanguageEnricher(), RelevanceEnricher(), MythEnricher(), StanceEnricher(),
                  _Entities(), ToxicityEnricher()])


# --------------------------------------------------------------------------------------------
# Lexicon matching: the word index finds exactly what the terms' regular expressions find
# --------------------------------------------------------------------------------------------


def _regex_find(lexicon, normalized):
    from enrichers.lexicon import Hit

    hits = []
    for label, pattern in lexicon._patterns.items():
        for m in pattern.finditer(normalized):
            hits.append(Hit(label, lexicon._index[label][m.lastgroup or "t0"], m.start(), m.end()))
    hits.sort(key=lambda h: (h.start, -h.end))
    return hits


@pytest.mark.parametrize("cls", ENRICHERS)
def test_word_index_matches_the_regular_expressions(cls):
    from enrichers.lexicon import normalize

    lexicon = cls().lexicon
    texts = [text for _lang, text in RELEVANT + NOISE] + [text for _m, text in MYTH_CASES + CORRECTIONS]
    texts += ["وبالعقوبات البديلة والسوار", "libérations libérés libre", "x43.22 43.22. 22.43", "ال و ب", ""]
    for text in texts:
        for candidate in (normalize(text), text):
            assert lexicon.find(candidate) == _regex_find(lexicon, candidate), text
            for label in lexicon.labels:
                expected = bool(label in lexicon._patterns and lexicon._patterns[label].search(candidate))
                assert lexicon.matches(candidate, label) == expected


def test_myth_classifier_is_optional_and_validated(tmp_path, caplog):
    lexicon = "labels:\n  impunity:\n    fr: [impunite]\n"
    missing = tmp_path / "myths.yaml"
    missing.write_text(f"version: 1\nsettings:\n  classifier: {{train_file: {tmp_path}/none.jsonl}}\n{lexicon}",
                       encoding="utf-8")
    enricher = MythEnricher(missing)  # no training file: the lexicon works alone
    assert enricher.classifier is None and "not found" in caplog.text
    assert enricher.label(post("C'est l'impunité", relevant=True)).values == {"myths": ["impunity"]}
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"version: 1\nsettings:\n  classifier: {{train_file: 3}}\n{lexicon}", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"settings\.classifier\.train_file"):
        MythEnricher(broken)
