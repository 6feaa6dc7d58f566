"""Rumor clusters: online, cross-lingual, deterministic, idempotent, bounded, restartable."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from enrichers.base import Pipeline
from enrichers.clusters import (
    DEFAULT_SCORER,
    OVERLAP,
    PAIR_FEATURES,
    SIGNATURE_FIELD,
    ClusterEnricher,
    InMemoryClusterStore,
    PairScorer,
    RumorClusterer,
    Signature,
    _Specificity,
    cluster_id_for,
    find_concepts,
    load_concepts,
    load_scorer,
    pair_features,
)
from enrichers.language import LanguageEnricher
from enrichers.registry import LABEL_FIELDS
from sada.errors import DataFileError
from tests.builders import mention

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)

# One rumor (30,000 prisoners released with a bracelet on 1 December), as people write it.
RELEASE = [
    ("fr", "URGENT : à partir du 1er décembre, plus de 30.000 détenus vont être libérés avec un bracelet "
           "électronique. Le ministère de la Justice a validé la liste."),
    ("ary", "عاجل: ابتداء من فاتح دجنبر غادي يطلقو كثر من 30 ألف حباس بالبراسلي، ووزارة العدل صادقات على اللائحة"),
    ("ary", "3ajil: mn fati7 dojanbir ghadi ytl9o ktar mn 30 alf 7abbas b lbrasli, wizarat l3adl sad9at 3la lista"),
    ("ar", "الإفراج عن أكثر من 30 ألف سجين ابتداء من فاتح دجنبر بالسوار الإلكتروني بعد مصادقة وزارة العدل على اللائحة"),
    ("en", "BREAKING: over 30,000 prisoners to be released with electronic bracelets from December 1st, "
           "the Justice Ministry approved the list."),
]
# Copy-paste forwards of the first one.
FORWARDS = [
    ("fr", RELEASE[0][1] + " Partagez avant qu'ils suppriment !!! 😡😡 #PeinesAlternatives #Maroc"),
    ("fr", "🔴🔴 " + RELEASE[0][1] + " faites tourner"),
    ("ar", "انشروا 🙏 " + RELEASE[3][1]),
    ("en", RELEASE[4][1] + " pls share 🙏 #Morocco"),
]
# Other claims on the same topic (the bracelet, the day-fine): each its own cluster.
ESCAPE = [
    ("fr", "Il coupe le bracelet et disparaît, personne ne le retrouvera jamais."),
    ("ary", "غير يقطع البراسلي ويهرب، حتى واحد ما غادي يلقاه"),
    ("ary", "ghir y9te3 lbrasli w yhreb, 7ta wa7ed ma ghadi yl9ah"),
    ("en", "He just cuts the bracelet off and disappears, nobody will ever find him."),
]
ISRAEL = [
    ("fr", "Les bracelets électroniques sont fabriqués par une société israélienne qui récupère toutes vos données."),
    ("ar", "الأساور الإلكترونية تصنعها شركة إسرائيلية تجمع كل معطياتكم الشخصية"),
]
RICH = [
    ("fr", "Les riches paient 2000 DH par jour et sortent de prison, les pauvres restent enfermés."),
    ("ary", "اللي عندو الفلوس كيخلص 2000 درهم فالنهار ويخرج من الحبس، والمزلوط كيبقى"),
    ("ary", "li 3ndo lflous kaykhlles 2000dh f nhar w ykhrej mn l7bs, w lmzlot kayb9a"),
    ("en", "The rich pay 2,000 dirhams a day and walk out of prison while the poor stay locked up."),
]


@pytest.fixture
def clusterer() -> RumorClusterer:
    return RumorClusterer()


def feed(c: RumorClusterer, posts, prefix: str, start: int = 0, step: timedelta = timedelta(minutes=7)):
    out = []
    for n, (lang, text) in enumerate(posts):
        got = c.assign(f"{prefix}{n}", text, lang=lang, published_at=T0 + step * (start + n), platform="x")
        out.append(got.cluster_id)
    return out


def test_paraphrases_in_four_languages_and_both_scripts_join_one_cluster(clusterer):
    ids = feed(clusterer, RELEASE, "r")
    assert len(set(ids)) == 1 and ids[0] is not None


def test_the_first_post_has_from_the_start_the_id_its_followers_get(clusterer):
    ids = feed(clusterer, RELEASE, "r")
    assert ids[0] == cluster_id_for("r0")


def test_copy_paste_forwards_with_formulas_emojis_and_hashtags_join(clusterer):
    ids = feed(clusterer, RELEASE + FORWARDS, "r")
    assert len(set(ids)) == 1


def test_different_claims_on_the_same_topic_stay_apart(clusterer):
    # interleaved, as they arrive on a busy day
    streams = {"release": RELEASE, "escape": ESCAPE, "israel": ISRAEL, "rich": RICH}
    order = []
    for n in range(max(len(s) for s in streams.values())):
        for name, posts in streams.items():
            if n < len(posts):
                order.append((name, posts[n]))
    got: dict[str, set[str]] = {name: set() for name in streams}
    for k, (name, (lang, text)) in enumerate(order):
        got[name].add(clusterer.assign(f"{name}{k}", text, lang=lang, published_at=T0 + timedelta(minutes=k)).cluster_id)
    assert all(len(ids) == 1 for ids in got.values()), got
    assert len(set().union(*got.values())) == 4


def test_a_claim_never_seen_before_opens_its_own_cluster(clusterer):
    feed(clusterer, RELEASE, "r")
    # nobody listed this rumor anywhere: it still gets a cluster, which its repeats join
    new = [("fr", "Les condamnés au TIG devront nettoyer les mosquées tous les vendredis, annonce le ministre."),
           ("ary", "المحكومين بالعمل للمنفعة العامة غادي يشطبو المساجد كل جمعة، قالها الوزير")]
    ids = feed(clusterer, new, "n", start=10)
    assert ids[0] == ids[1] == cluster_id_for("n0")
    assert ids[0] != cluster_id_for("r0")


def test_the_same_claim_with_another_figure_is_another_cluster(clusterer):
    first = feed(clusterer, [("fr", "30 000 détenus libérés le 18 novembre grâce à la loi 43.22, c'est officiel"),
                             ("ary", "18 novembre ghadi ytl9o 30 alf 7abbas b l9anoun 43.22")], "a")
    other = feed(clusterer, [("fr", "12 000 détenus déjà libérés depuis août grâce à la loi 43.22, c'est officiel"),
                             ("ar", "12 ألف سجين غادروا السجون منذ غشت بفضل القانون 43.22")], "b", start=5)
    assert first[0] == first[1] and other[0] == other[1] and first[0] != other[0]


def test_darija_meets_darija_across_scripts_without_the_lexicon(clusterer):
    # none of these words is a concept: the two scripts meet on the words' consonants
    ids = feed(clusterer, [("ary", "الطوموبيل ديال الجماعة تقلبات فالطريق ديال سيدي قاسم والسيكليس هربو"),
                           ("ary", "tomobil dyal jama3a t9elbat f tri9 dyal sidi 9asem w siklis hrbo")], "d")
    assert ids[0] == ids[1]


def _sig(lang: str, **concepts: float) -> Signature:
    return Signature({f"c:{k}": w for k, w in concepts.items()}, frozenset(), lang)


def test_a_shared_myth_joins_versions_that_share_few_notions_but_never_joins_alone():
    # a rumor and its Darija version: two notions in common, the third worded differently
    first, version = _sig("fr", fifa=1.2, imposed=1.2, stadium=1.3), _sig("ary", fifa=1.2, imposed=1.2, hurry=1.3)
    # another claim labelled with the same myth, nothing else in common
    other = _sig("en", europe=1.3, funding=1.3, loan=1.2)
    myth = ["foreign_agenda"]
    for weight, joins in ((0.0, False), (0.6, True)):
        c = RumorClusterer(myth_weight=weight)
        got = [c.assign(f"p{n}", "", published_at=T0 + timedelta(minutes=n), signature=sig, myths=myth).cluster_id
               for n, sig in enumerate((first, version, other))]
        assert (got[0] == got[1]) is joins, weight
        assert got[2] not in got[:2]


def test_the_enricher_gives_the_clusterer_the_mentions_myths():
    seen = []

    class Spy(RumorClusterer):
        def assign(self, *args, **kwargs):
            seen.append(kwargs["myths"])
            return super().assign(*args, **kwargs)

    stage = Pipeline([ClusterEnricher(Spy())], provided=LABEL_FIELDS)
    stage.run_many([mention(0, text=RICH[0][1], myths=["rich_buy_freedom"]), mention(1, text=RICH[3][1])])
    assert seen == [["rich_buy_freedom"], None]


def test_a_lone_post_keeps_its_own_cluster_and_an_empty_one_gets_none(clusterer):
    lone = clusterer.assign("a", "Le juge d'application des peines de Settat a prolongé le délai de paiement.",
                            lang="fr", published_at=T0)
    assert lone.cluster_id == cluster_id_for("a") and lone.new
    assert clusterer.assign("b", "👏👏👏 🔥", lang="und", published_at=T0).cluster_id is None
    assert clusterer.assign("c", "https://t.co/xyz #Loi4322", lang="und", published_at=T0).cluster_id is None


def test_redelivery_returns_the_same_cluster_and_does_not_count_twice(clusterer):
    ids = feed(clusterer, RELEASE, "r")
    size = clusterer.clusters[ids[0]].size
    again = clusterer.assign("r3", RELEASE[3][1], lang="ar", published_at=T0 + timedelta(hours=5))
    assert again.cluster_id == ids[0] and again.redelivered
    # even redelivered with another text (an edited post): same cluster, same size
    again = clusterer.assign("r1", ESCAPE[0][1], lang="fr", published_at=T0 + timedelta(hours=5))
    assert again.cluster_id == ids[0]
    assert clusterer.clusters[ids[0]].size == size == len(RELEASE)


def test_clusters_idle_for_too_long_are_forgotten(clusterer):
    ids = feed(clusterer, RELEASE[:2], "r")
    lone = clusterer.assign("lone", ISRAEL[0][1], lang="fr", published_at=T0)
    later = T0 + timedelta(days=clusterer.idle.days + 1)
    again = clusterer.assign("late", RELEASE[3][1], lang="ar", published_at=later)
    assert again.new and again.cluster_id != ids[0]
    assert ids[0] not in clusterer.clusters and lone.cluster_id not in clusterer.clusters


def test_one_post_clusters_are_forgotten_sooner(clusterer):
    first = clusterer.assign("s0", ESCAPE[0][1], lang="fr", published_at=T0)
    mid = T0 + clusterer.singleton_idle + timedelta(hours=2)
    assert mid < T0 + clusterer.idle
    again = clusterer.assign("s1", ESCAPE[3][1], lang="en", published_at=mid)
    assert again.cluster_id != first.cluster_id


def test_memory_is_bounded_by_max_clusters():
    c = RumorClusterer(max_clusters=20)
    for n in range(200):
        c.assign(f"m{n}", f"Le tribunal numéro {n} de la ville {n * 7} a jugé l'affaire {n * 13} hier.", lang="fr",
                 published_at=T0 + timedelta(seconds=n))
    assert len(c.clusters) <= 21
    assert c.stats()["postings"] <= 21 * 40


def test_ten_thousand_copies_of_a_viral_post_stay_cheap(clusterer):
    text = FORWARDS[0][1]
    started = time.perf_counter()
    for n in range(10_000):
        clusterer.assign(f"v{n}", text, lang="fr", published_at=T0 + timedelta(seconds=n))
    elapsed = time.perf_counter() - started
    assert len(clusterer.clusters) == 1
    cluster = next(iter(clusterer.clusters.values()))
    assert cluster.size == 10_000 and len(cluster.exemplars) == 1
    assert clusterer.stats()["postings"] < 50
    assert elapsed < 20  # ~0.5 ms per post on a laptop core; generous for slow CI


def test_one_pass_in_the_same_order_gives_the_same_ids():
    posts = RELEASE + ESCAPE + RICH + ISRAEL + FORWARDS
    assert feed(RumorClusterer(), posts, "p") == feed(RumorClusterer(), posts, "p")


@pytest.mark.parametrize("written", ["30000", "30.000", "٣٠٠٠٠", "30 000", "30,000", "30 ألف", "30 alf", "30k", "٣٠ ألف"])
def test_numbers_are_normalised_before_comparing(clusterer, written):
    sig = clusterer.signer.sign(f"plus de {written} détenus", "fr")
    assert "n:30000" in sig.features


# One figure, written the ways people write it: each group must give the same feature.
SAME_FIGURE = {
    "n:2000": [("fr", "deux mille condamnés"), ("fr", "2 000 condamnés"), ("ar", "ألفين محكوم"),
               ("ar", "ألفا محكوم"), ("ary", "jouj alaf mhkoum"), ("ary", "جوج آلاف محكوم"),
               ("en", "two thousand convicts"), ("es", "dos mil condenados")],
    "n:300": [("fr", "trois cents places"), ("ar", "ثلاثمائة مكان"), ("es", "trescientas plazas"), ("fr", "300 places")],
    "n:3000": [("ar", "ثلاثة آلاف محكوم"), ("ary", "tlata alaf mhkoum"), ("fr", "3 000 condamnés")],
    "n:40": [("fr", "quarante magistrats"), ("ar", "أربعين قاضيا"), ("ary", "ربعين قاضي"), ("ary", "rb3in 9adi"),
             ("en", "forty judges"), ("fr", "40 magistrats")],
    "n:50": [("ary", "khamsin wa7ed"), ("ary", "خمسين واحد"), ("fr", "50 personnes")],
    "n:50000": [("ar", "خمسين ألف سجين"), ("ary", "khamsin alf 7abs"), ("fr", "50 000 détenus")],
    "n:640": [("fr", "six cent quarante prisonniers"), ("en", "six hundred and forty inmates"), ("ar", "640 سجينا")],
    "n:1640": [("ar", "بلغ عدد الأحكام ألفا وستمائة وأربعين حكما"), ("ary", "alf w stmya w reb3in"),
               ("fr", "1 640 jugements")],
    "n:140": [("ary", "مية وربعين ديال الأولتراس"), ("ary", "mya w rb3in wa7ed"), ("fr", "140 ultras")],
    "n:25": [("ar", "خمسة وعشرون سجينا"), ("fr", "vingt-cinq détenus"), ("es", "veinticinco presos")],
    "n:99": [("fr", "quatre-vingt-dix-neuf détenus"), ("en", "ninety-nine inmates")],
    "n:312000000": [("fr", "312 millions de DH"), ("ar", "ثلاثمائة واثني عشر مليون درهم"),
                    ("ary", "31 مليار و200 مليون ديال السنتيم"), ("ary", "31200 melyoun")],
    # amounts in centimes, francs and ryals, brought back to dirhams
    "n:500": [("fr", "500 DH"), ("ary", "50 alf franc"), ("fr", "50 000 centimes"), ("ary", "خمسين ألف فرنك"),
              ("ary", "10 alaf ryal")],
    "n:1200": [("ary", "ألف و200 درهم"), ("ary", "120 alf franc"), ("fr", "1 200 dirhams"), ("en", "1,200 DH"),
               ("ar", "ألف ومائتي درهم"), ("en", "twelve hundred dirhams")],
    "n:1500": [("en", "fifteen hundred dirhams"), ("fr", "1 500 dirhams")],
    "n:310000000": [("ar", "31 مليار ديال السنتيم"), ("fr", "310 millions de dirhams")],
    "n:10000": [("ary", "melyoun dyal sntim"), ("ary", "مليون"), ("fr", "10 000 DH")],
    "n:5000": [("ary", "نص مليون"), ("ary", "nos melyoun"), ("fr", "5 000 DH")],
    "n:80000000": [("ary", "8 melyar dyal sntim"), ("fr", "80 millions de dirhams")],
    # percentages
    "p:40": [("fr", "40 % des détenus"), ("fr", "40% des détenus"), ("ary", "أربعين فالمية"), ("ary", "rbe3in f lmya"),
             ("en", "four in ten inmates"), ("ar", "خُمسي نزلاء السجون"), ("fr", "quarante pour cent"),
             ("ar", "40 في المائة")],
    "p:80": [("fr", "8 sur 10"), ("ary", "4 mn 5 dyal l a7kam"), ("ar", "ثمانية أحكام من أصل عشرة"),
             ("ary", "تمانين فالمية"), ("en", "80 percent"), ("es", "ocho de cada diez")],
    "p:30": [("fr", "trois jugements correctionnels sur dix"), ("ar", "ثلاثون في المائة"), ("ary", "30% mn ljun7")],
    # dates
    "d:02-20": [("fr", "le 20/02/2027"), ("fr", "le 20 février"), ("ar", "20 فبراير"), ("ar", "العشرين من فبراير"),
                ("es", "el 20 de febrero"), ("ary", "mn 20 febrayer"), ("en", "February 20th"), ("fr", "le 20/02")],
    "d:03-01": [("ar", "فاتح مارس"), ("ar", "في الفاتح من مارس"), ("fr", "le 1er mars"), ("en", "March 1st"),
                ("ary", "nhar 1/3"), ("en", "the first of March"), ("fr", "le premier mars")],
    "d:11-08": [("ary", "السبت والحد 7 و8 نونبر"), ("en", "over the weekend of November 7-8"),
                ("fr", "les 7 et 8 novembre"), ("ary", "nhar sebt w l7ed 7/8 novembre"), ("fr", "8 nov.")],
    "d:01-15": [("ar", "15 كانون الثاني"), ("fr", "15 janvier")],
    # durations
    "dd:42": [("fr", "en six semaines"), ("ary", "f 42 yom"), ("ary", "ف ستة د السيمانات"), ("en", "six weeks")],
    "y:20": [("fr", "vingt ans de casier"), ("ar", "عشرين سنة"), ("ary", "عشرين عام"), ("ary", "20 3am")],
    "mo:2": [("fr", "deux mois"), ("ar", "شهرين"), ("en", "2 months")],
    "mo:6": [("fr", "six mois"), ("fr", "un semestre"), ("fr", "une demi-année"), ("en", "half a year"),
             ("ar", "ستة أشهر"), ("ar", "نصف سنة"), ("ary", "نص عام"), ("ary", "nos 3am"), ("ary", "sitt chhour")],
    "dd:3": [("fr", "trois jours"), ("ary", "تلت يام"), ("ary", "3 iyam"), ("en", "72 hours"), ("fr", "72 heures")],
}


@pytest.mark.parametrize(("key", "lang", "text"), [(k, lang, t) for k, forms in SAME_FIGURE.items() for lang, t in forms])
def test_a_figure_written_in_words_digits_or_another_unit_gives_one_feature(clusterer, key, lang, text):
    assert key in clusterer.signer.sign(text, lang).features


@pytest.mark.parametrize(("lang", "text"), [
    ("fr", "un détenu a été libéré"), ("fr", "une femme"), ("en", "one of them"), ("ar", "لا أحد يعلم"),
    ("ary", "واحد قطع البراسلي"), ("ary", "wa7ed 9te3 lbrasli"), ("ary", "bzaf dyal nas"), ("fr", "deux fois"),
    ("ar", "ربع مرات"), ("fr", "mille fois merci"), ("ar", "آلاف المعتقلين"), ("fr", "des millions de dirhams"),
    ("ary", "kaynin 3nd lpatronat"), ("ary", "ميتين بالضحك"),
])
def test_ordinary_words_that_are_also_numbers_give_no_figure(clusterer, lang, text):
    sig = clusterer.signer.sign(text, lang)
    assert not [k for k in sig.features if k[:2] in ("n:", "p:", "d:")]


def test_french_nos_before_years_is_not_darija_half_a_year(clusterer):
    assert "mo:6" in clusterer.signer.sign("ba9i lih nos 3am", "ary").features
    assert not [k for k in clusterer.signer.sign("nos années de galère", "fr").features if k.startswith("mo:")]


def test_hours_are_days_only_when_they_make_a_few_whole_days(clusterer):
    assert {"dd:3", "n:72"} <= clusterer.signer.sign("72 heures", "fr").features.keys()  # also the figure
    assert not [k for k in clusterer.signer.sign("240 heures de TIG", "fr").features if k.startswith("dd:")]
    assert not [k for k in clusterer.signer.sign("50 heures", "fr").features if k.startswith("dd:")]


def test_a_percentage_is_not_a_count(clusterer):
    pct = clusterer.signer.sign("40 % des détenus libérés", "fr")
    count = clusterer.signer.sign("40 détenus libérés", "fr")
    assert "p:40" in pct.features and "n:40" not in pct.features
    assert "n:40" in count.features and "p:40" not in count.features
    # two different percentages are two different figures, like two different counts
    assert pct.numbers == {"p:40"}
    assert clusterer.signer.sign("80 % des détenus libérés", "fr").numbers.isdisjoint(pct.numbers)


def test_two_dates_stay_two_dates(clusterer):
    feb = clusterer.signer.sign("à partir du 20/02", "fr").features
    march = clusterer.signer.sign("à partir du 20/03", "fr").features
    assert "d:02-20" in feb and "d:03-20" in march and "d:03-20" not in feb
    # "7/8 novembre" is two days of November, not the 7th of August
    assert "d:08-07" not in clusterer.signer.sign("nhar 7/8 novembre", "ary").features
    # a fraction is not a date without a word that announces one
    assert not [k for k in clusterer.signer.sign("1/3 des détenus", "fr").features if k.startswith("d:")]


def test_years_the_law_articles_and_small_numbers_weigh_little(clusterer):
    sig = clusterer.signer.sign("La loi 43.22 et l'article 647-22 : 5 détenus libérés en 2027", "fr")
    assert sig.features["n:43.22"] < 0.5
    assert sig.features["n:2027"] < 0.5
    assert sig.features["a:647-22"] < 0.5 and "n:647" not in sig.features
    assert sig.features["n:5"] < 1.0
    assert not sig.numbers  # none of them makes two posts conflict
    # a count in words of the years' range is a count ("deux mille"), a plain 2000 may be a year
    assert clusterer.signer.sign("deux mille condamnés", "fr").features["n:2000"] >= 1.0


def test_a_claim_whose_figure_is_written_differently_joins_one_cluster(clusterer):
    posts = [
        ("fr", "Un haut responsable de la DGAPR l'aurait confirmé : 40 % des détenus dehors avant l'été 2027."),
        ("ar", "مسؤول كبير في المندوبية يؤكد أن خُمسي نزلاء السجون سيغادرون الزنازين قبل صيف 2027"),
        ("ary", "rbe3in f lmya dyal l7absa ghadi ykhrjo 9bel sif 2027, 9alo wa7ed kbir f lmandoubiya"),
        ("en", "Prison administration insider: four in ten inmates walk free before summer 2027."),
    ]
    ids = feed(clusterer, posts, "pct")
    assert len(set(ids)) == 1
    # the same words with 40 detainees: another claim
    other = feed(clusterer, [("fr", "Un haut responsable de la DGAPR l'aurait confirmé : 40 détenus dehors "
                                    "avant l'été 2027.")], "cnt", start=10)
    assert other[0] != ids[0]


def test_restart_from_the_store_keeps_clusters_and_honours_redelivery():
    store = InMemoryClusterStore()
    first = RumorClusterer(store=store)
    ids = feed(first, RELEASE[:3], "r")
    feed(first, ESCAPE[:2], "e", start=3)
    first.flush()
    doc = store.clusters[ids[0]]
    assert doc["size"] == 3 and doc["languages"] == ["ary", "fr"]
    assert doc["member_sample"] == ["r0", "r1", "r2"] and doc["representative"].startswith("URGENT")

    restarted = RumorClusterer(store=store)
    # a new paraphrase joins the old cluster
    assert restarted.assign("r3", RELEASE[3][1], lang="ar", published_at=T0 + timedelta(hours=1)).cluster_id == ids[0]
    # redelivered ids do not inflate it
    assert restarted.assign("r1", RELEASE[1][1], lang="ary", published_at=T0 + timedelta(hours=1)).redelivered
    restarted.flush()
    assert store.clusters[ids[0]]["size"] == 4
    assert restarted.assign("e1", ESCAPE[1][1], lang="ary", published_at=T0).cluster_id == cluster_id_for("e0")


def test_flush_saves_only_what_changed():
    store = InMemoryClusterStore()
    c = RumorClusterer(store=store)
    feed(c, RELEASE[:2], "r")
    feed(c, ESCAPE[:1], "e", start=2)
    assert c.flush() == 2
    assert c.flush() == 0
    c.assign("r9", RELEASE[4][1], lang="en", published_at=T0 + timedelta(hours=1))
    assert c.flush() == 1 and len(store.memberships) == 4


def test_growth_per_hour_counts_members_in_the_last_hour_of_event_time(clusterer):
    ids = feed(clusterer, RELEASE + FORWARDS, "r", step=timedelta(minutes=20))
    doc = clusterer.clusters[ids[0]].to_doc()
    assert doc["size"] == 9 and doc["growth_per_hour"] == 3  # members at +120, +140, +160 min


def test_the_enricher_in_a_pipeline_sets_cluster_id_in_arrival_order():
    # the mentions carry no myths: nothing labelled them (the clusterer then compares the text only)
    pipe = Pipeline([LanguageEnricher(), ClusterEnricher(RumorClusterer())], provided=("myths",))
    ms = [mention(i, text=text) for i, (_, text) in enumerate(RELEASE + ESCAPE[:1])]
    out = pipe.run_many(ms)
    assert len({m.cluster_id for m in out[:5]}) == 1 and out[5].cluster_id != out[0].cluster_id
    assert out[0].cluster_id == cluster_id_for(ms[0].id)
    assert out[0].provenance["cluster_id"].enricher == "rumor_cluster.v1"


def _two_stages(posts):
    """The live layout in one process: labelling stage (with the signature) → JSON → cluster stage."""
    from enrichers.registry import labelling_pipeline
    from sada.model import Mention

    labelled = labelling_pipeline().run_many([mention(i, text=text) for i, (_, text) in enumerate(posts)])
    wire = [Mention.model_validate_json(m.to_json_bytes()) for m in labelled]
    return wire, Pipeline([ClusterEnricher(RumorClusterer())], provided=LABEL_FIELDS)


def test_the_labelling_stage_signature_gives_the_same_clusters_and_is_never_passed_on():
    posts = RELEASE + FORWARDS + ESCAPE + ISRAEL + RICH
    wire, stage = _two_stages(posts)
    assert all(getattr(m, SIGNATURE_FIELD)["v"] for m in wire)
    with_sig = stage.run_many(wire)
    # the same mentions without the attached signature: the cluster stage signs them itself
    bare = [m.model_copy(update={SIGNATURE_FIELD: None}) for m in wire]
    _, fresh = _two_stages(posts)
    without = fresh.run_many(bare)
    assert [m.cluster_id for m in with_sig] == [m.cluster_id for m in without]
    assert len({m.cluster_id for m in with_sig[:9]}) == 1 and len({m.cluster_id for m in with_sig}) > 3
    for m in with_sig:
        assert SIGNATURE_FIELD not in m.model_dump() and SIGNATURE_FIELD not in m.provenance
        assert SIGNATURE_FIELD.encode() not in m.to_json_bytes()


def test_a_signature_from_other_data_files_or_malformed_is_recomputed(monkeypatch):
    enricher = ClusterEnricher(RumorClusterer())
    signer = enricher.clusterer.signer
    sig = signer.sign(RELEASE[0][1], "fr")
    good = signer.to_field(sig)
    assert signer.from_field(good) == sig
    stale = {**good, "v": "1:0000:0000"}  # an enrich stage still running older lexicons
    assert signer.from_field(stale) is None
    assert signer.from_field({**good, "f": {"c:release": "heavy"}}) is None
    assert signer.from_field("garbage") is None and signer.from_field(None) is None
    # a stale signature must not be used: a wrong one would put the post in the wrong cluster
    calls = []
    monkeypatch.setattr(signer, "sign", lambda *a, **k: calls.append(a) or sig)
    enricher.label(mention(1, text=RELEASE[0][1]).model_copy(update={SIGNATURE_FIELD: stale}))
    assert len(calls) == 1
    enricher.label(mention(2, text=RELEASE[0][1]).model_copy(update={SIGNATURE_FIELD: good}))
    assert len(calls) == 1


def test_the_enricher_flushes_to_its_store_every_n_mentions():
    store = InMemoryClusterStore()
    enricher = ClusterEnricher(RumorClusterer(store=store), flush_every=2)
    for i, (_, text) in enumerate(RELEASE[:3]):
        enricher.label(mention(i, text=text))
    assert len(store.memberships) == 2
    enricher.close()
    assert len(store.memberships) == 3


# -- the concept lexicon ----------------------------------------------------------------------


def test_the_shipped_concept_lexicon_is_valid():
    lex = load_concepts()
    assert {"release", "bracelet", "escape", "rich", "pay", "prison"} <= set(lex.weights)


def test_an_arabizi_phrase_with_one_letter_words_matches_in_any_spelling(tmp_path):
    # "ma", "f", "li" have a one-consonant skeleton: they used to be dropped from the post's
    # words, so an arabizi phrase holding one could never match.
    path = tmp_path / "concepts.yaml"
    path.write_text("version: 1\nconcepts:\n  empty:\n    terms:\n      arabizi: [ma b9a fih 7ed, f lil]\n"
                    "  jail:\n    terms:\n      arabizi: [l7bs]\n", encoding="utf-8")
    lex = load_concepts(path)

    def found(text):
        return {m.key for m in find_concepts(lex, text, True)[1]}

    assert found("had l7bs ma b9a fih 7ed") == {"empty", "jail"}
    assert found("mab9a fih hed, khwaw kolchi") == set()  # a different word count is not the phrase
    assert found("me b9e fih 7add f l7bs") == {"empty", "jail"}  # vowels and doubled letters vary
    assert found("kharjin f lil") == {"empty"}
    assert found("ma fih walo") == set()


@pytest.mark.parametrize(("body", "field"), [
    ("version: 1\nconcepts:\n  Release:\n    terms: {fr: [libérer]}\n", "concepts.Release"),
    ("version: 1\nconcepts:\n  release:\n    weight: 9\n    terms: {fr: [libérer]}\n", "concepts.release.weight"),
    ("version: 1\nconcepts:\n  release:\n    terms: {fr: [libérer, '...']}\n", "concepts.release.terms.fr[1]"),
    ("version: 1\nconcepts:\n  release:\n    terms: {fr: [yes]}\n", "concepts.release.terms.fr[0]"),
    ("version: 1\nsettings:\n  threshold: 2\nconcepts:\n  release:\n    terms: {fr: [libérer]}\n", "settings.threshold"),
    ("version: 1\nconcepts: {}\n", "concepts"),
])
def test_concept_lexicon_errors_name_the_file_and_the_field(tmp_path, body, field):
    path = tmp_path / "concepts.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_concepts(path)
    assert str(path) in str(err.value)
    assert err.value.field == field


# -- the learned pair scorer ------------------------------------------------------------------

def _pair(a: Signature, b: Signature, hours: float = 2.0) -> tuple[float, ...]:
    spec = _Specificity({}, 8.0)
    return pair_features(a, b, dict(a.features), sum(a.features.values()), spec, hours)


def test_pair_features_read_what_two_posts_share():
    a = Signature({"c:release": 1.2, "c:bracelet": 0.5, "m:mass_release": 0.6, "e:city_nador": 1.5,
                   "n:30000": 1.5}, frozenset({"tl9", "7bs", "lys"}), "ary")
    b = Signature({"c:release": 1.2, "m:mass_release": 0.6, "e:city_nador": 1.5, "n:30000": 1.5},
                  frozenset({"tl9", "7bs"}), "fr")
    x = dict(zip(PAIR_FEATURES, _pair(a, b, hours=5.0), strict=True))
    assert x["shared_myths"] == 1 and x["shared_entities"] == 1 and x["shared_figure"] == 1
    assert x["same_language"] == 0
    assert x["shared_weight"] == pytest.approx(math.log1p(1.2 + 0.6 + 1.5 + 1.5))
    assert x["hours_apart"] == pytest.approx(math.log1p(5.0))
    assert 0 < x["feature_similarity"] <= 1 and 0 < x["word_similarity"] <= 1
    # nothing in common: every sharing feature is 0
    c = Signature({"c:escape": 1.3}, frozenset({"hrb"}), "ary")
    y = dict(zip(PAIR_FEATURES, _pair(a, c), strict=True))
    assert y["feature_similarity"] == y["word_similarity"] == y["shared_weight"] == y["shared_myths"] == 0
    assert y["same_language"] == 1


def test_a_learned_scorer_is_a_logistic_regression_on_the_pair_features():
    a = Signature({"c:release": 1.2, "c:fifa": 1.3}, frozenset({"fifa", "tl9"}), "fr")
    b = Signature({"c:release": 1.2, "c:fifa": 1.3, "c:stadium": 1.0}, frozenset({"fifa"}), "en")
    weights = tuple(float(k + 1) / 4 for k in range(len(PAIR_FEATURES)))
    scorer = PairScorer(weights, -3.0)
    x = _pair(a, b, hours=30.0)
    expected = 1 / (1 + math.exp(-(-3.0 + sum(w * v for w, v in zip(weights, x, strict=True)))))
    spec = _Specificity({}, 8.0)
    assert scorer.score(a, b, dict(a.features), 2.5, spec, 30.0) == pytest.approx(expected)
    # the overlap similarity is the larger of the two similarities
    assert OVERLAP.score(a, b, dict(a.features), 2.5, spec, 30.0) == pytest.approx(max(x[0], x[1]))


def test_the_shipped_pair_scorer_weighs_the_evidence_the_right_way():
    scorer = load_scorer(DEFAULT_SCORER)
    w = dict(zip(PAIR_FEATURES, scorer.weights, strict=True))
    # sharing more says "same claim"; time since the cluster last grew says the opposite
    for name in ("feature_similarity", "word_similarity", "shared_weight", "shared_myths", "shared_figure",
                 "shared_entities"):
        assert w[name] > 0, name
    assert w["hours_apart"] < 0
    # a post sharing nothing with a cluster is far from joining it
    a, b = _sig("fr", release=1.2), _sig("fr", escape=1.3)
    assert scorer.score(a, b, dict(a.features), 1.2, _Specificity({}, 8.0), 1.0) < 0.05
    doc = json.loads(DEFAULT_SCORER.read_text(encoding="utf-8"))
    assert not any(name.startswith("validation") for name in doc["corpora"])


def test_the_clusterer_decides_with_the_scorer_it_is_given(clusterer):
    class Never:
        def score(self, *args):
            return 0.0

    got = feed(RumorClusterer(scorer=Never()), FORWARDS, "n")
    assert len(set(got)) == len(FORWARDS)
    assert len(set(feed(RumorClusterer(scorer=OVERLAP), FORWARDS, "o"))) == 1
    assert len(set(feed(clusterer, FORWARDS, "l"))) == 1


@pytest.mark.parametrize(("text", "field"), [
    ("{not json", "(file)"),
    ('{"weights": {}, "intercept": 0}', "weights"),
    ('{"weights": {"feature_similarity": "high"}, "intercept": 0}', "weights"),
    ('{"weights": {"colour": 1}, "intercept": 0}', "weights"),
    ("[1, 2]", "(top level)"),
])
def test_pair_scorer_errors_name_the_file_and_the_field(tmp_path, text, field):
    path = tmp_path / "cluster_scorer.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_scorer(path)
    assert str(path) in str(err.value)
    assert err.value.field == field


def test_pair_scorer_error_names_the_weight_that_is_not_a_number(tmp_path):
    doc = json.loads(DEFAULT_SCORER.read_text(encoding="utf-8"))
    doc["weights"]["shared_myths"] = "2"
    path = tmp_path / "cluster_scorer.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_scorer(path)
    assert err.value.field == "weights.shared_myths"
    doc["weights"]["shared_myths"] = 2.0
    doc["intercept"] = None
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_scorer(path)
    assert err.value.field == "intercept"
    with pytest.raises(DataFileError, match="train-cluster-scorer"):
        load_scorer(tmp_path / "absent.json")


def test_the_scorer_training_script_fits_and_writes_a_loadable_scorer(tmp_path, monkeypatch, capsys):
    script = Path(__file__).resolve().parents[2] / "scripts" / "train-cluster-scorer.py"
    spec = importlib.util.spec_from_file_location("train_cluster_scorer", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "scorer.json"
    monkeypatch.setattr(sys, "argv", ["train-cluster-scorer", "dev3", "train4_clusters", "--threshold", "0.5",
                                      "--write", "--output", str(out)])
    assert module.main() == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["corpora"] == ["dev3", "train4_clusters"] and doc["pairs"] > doc["positives"] > 0
    assert set(doc["mean_pairwise_f1"]["learned"]) == {"0.50"}
    assert load_scorer(out).weights is not None
    assert "mean F1" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["train-cluster-scorer", "validation"])
    with pytest.raises(SystemExit, match="held-out"):
        module.main()


def test_copies_of_a_post_that_states_no_claim_still_join(clusterer):
    # a slogan forwarded again and again: no figure, no place, no myth, but the CM must see it grow
    slogan = "الحباسة كاملين ما فيهومش الخير، خليوهم يخنزو تما"
    got = feed(clusterer, [("ary", slogan), ("ary", slogan + " 🙏🙏"), ("ary", "انشروا " + slogan),
                           ("ary", slogan + " #العقوبات_البديلة")], "s")
    assert len(set(got)) == 1 and got[0] is not None
    # and a different opinion in the same words' neighbourhood is not a copy
    other = feed(clusterer, [("ary", "الحباسة فيهوم اللي مظلوم، عطيوهم فرصة")], "t", start=10)
    assert other[0] != got[0]
