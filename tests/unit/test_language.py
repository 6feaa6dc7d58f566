"""Language identifier: Darija as a language of its own, in both scripts (pure, no network)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from enrichers.language import (
    DEFAULT_MARKERS_FILE,
    LANGS,
    SCRIPTS,
    LanguageDetector,
    LanguageEnricher,
    LanguageResult,
    MarkersFileError,
    arabizi_fold,
    normalize_arabic,
)
from tests.builders import mention


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def _lang(detector: LanguageDetector, text: str) -> tuple[str, str]:
    r = detector.detect(text)
    return r.lang, r.script


# --- one language per case ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "lang", "script"),
    [
        # French
        ("Le bracelet électronique, c'est pour quand à Casablanca ?", "fr", "latn"),
        ("Les riches paient, les pauvres vont en prison.", "fr", "latn"),
        ("Amende de 700 DH pour excès de vitesse, j'ai même pas vu le radar", "fr", "latn"),
        # MSA
        ("إفلات مقنّع من العقاب", "ar", "arab"),
        ("دخل القانون المتعلق بالعقوبات البديلة حيز التنفيذ في جميع محاكم المملكة", "ar", "arab"),
        ("هل سيستفيد المرتشون وتجار المخدرات؟", "ar", "arab"),
        # Darija, Arabic script
        ("دابا اللي سرق يمشي لدارو عادي", "ary", "arab"),
        ("الشفارة غادي يكثرو، ما بقاش الخوف", "ary", "arab"),
        ("اللي عندو الفلوس يشري الحبس والمزلوط يدخل", "ary", "arab"),
        # Darija, Latin script (Arabizi)
        ("li 3ndo lflous ychri l7bs", "ary", "latn"),
        ("ghir y9te3 lbrasli w yhreb", "ary", "latn"),
        ("wach had l9anoun ghadi ykhrej ga3 li f l7bs?", "ary", "latn"),
        # English
        ("The first electronic bracelet was fitted in Tangier under the new law", "en", "latn"),
        ("So the rich can just pay their way out of jail? Great.", "en", "latn"),
        # Spanish
        ("Marruecos aplica por primera vez las penas alternativas a la prisión", "es", "latn"),
        ("¿Y las víctimas qué? Nadie habla de ellas", "es", "latn"),
    ],
)
def test_each_language_and_script(detector, text, lang, script):
    assert _lang(detector, text) == (lang, script)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😂😂😂", "👍", "https://t.co/xY12abC", "www.hespress.com/politique/123.html", "@hespress @MinJustice_MA",
     "#العقوبات_البديلة #السوار_الإلكتروني", "#Loi4322 #PeinesAlternatives 💪", "43.22", "1/2", "hhhhhhhhh",
     "ههههههه", "mdr", "Top", "🔥 https://youtu.be/abc 🔥 @user"],
)
def test_too_little_text_is_und(detector, text):
    r = detector.detect(text)
    assert (r.lang, r.script) == ("und", "und")
    assert 0.0 <= r.confidence <= 1.0


def test_result_type(detector):
    r = detector.detect("li 3ndo lflous ychri l7bs")
    assert isinstance(r, LanguageResult)
    assert isinstance(r.scores, dict) and r.scores["ary"] > 0
    assert 0.5 <= r.confidence <= 1.0
    with pytest.raises(AttributeError):
        r.lang = "fr"  # frozen


# --- Arabizi and digits ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    ["hadchi bla 3o9oba", "ma b9a khouf mn l7bs", "w dahiya chkoun y3awdha?", "7ta lmghtasib ghadi ylbes bracelet"],
)
def test_arabizi_with_digits_is_darija(detector, text):
    assert _lang(detector, text) == ("ary", "latn")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("La loi 43.22 entre en vigueur : amende de 300dh à 2000 DH par jour de prison", "fr"),
        ("Loi n°43-22, décret 2.25.386, BO 7328 du 22/08/2024, 7h30, 3e chambre", "fr"),
        ("Tickets at 37.99, doors open at 7pm, 3rd floor, 2x1 offer", "en"),
    ],
)
def test_prices_law_numbers_and_units_do_not_look_like_arabizi(detector, text, lang):
    r = detector.detect(text)
    assert r.lang == lang
    assert r.scores.get("ary", 0.0) == 0.0


# --- Darija versus MSA -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("دابا اللي سرق يمشي لدارو عادي", "ary"),
        ("إفلات مقنّع من العقاب", "ar"),
        ("كنشوف بلي هاد الشي غير ضحك على الناس", "ary"),  # كنـ verb prefix + markers
        ("كتاب جديد حول السياسة الجنائية بالمغرب", "ar"),  # كتاب is not a كتـ verb
        ("كيف يمكن للمحكوم عليه أن يطلب استبدال العقوبة؟", "ar"),  # كيف is not a كيـ verb
        ("غير أن المرصد المغربي للسجون طالب بتوفير الإمكانيات اللازمة", "ar"),  # weak marker alone
        ("خويا تشد ف قضية ديال الضرب، واش يقدر يستافد من العقوبة البديلة؟", "ary"),
        ("عدالة طبقية: الغني يشتري حريته", "ar"),
    ],
)
def test_darija_versus_msa_in_arabic_script(detector, text, lang):
    assert _lang(detector, text) == (lang, "arab")


def test_arabic_spelling_variants_do_not_matter(detector):
    plain = detector.detect("الشفارة غادي يكثرو ما بقاش الخوف")
    decorated = detector.detect("الشّفارة غـــادي يكثرو، ما بقاش الخوف!!")
    assert (plain.lang, decorated.lang) == ("ary", "ary")


# --- mixed posts -------------------------------------------------------------------------------

def test_mixed_french_darija_takes_the_majority_of_words(detector):
    mostly_darija = ("Had l9anoun dyal les peines alternatives mzyan bzaf walakin khass "
                     "l'application tkoun s7i7a")
    mostly_french = "Franchement la loi est bien faite mais wach ghadi tkoun 3adla?"
    assert _lang(detector, mostly_darija) == ("ary", "latn")
    assert _lang(detector, mostly_french) == ("fr", "latn")


def test_mixed_scripts(detector):
    assert _lang(detector, "TIG ولا الحبس؟ أنا كنقول الخدمة حسن بزاف، واخا صعيبة") == ("ary", "arab")
    r = detector.detect("Le bracelet électronique est posé à Tanger, une première au Maroc — السوار الإلكتروني")
    assert (r.lang, r.script) == ("fr", "latn")


def test_hashtag_words_count_when_the_post_has_other_words(detector):
    assert _lang(detector, "Enfin appliquée au Maroc #réforme_pénale #PeinesAlternatives") == ("fr", "latn")
    assert _lang(detector, "#السوار_الإلكتروني #الغرامة_اليومية") == ("und", "und")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hadi Hassani nommé directeur régional à Safi", "fr"),  # names that are weak markers
        ("He had been in prison for two years before the law changed", "en"),
        ("Daba is the Darija word for now, by the way", "en"),
        ("Wesh les gars, vous avez vu le reportage sur 2M ?", "fr"),
    ],
)
def test_words_shared_with_darija_do_not_flip_european_posts(detector, text, lang):
    assert _lang(detector, text) == (lang, "latn")


# --- langdetect never leaks out of the label set ------------------------------------------------

@pytest.mark.parametrize(
    "text",
    ["Das Gesetz ist sehr gut und wichtig für alle", "Selamat pagi semua, apa kabar hari ini",
     "asdkj qwepoi zxmcnb lkjhg", "Привет, как дела у вас сегодня", "你好世界，今天天气很好", "Flicage permanent",
     "Parabéns pela reforma penal", "kdjf 3lkj 9sdf 7qsd"],
)
def test_answers_stay_in_the_taxonomy(detector, text):
    r = detector.detect(text)
    assert r.lang in LANGS and r.script in SCRIPTS
    assert set(r.scores) <= LANGS - {"und"}
    if r.lang == "und":
        assert r.script == "und"


def test_non_latin_non_arabic_scripts_are_und(detector):
    assert _lang(detector, "Привет, как дела у вас сегодня") == ("und", "und")


# --- determinism and threads ------------------------------------------------------------------

SAMPLE = [
    "li 3ndo lflous ychri l7bs", "دابا اللي سرق يمشي لدارو عادي", "إفلات مقنّع من العقاب",
    "Flicage permanent", "Travail gratuit", "ghir wlad lfchouch", "Et les victimes ?", "hadchi machi normal",
    "La ley marroquí de penas alternativas", "Who pays for the electronic bracelet?",
]


def test_deterministic_across_calls_and_instances(detector):
    first = [detector.detect(t) for t in SAMPLE]
    again = [detector.detect(t) for t in SAMPLE]
    other = [LanguageDetector().detect(t) for t in SAMPLE]
    assert first == again == other


def test_thread_safe(detector):
    expected = [detector.detect(t) for t in SAMPLE]
    fresh = LanguageDetector()  # langdetect profiles load lazily: race the first use too
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fresh.detect, SAMPLE * 20))
    assert results == expected * 20


# --- helpers ------------------------------------------------------------------------------------

def test_normalize_arabic():
    assert normalize_arabic("أإآٱ") == "اااا"
    assert normalize_arabic("على مدرسة") == "علي مدرسه"
    assert normalize_arabic("مُقَنَّعٌ") == "مقنع"
    assert normalize_arabic("غـــادي") == "غادي"
    assert normalize_arabic("Loi 43.22") == "Loi 43.22"


def test_arabizi_fold_meets_spellings():
    assert arabizi_fold("BEZZAF") == arabizi_fold("bezaf")
    assert arabizi_fold("chkoun") == arabizi_fold("shkon")
    assert arabizi_fold("wakhkha") == arabizi_fold("waxa")
    assert arabizi_fold("dyal") == arabizi_fold("dial")
    assert arabizi_fold("l9anoun") == arabizi_fold("lqanoun")


# --- the markers file -------------------------------------------------------------------------

def test_default_markers_file_is_the_shipped_one():
    assert DEFAULT_MARKERS_FILE == Path(__file__).resolve().parents[2] / "data" / "darija_markers.yaml"
    assert LanguageDetector().markers_path == DEFAULT_MARKERS_FILE


def _write_markers(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(DEFAULT_MARKERS_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "markers.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_malformed_markers_file_names_file_and_field(tmp_path):
    def break_latin(data):
        data["strong"][3]["latin"] = "kayn"

    path = _write_markers(tmp_path, break_latin)
    with pytest.raises(MarkersFileError) as err:
        LanguageDetector(path)
    message = str(err.value)
    assert str(path) in message
    assert "strong[3].latin: expected a list of strings" in message
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["strong"][0].update(latn=["dyal"]), "strong[0]"),
        (lambda d: d["medium"][1]["arabic"].append(7), "medium[1].arabic["),
        (lambda d: d["weak"][0]["latin"].append("bzaf"), "weak[0].latin["),
        (lambda d: d["weights"].update(strong="high"), "weights.strong"),
        (lambda d: d["latin_words"]["en"].append(False), "latin_words.en["),
        (lambda d: d["rule"].pop("soft_min_score"), "rule"),
        (lambda d: d["strong"][2].update(arabic=[], latin=[]), "strong[2]"),
        (lambda d: d["langdetect"].update(profiles=["fr", "en", "es", "xx"]), "langdetect.profiles[3]"),
    ],
)
def test_markers_file_errors(tmp_path, change, field):
    path = _write_markers(tmp_path, change)
    with pytest.raises(MarkersFileError) as err:
        LanguageDetector(path)
    assert str(path) in str(err.value) and field in str(err.value)


def test_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("strong: [\n  - id: dyal\n", encoding="utf-8")
    with pytest.raises(MarkersFileError, match="not valid YAML"):
        LanguageDetector(bad)
    with pytest.raises(MarkersFileError, match="cannot be read"):
        LanguageDetector(tmp_path / "missing.yaml")


def test_edited_markers_change_the_answer(tmp_path, detector):
    text = "ozfoo ezbar ozfoo"  # invented words the shipped file does not know

    def add_words(data):
        data["strong"].append({"id": "test_oz", "arabic": [], "latin": ["ozfoo", "ezbar"]})

    assert detector.detect(text).lang != "ary"
    assert LanguageDetector(_write_markers(tmp_path, add_words)).detect(text).lang == "ary"


# --- pipeline component -------------------------------------------------------------------------

def test_enricher_sets_lang_and_script(detector):
    enricher = LanguageEnricher(detector)
    labels = enricher.label(mention(0, text="wach had l9anoun dyal l3o9oubat lbadila ghadi ykhrej ga3 li f l7bs?"))
    assert labels.values == {"lang": "ary", "script": "latn"}
    assert 0.5 <= labels.confidence <= 1.0
    assert enricher.registered_name == "language.v1"
    assert {"lang", "script"} == set(enricher.sets)
