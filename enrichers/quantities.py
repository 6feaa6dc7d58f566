"""The quantities of a post — amounts, counts, percentages, dates, durations — as features that
do not depend on the language, for the rumor clusterer (:mod:`enrichers.clusters`).

One claim is repeated with its figures written many ways, and the reader gives them one key:

* **numbers** ``n:`` in digits or in words, in the five languages: 30000, 30.000, 30 000,
  ٣٠٠٠٠, «30 ألف», "30 alf", 30k; "deux mille", «ألفين», «ألفا», "jouj alaf", «جوج آلاف»,
  "two thousand", "dos mil" → 2000; "six cent quarante", «مية وربعين», «ثلاثمائة واثني عشر مليون»,
  "twelve hundred", «ألفا وستمائة وأربعين» (1 640), «نص مليون», "half a million", «مليون ونص»,
  "deux millions et demi"; the Darija «ميتين» (200), «ميات» (100) before a unit or more of the
  number («ميتين وربعين ألف درهم», «ميات درهم», not «ميتين بالضحك»); "two grand" (English only);
  "une quarantaine de", "a dozen"; "30 MDH", "1,5 MMDH" (millions, billions of dirhams); a small
  number in words before a unit of measure ("three kilos", «بتلاتة كيلو»);
* **amounts in centimes** are brought back to dirhams (1 DH = 100 centimes): a centime or
  franc word after the amount ("50 000 centimes", "50 alf franc", «31 مليار ديال السنتيم»,
  "melyoun dyal sntim") and, in Darija, a «مليون»/«مليار» with no currency (Moroccans count
  those in centimes: «24 مليون» is 240 000 DH, «بتلاتة ديال المليار» 30 million DH, "3 melyoun w
  650 alf" 36 500 DH); a ryal is 5 centimes. After one amount in francs, the next "12 alf" of
  the post is in francs too;
* **percentages** ``p:``, apart from counts (40 % is not 40 people): "40 %", "40 pour cent",
  «أربعين فالمية», «30 في المائة», "rbe3in f lmya", and fractions: "four in ten", "8 sur 10",
  "4 mn 5", «ثمانية أحكام من أصل عشرة», «خمسي», "deux tiers";
* **dates** ``d:MM-DD``: "20/02/2027", "20 février", "20 de febrero", «العشرين من فبراير»,
  «فاتح مارس», "1er mars", "March 1st", "nhar 1/3", with the Moroccan, Mashreq, French, English,
  Spanish and Darija month names; "7 et 8 novembre" gives both days; the middle and the end of a
  month ("mi-décembre", «منتصف دجنبر» → 15; "fin novembre", "by the end of October", «متم أكتوبر»
  → its last day), "le premier jour de décembre", «من أول دجنبر», «الخامس عشر من نونبر», and New
  Year's Day («راس العام», "ras l3am", "jour de l'an");
* **durations**: years ``y:``, months ``mo:``, days ``dd:`` ("six semaines", «ستة د السيمانات»,
  "42 yom" → 42 days), and halves: «عام ونص», "3am w nos", "un an et demi" → 18 months; «شهر ونصف»,
  "un mois et demi" → 45 days. A time word in a compound ("40 day-fines", "deux week-ends") is no
  unit.

Ordinary words that are also numbers are not read alone: "un", "une", "one", «واحد»
("someone"), and the words for two to nine ("deux fois", «ربع مرات») say nothing without a unit
("deux mois", "six semaines" are read); a hundred or a thousand with no other figure ("mille
fois", «آلاف المعتقلين», "des millions") is not a figure either. A number of 1990–2035 in digits
may be a year and weighs little; the law's number (43.22) and article numbers ("l'article
647-22", «المادة 35-3») weigh little too, the articles under keys of their own (``a:``), and so do
other laws and decrees ("la loi 09-08", «المرسوم 2.26.450»: ``l:09.08``). Phone numbers, "24/24",
"24h/24", "7j/7" and the channel 2M are no figure.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable

from enrichers.entities import TextView, is_arabic
from enrichers.lexicon import normalize

# Weights: how much sharing the feature says about sharing a claim.
W_AMOUNT = 2.0  # a number of 100 or more: 30 000 detainees, 1.4 million DH, 1 001 judgments
W_NUMBER = 1.0  # 10 to 99
W_SMALL = 0.5  # below 10
W_YEAR = 0.3  # 1990-2035
W_DATE = 2.0  # day and month: 18 November
W_DURATION = 1.0  # 2 years, 3 months, 6 weeks
W_PERCENT = 2.0  # 40 %, four in ten: as telling as an amount ("100 %", mostly "totally", weighs W_SMALL)
W_GENERIC = 0.2  # the law's number, an article of the code: every post on the reform may cite them

_GENERIC_NUMBERS = frozenset({"43.22", "4322", "22.43"})
_CENTIMES_LANGS = frozenset({"ary"})  # Darija counts «مليون» in centimes: 10,000 DH
CENTIME = 0.01
RYAL = 0.05  # Moroccan ryal: 20 to the dirham


def _norm(word: str) -> str:
    return normalize(word).strip()


def _normal_set(*words: str) -> frozenset[str]:
    return frozenset(n for n in (_norm(w) for w in words) if n)


# --------------------------------------------------------------------------------------------
# Number words
# --------------------------------------------------------------------------------------------

_VAL, _HUNDRED, _SCALE, _DAY = "v", "h", "s", "o"  # kinds of number words
# flags of a form
_CONJ = 1  # written with the conjunction و: «وعشرين»
_PLURAL = 2  # "millions", «آلاف»: needs a multiplier ("des millions" is no figure)
_DUAL = 4  # «ألفين», «مليونين»: two of the scale
_NOSTART = 8  # "k", "m": a scale only after a number
_ONE = 16  # "un", "one", «واحد»: a number only with a scale ("un million")
_ALF = 32  # the Arabic and Darija thousand: "12 alf" after francs is in francs
_WEAK = 64  # Darija «ميتين», «ميات»: also "dead"; a number only before a unit or more of the number
_DH = 128  # "MDH", "MMDH": millions, billions of dirhams
_APPROX = 256  # "une quarantaine de", "a dozen": a number only before "de"/"of" or a unit
_ARTICLE = 512  # «المليون», "lmlyoun": a scale with the article, after a number («بتلاتة ديال المليار»)

_VALUES: dict[int, tuple[str, ...]] = {
    1: ("un", "une", "one", "uno", "una", "واحد", "واحدة", "أحد", "إحدى", "wa7ed", "wahed", "wa7d", "wahd", "wa7da",
        "wahda"),
    2: ("deux", "two", "dos", "اثنان", "اثنين", "اثنتان", "اثنتين", "اثنا", "اثني", "اثنتا", "اثنتي", "إثنين", "زوج",
        "جوج", "jouj", "jooj", "juj", "zouj", "zuj", "zoj"),
    3: ("trois", "three", "tres", "ثلاث", "ثلاثة", "تلاتة", "تلات", "تلت", "tlata", "tleta", "tlta", "tlat", "tlatha"),
    4: ("quatre", "four", "cuatro", "أربع", "أربعة", "ربعة", "rb3a", "reb3a", "rab3a", "rbe3a", "arba3a", "arb3a"),
    5: ("cinq", "five", "cinco", "خمس", "خمسة", "khamsa", "khmsa", "khemsa"),
    6: ("six", "seis", "ست", "ستة", "stta", "sta", "setta", "sitta", "seta", "sitt", "sett"),
    7: ("sept", "seven", "siete", "سبع", "سبعة", "sb3a", "seb3a", "sab3a", "sbe3a"),
    8: ("huit", "eight", "ocho", "ثمان", "ثماني", "ثمانية", "تمن", "تمنية", "تمانية", "tmnia", "tmenia", "tmanya",
        "tmnya", "tmenya", "tamanya", "tmania"),
    9: ("neuf", "nine", "nueve", "تسع", "تسعة", "تسعود", "ts3ud", "tes3ud", "ts3oud", "tes3oud", "tse3ud", "tis3a",
        "tes3a", "ts3a"),
    10: ("dix", "ten", "diez", "عشر", "عشرة", "3chra", "3achra", "3echra", "3ashra", "achra", "3chera", "3ochra"),
    11: ("onze", "eleven", "حداش", "حضاش", "7dach", "hdach", "7dache", "7dash", "7da3ch", "hda3ch", "7da3ech"),
    12: ("douze", "twelve", "doce", "طناش", "اطناش", "tnach", "tnache", "tnash", "etnach"),
    13: ("treize", "thirteen", "trece", "تلطاش", "تلتاش", "tlettach", "tlatach", "tlttach", "tlattach"),
    14: ("quatorze", "fourteen", "catorce", "ربعطاش", "ربعتاش", "rb3tach", "rba3tach", "rbe3tach", "rb3atach"),
    15: ("quinze", "fifteen", "quince", "خمسطاش", "خمستاش", "khmstach", "khamstach", "khemstach", "khmstash"),
    16: ("seize", "sixteen", "dieciséis", "سطاش", "ستاش", "settach", "sttach", "sittach"),
    17: ("seventeen", "diecisiete", "سبعطاش", "سبعتاش", "sb3tach", "sba3tach", "sbe3tach"),
    18: ("eighteen", "dieciocho", "تمنطاش", "تمنتاش", "ثمنتاش", "tmntach", "tmentach", "tmantach"),
    19: ("nineteen", "diecinueve", "تسعطاش", "تسعتاش", "ts3tach", "tsa3tach", "tse3tach"),
    20: ("vingt", "vingts", "twenty", "veinte", "عشرون", "عشرين", "3chrin", "3echrin", "3achrin", "3ichrin", "3chrine",
         "3ashrin", "achrin", "3cherin"),
    21: ("veintiuno", "veintiuna", "veintiún"),
    22: ("veintidós",), 23: ("veintitrés",), 24: ("veinticuatro",), 25: ("veinticinco",), 26: ("veintiséis",),
    27: ("veintisiete",), 28: ("veintiocho",), 29: ("veintinueve",),
    30: ("trente", "thirty", "treinta", "ثلاثون", "ثلاثين", "تلاتين", "tlatin", "tletin", "tltin", "tlatine",
         "tlathin"),
    40: ("quarante", "forty", "fourty", "cuarenta", "أربعون", "أربعين", "ربعين", "rb3in", "rbe3in", "reb3in", "rab3in",
         "rba3in", "arba3in", "arb3in", "rb3ine", "rbe3ine", "rb3en", "rbe3en"),
    50: ("cinquante", "fifty", "cincuenta", "خمسون", "خمسين", "khamsin", "khemsin", "khmsin", "khamsine", "khamssin"),
    60: ("soixante", "sixty", "sesenta", "ستون", "ستين", "sttin", "settin", "sitin", "sittin", "stin"),
    70: ("septante", "seventy", "setenta", "سبعون", "سبعين", "sb3in", "seb3in", "sab3in", "sbe3in"),
    80: ("huitante", "octante", "eighty", "ochenta", "ثمانون", "ثمانين", "تمانين", "تمنين", "tmanin", "tmenin",
         "tamanin", "tmnin", "tmanine"),
    90: ("nonante", "ninety", "noventa", "تسعون", "تسعين", "ts3in", "tes3in", "tis3in", "tse3in", "tsa3in"),
    # Not «مئتين», «مئتي»: normalised they are «ميتين», «ميتي», Darija for "dead" (ميتين بالضحك).
    # «مائتا», «مائتي»: before a noun or after «ألف و»: «ألف ومائتي درهم».
    200: ("doscientos", "doscientas", "مائتان", "مائتين", "مئتان", "مايتين", "مائتا", "مائتي"),
    300: ("trescientos", "trescientas"), 400: ("cuatrocientos", "cuatrocientas"), 500: ("quinientos", "quinientas"),
    600: ("seiscientos", "seiscientas"), 700: ("setecientos", "setecientas"), 800: ("ochocientos", "ochocientas"),
    900: ("novecientos", "novecientas"),
}
# «ثلاثمائة», «ربعمية», "khamsmya": the hundreds written as one word.
_HUNDRED_WORDS = ("مائة", "مئة", "مية", "mya", "mia", "miya")
_HUNDRED_STEMS: dict[int, tuple[str, ...]] = {
    3: ("ثلاث", "تلت", "تلات", "tlt", "tlat"), 4: ("أربع", "ربع", "rb3", "rba3"), 5: ("خمس", "khams", "khms"),
    6: ("ست", "st", "stt", "sett"), 7: ("سبع", "sb3", "seb3"), 8: ("ثمان", "ثمن", "تمن", "tmn", "tmen"),
    9: ("تسع", "ts3", "tes3"),
}
_HUNDREDS = ("cent", "cents", "hundred", "ciento", "cien", "مائة", "مئة", "مية", "mya", "mia", "miya", "myya", "miyya",
             "mit")
# scale: (value, forms, flags)
_SCALE_FORMS: tuple[tuple[float, tuple[str, ...], int], ...] = (
    (1e3, ("mille", "mil", "thousand", "alef"), 0),
    (1e3, ("ألف", "ألفا", "alf"), _ALF),
    (1e3, ("k",), _NOSTART),
    (1e3, ("milles", "thousands"), _PLURAL),
    (1e3, ("آلاف", "ألاف", "alaf", "alaaf", "alafat"), _PLURAL | _ALF),
    (1e3, ("ألفين", "ألفان", "ألفي", "alfin", "alfayn", "alfine", "alfain", "alfen", "alfeyn"), _DUAL | _ALF),
    (1e6, ("million", "millón", "مليون", "مليونا", "mlyoun", "melyoun", "mlyon", "mliun", "mlyun", "milyoun",
           "malyoun", "melyon", "mlyoune"), 0),
    (1e6, ("m", "mln"), _NOSTART),
    (1e6, ("millions", "millones", "ملايين", "mlayn", "mlayen", "mlayin"), _PLURAL),
    (1e6, ("مليونين", "مليونان", "مليوني"), _DUAL),
    (1e9, ("milliard", "billion", "مليار", "مليارا", "mlyar", "melyar", "milyar", "mliar", "mlyard"), 0),
    (1e9, ("bn", "mds", "mrd", "mrds"), _NOSTART),
    # the Moroccan press's "30 MDH", "1,5 MMDH": millions and billions of dirhams
    (1e6, ("mdh", "mdhs"), _NOSTART | _DH),
    (1e9, ("mmdh", "mmdhs", "mrddh"), _NOSTART | _DH),
    # "two grand": read in English only, see _number
    (1e3, ("grand",), _NOSTART),
    # with the article, after a number: «بتلاتة ديال المليار», «تلاتة المليون ونص», "3 dyal lmlayn"
    (1e6, ("المليون", "lmlyoun", "lmelyoun", "lmilyoun", "lmlyon", "lmlyun", "الملايين", "lmlayn", "lmlayen"),
     _NOSTART | _ARTICLE),
    (1e9, ("المليار", "lmlyar", "lmelyar", "lmilyar", "الملايير", "lmlayr", "lmlayer"), _NOSTART | _ARTICLE),
    (1e9, ("milliards", "billions", "ملايير", "مليارات", "mlayr", "mlayer"), _PLURAL),
    (1e9, ("مليارين", "ملياران"), _DUAL),
)
# Day ordinals written with the article, only read before a month: «العشرين من فبراير».
_DAY_ORDINALS = {1: ("الأول", "الحادي"), 2: ("الثاني",), 3: ("الثالث",), 4: ("الرابع",), 5: ("الخامس",), 6: ("السادس",),
                 7: ("السابع",), 8: ("الثامن",), 9: ("التاسع",), 10: ("العاشر",)}

# form → (value, kind, flags)
_NUM_WORDS: dict[str, tuple[float, str, int]] = {}


def _put(form: str, value: float, kind: str, flags: int = 0) -> None:
    key = _norm(form)
    if key and " " not in key:
        _NUM_WORDS.setdefault(key, (value, kind, flags))


# The proclitics a figure takes: «وعشرين», «بخمسين», «فعشرة د الأيام», «لستة»
_PROCLITICS = "وبفل"


def _put_arabic(form: str, value: float, kind: str, flags: int = 0) -> None:
    """The form, and with the proclitics a figure takes (after «و» it continues a number)."""
    _put(form, value, kind, flags)
    key = _norm(form)
    if is_arabic(key):
        for p in _PROCLITICS:
            _put(p + key, value, kind, flags | (_CONJ if p == "و" else 0))


def _with_proclitics(words: dict[str, str]) -> None:
    """Adds each Arabic word with the proclitics a figure takes («بعامين», «فشهر»)."""
    words.update({p + w: v for w, v in list(words.items()) if is_arabic(w) for p in _PROCLITICS})


def _build_number_words() -> None:
    for value, forms in _VALUES.items():
        for f in forms:
            _put_arabic(f, value, _VAL, _ONE if value == 1 else 0)
            key = _norm(f)
            if is_arabic(key) and value <= 31:
                _put("ال" + key, value, _DAY)
    for value, stems in _HUNDRED_STEMS.items():
        for stem in stems:
            for h in _HUNDRED_WORDS:
                if is_arabic(stem) == is_arabic(h):
                    _put_arabic(stem + h, value * 100, _VAL)
    for f in _HUNDREDS:
        _put_arabic(f, 100, _HUNDRED)
    for value, forms, flags in _SCALE_FORMS:
        for f in forms:
            _put_arabic(f, value, _SCALE, flags)
    for value, forms in _DAY_ORDINALS.items():
        for f in forms:
            _put(f, value, _DAY)


_build_number_words()
# Darija «ميتين» (200) and «ميات» (100, before a noun) are also "dead" («ميتين بالضحك»), like the
# normalised MSA «مئتين», «مئتي»: numbers only before a unit or more of the number (_weak_ok).
for _v, _forms in ((200.0, ("ميتين", "ميتي", "mitayn", "mitin", "mytin", "miatin", "mitine")),
                   (100.0, ("ميات", "miyat", "myat"))):
    for _f in _forms:
        _put_arabic(_f, _v, _VAL, _WEAK)
# French approximate numbers and "a dozen": "une quarantaine d'heures", "une quinzaine de jours"
for _v, _forms in ((10.0, ("dizaine",)), (12.0, ("douzaine", "dozen")), (15.0, ("quinzaine",)),
                   (20.0, ("vingtaine",)), (30.0, ("trentaine",)), (40.0, ("quarantaine",)),
                   (50.0, ("cinquantaine",)), (60.0, ("soixantaine",)), (100.0, ("centaine",))):
    for _f in _forms:
        _put(_f, _v, _VAL, 0 if _f == "dozen" else _APPROX)
# «ألفا»: two thousand before a noun («ألفا محكوم»), a thousand after a multiplier («خمسون ألفا»)
# or before «و» and more of the number («ألفا وستمائة وأربعين»: 1 640).
_ALFA = frozenset({_norm("ألفا"), _norm("وألفا"), _norm("بألفا")})
# "twelve hundred", "twenty-five hundred": English counts hundreds past ten
_HUNDREDS_PAST_TEN = _normal_set("hundred")
# "vingt et un", "two hundred and forty", "treinta y cinco", «مية وربعين», "tlata w rb3in"
_CONNECTORS = _normal_set("et", "and", "y", "w", "و")
_UNITS_FIRST = _normal_set("w", "و")  # Arabic and Darija say 5 and 20: «خمسة وعشرين»
_TEEN_TEN = _normal_set("عشر", "عشرة")  # «اثنا عشر», «ثلاثة عشر»
_FRENCH_VINGT = _normal_set("vingt", "vingts")
_ONES = frozenset(w for w, (_, _, flags) in _NUM_WORDS.items() if flags & _ONE)
_NOT_NUMBER = (0.0, "", 0)
_ONE_AFTER = _normal_set("un", "une", "one", "uno", "una")  # "vingt et un", "twenty-one"
_SCALE_LINKS = _normal_set("ديال", "د", "dyal", "dial", "d")  # «بتلاتة ديال المليار»
_ARTICLE_SCALES = frozenset(w for w, (_, kind, flags) in _NUM_WORDS.items() if kind == _SCALE and flags & _ARTICLE)

# --------------------------------------------------------------------------------------------
# Units and context words
# --------------------------------------------------------------------------------------------

_MONTH_NAMES = {
    1: ("janvier", "janv", "january", "jan", "enero", "يناير", "جانفي", "كانون الثاني", "yanayer", "yanayir", "yanayr",
        "yennayer"),
    2: ("février", "fevr", "fev", "february", "feb", "febrero", "فبراير", "فيفري", "شباط", "fbrayer", "febrayer",
        "fabrayer", "febrayir", "fbrayr"),
    3: ("mars", "march", "marzo", "مارس", "آذار"),
    4: ("avril", "avr", "april", "apr", "abril", "أبريل", "ابريل", "أفريل", "نيسان", "ibril"),
    5: ("mai", "may", "mayo", "ماي", "مايو", "أيار"),
    6: ("juin", "june", "jun", "junio", "يونيو", "يونيه", "جوان", "حزيران", "younyou", "yunyu", "yonyo"),
    7: ("juillet", "juil", "july", "jul", "julio", "يوليوز", "يوليو", "جويلية", "تموز", "youlyouz", "yulyuz",
        "youliouz"),
    8: ("août", "aout", "august", "aug", "agosto", "غشت", "أغسطس", "اوت", "آب", "ghocht", "ghoucht", "ghusht",
        "ghosht"),
    9: ("septembre", "sept", "sep", "september", "septiembre", "شتنبر", "سبتمبر", "أيلول", "chtenber", "chtanbir",
        "shtanbir", "chtonbir"),
    10: ("octobre", "oct", "october", "octubre", "أكتوبر", "اكتوبر", "تشرين الأول", "oktobar", "uktubar", "oktober"),
    11: ("novembre", "nov", "november", "noviembre", "نونبر", "نوفمبر", "تشرين الثاني", "nonbir", "nounbir", "novambr",
         "nunbir", "nuvembr"),
    12: ("décembre", "decembre", "dec", "december", "diciembre", "دجنبر", "ديسمبر", "كانون الأول", "dojanbir",
         "dujanbir", "dujamber", "dijanbir", "dujanber"),
}
_MONTH_OF: dict[str, int] = {}
_MONTH_PAIRS: dict[tuple[str, str], int] = {}  # «كانون الثاني»
for _m, _names in _MONTH_NAMES.items():
    for _name in _names:
        _words = _norm(_name).split()
        if len(_words) == 1:
            _MONTH_OF[_words[0]] = _m
        else:
            _MONTH_PAIRS[(_words[0], _words[1])] = _m
_MONTH_PAIR_FIRST = frozenset(a for a, _ in _MONTH_PAIRS)
_MONTHISH = frozenset(_MONTH_OF) | _MONTH_PAIR_FIRST
# "1er mars", "March first", «فاتح مارس», «الفاتح من مارس»
_ORDINAL_FIRST = _normal_set("1er", "premier", "first", "primero", "فاتح", "الفاتح", "fati7", "fatih", "lfati7",
                             "أول", "lwel", "lowel", "lawel", "louwel")
# read before a month only: "mars premier", «مارس أول مرة» are no date
_FIRST_BEFORE_ONLY = _normal_set("premier", "primero", "أول", "lwel", "lowel", "lawel", "louwel")
# "le premier jour de décembre", "the first day of March", «أول يوم من دجنبر»
_DAY_NAME = _normal_set("jour", "day", "يوم", "nhar", "نهار", "día")
# The middle and the end of a month: "mi-décembre", "mid-December", «منتصف شهر دجنبر» (the 15th);
# "fin novembre", "by the end of November", «متم أكتوبر», «آخر أكتوبر», "akhir novembre" (its last day)
_MID_MONTH = _normal_set("mi", "mid", "منتصف", "أواسط", "mediados")
_END_MONTH = _normal_set("fin", "end", "متم", "نهاية", "آخر", "أواخر", "akhir", "akher", "lakhar", "finales")
_MONTH_FILLERS = _normal_set("de", "du", "d", "of", "the", "mois", "month", "شهر", "chhar", "ديال", "dyal", "dial",
                             "من", "lchhar")
# a month's last day, in a common year: the dates read carry no year
_MONTH_DAYS = {m: calendar.monthrange(2025, m)[1] for m in range(1, 13)}
# New Year's Day: «راس العام», «رأس السنة», "ras l3am", "nouvel an", "jour de l'an", "New Year's Day"
_NEW_YEAR = {(_norm(a), _norm(b)) for a, b in (("راس", "العام"), ("رأس", "السنة"), ("ras", "l3am"), ("rass", "l3am"),
                                               ("nouvel", "an"), ("año", "nuevo"))}
_NEW_YEAR_FIRST = frozenset(a for a, _ in _NEW_YEAR) | _normal_set("new", "jour")
# "20 de febrero", «العشرين من فبراير», "1st of March", "20 d febrayer"
_OF = _normal_set("de", "del", "of", "من", "d", "dyal", "dial", "ديال", "د")
# Words before a day/month without year: "nhar 1/3", "le 20/02"; "1/3 des détenus" is a third.
_DATE_CUES = _normal_set("nhar", "نهار", "يوم", "yom", "youm", "le", "du", "au", "dès", "depuis", "avant", "après",
                         "jusqu", "on", "from", "by", "until", "since", "before", "after", "el", "desde", "hasta", "من",
                         "في", "ابتداء", "ابتداءا", "قبل", "بعد", "حتى", "mn", "men", "f", "fi", "9bel", "qbel", "b3d",
                         "ba3d", "date", "تاريخ", "بتاريخ", "ليوم")
# "du 7 au 8 novembre", "7 et 8 novembre", «7 و8 نونبر»
_RANGE_LINKS = _normal_set("et", "and", "w", "و", "y", "au", "à", "to", "ila", "إلى", "l")

_YEAR_WORDS = _normal_set("an", "ans", "année", "années", "year", "years", "سنة", "سنوات", "سنين", "عام", "أعوام",
                          "السنين", "السنوات", "الأعوام",
                          "العام", "السنة", "snin", "sna", "3am", "3wam", "años", "año")
_MONTH_WORDS = _normal_set("mois", "month", "months", "شهر", "شهور", "أشهر", "chhor", "chhour", "chhar", "chher",
                           "الشهور", "الأشهر", "lchhour", "lchhor",
                           "meses", "mes")
_WEEK_WORDS = _normal_set("semaine", "semaines", "week", "weeks", "semana", "semanas", "أسبوع", "أسابيع", "سيمانة",
                          "سيمانات", "السيمانات", "simana", "simanat", "ssimana", "ssimanat", "sbou3", "الأسابيع",
                          "asabi3")
_DAY_WORDS = _normal_set("jour", "jours", "day", "days", "día", "días", "يوم", "يوما", "أيام", "يام", "ايام", "yom",
                         "الأيام",
                         "youm", "iyam", "ayam", "iyyam", "lyam", "liyam")
_DUALS = {**{_norm(w): "y:2" for w in ("سنتين", "عامين", "3amayn", "3amin", "3amine", "3amen", "3amain")},
          **{_norm(w): "mo:2" for w in ("شهرين", "chahrayn", "chhrin", "chahrin")},
          **{_norm(w): "dd:14" for w in ("أسبوعين", "سيمانتين", "simantin")},
          **{_norm(w): "mo:6" for w in ("semestre", "semester", "semestres", "semesters")}}
_with_proclitics(_DUALS)
_FINE_WORDS = _normal_set("amende", "amendes")  # "90 jours-amende": days of the day-fine
# "half a year", "demi-année", «نص عام», «نصف سنة», "nos 3am": six months
_HALF = _normal_set("half", "demi", "نص", "نصف", "medio")
# "and a half" after a year, a month or a scale: «عام ونص», "3am w nss", "un mois et demi",
# "a year and a half", «مليون ونص», "deux millions et demi", "dos millones y medio"
_AND_HALF = _normal_set("ونص", "ونصف", "wnss", "wnos")
_HALF_AFTER = {**{w: _normal_set("نص", "نصف", "nss", "nos", "ness", "nass") for w in _normal_set("w", "و")},
               _norm("et"): _normal_set("demi", "demie"), _norm("y"): _normal_set("medio", "media")}
# a year or a month alone before "and a half": «بعام ونص», "3am w nos", «شهر ونصف», "un an et demi"
_HALF_UNITS = {**{w: "y" for w in _normal_set("an", "année", "year", "سنة", "عام", "3am", "sna", "año")},
               **{w: "mo" for w in _normal_set("mois", "month", "شهر", "chhar", "mes")}}
_with_proclitics(_HALF_UNITS)
# Arabizi "half" is also French "nos", "nous": only before a Darija year word
_HALF_ARABIZI = _normal_set("nos", "nss", "nous")
_ARABIZI_YEAR = _normal_set("3am", "l3am", "sna")
_A = _normal_set("a", "an", "un", "una")
# "72 heures" is "three days": hours that make whole days (at most four, beyond it is a
# figure, like a community-service term of 240 hours)
_HOUR_WORDS = _normal_set("heures", "heure", "hours", "hour", "h", "horas", "ساعة", "ساعات", "sa3a", "swaye3")
# Units of measure that make a small number in words a figure: "three kilos", «تلاتة كيلو»
_MEASURE_WORDS = _normal_set("kilo", "kilos", "kg", "kgs", "كيلو", "كيلوغرام", "كيلوغرامات", "كلغ", "kilogrammes",
                             "kilograms", "grammes", "grams", "غرام", "gramme", "km", "kilomètres", "kilometres",
                             "kilometers", "كيلومتر", "كيلومترات", "mètres", "metres", "meters", "متر", "مترا",
                             "أمتار", "metro", "mitro", "litres", "liters", "لتر")
_SUFFIXES = _normal_set("dh", "dhs", "mad", "درهم", "دراهم", "h", "e", "er", "eme", "th", "st", "nd", "rd", "€",
                        "euros", "euro", "اورو", "يورو")
_ORDINAL_SUFFIXES = frozenset({"", "st", "nd", "rd", "th", "er", "e", "eme"})
_ENGLISH_ORDINAL = {"st": 1, "nd": 2, "rd": 3}
_CURRENCIES = _normal_set("euro", "euros", "€", "اورو", "يورو", "أورو", "dollar", "dollars", "دولار", "درهم", "دراهم",
                          "درهما", "الدراهم", "dirham", "dirhams", "dh", "dhs", "mad", "lora", "loro", "دولارا")
_CENTIME_WORDS = {**{w: CENTIME for w in _normal_set(
    "centime", "centimes", "cts", "sntim", "santim", "sentim", "snitim", "سنتيم", "السنتيم", "سنتيمات", "bsntim",
    "franc", "francs", "frank", "فرنك", "فرنكات", "الفرنك", "frenk", "centim", "santime", "سانتيم")},
    **{w: RYAL for w in _normal_set("ryal", "rial", "riyal", "ryals", "ريال", "ريالات", "دريال", "الريال", "dryal",
                                    "driyal")}}
_FOREIGN_RYAL = _normal_set("سعودي", "saudi", "قطري", "qatari", "عماني", "يمني")
# What makes «ميتين», «ميات» a number when it follows: «ميات درهم», «ميتين ساعة», «مئتي متر»
_WEAK_NEXT = (_CURRENCIES | frozenset(_CENTIME_WORDS) | _HOUR_WORDS | _YEAR_WORDS | _MONTH_WORDS | _WEEK_WORDS
              | _DAY_WORDS | _MEASURE_WORDS)

# Percentages: "40 %", "40 pour cent", «30 في المائة», «تمانين فالمية», "rbe3in f lmya"
_PCT_ONE = _normal_set("pourcent", "pourcents", "percent", "pct", "فالمية", "فالمائة", "بالمية", "بالمائة", "بالمئة",
                       "فالمئة", "flmya", "flmia", "felmya", "felmia", "filmya", "fl9ent")
_PCT_PREP = _normal_set("pour", "per", "por", "في", "ف", "f", "fi", "fel", "fl", "b", "ب", "bel")
_PCT_HUNDRED = _normal_set("cent", "100", "ciento", "cien", "المائة", "المئة", "المية", "مائة", "مية", "lmya", "lmia",
                           "lmiya", "lmyya", "mya", "mia", "miya")
# Fractions: "8 sur 10", "4 mn 5", "four in ten", «ثمانية أحكام من أصل عشرة»; value: may words come between?
_FRACTION_LINKS = {**{w: True for w in _normal_set("sur")}, **{w: False for w in _normal_set("in", "mn", "men", "من",
                                                                                              "على", "3la")}}
_FRACTION_PAIRS = {(_norm(a), _norm(b)) for a, b in (("out", "of"), ("من", "أصل"), ("من", "كل"), ("de", "cada"),
                                                     ("mn", "asl"))}
_FRACTION_PAIR_FIRST = frozenset(a for a, _ in _FRACTION_PAIRS)
_LINK_FIRST = frozenset(_FRACTION_LINKS) | _FRACTION_PAIR_FIRST
_DENOMINATORS = frozenset({2.0, 3.0, 4.0, 5.0, 10.0, 100.0})
_DENOMINATOR_WORDS = {**{w: 3 for w in _normal_set("tiers", "thirds", "tercios")},
                      **{w: 4 for w in _normal_set("quarts", "quarters", "cuartos")},
                      **{w: 5 for w in _normal_set("cinquièmes", "fifths", "quintos")},
                      **{w: 10 for w in _normal_set("dixièmes", "tenths", "décimos")}}
# one of them: "un cinquième des détenus", "a fifth" ("un tiers" is also a third party, "un quart" a
# quarter of an hour)
_ONE_DENOMINATOR_WORDS = {**{w: 5 for w in _normal_set("cinquième", "fifth", "quinto")},
                          **{w: 10 for w in _normal_set("dixième", "tenth", "décimo")}}
_DENOMINATOR_WORDS.update(_ONE_DENOMINATOR_WORDS)
# «خمسي السجناء» (two fifths), "la moitié des détenus"
_FRACTION_WORDS = {**{w: 40 for w in _normal_set("خمسي", "خمسا")}, **{w: 67 for w in _normal_set("ثلثي", "ثلثا")},
                   **{w: 33 for w in _normal_set("ثلث")},
                   **{w: 50 for w in _normal_set("moitié", "half", "mitad", "نصف")}}
_HALF_OF = _normal_set("of", "the", "des", "de", "du", "del", "los", "las")
# "l'article 647-22", «المادة 35-3»: a reference to the code, not a figure of the claim
_ARTICLE_WORDS = _normal_set("article", "articles", "art", "المادة", "المواد", "الفصل", "الفصول", "مادة", "فصل",
                             "lmadda", "lfasl", "artículo", "section")
# "la loi 09-08", «القانون رقم 43-22», «المرسوم 2.26.450», "dahir n° 1-25-12": a reference to a text
_LAW_WORDS = _normal_set("loi", "law", "قانون", "القانون", "للقانون", "بالقانون", "فالقانون", "والقانون", "وقانون",
                         "لقانون", "بقانون", "فقانون", "l9anoun", "lqanoun", "9anoun", "qanoun", "l9anon", "dahir",
                         "ظهير", "الظهير", "décret", "decree", "مرسوم", "المرسوم", "ley")
_LAW_NUMBER_WORDS = _normal_set("n", "no", "n°", "nº", "num", "numéro", "number", "رقم", "ra9m")
_REFERENCE = re.compile(r"\d{1,4}(?:[.\-/]\d{1,4}){1,3}")

_NUMBER = re.compile(r"^([وبلفك]{0,2})(\d{1,3}(?:\.\d{3})+|\d+(?:\.\d+)?)([a-z\u0621-\u064a€]*)$")
_DIGITS = frozenset("0123456789")
_ANY_DIGIT = re.compile(r"\d")
_FIRST_CHARS = _DIGITS | frozenset("وبلفك")  # "30", «ب80»
_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")

# Words that can start a quantity without a digit («ألفين», «فاتح مارس», «خمسي», «سنتين»); any
# word starting with a digit is tried too.
_STARTS = frozenset(
    {w for w, (_, kind, flags) in _NUM_WORDS.items() if not flags & _NOSTART}
    | set(_DUALS) | _HALF | _HALF_ARABIZI | _ORDINAL_FIRST | set(_FRACTION_WORDS) | _ARTICLE_WORDS
    | set(_HALF_UNITS) | _MID_MONTH | _END_MONTH | _NEW_YEAR_FIRST | _LAW_WORDS
)


def number_feature(value: float, year: bool = True) -> tuple[str, float]:
    """The key and weight of a number; ``year``: written so that it may be a year (2026)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    if text in _GENERIC_NUMBERS:
        return f"n:{text}", W_GENERIC
    if year and 1990 <= value <= 2035 and value == int(value):
        return f"n:{text}", W_YEAR
    if value >= 100:
        return f"n:{text}", W_AMOUNT
    if value >= 10:
        return f"n:{text}", W_NUMBER
    return f"n:{text}", W_SMALL


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


class _Num:
    """A number read from the tokens ``start`` to ``end`` (excluded)."""

    __slots__ = ("value", "start", "end", "words", "digits", "bare", "one", "scale", "scale_word", "alf", "suffix",
                 "dh")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start
        self.value = 0.0
        self.words = False  # some part written in words
        self.digits = False  # some part written in digits
        self.bare = False  # only "mille"/«ألف»/"cent": no figure unless a currency follows
        self.one = False  # only "un"/"one"/«واحد»
        self.scale = 0.0  # the largest scale word
        self.scale_word = ""
        self.alf = False  # the Arabic or Darija thousand
        self.suffix = ""  # letters glued to the last digits: "2000dh", "1er"
        self.dh = False  # "30 MDH": the scale word says dirhams


class Quantities:
    """Reads the amounts, counts, percentages, dates and durations of a post into features
    (``features``) and remembers which tokens they were written with (``used``)."""

    def __init__(self, view: TextView, lang: str | None) -> None:
        self.toks = view.tokens
        self.words: list[str] = []  # filled by read()
        self.text = view.text
        self.joined = view.joined
        self.centimes = lang in _CENTIMES_LANGS
        self.english = lang in ("en", None, "und")  # "two grand"; French "deux grand-mères", "un grand juge"
        self.franc = 0.0  # the post counted an amount in francs or ryals: its next "alf" too
        self.used: set[int] = set()
        self.features: dict[str, float] = {}

    def read(self) -> dict[str, float]:
        # The words, padded so that looking a few words before the first or after the last
        # finds "" (index -1 is the padding too).
        words = self.words = [t.norm for t in self.toks]
        if _STARTS.isdisjoint(words) and not _ANY_DIGIT.search(self.joined):
            return self.features  # most posts: no figure at all, found without a loop in Python
        starts = [i for i, w in enumerate(words)
                  if w in _STARTS or (w[0] in _FIRST_CHARS and (w[0] in _DIGITS or w[1:2] in _DIGITS))]
        words += [""] * 8
        done = 0
        for i in starts:
            if i >= done:
                done = max(self._quantity(i), i + 1)
        return self.features

    # -- helpers --------------------------------------------------------------------------

    def _gap(self, i: int) -> str:
        """The text between token ``i - 1`` and token ``i`` (or the end)."""
        toks = self.toks
        if i <= 0 or i > len(toks):
            return ""
        end = toks[i].start if i < len(toks) else min(len(self.text), toks[i - 1].end + 3)
        return self.text[toks[i - 1].end:end]

    def _add(self, key: str, weight: float, tokens: Iterable[int]) -> None:
        self.features[key] = max(weight, self.features.get(key, 0.0))
        self.used.update(tokens)

    def _month_at(self, k: int) -> tuple[int, int]:
        """(month, tokens) of a month name at ``k``, or (0, 0)."""
        w = self.words[k]
        m = _MONTH_OF.get(w)
        if m:
            return m, 1
        if w in _MONTH_PAIR_FIRST:
            m = _MONTH_PAIRS.get((w, self.words[k + 1]), 0)
            if m:
                return m, 2
        return 0, 0

    def _month_after(self, k: int) -> tuple[int, int]:
        """A month name at ``k``, or after "de"/«من»/"of"."""
        m, used = self._month_at(k)
        if not m and self.words[k] in _OF:
            m, used = self._month_at(k + 1)
            used += 1 if m else 0
        return m, used

    def _date(self, month: int, day: float, tokens: Iterable[int]) -> None:
        self._add(f"d:{month:02d}-{int(day):02d}", W_DATE, tokens)

    @staticmethod
    def _is_day(value: float) -> bool:
        return 1 <= value <= 31 and value == int(value)

    def _half_at(self, k: int) -> int:
        """Tokens of "and a half" at ``k`` («ونص», "w nss", "et demi", "and a half"), or 0."""
        w = self.words[k]
        if w in _AND_HALF:
            return 1
        halves = _HALF_AFTER.get(w)
        if halves is not None and self.words[k + 1] in halves:
            return 2
        if w == "and" and self.words[k + 1] == "a" and self.words[k + 2] == "half":
            return 3
        return 0

    def _weak_ok(self, k: int, flags: int) -> bool:
        """Is the weak or approximate number before ``k`` a number: «ميات درهم», «ميتين ساعة»,
        «ميتين وربعين ألف», "une quarantaine de jours"?"""
        w = self.words[k]
        if flags & _APPROX:
            return w in _OF or w in _WEAK_NEXT
        if w in _WEAK_NEXT or self._unit_at(k)[0] is not None:
            return True
        entry = _NUM_WORDS.get(w)
        return (entry is not None and entry[1] == _SCALE and not entry[2] & _ARTICLE) or self._and_more(k)

    def _part_of_month(self, i: int) -> int:
        """"mi-décembre", «منتصف شهر دجنبر»: the 15th; "fin novembre", "by the end of November",
        «متم أكتوبر»: the last day. The index after the month, or ``i``."""
        k = i + 1
        while k < i + 3 and self.words[k] in _MONTH_FILLERS:
            k += 1
        month, used = self._month_at(k)
        if not month:
            return i
        self._date(month, 15 if self.words[i] in _MID_MONTH else _MONTH_DAYS[month], range(i, k + used))
        return k + used

    def _new_year(self, i: int) -> int:
        """«راس العام», "nouvel an", "jour de l'an", "New Year's Day": the first of January."""
        w, nxt = self.words[i], self.words[i + 1]
        end = 0
        if (w, nxt) in _NEW_YEAR:
            end = i + 2
        elif w == "jour" and self.words[i + 1:i + 4] == ["de", "l", "an"]:
            end = i + 4
        elif w == "new" and nxt == "year" and self.words[i + 2] in ("s", "day"):
            end = i + 3
        if end:
            self._date(1, 1, range(i, end))
            return end
        return i

    def _law(self, i: int) -> int:
        """"la loi 09-08", «القانون رقم 43.22», «المرسوم 2.26.450»: one low-weight key for the
        text referred to (the reform's own law under its usual key, n:43.22)."""
        k = i + 2 if self.words[i + 1] in _LAW_NUMBER_WORDS else i + 1
        parts = [self.words[k]]
        end = k + 1
        while len(parts) < 4 and self.words[end].isdigit() and self._gap(end) in ("-", "/", "."):
            parts.append(self.words[end])
            end += 1
        ref = ".".join(parts)
        if not _REFERENCE.fullmatch(ref):
            return i
        if ref in _GENERIC_NUMBERS:
            self._add(f"n:{ref}", W_GENERIC, range(k, end))
        else:
            self._add(f"l:{ref}", W_GENERIC, range(k, end))
        return end

    def _not_a_figure(self, i: int) -> int:
        """Digits that are no figure: a phone number ("0661234567", "06 61 23 45 67", "+212 661…"),
        "24/24", "24h/24", "7j/7", the TV channel 2M. The index after them, or 0."""
        w = self.words[i]
        start = self.toks[i].start
        gap = self.text[max(0, start - 2):start]
        if w.isdigit():
            if (len(w) >= 9 and w[0] == "0") or (w.startswith("212") and "+" in gap):  # 0661234567, +212…
                end = i + 1
                while self.words[end].isdigit() and not self._gap(end).strip(" .-"):
                    end += 1
                return end
            if len(w) == 2 and w[0] == "0":  # 06 61 23 45 67
                end = i + 1
                while len(self.words[end]) == 2 and self.words[end].isdigit() and not self._gap(end).strip(" .-"):
                    end += 1
                if end - i >= 4:
                    return end
        # "24/24", "24h/24", "7j/7" (always), not "7/7" after "nhar", "le" (the 7th of July)
        digits = w.rstrip("hj")
        if (digits in ("24", "7", "365") and self.words[i + 1] == digits and self._gap(i + 1).strip() == "/"
                and (digits != w or digits != "7" or self.words[i - 1] not in _DATE_CUES)):
            return i + 2
        if w == "2m" and self._unit_at(i + 1)[0] is None and "$" not in gap:  # the channel, not two million
            return i + 1
        return 0

    # -- one quantity ---------------------------------------------------------------------

    def _quantity(self, i: int) -> int:
        """Reads the quantity starting at token ``i``; the index after it, or ``i`` if none."""
        word = self.words[i]
        nxt = self.words[i + 1]
        if (word in _ONES and _NUM_WORDS.get(nxt, _NOT_NUMBER)[1] not in (_SCALE, _HUNDRED) and nxt not in _LINK_FIRST
                and not (nxt in _TEEN_TEN and is_arabic(word))  # «أحد عشر»: eleven
                and nxt not in _ONE_DENOMINATOR_WORDS  # "un cinquième"
                and not (nxt in _HALF_UNITS and self._half_at(i + 2))):  # "un an et demi"
            return i  # "un", «واحد»: the commonest of these words, and no figure ("un million", "one in five" are)
        if word in _DUALS:
            key = _DUALS[word]
            half = self._half_at(i + 1) if key in ("y:2", "mo:2") else 0
            if half:  # «عامين ونص»: thirty months
                key = "mo:30" if key == "y:2" else "dd:75"
            self._add(key, W_DURATION, range(i, i + 1 + half))
            return i + 1 + half
        if word in _HALF_UNITS:
            half = self._half_at(i + 1)
            if half:  # «بعام ونص», "3am w nos", «شهر ونصف»: eighteen months, forty-five days
                self._add("mo:18" if _HALF_UNITS[word] == "y" else "dd:45", W_DURATION, range(i, i + 1 + half))
                return i + 1 + half
            if word not in _NUM_WORDS:
                return i
        if word in _HALF or word in _HALF_ARABIZI:
            years = _YEAR_WORDS if word in _HALF else _ARABIZI_YEAR
            k = i + 2 if nxt in _A and nxt not in years else i + 1  # "half a year"; "un demi-an"
            if self.words[k] in years:
                self._add("mo:6", W_DURATION, range(i, k + 1))
                return k + 1
            # «نص مليون», "nos melyoun", "half a million": half the scale ("nos mille" is French "our")
            scale, kind, flags = _NUM_WORDS.get(self.words[k], _NOT_NUMBER)
            if (kind == _SCALE and not flags & (_PLURAL | _DUAL | _NOSTART) and self.words[k] not in _ALFA
                    and (word in _HALF or flags & _ALF or scale >= 1e6)):
                num = self._number(k)
                if num is not None:
                    num.start, num.value = i, num.value - scale / 2
                    return self._after_number(num)
        if word in _ORDINAL_FIRST:
            k = i + 2 if nxt in _DAY_NAME else i + 1  # "le premier jour de décembre"
            month, used = self._month_after(k)
            if month:
                self._date(month, 1, range(i, k + used))
                return k + used
            month, _ = self._month_at(i - 1)
            if month and word not in _FIRST_BEFORE_ONLY:  # "March first"; "mars premier" is not said
                self._date(month, 1, (i,))
                return i + 1
            return i
        if word in _MID_MONTH or word in _END_MONTH:
            return self._part_of_month(i)
        if word in _NEW_YEAR_FIRST:
            return self._new_year(i)
        if word in _LAW_WORDS:
            return self._law(i)
        if word in _FRACTION_WORDS:
            if word in _HALF_WORDS and not self._half_of(i + 1):
                return i
            self._add(f"p:{_FRACTION_WORDS[word]}", W_PERCENT, (i,))
            return i + 1
        if word in _ARTICLE_WORDS:
            return self._article(i)
        entry = _NUM_WORDS.get(word)
        if entry is not None and entry[1] == _DAY:
            day, k = entry[0], i + 1
            if day < 10 and self.words[k] in _TEEN_TEN:  # «الخامس عشر من نونبر»
                day, k = day + 10, k + 1
            month, used = self._month_after(k)
            if month:
                self._date(month, day, range(i, k + used))
                return k + used
            return i
        if entry is not None and entry[2] & (_WEAK | _APPROX) and not self._weak_ok(i + 1, entry[2]):
            return i
        if (word, nxt) in (("43", "22"), ("22", "43")):  # the law's number, 43-22
            self._add("n:43.22", W_GENERIC, (i, i + 1))
            return i + 2
        end = self._not_a_figure(i)
        if end:
            return end
        end = self._numeric_date(i)
        if end:
            return end
        num = self._number(i)
        if num is None:
            return i
        return self._after_number(num)

    def _after_number(self, num: _Num) -> int:
        """What the number is: a percentage, a day, a duration, an amount, a count."""
        i, j, value = num.start, num.end, num.value
        toks = range(i, j)
        # a percentage
        pct = self._percent_at(j)
        if pct is not None:
            # "100 %" says "totally" more often than it gives a figure
            self._add(f"p:{_fmt(value)}", W_PERCENT if value != 100 else W_SMALL, range(i, j + pct))
            return j + pct
        whole = value == int(value) and not num.scale and not num.suffix
        if whole and 1 <= value < 100:
            den = _DENOMINATOR_WORDS.get(self.words[j])
            if den and (value >= 2 or self.words[j] in _ONE_DENOMINATOR_WORDS) and value < den:
                # "deux tiers", "un cinquième"; "un tiers" is also a third party
                self._add(f"p:{round(100 * value / den)}", W_PERCENT, range(i, j + 1))
                return j + 1
            got = self._fraction(j, value)
            if got is not None:
                pct_value, links, end = got
                self._add(f"p:{pct_value}", W_PERCENT, [*toks, *links])
                return end
        # a day of a month
        words = self.words
        if (self._is_day(value) and not num.scale and num.suffix in _ORDINAL_SUFFIXES
                and (words[i - 1] in _MONTH_OF or not _MONTHISH.isdisjoint(words[j:j + 4]))):
            end = self._day(num)
            if end:
                return end
        # hours that make whole days (also read below as a figure)
        if whole and value in (24, 48, 72, 96) and self.words[j] in _HOUR_WORDS:
            self._add(f"dd:{_fmt(value / 24)}", W_SMALL, range(i, j + 1))
        # a duration
        if whole and value < 100:
            k = j + 1 if self.words[j] in _OF else j  # «ستة د السيمانات»
            unit = self.words[k]
            key = (f"y:{_fmt(value)}" if unit in _YEAR_WORDS else f"mo:{_fmt(value)}" if unit in _MONTH_WORDS
                   else f"dd:{_fmt(value * 7)}" if unit in _WEEK_WORDS
                   else f"dd:{_fmt(value)}" if unit in _DAY_WORDS else None)
            if (key is not None and self._gap(k + 1) == "-" and self._gap(k) != "-" and not is_arabic(unit)
                    and self.words[k + 1] not in _FINE_WORDS):
                key = None  # "40 day-fines", "deux week-ends": a compound; "19-year-old", "90 jours-amende" are not
            half = self._half_at(k + 1) if key is not None and key[0] in "ym" else 0
            if half:  # "un an et demi", "3 snin w nss", "deux mois et demi"
                key = f"mo:{_fmt(value * 12 + 6)}" if key[0] == "y" else f"dd:{_fmt(value * 30 + 15)}"
            if key is not None and not (num.one and not num.digits and not half):
                # a few days is said of anything ("depuis 3 jours"); a few months or years is a term
                weight = W_SMALL if key.startswith("dd:") and float(key[3:]) < 10 else W_DURATION
                self._add(key, weight, range(i, k + 1 + half))
                return k + 1 + half
        if num.one:
            return i
        # an amount, in dirhams
        factor, unit_end = self._unit_at(j)
        if factor is None and (num.suffix in _CURRENCIES or num.dh):  # "2000dh", "30 MDH"
            factor = 1.0
        if factor is None and num.scale >= 1e6 and self.centimes and num.scale_word not in ("m", "mln", "bn"):
            factor = CENTIME  # Darija «140 مليون», "8 melyar": in centimes
        if factor is None and self.franc and num.alf:
            factor = self.franc  # "45 alf franc ..., w l7bs ghir 12 alf"
        if factor is not None and factor < 1:
            self.franc = factor
        if num.bare and factor is None:
            return i
        if num.words and not num.digits and value < 10 and factor is None and not self._measure_at(j):
            return i  # "deux fois", «ربع مرات»; "three kilos" is a figure
        if factor is not None:
            value *= factor
        # 2000 in digits may be a year: weighing it little also keeps "100 à 2 000 DH", the law's
        # range of day-fines, from making a claim; "deux mille" is a count.
        year = num.digits or 2000 < value
        end = unit_end if factor is not None and factor < 1 else j  # the centime word goes too
        self._add(*number_feature(value, year), range(i, end))
        return end

    # -- reading a number -------------------------------------------------------------------

    def _element(self, k: int) -> tuple[str, float, int, int, str, bool] | None:
        """(kind, value, flags, tokens, suffix, plain) of one number word or number in digits."""
        w = self.words[k]
        if not w:
            return None
        entry = _NUM_WORDS.get(w)
        if entry is not None:
            value, kind, flags = entry
            return kind, value, flags, 1, "", False
        c = w[0]
        if not (c.isdigit() or (c in "وبلفك" and w[1:2].isdigit())):
            return None
        m = _NUMBER.match(w)
        if m is None:
            return None
        prefix, digits, suffix = m.groups()
        if suffix:
            if suffix in _ENGLISH_ORDINAL:  # "3nd" is Arabizi «عند», not 3rd
                last = int(float(digits)) % 100 if "." not in digits else -1
                if last % 10 != _ENGLISH_ORDINAL[suffix] or 10 < last < 14:
                    return None
            elif suffix not in _SUFFIXES and _NUM_WORDS.get(suffix, (0, ""))[1] != _SCALE:
                return None
        grouped = "." in digits and _GROUPED.fullmatch(digits) is not None
        value = float(digits.replace(".", "")) if grouped else float(digits)
        j = k + 1
        if not suffix:
            # "30 000", "1 001": groups of three digits after one to three digits.
            while (len(digits) <= 3 and value < 1000 ** (j - k) and self._is_group(j)
                   and not self._gap(j).strip(" \u00a0\u202f,.'’")):
                value = value * 1000 + float(self.words[j])
                j += 1
            # "1,4 million": a decimal comma before a scale word.
            nxt = self.words[j]
            if (j == k + 1 and len(nxt) <= 2 and nxt.isdigit() and self._gap(j).strip() in (",", "،")
                    and _NUM_WORDS.get(self.words[j + 1], (0, ""))[1] == _SCALE):
                value = float(f"{int(value)}.{nxt}")
                j += 1
        flags = _CONJ if "و" in prefix else 0
        plain = j == k + 1 and not suffix and digits.isdigit()
        return "d", value, flags, j - k, suffix, plain

    def _is_group(self, j: int) -> bool:
        w = self.words[j]
        return len(w) == 3 and w.isdigit()

    def _number(self, i: int) -> _Num | None:
        """The number written from token ``i``: digits, words, scales and their connectors."""
        num = _Num(i)
        total = cur = 0.0
        last_scale = float("inf")
        last = 0.0  # the last plain value added: "cinq" of «خمسة وعشرين»
        elements = 0
        first_kind = ""
        cur_digits = False
        j = i
        while True:
            k = j
            conj = units_first = False
            if elements and self.words[k] in _CONNECTORS:
                conj, units_first, k = True, self.words[k] in _UNITS_FIRST, k + 1
            elif elements and cur and self.words[k] in _SCALE_LINKS and self.words[k + 1] in _ARTICLE_SCALES:
                k += 1  # «تلاتة ديال المليار», "3 d lmlayn"
            el = self._element(k)
            if el is None:
                break
            kind, v, flags, used, suffix, plain = el
            w = self.words[k]
            if flags & _CONJ:
                if conj:
                    break
                conj = units_first = elements > 0
            if kind == _DAY:
                break
            if not elements:
                first_kind = kind
                if kind == "d":
                    cur, cur_digits, num.digits, num.suffix = v, True, True, suffix
                    scale = _NUM_WORDS.get(suffix)
                    if scale is not None and scale[1] == _SCALE:  # "30k", «80مليون», "30MDH"
                        total, cur, last_scale = v * scale[0], 0.0, scale[0]
                        num.scale, num.scale_word, num.alf = scale[0], suffix, bool(scale[2] & _ALF)
                        num.suffix, num.dh = "", bool(scale[2] & _DH)
                elif kind == _VAL:
                    cur, last, num.words = v, v, True
                elif kind == _HUNDRED:
                    cur, num.words = 100.0, True
                elif kind == _SCALE:
                    if flags & (_PLURAL | _NOSTART):
                        return None
                    if w in _ALFA and not self._and_more(k + used):
                        flags |= _DUAL
                    total = v * (2 if flags & _DUAL else 1)
                    last_scale, num.words = v, True
                    num.scale, num.scale_word, num.alf = v, w, bool(flags & _ALF)
                else:
                    return None
                elements, j = 1, k + used
                continue
            # continuing the number
            if kind == _SCALE:
                if conj or (flags & _DUAL and w not in _ALFA):
                    break
                if w == "grand" and (not self.english or self._gap(k + 1).startswith("-")):
                    break  # "two grand" in English; "deux grand-mères"
                if v < last_scale and cur:
                    total += cur * v
                elif v > last_scale and not cur and total:  # "mil millones"
                    total *= v
                else:
                    break
                cur, cur_digits, last_scale = 0.0, False, v
                if v > num.scale:
                    num.scale, num.scale_word = v, w
                num.alf = num.alf or bool(flags & _ALF)
                num.dh = num.dh or bool(flags & _DH)
                num.words = True
            elif kind == _HUNDRED:
                past_ten = w in _HUNDREDS_PAST_TEN and 10 < cur < 100 and cur % 10 and not total
                if conj or not (0 < cur < 10 or past_ten) or cur_digits and cur != int(cur):
                    break
                cur *= 100
                num.words = True
            elif kind == "d":
                # digits go on only after a scale and «و»: «ألف و200», «31 مليار و200 مليون»
                if not conj or cur or not total or v >= last_scale or suffix:
                    break
                cur, cur_digits, num.digits = v, True, True
            else:  # a plain value
                if flags & _ONE and w not in _ONE_AFTER:  # "khamsin wa7ed": fifty people
                    break
                if cur_digits or not self._addable(cur, v, last, w, units_first):
                    break
                if w in _FRENCH_VINGT and cur % 100 == 4 and last == 4:
                    cur += 76  # quatre-vingt
                else:
                    cur += v
                last, num.words = v, True
            elements += 1
            j = k + used
        if not elements:
            return None
        if total and not cur and last_scale >= 1e3:
            half = self._half_at(j)  # «مليون ونص», "deux millions et demi"
            if half:
                total += last_scale / 2
                j += half
        num.end = j
        num.value = total + cur
        num.one = elements == 1 and first_kind == _VAL and num.value == 1
        num.bare = elements == 1 and (first_kind == _HUNDRED or (first_kind == _SCALE and num.scale < 1e6))
        if elements == 1 and first_kind == _SCALE and num.value == 2 * num.scale:
            num.bare = False  # «ألفين»
        return num

    def _and_more(self, k: int) -> bool:
        """Does the number go on at ``k`` with «و»: «و200», «وستمائة», "w stmya"?"""
        if self.words[k] in _UNITS_FIRST:
            return self._element(k + 1) is not None
        el = self._element(k)
        return el is not None and bool(el[2] & _CONJ)

    @staticmethod
    def _addable(cur: float, v: float, last: float, word: str, units_first: bool) -> bool:
        """May the value ``v`` be added to the number read so far (``cur``, below a thousand)?"""
        if not cur:
            return True
        if v >= 100 or cur != int(cur):
            return False
        c = int(cur)
        place = 1
        while c % (place * 10) == 0:
            place *= 10
        if v < place:  # cent quarante, forty-two, dix-sept, «ثلاثمائة واثني»
            return True
        if c % 100 in (60, 80) and 10 <= v < 20:  # soixante-dix, soixante et onze, quatre-vingt-onze
            return True
        if v == 10 and word in _TEEN_TEN and 0 < last < 10 and not units_first:  # «اثني عشر»
            return True
        if v == 20 and word in _FRENCH_VINGT and last == 4:  # quatre-vingts
            return True
        # «خمسة وعشرون», "tlata w rb3in": Arabic and Darija say the unit before the ten
        return units_first and 0 < last < 10 and c % 10 == last and v % 10 == 0 and 20 <= v < 100

    # -- what comes after a number ------------------------------------------------------------

    def _percent_at(self, j: int) -> int | None:
        """Tokens of a percent sign or words at ``j`` (0 for "%"), or None."""
        gap = self._gap(j)
        if "%" in gap or "٪" in gap:
            return 0
        w = self.words[j]
        if w in _PCT_ONE:
            return 1
        if w in _PCT_PREP:
            k = j + 1
            if self.words[k] == "l":  # "f l mya"
                k += 1
            if self.words[k] in _PCT_HUNDRED:
                return k + 1 - j
        return None

    def _fraction(self, j: int, x: float) -> tuple[int, list[int], int] | None:
        """"8 sur 10", "four in ten", «ثمانية أحكام من أصل عشرة»: (percent, link tokens, end)."""
        if _LINK_FIRST.isdisjoint(self.words[j:j + 3]):
            return None
        for skip in range(3):
            k = j + skip
            w = self.words[k]
            fillers_ok = _FRACTION_LINKS.get(w)
            width = 1
            if w in _FRACTION_PAIR_FIRST and (w, self.words[k + 1]) in _FRACTION_PAIRS:
                fillers_ok, width = True, 2
            if fillers_ok is not None:
                if skip and not fillers_ok:
                    return None
                start = k + width
                w2 = self.words[start]
                if not w2 or not (w2[0].isdigit() or w2 in _NUM_WORDS):
                    return None
                den = self._number(start)
                if den is None or den.value not in _DENOMINATORS or not x < den.value or den.scale:
                    return None
                return round(100 * x / den.value), [*range(k, k + width), *range(start, den.end)], den.end
            if not w or w[0].isdigit() or w in _NUM_WORDS or self._gap(k + 1).strip():
                return None  # fillers are plain words: "trois jugements correctionnels sur dix"
        return None

    def _day(self, num: _Num) -> int:
        """A day before or after a month name: "20 février", "vingt février", «20 فبراير», "March 1st",
        "7 et 8 novembre"; the index after it, or 0."""
        i, j, x = num.start, num.end, num.value
        second, after = self._second_day(j, x)
        month, used = self._month_after(after if second else j)
        if month:
            self._date(month, x, range(i, j))
            if second:
                self._date(month, second, range(j, after))
            end = (after if second else j) + used
            self.used.update(range(i, end))
            return end
        month, _ = self._month_at(i - 1)
        if month and num.digits and not num.words:  # "March 1st", "November 7-8"
            self._date(month, x, range(i, j))
            if second:
                self._date(month, second, range(j, after))
                return after
            return j
        return 0

    def _second_day(self, j: int, x: float) -> tuple[float, int]:
        """The second day of a range after day ``x``: "7-8", "7/8", "7 et 8", «7 و8», "du 7 au 8"."""
        k, linked = j, self._gap(j).strip() in ("-", "/", "–", "—", "&")
        if not linked and self.words[j] in _RANGE_LINKS:
            k, linked = j + 1, True
        el = self._element(k)
        if el is None:
            return 0.0, j
        kind, y, flags, used, suffix, plain = el
        if not (plain or kind == _VAL or (kind == "d" and suffix in _ORDINAL_SUFFIXES and used == 1)):
            return 0.0, j
        if not (linked or flags & _CONJ) or not self._is_day(y) or not x < y <= x + 7:
            return 0.0, j
        return y, k + used

    def _unit_at(self, j: int) -> tuple[float | None, int]:
        """The factor to dirhams of a currency at ``j`` (1 for a currency, 0.01 for centimes or
        francs, 0.05 for ryals), after "de"/"dyal" maybe, and the index after it."""
        k = j + 1 if self.words[j] in _OF else j
        w = self.words[k]
        if w in _CURRENCIES:
            return 1.0, k + 1
        factor = _CENTIME_WORDS.get(w)
        if factor is not None:
            if factor == RYAL and self.words[k + 1] in _FOREIGN_RYAL:
                return 1.0, k + 1
            return factor, k + 1
        return None, j

    def _measure_at(self, j: int) -> bool:
        """A unit of measure at ``j``, maybe after "de"/«ديال»: "three kilos", «تلاتة كيلو ديال»."""
        w = self.words[j]
        return w in _MEASURE_WORDS or (w in _OF and self.words[j + 1] in _MEASURE_WORDS)

    def _half_of(self, k: int) -> bool:
        w = self.words[k]
        return w in _HALF_OF or (is_arabic(w) and w.startswith("ال") and w not in _TIME_WORDS)

    def _numeric_date(self, i: int) -> int:
        """"20/02/2027", "20/02", "nhar 1/3", "2027-02-20", "20.02.2027": the index after, or 0."""
        w = self.words[i]
        m = _DOTTED_DATE.match(w) if w.count(".") == 2 else None
        if m:
            d, mo, y = (int(g) for g in m.groups())
            if 1 <= d <= 31 and 1 <= mo <= 12:
                self._date(mo, d, (i,))
                self._add(*number_feature(float(y)), (i,))
                return i + 1
            return 0
        end = self.toks[i].end
        if len(w) > 4 or not w.isdigit() or end >= len(self.text) or self.text[end] not in "/-":
            return 0
        sep = self._gap(i + 1).strip()
        if sep not in ("/", "-"):
            return 0
        w2, w3 = self.words[i + 1], self.words[i + 2]
        if not (w2.isdigit() and len(w2) <= 2):
            return 0
        if len(w) == 4:  # 2027-02-20
            if w3.isdigit() and len(w3) <= 2 and self._gap(i + 2).strip() == sep:
                mo, d = int(w2), int(w3)
                if 1 <= d <= 31 and 1 <= mo <= 12:
                    self._date(mo, d, range(i, i + 3))
                    self._add(*number_feature(float(w)), ())
                    return i + 3
            return 0
        d, mo = int(w), int(w2)
        if not (1 <= d <= 31 and 1 <= mo <= 12):
            return 0
        if self._gap(i + 2).strip() == sep and w3.isdigit() and len(w3) in (2, 4):
            self._date(mo, d, range(i, i + 3))
            if len(w3) == 4:
                self._add(*number_feature(float(w3)), ())
            return i + 3
        if sep != "/" or self._month_after(i + 2)[0]:  # "7/8 novembre": two days
            return 0
        if w[0] == "0" or w2[0] == "0" or self.words[i - 1] in _DATE_CUES:
            self._date(mo, d, (i, i + 1))
            return i + 2
        return 0

    def _article(self, i: int) -> int:
        """"l'article 647-22", «المادة 35-3»: one low-weight key for the reference."""
        k = i + 1
        w = self.words[k]
        if not (w.isdigit() and len(w) <= 4):
            return i
        ref, end = w, k + 1
        w2 = self.words[end]
        if w2.isdigit() and len(w2) <= 3 and self._gap(end).strip() in ("-", "."):
            ref, end = f"{w}-{w2}", end + 1
        self._add(f"a:{ref}", W_GENERIC, range(k, end))
        return end


_HALF_WORDS = _normal_set("moitié", "half", "mitad", "نصف")
_TIME_WORDS = _normal_set("الساعة", "الساعه", "الشهر", "السنة", "العام", "اليوم", "اللتر", "الكيلو", "الليل", "النهار")
