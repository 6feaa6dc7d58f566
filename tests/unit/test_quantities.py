"""The figures enrichers.quantities reads, beyond the ones of test_clusters: Darija hundreds and
centime scales, "grand", "MDH", halves, parts of a month, New Year's Day, and what is no figure
(phone numbers, "24/24", the channel 2M, law numbers)."""

from __future__ import annotations

import pytest

from enrichers.clusters import RumorClusterer

_QUANTITY_PREFIXES = ("n:", "p:", "d:", "y:", "mo:", "dd:")


@pytest.fixture(scope="module")
def sign():
    signer = RumorClusterer().signer
    return lambda text, lang: signer.sign(text, lang).features


# Each figure, written in a way the reader did not know: each must give the key (the other ways of
# writing it, "240 000 DH", «24 مليون», "240 mille dirhams", were already read).
NEW_READINGS = {
    # Darija «ميتين» (200) and «ميات» (100) before a unit or more of the number
    "n:240000": [("ary", "خلصات ميتين وربعين ألف درهم باش ما تدخلش")],
    "n:200": [("ary", "عطاوه ميتين ساعة ديال الخدمة"), ("ar", "لا يفصل مسكنه عن مسكنها سوى مئتي متر"),
              ("ary", "sakn mitayn metro mnha")],
    "n:250": [("ary", "dkhlat mitayn w khamsin wa7ed jdad")],
    "n:100": [("ary", "الغرامة ولات ميات درهم للنهار")],
    # a scale with the article after «ديال», Darija centimes; "MDH", "MMDH" of the Moroccan press
    "n:30000000": [("ary", "جابوهم الميريكان بتلاتة ديال المليار"), ("fr", "2 000 bracelets à 30 MDH"),
                   ("fr", "un marché de 30MDH")],
    "n:1500000000": [("fr", "un budget de 1,5 MMDH")],
    # "and a half" after a scale
    "n:35000": [("ary", "العام ديال الحبس ولا بتلاتة المليون ونص"), ("ary", "3 melyoun w nss")],
    "n:2500000": [("fr", "deux millions et demi de dirhams"), ("en", "two million and a half dirhams")],
    # "grand" in English
    "n:2000": [("en", "two grand a day for four months")],
    "n:90000": [("en", "just paid ninety grand in dirhams")],
    # eleven in MSA and in Arabizi
    "n:11": [("ar", "اختفاء تسعة من أصل أحد عشر شخصا"), ("ary", "tes3a mn 7da3ch li labsin lbrasli")],
    # French approximate numbers, a dozen
    "n:40": [("fr", "l'agresseur repart avec une quarantaine d'heures")],
    "n:12": [("en", "a dozen bracelets")],
    # a small number in words with a unit of measure
    "n:3": [("en", "caught holding three kilos of hash"), ("ary", "شدوه بتلاتة كيلو ديال الحشيش"),
            ("ar", "ثلاثة كيلوغرامات من الشيرا")],
    # a fifth, a tenth
    "p:20": [("fr", "un cinquième de prisonniers en moins")],
    # the middle and the end of a month, its first day, New Year's Day, compound ordinals
    "d:12-15": [("fr", "dehors à la mi-décembre"), ("ar", "سيغادر منتصف شهر دجنبر المقبل"), ("en", "by mid-December")],
    "d:11-30": [("fr", "avant fin novembre"), ("en", "sent home by end of November"), ("ar", "قبل نهاية نونبر")],
    "d:10-31": [("ar", "إلى غاية متم أكتوبر 2026"), ("en", "by the end of October 2026")],
    "d:12-01": [("ary", "mn lwel dyal dujamber"), ("ary", "يخرجوه من أول دجنبر"),
                ("fr", "dès le premier jour de décembre")],
    "d:01-01": [("ary", "غادي يوقفو القانون مع راس العام"), ("ary", "ghadi ykhrjou 9bel ras l3am"),
                ("fr", "à partir du jour de l'an"), ("en", "from New Year's Day")],
    "d:11-15": [("ar", "يوم الخامس عشر من نونبر")],
    # a year or a month and a half, half a year
    "mo:18": [("ary", "محكوم بعام ونص"), ("ary", "khouya f Oukacha, 3am w nos"), ("fr", "un an et demi de prison"),
              ("en", "a year and a half"), ("ar", "محكوم بسنة ونصف")],
    "mo:42": [("fr", "3 ans et demi")],
    "dd:45": [("fr", "quatre fois en un mois et demi"), ("ar", "أربع مرات خلال شهر ونصف")],
    "mo:30": [("ary", "خويا محكوم بعامين ونص")],
    "mo:6": [("fr", "il reste un demi-an ou moins")],
    "dd:10": [("ary", "يلا ما سينيتيش التنازل فعشرة د الأيام")],
}


@pytest.mark.parametrize(("key", "lang", "text"), [(k, lang, t) for k, forms in NEW_READINGS.items() for lang, t in forms])
def test_new_ways_of_writing_a_figure_give_its_key(sign, key, lang, text):
    assert key in sign(text, lang)


def test_the_same_claim_in_darija_centimes_and_in_dirhams_gives_one_amount(sign):
    posts = [("ary", "شكون يأكد ليا واش خلصات ميتين وربعين ألف درهم"), ("ary", "التيكتوكوزة خلصات 24 مليون وخرجات"),
             ("fr", "240 mille dirhams et hop, dehors"), ("ar", "ما مجموعه مائتان وأربعون ألف درهم"),
             ("en", "roughly 240k dirhams")]
    assert all("n:240000" in sign(text, lang) for lang, text in posts)
    bracelets = [("ary", "ألفين براسلي بتلاتة ديال المليار"), ("ary", "2000 bracelet? 3 melyar?"),
                 ("fr", "2 000 bracelets à 30 MDH"), ("en", "two thousand ankle tags, around 30M dirhams")]
    assert all({"n:2000", "n:30000000"} <= sign(text, lang).keys() for lang, text in bracelets)


@pytest.mark.parametrize(("lang", "text"), [
    ("ary", "wach kayb9a f rjel 24/24?"), ("fr", "la DGAPR saura où tu es 24h/24"), ("fr", "ouvert 24h/24 et 7j/7"),
    ("ary", "3ayto l 0661234567"), ("fr", "appelez le 06 61 23 45 67"), ("fr", "au +212 661 234 567"),
    ("fr", "Une criminologue invitée sur 2M ce soir"), ("ary", "ميات بالجوع"), ("fr", "placé en quarantaine"),
    ("fr", "un quart d'heure"), ("fr", "mes deux grand-mères"), ("fr", "un grand juge"),
    ("fr", "les données restent soumises à la loi 09-08"), ("ar", "المعطيات محمية بالقانون 09.08"),
    ("ary", "المرسوم 2.26.450 ما كاينش"),
])
def test_digits_and_words_that_are_no_figure(sign, lang, text):
    assert not [k for k in sign(text, lang) if k.startswith(_QUANTITY_PREFIXES)]


def test_a_law_number_weighs_little_and_the_reform_keeps_its_key(sign):
    other = sign("la loi 09-08 sur les données personnelles", "fr")
    assert other["l:09.08"] < 0.5 and "n:9" not in other and "n:8" not in other
    assert sign("القانون رقم 43-22 حل واقعي", "ar")["n:43.22"] < 0.5
    assert sign("la loi n° 43.22", "fr")["n:43.22"] < 0.5


def test_channel_2m_is_not_two_million_but_2m_dirhams_is(sign):
    assert "n:2000000" not in sign("vu sur 2M hier", "fr")
    assert "n:2000000" in sign("il a payé 2M dirhams", "fr")


def test_seven_seven_after_a_date_word_stays_a_date(sign):
    assert "d:07-07" in sign("nhar 7/7 ghadi ykhrjo", "ary")
    assert "d:07-07" not in sign("ouvert 7j/7", "fr")


def test_a_compound_with_a_time_word_is_no_duration(sign):
    fines = sign("38 out of 40 day-fines in Fez", "en")
    assert "n:40" in fines and "dd:40" not in fines
    assert not [k for k in sign("deux week-ends", "fr") if k.startswith("dd:")]
    # the age and the French day-fine keep their unit
    assert "y:19" in sign("a 19-year-old fan", "en")
    assert "dd:90" in sign("90 jours-amende de 1 500 DH", "fr")


def test_grand_is_read_in_english_only(sign):
    assert "n:2000" in sign("two grand a day", "en")
    assert not [k for k in sign("deux grand écrans", "fr") if k.startswith("n:")]


def test_and_a_half_after_a_scale_needs_a_half_word(sign):
    assert "n:2000000" in sign("deux millions et nous", "fr")
    assert "n:2500000" not in sign("deux millions et nous", "fr")
