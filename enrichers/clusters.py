"""Rumor clusters: posts repeating one claim, in any language, share a ``cluster_id``.

No list of known rumors: a claim never seen before opens a new cluster by itself. The
clusterer is online and deterministic — one pass over the mentions in arrival order, the
mention's ``published_at`` as event time — and its memory is bounded.

How a post is compared
    Each post gets a *signature* (:class:`Signature`) that does not depend on its language:

    * the **concepts** it mentions, from the editable cross-lingual lexicon
      ``data/concepts.yaml`` («libérer», «إطلاق سراح», «يطلقو», "ytl9o", "release" → ``release``);
      Arabic words are tried with their proclitics, verb prefixes and pronoun suffixes removed,
      Arabizi words on their consonants;
    * its **quantities** (:mod:`enrichers.quantities`), one key however they are written: numbers
      in digits or in words in the five languages (30 000, 30.000, «30 ألف», "30 alf", 30k → 30000;
      "deux mille", «ألفين», "jouj alaf", "two thousand", "dos mil" → 2000); amounts in centimes,
      francs or ryals brought back to dirhams ("50 alf franc", "50 000 centimes" → 500 DH; Darija
      «مليار» with no currency is in centimes); percentages under keys of their own, so that 40 %
      does not meet 40 people ("40 %", «أربعين فالمية», "rbe3in f lmya", "four in ten", «خمسي»);
      dates ("20/02/2027", «العشرين من فبراير», "20 de febrero"; «فاتح مارس», "1er mars", "March
      1st", "nhar 1/3") and durations ("six semaines", "42 yom"). "un", «واحد», "deux fois",
      "mille fois" are not figures; years, the law's number and article numbers weigh little;
    * the **entities** of the gazetteer (``data/gazetteer.yaml``): institutions, people, places;
    * the **myths** the post was labelled with (``myth_weight``, less than most concepts):
      the myth classifier reads each language, so a version of a rumor in another language,
      worded with notions the concept lexicon lacks, still shares its myth. Too weak alone to
      join two posts; never used to find candidates;

    plus its **content words** (without stop words, forward formulas such as
    "partagez"/«انشروا»/"pls share", hashtags, numbers), compared on their consonants after
    spelling Arabic script the Arabizi way, so that Darija meets Darija across scripts («يطلقو» /
    "ytl9o") and copies and near-copies meet in any language.

    A post is scored against each of a cluster's few *exemplars* (its first post, then posts
    worded differently enough — typically one per language) and the best score counts. Two
    similarities are computed first: a weighted overlap of the language-free features and an
    overlap of the content words. A feature's weight is its weight in the lexicon times its
    *specificity*: how few active clusters have it (``specificity_clusters``), so "bracelet" or
    "DGAPR", found everywhere, tell claims apart less than "Béni Mellal" or "140 million".
    Sharing less than ``MIN_SHARED`` of weight is a topic, not a claim, and is discounted; two
    posts giving different specific figures (30 000 vs 12 000 released, 40 % vs 80 %) are
    discounted too. The *pair scorer* (:class:`PairScorer`, ``data/cluster_scorer.json``) turns
    these two similarities, what is shared (weight, myths, a figure, places), whether the
    languages differ and how long ago the cluster last grew into the probability that the two
    posts state the same claim: a logistic regression learnt from the labelled corpora's gold
    clusters (``scripts/train-cluster-scorer.py``). A post joins the best-scoring cluster when
    that reaches ``threshold``; otherwise it opens a cluster of its own.

    Limits: a paraphrase in another language is only recognised through the concepts, numbers
    and entities it shares with the cluster, so a claim whose words are not in the lexicon is
    grouped across languages poorly (copies and same-language rewordings still join): add its
    domain words to ``data/concepts.yaml``.

Ids and null
    Every post with something to compare gets a cluster id, ``"cl-"`` + a short hash of the
    first member's mention id, fixed when the cluster is created: the first post of a rumor
    carries from the start the id its followers will get. A post that is a claim nobody repeats
    keeps its own one-post cluster. A post with nothing to compare (emojis, a link, hashtags
    only) gets ``None``.

Bounds
    Clusters idle for ``idle_days`` of event time are forgotten (one-post clusters after
    ``singleton_idle_days``) as event time passes, and at most ``max_clusters`` are kept (the
    least recent one-post clusters go first); candidates come from an
    inverted index on signature features whose lists keep the ``posting_limit`` most recent
    clusters, and at most ``max_candidates`` clusters are scored per post. Ten thousand copies
    of one viral post cost the same per post as the first: they join one cluster whose exemplars
    do not grow.

One clusterer must see every mention: run it in a single process (one enrich replica, or a
consumer of its own), since two replicas sharing the partitions would each see half a rumor.

Idempotence and restarts
    The clusterer remembers which cluster each of the last ``max_members`` mention ids joined;
    a redelivered mention gets the same id back and changes nothing. State goes to a
    :class:`ClusterStore` — clusters changed since the last :meth:`RumorClusterer.flush`, and
    the new (mention id → cluster id) memberships — so that a restarted clusterer, loading the
    store, goes on with the same clusters and honours redeliveries
    (:class:`InMemoryClusterStore` here, Elasticsearch in ``sada.cluster_store``).
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Protocol

from enrichers.base import Enricher, Labels
from enrichers.entities import (
    DEFAULT_GAZETTEER,
    MODES,
    Gazetteer,
    Mode,
    TermMatcher,
    TextView,
    Token,
    _cached_gazetteer,
    _display,
    _Reader,
    add_groups,
    arabic_variants,
    is_arabic,
    latin_fold_key,
    latin_fold_variants,
    mention_text,
)
from enrichers.language import arabizi_fold
from enrichers.lexicon import file_digest
from enrichers.quantities import Quantities
from sada import yamlfile
from sada.model import Mention
from sada.settings import REPO_ROOT

DEFAULT_CONCEPTS = REPO_ROOT / "data" / "concepts.yaml"
IGNORE = "(ignore)"

# --------------------------------------------------------------------------------------------
# Word variants for concepts: verb morphology of MSA and Darija, Arabizi consonant skeletons
# --------------------------------------------------------------------------------------------

_AR_NEG = ("ما",)
_AR_VERB_PREFIXES = ("غادي", "كن", "كي", "كت", "كا", "تي", "غن", "غي", "غت", "سي", "ست", "سن", "سا", "غ", "ي", "ت", "ن")
_AR_PLURAL = "ات"
_AR_SUFFIXES = ("وهم", "وها", "وه", "هم", "ها", "هن", "كم", "وا", "ون", "ين", "ني", "نا", "و", "ه", "ش", "ي")


@lru_cache(maxsize=200_000)
def arabic_concept_variants(word: str) -> tuple[str, ...]:
    """Clitic variants, then the same without the negation ما…ش, pronoun suffixes and verb
    prefixes (يطلقوهم → يطلقو → يطلق → طلق; كيهربو → هرب)."""
    out = list(arabic_variants(word))
    for v in list(out):
        forms = [v]
        if len(v) >= 5 and v.startswith(_AR_NEG):
            forms.append(v[2:])
        for f in list(forms):
            cur = f
            for _ in range(2):
                s = next((s for s in _AR_SUFFIXES if cur.endswith(s) and len(cur) - len(s) >= 3), None)
                if s is None:
                    break
                cur = cur[: -len(s)]
                forms.append(cur)
        for f in list(forms):
            p = next((p for p in _AR_VERB_PREFIXES if f.startswith(p) and len(f) - len(p) >= 3), None)
            if p is not None:
                forms.append(f[len(p):])
        # Sound feminine plurals: البراسليات → براسلي, العقوبات → عقوبه (ة is folded to ه).
        if len(v) >= 5 and v.endswith(_AR_PLURAL):
            stem = v[:-2]
            forms.extend((stem, stem + "ه"))
        out.extend(forms)
    return tuple(dict.fromkeys(out))


_VOWELS = re.compile(r"[aeiuo]")
_AZ_PROCLITICS = ("wal", "wl", "fl", "bl", "dl", "el", "al", "l", "w", "f", "b", "d")
_AZ_PREFIXES = ("ghai", "ghan", "ghat", "gha", "kai", "kan", "kat", "ka", "ki", "ta", "ti", "i", "t", "n")
_AZ_SUFFIXES = ("uhum", "uha", "hum", "ha", "lih", "lik", "lu", "ch", "ni", "na", "u", "w", "k")
_AZ_PLURALS = ("yat", "at")
_ARABIZI_DIGIT = re.compile(r"[a-z][2379]|[2379][a-z]")


def skeleton(folded: str) -> str:
    """The consonants (and letter-digits) of a folded Arabizi word: "ytl9ou" → "tl9"."""
    return _VOWELS.sub("", folded)


@lru_cache(maxsize=200_000)
def arabizi_concept_variants(word: str) -> tuple[str, ...]:
    """Consonant skeletons of an Arabizi word with and without article, verb prefix and suffix."""
    if is_arabic(word) or not word.isalnum() or word.isdigit():
        return ()
    folded = arabizi_fold(word)
    forms = [folded]
    for p in _AZ_PROCLITICS:
        if folded.startswith(p) and len(folded) - len(p) >= 3:
            forms.append(folded[len(p):])
            break
    for f in list(forms):
        s = next((s for s in _AZ_SUFFIXES if f.endswith(s) and len(f) - len(s) >= 3), None)
        if s is not None:
            forms.append(f[: -len(s)])
        elif f.endswith(_AZ_PLURALS) and len(f) >= 7:
            # lbrasliyat → brasli, l3o9oubat → 3o9oub (plurals, like «البراسليات»)
            forms.append(f[: -(3 if f.endswith("yat") else 2)])
    for f in list(forms):
        p = next((p for p in _AZ_PREFIXES if f.startswith(p) and len(f) - len(p) >= 3), None)
        if p is not None:
            forms.append(f[len(p):])
    # One-consonant skeletons ("ma" → m, "f", "li" → l) are kept: a one-word term that short is
    # matched letter for letter (load_concepts), so they only ever complete a phrase ("ma b9a fih 7ed").
    out = [sk for sk in (skeleton(f) for f in forms) if sk]
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=200_000)
def _concept_norm_variants_of(w: str) -> tuple[str, ...]:
    if is_arabic(w):
        return arabic_concept_variants(w)
    if len(w) > 3 and w[-1] in "sx" and w.isalpha():
        return (w, w[:-1])
    return (w,)


def _concept_norm_variants(token: Token, view: TextView) -> tuple[str, ...]:
    return _concept_norm_variants_of(token.norm)


def _concept_fold_variants(token: Token, view: TextView) -> tuple[str, ...]:
    if "arabizi" in view.flags or _ARABIZI_DIGIT.search(token.norm):
        return arabizi_concept_variants(token.norm)
    return ()


def _skeleton_key(word: str) -> str:
    return skeleton(arabizi_fold(word))


def _term_skeletons(term: str) -> list[str]:
    return [_skeleton_key(w) for w in MODES["norm"].words(term.rstrip("*"))]


def _concept_azfold_variants(token: Token, view: TextView) -> tuple[str, ...]:
    if "arabizi" in view.flags or _ARABIZI_DIGIT.search(token.norm):
        return latin_fold_variants(token.norm)
    return ()


def _arabizi_possible(view: TextView) -> bool:
    return "arabizi" in view.flags or any(_ARABIZI_DIGIT.search(t.norm) for t in view.tokens)


CONCEPT_MODES: dict[str, Mode] = {
    "norm": Mode("norm", MODES["norm"].words, _concept_norm_variants, MODES["norm"].key),
    "skel": Mode("skel", MODES["norm"].words, _concept_fold_variants, _skeleton_key, _arabizi_possible),
    "azfold": Mode("azfold", MODES["norm"].words, _concept_azfold_variants, latin_fold_key, _arabizi_possible),
}
CONCEPT_GROUP_MODES = {"arabizi": "skel"}

# --------------------------------------------------------------------------------------------
# The concept lexicon file
# --------------------------------------------------------------------------------------------

_SETTINGS: dict[str, tuple[type, float, float | None]] = {
    # name: (type, minimum, maximum)
    "threshold": (float, 0.0, 1.0),
    "idle_days": (float, 0.01, None),
    "singleton_idle_days": (float, 0.01, None),
    "max_clusters": (int, 10, None),
    "max_members": (int, 10, None),
    "max_exemplars": (int, 1, 50),
    "max_candidates": (int, 1, 1000),
    "posting_limit": (int, 1, 10_000),
    "specificity_clusters": (float, 0.1, None),
    "myth_weight": (float, 0.0, 5.0),
}
DEFAULT_SETTINGS: dict[str, Any] = {
    "threshold": 0.55, "idle_days": 30, "singleton_idle_days": 14, "max_clusters": 50_000,
    "max_members": 300_000, "max_exemplars": 6, "max_candidates": 8, "posting_limit": 64,
    "specificity_clusters": 8.0, "myth_weight": 0.0,
}


@dataclass(eq=False)  # hashed by identity: find_concepts caches per lexicon object
class ConceptLexicon:
    path: str
    concepts: TermMatcher  # the concepts, and the words to ignore under the key IGNORE
    weights: dict[str, float]
    stopwords: frozenset[str]
    settings: dict[str, Any] = field(default_factory=dict)
    digest: str = ""  # of the file's bytes (see Signer.digest)


def load_concepts(path: str | Path = DEFAULT_CONCEPTS) -> ConceptLexicon:
    """Read and validate the concept lexicon; errors name the file and the field."""
    path = Path(path)
    r = _Reader(_display(path))
    data = yamlfile.read(path, r.path)
    data = r.mapping(data, "(root)", {"version", "settings", "ignore", "stopwords", "concepts"})
    if data.get("version") != 1:
        raise r.fail("version", f"expected 1, got {data.get('version')!r}")
    settings = dict(DEFAULT_SETTINGS)
    for name, value in r.mapping(data.get("settings", {}), "settings", _SETTINGS).items():
        kind, low, high = _SETTINGS[name]
        ok = not isinstance(value, bool) and isinstance(value, int | float) and (kind is float or isinstance(value, int))
        if not ok or value < low or (high is not None and value > high):
            bounds = f">= {low}" + (f" and <= {high}" if high is not None else "")
            raise r.fail(f"settings.{name}", f"expected {'an integer' if kind is int else 'a number'} {bounds}, got {value!r}")
        settings[name] = kind(value)

    concepts = TermMatcher(CONCEPT_MODES)
    weights: dict[str, float] = {}
    raw_concepts = r.mapping(data.get("concepts"), "concepts")
    if not raw_concepts:
        raise r.fail("concepts", "expected at least one concept")
    for ident, body in raw_concepts.items():
        where = f"concepts.{ident}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(ident)):
            raise r.fail(where, "a concept id is lower case letters, digits and _")
        body = r.mapping(body, where, {"weight", "terms"})
        weight = body.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 5:
            raise r.fail(f"{where}.weight", f"expected a number in (0, 5], got {weight!r}")
        weights[str(ident)] = float(weight)
        if "terms" not in body:
            raise r.fail(where, "missing 'terms'")
        terms = r.mapping(body["terms"], f"{where}.terms")
        if not terms:
            raise r.fail(f"{where}.terms", "expected at least one group of terms")
        for group, items in terms.items():
            for n, term in enumerate(r.strings(items, f"{where}.terms.{group}")):
                mode = CONCEPT_GROUP_MODES.get(str(group), "norm")
                if mode == "skel":
                    skeletons = _term_skeletons(term)
                    if len("".join(skeletons)) < 3 or not all(skeletons):
                        # too few consonants to compare on them (or a word of vowels only, "a"):
                        # letter for letter
                        mode = "azfold"
                try:
                    concepts.add(str(ident), term, mode)
                except ValueError as exc:
                    raise r.fail(f"{where}.terms.{group}[{n}]", f"{exc}: {term!r}") from exc

    if "ignore" in data:  # found in the same pass as the concepts
        add_groups(r, concepts, IGNORE, data["ignore"], "ignore", group_modes=CONCEPT_GROUP_MODES)
    stop: set[str] = set()
    for group, items in r.mapping(data.get("stopwords", {}), "stopwords").items():
        for word in r.strings(items, f"stopwords.{group}"):
            stop.update(f(w) for w in MODES["norm"].words(word) for f in (_script_key, _stem_key))
    return ConceptLexicon(r.path, concepts, weights, frozenset(stop), settings, file_digest(path)[:16])


@lru_cache(maxsize=4)
def _cached_concepts(path: str) -> ConceptLexicon:
    return load_concepts(path)


@lru_cache(maxsize=4096)
def find_concepts(lexicon: ConceptLexicon, text: str, arabizi: bool) -> tuple[TextView, tuple[Any, ...]]:
    """A text's view and its concept matches (ignore words included), remembered for the last
    texts: the classifier of the enrich stage reads the same concepts (``enrichers.classifier``),
    and in one process each text is matched once."""
    view = TextView(text, frozenset({"arabizi"}) if arabizi else frozenset())
    return view, tuple(lexicon.concepts.find(view))


def shared_concepts(path: str | Path = DEFAULT_CONCEPTS) -> ConceptLexicon:
    """The concept lexicon of ``path``, one object per process (shared with the classifier)."""
    return _cached_concepts(str(Path(path).resolve()))


# --------------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------------

# Content words are compared on a key shared by the scripts. Darija is written in both, and MSA
# shares its roots: Arabic-script words are spelled out the way Arabizi writes them (ع 3, ح 7,
# ق 9, ش ch, خ kh...), then every word goes through the same folding, the same removal of
# article, verb prefix and pronoun suffix, and is compared on its consonants: «يطلقو» and
# "ytl9o" → "tl9"; «البراسلي» and "lbrasli" → "brsl"; and French and English cognates or
# loanwords meet too ("ministre"/"minister", "bracelet" in an Arabizi post).
_TRANSLIT = str.maketrans({
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "7", "خ": "kh", "د": "d", "ذ": "d", "ر": "r", "ز": "z",
    "س": "s", "ش": "ch", "ص": "s", "ض": "d", "ط": "t", "ظ": "d", "ع": "3", "غ": "gh", "ف": "f", "ق": "9",
    "ك": "k", "ڭ": "g", "گ": "g", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ة": "a", "ء": "2", "أ": "a",
    "إ": "i", "آ": "a", "ا": "a", "ى": "a", "ي": "i", "و": "u", "ئ": "2", "ؤ": "2", "پ": "p", "ڤ": "v", "چ": "ch",
})
_SK_PROCLITICS = ("wal", "bal", "fal", "kal", "lal", "wl", "fl", "bl", "dl", "al", "el", "l", "w", "f", "b", "d")
_SK_PREFIXES = ("ghai", "ghan", "ghat", "gha", "kai", "kan", "kat", "ka", "ki", "ta", "ti", "si", "sa", "i", "t", "n")
_SK_SUFFIXES = ("uhum", "uha", "hum", "hun", "kum", "lih", "lik", "ha", "lu", "ch", "ni", "na", "k")
_SK_DROP = re.compile(r"[aeiouw2]")
_SK_DIGRAPHS = (("ch", "c"), ("gh", "g"), ("th", "t"), ("dh", "d"))


def _consonants(folded: str) -> str:
    for a, b in _SK_DIGRAPHS:
        folded = folded.replace(a, b)
    return _RUNS_SK.sub(r"\1", _SK_DROP.sub("", folded))


_RUNS_SK = re.compile(r"(.)\1+")


# A light stemmer for French, English and Spanish words, so that "gratuit" meets "gratuitement"
# and "libérés" meets "libération" (their consonants are compared afterwards).
_LATIN_SUFFIXES = ("ements", "ement", "ments", "ment", "ations", "ation", "tions", "tion", "ives", "ive",
                   "euses", "euse", "eurs", "eur", "ings", "ing", "ies", "ers", "er", "ez", "ed", "ent", "es",
                   "e", "s")


@lru_cache(maxsize=200_000)
def _stem_key(word: str) -> str:
    """The key of a word of a French, English or Spanish post: light stemming, then consonants."""
    if not is_arabic(word) and word.isalpha():
        for suffix in _LATIN_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
    return _script_key(word)


@lru_cache(maxsize=200_000)
def _script_key(word: str) -> str:
    """The consonant key of a Darija or MSA word, the same whichever script it is written in."""
    if is_arabic(word):
        word = word[:-1] + "a" if word.endswith("ه") else word  # ة, normalised to ه, is said "a"
        word = word.translate(_TRANSLIT)
    folded = arabizi_fold(word)
    for affixes, cut in ((_SK_PROCLITICS, "start"), (_SK_SUFFIXES, "end"), (_SK_PREFIXES, "start")):
        for a in affixes:
            if (folded.startswith(a) if cut == "start" else folded.endswith(a)):
                rest = folded[len(a):] if cut == "start" else folded[: -len(a)]
                if len(_consonants(rest)) >= 3:
                    folded = rest
                break
    key = _consonants(folded)
    return key if len(key) >= 3 else folded  # two consonants are too many words


# Weights of the features that are not concepts: how much sharing them says about sharing a claim
# (the quantities' weights are in enrichers.quantities).
W_PLACE = 1.5  # a Moroccan city, a person, a foreign body of the gazetteer
W_INSTITUTION = 0.6  # the reform's institutions are named everywhere
# The keys of specific figures: two posts giving different ones state different claims.
_FIGURE_PREFIXES = ("n:", "p:")
# The myths the classifier found in the post (TAXONOMY.md ids): versions of one rumor in other
# languages share few words, but they name the same myth.
MYTH_PREFIX = "m:"


_EMPTY: frozenset[str] = frozenset()


@dataclass(slots=True)
class Signature:
    """What a post says, in comparable form: weighted language-free features and content words."""

    features: dict[str, float]
    words: frozenset[str]
    lang: str | None = None
    numbers: frozenset[str] = field(init=False, repr=False, compare=False)
    index_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the specific figures (numbers of 10 and more but not years, percentages): two posts
        # giving different ones conflict
        self.numbers = frozenset(k for k, w in self.features.items()
                                 if k.startswith(_FIGURE_PREFIXES) and w >= 1.0) or _EMPTY
        # What the clusterer's inverted index knows the post by: its features that are not
        # generic, and its dozen longest words (the longest are the rarest).
        # A myth is shared by too many posts to find candidates by (and a post only reaches the
        # threshold with other features in common).
        self.index_keys = tuple([k for k, w in self.features.items() if w >= 0.5 and not k.startswith(MYTH_PREFIX)]
                                + [sys.intern("w:" + w) for w in sorted(self.words, key=lambda w: (-len(w), w))[:12]])

    def with_features(self, extra: Mapping[str, float]) -> Signature:
        """A copy with more features (the clustering stage adds the post's myths)."""
        return Signature({**self.features, **extra}, self.words, self.lang)

    @property
    def empty(self) -> bool:
        """Nothing to compare: fewer than two content words and only generic features (a link
        and hashtags, emojis, a greeting)."""
        return len(self.words) < 2 and sum(self.features.values()) < 1.5

    @property
    def weight(self) -> float:
        return sum(self.features.values())

    def to_doc(self) -> dict[str, Any]:
        return {"f": dict(self.features), "w": sorted(self.words), "l": self.lang}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Signature:
        return cls({sys.intern(k): float(v) for k, v in doc.get("f", {}).items()},
                   frozenset(sys.intern(w) for w in doc.get("w", [])), doc.get("l"))


# Bump when the way a signature is computed changes: a cluster stage then recomputes the
# signatures an older enrich stage attached (Signer.digest).
SIGNATURE_VERSION = "5"  # 2: quantities in words, percentages, dates, centimes (enrichers.quantities);
# 3: plurals, half a year, hours as days; 4: half a million, "twelve hundred", «ألفا و…»;
# 5: Darija hundreds («ميتين») and scales after «ديال», MDH, "grand", halves, parts of months, other
# laws' numbers
SIGNATURE_FIELD = "claim_signature"


class Signer:
    """Turns a post into its :class:`Signature`."""

    def __init__(self, lexicon: ConceptLexicon, gazetteer: Gazetteer | None) -> None:
        self.lexicon = lexicon
        self.gazetteer = gazetteer
        # What a signature depends on. Lexicons built in code (tests) have no file digest: their
        # signatures are never taken from another process.
        gazetteer_digest = "none" if gazetteer is None else gazetteer.digest
        self.digest = (f"{SIGNATURE_VERSION}:{lexicon.digest}:{gazetteer_digest}"
                       if lexicon.digest and gazetteer_digest else "")

    def to_field(self, sig: Signature) -> dict[str, Any]:
        """The signature as the labelling stage attaches it to a mention (``SIGNATURE_FIELD``)."""
        return {**sig.to_doc(), "v": self.digest}

    def from_field(self, value: Any) -> Signature | None:
        """A signature attached by the labelling stage, when it was computed as this signer
        would (same code version, same lexicon and gazetteer files); otherwise None."""
        if not (self.digest and isinstance(value, Mapping) and value.get("v") == self.digest):
            return None
        f, w = value.get("f"), value.get("w")
        if not (isinstance(f, Mapping) and isinstance(w, list)
                and all(isinstance(v, int | float) for v in f.values()) and all(isinstance(x, str) for x in w)):
            return None
        return Signature.from_doc(value)

    def sign(self, text: str, lang: str | None = None, script: str | None = None) -> Signature:
        arabizi = lang == "ary" or lang in (None, "und")
        view, found = find_concepts(self.lexicon, text, arabizi)
        toks = view.tokens
        skip: set[int] = set()
        for m in found:
            if m.key == IGNORE:
                skip.update(range(m.start, m.end + 1))
        features: dict[str, float] = {}
        for m in found:
            if m.key == IGNORE or m.start in skip:
                continue
            key = sys.intern("c:" + m.key)
            features[key] = self.lexicon.weights[m.key]
        quantities = Quantities(view, lang)
        for key, weight in quantities.read().items():
            key = sys.intern(key)
            features[key] = max(weight, features.get(key, 0.0))
        number_tokens = quantities.used
        if self.gazetteer is not None:
            for m in self.gazetteer.match(view):
                entry = self.gazetteer.entries[m.key]
                features[sys.intern("e:" + (entry.id or entry.name))] = W_INSTITUTION if entry.id else W_PLACE
        words = set()
        stop = self.lexicon.stopwords
        word_key = _script_key if arabizi else _stem_key
        for k, tok in enumerate(toks):
            if k in skip or k in number_tokens or tok.hashtag or len(tok.norm) < 2 or tok.norm[0].isdigit():
                continue
            key = word_key(tok.norm)
            if key in stop or len(key) < 2:
                continue
            words.add(sys.intern(key))
        return Signature(features, frozenset(words), lang)


# Shape of the similarity (see feature_similarity): how much weight two posts must share before
# their overlap counts fully, and how much a conflict of specific numbers costs.
MIN_SHARED = 3.5
NUMBER_CONFLICT = 0.4
MIN_SHARED_WORDS = 3


def _overlap(shared: float, wa: float, wb: float) -> float:
    """Between the overlap coefficient (a forward that adds words still matches) and Dice."""
    small, large = (wa, wb) if wa <= wb else (wb, wa)
    if small <= 0:
        return 0.0
    return min(1.0, shared / (0.5 * small + 0.5 * (small * large) ** 0.5))


def feature_similarity(a: Signature, b: Signature, specificity: _Specificity | None = None) -> float:
    """Weighted overlap of the language-free features (concepts, numbers, entities).

    Each feature's weight is multiplied by its ``specificity`` (1 when absent): how rare it is
    among the active clusters. Discounted when the two posts share less than ``MIN_SHARED`` of
    weight (a concept or two in common is a topic, not a claim) and when both give specific
    numbers, none in common.
    """
    spec = specificity or _Specificity({}, 1.0)
    wa = {k: w * spec.get(k) for k, w in a.features.items()}
    return _feature_similarity(wa, sum(wa.values()), a, b, spec)


def _feature_similarity(wa: Mapping[str, float], total_a: float, a: Signature, b: Signature,
                        spec: _Specificity) -> float:
    """feature_similarity with the first post's weights computed once (they are compared with
    many exemplars)."""
    fb = b.features
    if not wa or not fb:
        return 0.0
    shared = 0.0
    total_b = 0.0
    memo = spec.memo
    for k, w in fb.items():
        f = memo.get(k)
        total_b += w * (spec.get(k) if f is None else f)
        if k in wa:
            shared += wa[k]
    if not shared:
        return 0.0
    sim = _overlap(shared, total_a, total_b)
    if shared < MIN_SHARED:
        sim *= shared / MIN_SHARED
    return sim * _conflict(a, b)


def _conflict(a: Signature, b: Signature) -> float:
    """NUMBER_CONFLICT when both posts give specific numbers and none in common (30 000 vs
    12 000 released: another claim, however alike the wording), else 1."""
    return NUMBER_CONFLICT if a.numbers and b.numbers and a.numbers.isdisjoint(b.numbers) else 1.0


def word_similarity(a: Signature, b: Signature) -> float:
    """Overlap of the content words (same-language copies and near-copies), discounted like the
    features when specific numbers conflict."""
    wa, wb = a.words, b.words
    if not wa or not wb:
        return 0.0
    inter = len(wa & wb)
    sim = _overlap(inter, len(wa), len(wb))
    if inter < MIN_SHARED_WORDS:
        sim *= inter / MIN_SHARED_WORDS
    return sim * _conflict(a, b)


def similarity(a: Signature, b: Signature, specificity: _Specificity | None = None) -> float:
    """How likely two signatures state the same claim, in [0, 1]: the larger of the feature and
    the word similarities."""
    return max(feature_similarity(a, b, specificity), word_similarity(a, b))


# --------------------------------------------------------------------------------------------
# The pair scorer: how likely a post and an exemplar state the same claim
# --------------------------------------------------------------------------------------------

DEFAULT_SCORER = REPO_ROOT / "data" / "cluster_scorer.json"
# What the learned scorer reads of a (post, exemplar) pair, in this order. Each says something
# the overlap similarity above cannot weigh by itself: a shared myth or figure or place counts
# for more than its share of the weight, versions in other languages share less, and a cluster
# idle for days is less likely to be what a post repeats.
PAIR_FEATURES = (
    "feature_similarity",  # feature_similarity (concepts, figures, entities, myths; specificity)
    "word_similarity",  # word_similarity (copies and same-language rewordings)
    "shared_weight",  # log(1 + specificity-weighted weight of the shared features)
    "shared_myths",  # how many myths both were labelled with
    "shared_figure",  # 1 when both give a specific figure in common
    "shared_entities",  # gazetteer entities in common, at most 2
    "same_language",  # 1 when both are in the same language
    "hours_apart",  # log(1 + hours since the cluster last grew)
)
# From this word similarity on, two posts are copies (forwards with a formula or an emoji added,
# a word changed) and join. 0.8 changes no pairwise F1 on the fresh weeks (0.7 starts to).
COPY_SIMILARITY = 0.8
_MAX_LOGIT = 30.0  # exp() of more overflows nothing, but the probability is 0 or 1 anyway


def pair_features(a: Signature, b: Signature, wa: Mapping[str, float], total_a: float,
                  spec: _Specificity, hours: float) -> tuple[float, ...]:
    """The PAIR_FEATURES of post ``a`` (weights ``wa``, already times specificity, summing to
    ``total_a``) against exemplar ``b`` of a cluster that last grew ``hours`` ago."""
    fb = b.features
    shared = 0.0
    myths = entities = 0
    for k, w in wa.items():
        if k in fb:
            shared += w
            if k.startswith(MYTH_PREFIX):
                myths += 1
            elif k.startswith("e:"):
                entities += 1
    return (_feature_similarity(wa, total_a, a, b, spec) if shared else 0.0, word_similarity(a, b),
            math.log1p(shared), float(myths), 1.0 if a.numbers & b.numbers else 0.0, float(min(entities, 2)),
            1.0 if a.lang == b.lang else 0.0, math.log1p(max(hours, 0.0)))


@dataclass(frozen=True, slots=True)
class PairScorer:
    """Scores a post against a cluster's exemplar, in [0, 1].

    The learned scorer (``data/cluster_scorer.json``, written by
    ``scripts/train-cluster-scorer.py``) is a logistic regression on :data:`PAIR_FEATURES`: the
    probability that the two posts state the same claim, fitted on the pairs a clusterer meets
    when it replays the labelled corpora (their gold ``cluster_id``), times ``NUMBER_CONFLICT``
    when both posts give specific figures and none in common; near-copies
    (``COPY_SIMILARITY``) join whatever it says. :data:`OVERLAP` (no
    weights) is the hand-made similarity: the larger of the feature and word similarities;
    replaying the corpora with it is how the pairs to learn from are found.
    """

    weights: tuple[float, ...] | None = None
    intercept: float = 0.0

    def score(self, a: Signature, b: Signature, wa: Mapping[str, float], total_a: float,
              spec: _Specificity, hours: float) -> float:
        if self.weights is None:
            return max(_feature_similarity(wa, total_a, a, b, spec), word_similarity(a, b))
        x = pair_features(a, b, wa, total_a, spec, hours)
        z = self.intercept
        for w, v in zip(self.weights, x, strict=True):
            z += w * v
        # Different specific figures are different claims, whatever the rest shares (as in the
        # overlap similarity): the rule the campaign relies on, not left to the regression.
        p = _conflict(a, b) / (1.0 + math.exp(-max(-_MAX_LOGIT, min(_MAX_LOGIT, z))))
        # Near-copies join whatever the regression says. The corpora's gold clusters only claims,
        # so it learnt that copies of an opinion or a slogan with no claim features are not "the
        # same claim"; but a slogan forwarded a thousand times is a wave the CM must see grow.
        # word_similarity already carries the figure conflict.
        return max(p, x[1]) if x[1] >= COPY_SIMILARITY else p


OVERLAP = PairScorer()


def load_scorer(path: str | Path = DEFAULT_SCORER) -> PairScorer:
    """The learned pair scorer of a JSON file, validated (errors name the file and the field)."""
    path = Path(path)
    r = _Reader(_display(path))
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise r.fail("(file)", "not found; write it with scripts/train-cluster-scorer.py") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise r.fail("(file)", f"not valid JSON: {exc}") from None
    r.mapping(data, "(top level)")
    weights = r.mapping(data.get("weights"), "weights", PAIR_FEATURES)
    missing = [name for name in PAIR_FEATURES if name not in weights]
    if missing:
        raise r.fail("weights", f"missing {missing}")

    def number(value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise r.fail(where, f"expected a finite number, got {value!r}")
        return float(value)

    return PairScorer(tuple(number(weights[n], f"weights.{n}") for n in PAIR_FEATURES),
                      number(data.get("intercept"), "intercept"))


@lru_cache(maxsize=4)
def _cached_scorer(path: str) -> PairScorer:
    return load_scorer(path)


# --------------------------------------------------------------------------------------------
# Clusters and their store
# --------------------------------------------------------------------------------------------

REPRESENTATIVE_CHARS = 280
MEMBER_SAMPLE = 5


def cluster_id_for(mention_id: str) -> str:
    """The id of a cluster, fixed by its first member: ``cl-`` + 12 hex digits."""
    return "cl-" + hashlib.blake2b(mention_id.encode("utf-8"), digest_size=6).hexdigest()


def _minute(t: datetime) -> int:
    return int(t.timestamp() // 60)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def _parse(t: str | datetime) -> datetime:
    if isinstance(t, datetime):
        return t
    value = datetime.fromisoformat(t.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(slots=True)
class Cluster:
    cluster_id: str
    first_seen: datetime
    last_seen: datetime
    size: int = 0
    exemplars: list[Signature] = field(default_factory=list)
    lang_counts: dict[str, int] = field(default_factory=dict)
    platform_counts: dict[str, int] = field(default_factory=dict)
    representative: str = ""
    member_sample: list[str] = field(default_factory=list)
    minutes: dict[int, int] = field(default_factory=dict)  # event minute → members, last hour only

    def add(self, mention_id: str, lang: str | None, platform: str | None, when: datetime) -> None:
        self.size += 1
        self.last_seen = max(self.last_seen, when)
        self.first_seen = min(self.first_seen, when)
        key = lang or "und"
        self.lang_counts[key] = self.lang_counts.get(key, 0) + 1
        if platform:
            self.platform_counts[platform] = self.platform_counts.get(platform, 0) + 1
        if len(self.member_sample) < MEMBER_SAMPLE:
            self.member_sample.append(mention_id)
        minute = _minute(when)
        self.minutes[minute] = self.minutes.get(minute, 0) + 1
        horizon = _minute(self.last_seen) - 60
        if len(self.minutes) > 61:
            self.minutes = {m: c for m, c in self.minutes.items() if m > horizon}

    def growth_per_hour(self, now: datetime | None = None) -> int:
        """Members in the hour of event time ending at ``now`` (default: the last member)."""
        end = _minute(now or self.last_seen)
        return sum(c for m, c in self.minutes.items() if end - 60 < m <= end)

    def to_doc(self, now: datetime | None = None) -> dict[str, Any]:
        """The stored form (also what the Elasticsearch index holds)."""
        return {
            "cluster_id": self.cluster_id,
            "size": self.size,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "languages": sorted(self.lang_counts),
            "lang_counts": dict(sorted(self.lang_counts.items())),
            "platforms": sorted(self.platform_counts),
            "platform_counts": dict(sorted(self.platform_counts.items())),
            "growth_per_hour": self.growth_per_hour(now),
            "representative": self.representative,
            "member_sample": list(self.member_sample),
            "signature": {
                "exemplars": [e.to_doc() for e in self.exemplars],
                "minutes": {str(m): c for m, c in sorted(self.minutes.items())},
            },
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Cluster:
        sig = doc.get("signature") or {}
        return cls(
            cluster_id=doc["cluster_id"],
            first_seen=_parse(doc["first_seen"]),
            last_seen=_parse(doc["last_seen"]),
            size=int(doc.get("size", 0)),
            exemplars=[Signature.from_doc(e) for e in sig.get("exemplars", [])],
            lang_counts={k: int(v) for k, v in (doc.get("lang_counts") or {}).items()},
            platform_counts={k: int(v) for k, v in (doc.get("platform_counts") or {}).items()},
            representative=doc.get("representative", ""),
            member_sample=list(doc.get("member_sample") or []),
            minutes={int(m): int(c) for m, c in (sig.get("minutes") or {}).items()},
        )


@dataclass(frozen=True)
class Membership:
    """A mention joined a cluster at this event time (what makes redelivery idempotent)."""

    mention_id: str
    cluster_id: str
    seen_at: datetime


class ClusterStore(Protocol):
    """Where the clusterer keeps what must survive a restart.

    Lifecycle: a clusterer calls :meth:`load_clusters` and :meth:`load_memberships` once when it
    starts, then :meth:`save` with what changed, at each flush. ``save`` must be idempotent
    (documents keyed by cluster id and by mention id) so that saving twice is harmless.
    """

    def load_clusters(self, idle_days: float, limit: int) -> Iterable[Mapping[str, Any]]:
        """Cluster documents still active: last member within ``idle_days`` of the newest one;
        at most ``limit``, the most recently active first."""
        ...

    def load_memberships(self, limit: int) -> Iterable[Membership]:
        """The ``limit`` most recent memberships, the most recent first."""
        ...

    def save(self, clusters: Sequence[Mapping[str, Any]], memberships: Sequence[Membership]) -> None:
        """Upsert cluster documents (by cluster id) and memberships (by mention id)."""
        ...


class InMemoryClusterStore:
    """A :class:`ClusterStore` in a dict, for tests and offline runs; documents are copied, as
    a real store would serialise them."""

    def __init__(self) -> None:
        self.clusters: dict[str, dict[str, Any]] = {}
        self.memberships: dict[str, Membership] = {}
        self.saves = 0

    def load_clusters(self, idle_days: float, limit: int) -> list[dict[str, Any]]:
        docs = sorted(self.clusters.values(), key=lambda d: d["last_seen"], reverse=True)
        if not docs:
            return []
        newest = _parse(docs[0]["last_seen"])
        horizon = newest - timedelta(days=idle_days)
        return [copy.deepcopy(d) for d in docs[:limit] if _parse(d["last_seen"]) >= horizon]

    def load_memberships(self, limit: int) -> list[Membership]:
        return sorted(self.memberships.values(), key=lambda m: m.seen_at, reverse=True)[:limit]

    def save(self, clusters: Sequence[Mapping[str, Any]], memberships: Sequence[Membership]) -> None:
        self.saves += 1
        for doc in clusters:
            self.clusters[doc["cluster_id"]] = json.loads(json.dumps(doc))
        for m in memberships:
            self.memberships[m.mention_id] = m


# --------------------------------------------------------------------------------------------
# The online clusterer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    cluster_id: str | None
    score: float | None  # similarity to the cluster joined; None for a new cluster or no id
    new: bool
    redelivered: bool = False


class RumorClusterer:
    """Online, deterministic clustering of posts into claims (see the module docstring)."""

    def __init__(self, lexicon: ConceptLexicon | str | Path | None = None, *,
                 gazetteer: Gazetteer | str | Path | None = DEFAULT_GAZETTEER,
                 store: ClusterStore | None = None, scorer: PairScorer | str | Path = DEFAULT_SCORER,
                 **overrides: Any) -> None:
        if isinstance(lexicon, ConceptLexicon):
            self.lexicon = lexicon
        else:
            self.lexicon = shared_concepts(lexicon or DEFAULT_CONCEPTS)
        if gazetteer is None or isinstance(gazetteer, Gazetteer):
            gaz = gazetteer
        else:
            gaz = _cached_gazetteer(str(Path(gazetteer).resolve()))
        self.signer = Signer(self.lexicon, gaz)
        # anything with PairScorer.score will do (scripts/train-cluster-scorer.py records the pairs)
        self.scorer = _cached_scorer(str(Path(scorer).resolve())) if isinstance(scorer, str | Path) else scorer
        unknown = set(overrides) - set(DEFAULT_SETTINGS)
        if unknown:
            raise TypeError(f"unknown setting(s) {sorted(unknown)}; expected {sorted(DEFAULT_SETTINGS)}")
        cfg = {**self.lexicon.settings, **overrides}
        self.threshold: float = cfg["threshold"]
        self.idle = timedelta(days=cfg["idle_days"])
        self.singleton_idle = timedelta(days=cfg["singleton_idle_days"])
        self.max_clusters: int = cfg["max_clusters"]
        self.max_members: int = cfg["max_members"]
        self.max_exemplars: int = cfg["max_exemplars"]
        self.max_candidates: int = cfg["max_candidates"]
        self.posting_limit: int = cfg["posting_limit"]
        self.specificity_clusters: float = cfg["specificity_clusters"]
        self.myth_weight: float = cfg["myth_weight"]

        self.store = store
        self.clusters: dict[str, Cluster] = {}
        self.members: dict[str, str] = {}  # mention id → cluster id, oldest first
        self._postings: dict[str, dict[str, None]] = {}
        # In how many active clusters each feature appears: a feature every other cluster has
        # (the bracelet, the DGAPR, «الحبس») says little about which claim a post makes.
        self._cf: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._pending: list[Membership] = []
        self.watermark: datetime | None = None  # newest event time seen
        # (when it may expire, cluster id): checked as event time passes; a cluster that grew
        # meanwhile is put back with its new date, so each cluster has one entry.
        self._expiry: list[tuple[datetime, str]] = []
        if store is not None:
            self._restore(store)

    # -- public API ---------------------------------------------------------------------------

    def assign(self, mention_id: str, text: str, *, lang: str | None = None, script: str | None = None,
               published_at: datetime, platform: str | None = None,
               signature: Signature | None = None, myths: Sequence[str] | None = None) -> Assignment:
        """The cluster of one post, updating the clusters; call in arrival order.

        ``signature``: the post's signature when already computed (by the labelling stage);
        ``myths``: the myths the post was labelled with, a feature of weight ``myth_weight``."""
        known = self.members.get(mention_id)
        if known is not None:
            return Assignment(known, None, False, redelivered=True)
        if published_at.tzinfo is None:
            raise ValueError("published_at must carry a time zone")
        self._advance(published_at)
        sig = signature if signature is not None else self.signer.sign(text, lang, script)
        if myths and self.myth_weight > 0:
            sig = sig.with_features({sys.intern(MYTH_PREFIX + m): self.myth_weight for m in myths})
        if sig.empty:
            return Assignment(None, None, False)
        best, score = self._best(sig, published_at)
        if best is not None and score >= self.threshold:
            cluster = best
            new = False
            self._maybe_exemplar(cluster, sig)
        else:
            cluster = Cluster(cluster_id_for(mention_id), published_at, published_at, representative=_trim(text))
            self.clusters[cluster.cluster_id] = cluster
            heapq.heappush(self._expiry, (published_at + self.singleton_idle, cluster.cluster_id))
            self._add_exemplar(cluster, sig)
            new = True
        cluster.add(mention_id, lang, platform, published_at)
        self._touch(cluster.cluster_id, sig)
        self._remember(mention_id, cluster.cluster_id, published_at)
        return Assignment(cluster.cluster_id, None if new else round(score, 4), new)

    def flush(self) -> int:
        """Save the clusters changed and the memberships made since the last flush; returns how
        many cluster documents were written."""
        if self.store is None or (not self._dirty and not self._pending):
            self._dirty.clear()
            self._pending.clear()
            return 0
        docs = [self.clusters[c].to_doc(self.watermark) for c in sorted(self._dirty) if c in self.clusters]
        self.store.save(docs, list(self._pending))
        self._dirty.clear()
        self._pending.clear()
        return len(docs)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def stats(self) -> dict[str, int]:
        return {"clusters": len(self.clusters), "members": len(self.members),
                "postings": sum(len(p) for p in self._postings.values()), "features": len(self._postings),
                "feature_counts": len(self._cf)}

    # -- matching --------------------------------------------------------------------------------

    def _index(self, cid: str, sig: Signature) -> None:
        for key in sig.index_keys:
            posting = self._postings.get(key)
            if posting is None:
                posting = self._postings[sys.intern(key)] = {}
            posting.pop(cid, None)
            posting[cid] = None
            if len(posting) > self.posting_limit:
                del posting[next(iter(posting))]

    def _touch(self, cid: str, sig: Signature) -> None:
        """Move a cluster that just grew to the recent end of its postings."""
        for key in sig.index_keys:
            posting = self._postings.get(key)
            if posting is not None and cid in posting:
                del posting[cid]
                posting[cid] = None
        if self.store is not None:
            self._dirty.add(cid)

    def _best(self, sig: Signature, now: datetime) -> tuple[Cluster | None, float]:
        votes: dict[str, float] = {}
        for key in sig.index_keys:
            posting = self._postings.get(key)
            if not posting:
                continue
            w = sig.features.get(key, 1.0)
            for cid in posting:
                votes[cid] = votes.get(cid, 0.0) + w
        if not votes:
            return None, 0.0
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[: self.max_candidates]
        # A cluster sharing a third of what the best candidate shares with the post will not win.
        floor = ranked[0][1] / 3
        ranked = [kv for kv in ranked if kv[1] >= floor]
        best: Cluster | None = None
        best_score = 0.0
        spec = _Specificity(self._cf, self.specificity_clusters)
        weights = {k: w * spec.get(k) for k, w in sig.features.items()}
        total = sum(weights.values())
        for cid, _ in ranked:
            cluster = self.clusters.get(cid)
            if cluster is None or self._expired(cluster, now):
                continue
            hours = (now - cluster.last_seen).total_seconds() / 3600
            score = max(self.scorer.score(sig, e, weights, total, spec, hours) for e in cluster.exemplars)
            if score > best_score or (score == best_score and best is not None and cluster.first_seen < best.first_seen):
                best, best_score = cluster, score
        return best, best_score

    def _maybe_exemplar(self, cluster: Cluster, sig: Signature) -> None:
        """Keep a member as an exemplar when it is phrased unlike the ones kept (another language,
        another wording), so later posts phrased like it find the cluster too."""
        if len(cluster.exemplars) >= self.max_exemplars:
            return
        closest = max(word_similarity(sig, e) for e in cluster.exemplars)
        if closest < 0.5:
            self._add_exemplar(cluster, sig)

    def _add_exemplar(self, cluster: Cluster, sig: Signature) -> None:
        known = set().union(*(e.features for e in cluster.exemplars)) if cluster.exemplars else set()
        cluster.exemplars.append(sig)
        self._index(cluster.cluster_id, sig)
        for key in sig.features:
            if key not in known:
                self._cf[key] = self._cf.get(key, 0) + 1

    def _forget(self, cluster: Cluster) -> None:
        cid = cluster.cluster_id
        for key in set().union(*(e.features for e in cluster.exemplars)):
            n = self._cf.get(key, 0) - 1
            if n > 0:
                self._cf[key] = n
            else:
                self._cf.pop(key, None)
        for sig in cluster.exemplars:
            for key in sig.index_keys:
                posting = self._postings.get(key)
                if posting is not None:
                    posting.pop(cid, None)
                    if not posting:
                        del self._postings[key]

    # -- memory bounds ---------------------------------------------------------------------------

    def _expired(self, cluster: Cluster, now: datetime) -> bool:
        idle = self.singleton_idle if cluster.size <= 1 else self.idle
        return now - cluster.last_seen > idle

    def _expires_at(self, cluster: Cluster) -> datetime:
        return cluster.last_seen + (self.singleton_idle if cluster.size <= 1 else self.idle)

    def _advance(self, when: datetime) -> None:
        if self.watermark is None or when > self.watermark:
            self.watermark = when
            self.sweep()

    def sweep(self) -> int:
        """Forget the clusters idle for too long at the current event time, and the least
        recent one-post clusters (then the least recent others) beyond ``max_clusters``;
        returns how many were forgotten."""
        now = self.watermark
        gone = 0
        while self._expiry and now is not None and self._expiry[0][0] < now:
            _, cid = heapq.heappop(self._expiry)
            cluster = self.clusters.get(cid)
            if cluster is None:
                continue
            due = self._expires_at(cluster)
            if due < now:
                self._forget(self.clusters.pop(cid))
                gone += 1
            else:
                heapq.heappush(self._expiry, (due, cid))
        if len(self.clusters) > self.max_clusters:
            # Full: drop a twentieth at once, so that this sort stays rare.
            excess = len(self.clusters) - self.max_clusters + max(1, self.max_clusters // 20)
            order = sorted(self.clusters.values(), key=lambda c: (c.size > 1, c.last_seen, c.cluster_id))
            for cluster in order[:excess]:
                self._forget(self.clusters.pop(cluster.cluster_id))
            gone += excess
        return gone

    def _remember(self, mention_id: str, cluster_id: str, when: datetime) -> None:
        self.members[mention_id] = cluster_id
        if self.store is not None:  # without a store there is nothing to flush to
            self._pending.append(Membership(mention_id, cluster_id, when))
        while len(self.members) > self.max_members:
            del self.members[next(iter(self.members))]

    # -- restart ------------------------------------------------------------------------------------

    def _restore(self, store: ClusterStore) -> None:
        docs = list(store.load_clusters(self.idle.total_seconds() / 86400, self.max_clusters))
        for doc in sorted(docs, key=lambda d: (d["first_seen"], d["cluster_id"])):
            cluster = Cluster.from_doc(doc)
            exemplars, cluster.exemplars = cluster.exemplars, []
            if not exemplars:
                continue
            self.clusters[cluster.cluster_id] = cluster
            heapq.heappush(self._expiry, (self._expires_at(cluster), cluster.cluster_id))
            for sig in exemplars:
                self._add_exemplar(cluster, sig)
            if self.watermark is None or cluster.last_seen > self.watermark:
                self.watermark = cluster.last_seen
        memberships = list(store.load_memberships(self.max_members))
        for m in reversed(memberships):  # oldest first, so the newest are evicted last
            self.members[m.mention_id] = m.cluster_id
        self.sweep()


class _Specificity:
    """How rare a feature is among the active clusters: 1 / (1 + clusters having it / ``half``),
    so a feature found in ``half`` clusters counts half. Memoised for the post being placed."""

    __slots__ = ("cf", "half", "memo")

    def __init__(self, cf: Mapping[str, int], half: float) -> None:
        self.cf, self.half = cf, half
        self.memo: dict[str, float] = {}

    def get(self, key: str) -> float:
        value = self.memo.get(key)
        if value is None:
            value = self.memo[key] = 1.0 / (1.0 + self.cf.get(key, 0) / self.half)
        return value


def _trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REPRESENTATIVE_CHARS else text[: REPRESENTATIVE_CHARS - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------------
# The enricher
# --------------------------------------------------------------------------------------------


class ClusterEnricher(Enricher):
    """Sets ``cluster_id`` (TAXONOMY.md): stateful, sees mentions one by one in arrival order.

    Besides the text, title, language and myths it uses the raw fields ``id`` (idempotence),
    ``published_at`` (event time) and ``platform`` (cluster statistics). With a store, the
    changes are saved every ``flush_every`` mentions and on :meth:`flush`/:meth:`close`; a
    consumer calls :meth:`flush` before committing its offsets so that what it acknowledged
    is in the store.
    """

    name: ClassVar[str] = "rumor_cluster"
    version: ClassVar[str] = "1.2.0"
    reads: ClassVar[frozenset[str]] = frozenset({"id", "text", "title", "lang", "published_at", "platform", "myths"})
    sets: ClassVar[frozenset[str]] = frozenset({"cluster_id"})
    consumes: ClassVar[frozenset[str]] = frozenset({SIGNATURE_FIELD})
    cacheable: ClassVar[bool] = False

    def __init__(self, clusterer: RumorClusterer | None = None, *, store: ClusterStore | None = None,
                 flush_every: int = 500) -> None:
        self.clusterer = clusterer or RumorClusterer(store=store)
        self.flush_every = flush_every

    def label(self, mention: Mention) -> Labels:
        signer = self.clusterer.signer
        got = self.clusterer.assign(mention.id, mention_text(mention), lang=mention.lang, script=mention.script,
                                    published_at=mention.published_at, platform=str(mention.platform.value),
                                    signature=signer.from_field(getattr(mention, SIGNATURE_FIELD, None)),
                                    myths=mention.myths)
        if self.clusterer.store is not None and self.clusterer.pending >= self.flush_every:
            self.clusterer.flush()
        return Labels({"cluster_id": got.cluster_id}, confidence=got.score)

    def flush(self) -> int:
        return self.clusterer.flush()

    def close(self) -> None:
        self.clusterer.flush()


@lru_cache(maxsize=1)
def default_signer() -> Signer:
    """The signer of a default :class:`RumorClusterer` (default lexicon and gazetteer)."""
    return Signer(shared_concepts(DEFAULT_CONCEPTS), _cached_gazetteer(str(Path(DEFAULT_GAZETTEER).resolve())))


class SignatureEnricher(Enricher):
    """Attaches the rumor clusterer's signature of a post (``SIGNATURE_FIELD``), for the
    clustering stage to use instead of computing it.

    Why in the labelling stage: signing is most of the clusterer's work, and the labelling
    stage is the one that scales (any number of ``enrich`` processes) while clustering must be
    one process; there, the signature is also cached with the labels for viral copies, and it
    reuses the concept matches the classifier has just made. The clustering stage takes it only
    when it was computed from the same lexicon and gazetteer files (``Signer.digest``), and
    removes it from what it passes on: it is never indexed.
    """

    name: ClassVar[str] = "claim_signature"
    version: ClassVar[str] = "1.0.0"
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title", "lang", "script"})
    sets: ClassVar[frozenset[str]] = frozenset({SIGNATURE_FIELD})

    def __init__(self, signer: Signer | None = None) -> None:
        self.signer = signer or default_signer()

    def label(self, mention: Mention) -> Labels:
        sig = self.signer.sign(mention_text(mention), mention.lang, mention.script)
        return Labels({SIGNATURE_FIELD: self.signer.to_field(sig)})
