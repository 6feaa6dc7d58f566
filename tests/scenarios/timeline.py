"""Generated timelines of labelled mentions: a calm fortnight, then the crises a CM fears.

Deterministic for a seed. Volumes follow the hour of the day (quiet nights, busy lunch and
evening) and the weekday; each source is polled at its own interval, so mentions arrive in
batches with ``collected_at`` after ``published_at`` — as the live collectors deliver them.
The texts are written for the project (synthetic); no real person is quoted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sada.model import MYTHS, Mention, mention_id

TZ = ZoneInfo("Africa/Casablanca")
START = datetime(2026, 11, 2, 0, 0, tzinfo=TZ)  # a Monday
WEEK = timedelta(days=7)

# hour-of-day weights (local time), mean 1.0
_PROFILE = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.45, 0.8, 1.1, 1.3, 1.4, 1.45, 1.6, 1.55, 1.35, 1.25, 1.2,
            1.25, 1.4, 1.6, 1.75, 1.7, 1.25, 0.7]
_SCALE = 24 / sum(_PROFILE)
PROFILE = [w * _SCALE for w in _PROFILE]


@dataclass(frozen=True)
class Source:
    name: str
    platform: str
    per_day: float
    poll_minutes: int
    langs: tuple[tuple[str, float], ...]


SOURCES = (
    Source("x:recent_search", "x", 70, 5, (("fr", 0.45), ("ary", 0.35), ("ar", 0.2))),
    Source("facebook:page:campaign", "facebook", 45, 10, (("ary", 0.45), ("ar", 0.3), ("fr", 0.25))),
    Source("youtube:comments", "youtube", 14, 30, (("ary", 0.6), ("ar", 0.3), ("fr", 0.1))),
    Source("telegram:qanoun_ma", "telegram", 10, 5, (("ar", 0.6), ("fr", 0.4))),
    Source("instagram:comments:campaign", "instagram", 10, 15, (("fr", 0.5), ("ary", 0.5))),
    Source("hespress.com", "news", 6, 15, (("ar", 0.7), ("fr", 0.3))),
    Source("fr.le360.ma", "news", 4, 15, (("fr", 1.0),)),
)

TEXTS = {
    ("fr", "support"): ["Les peines alternatives, c'est enfin une justice qui répare au lieu d'entasser.",
                        "Le travail d'intérêt général a du sens : les condamnés rendent quelque chose à la société.",
                        "Bonne nouvelle pour la réinsertion, la loi 43.22 donne une vraie chance."],
    ("fr", "oppose"): ["Je ne suis pas convaincu par ces peines alternatives, trop de flou dans l'application.",
                       "Encore une réforme mal expliquée, les citoyens ne comprennent rien à la loi 43.22.",
                       "Le bracelet électronique ne remplacera jamais une vraie sanction."],
    ("fr", "neutral"): ["La DGAPR publie un point d'étape sur les peines alternatives.",
                        "Loi 43.22 : ce qui change pour l'amende journalière.",
                        "Le juge d'application des peines supervise l'exécution des peines alternatives."],
    ("fr", "question"): ["Comment on demande une peine alternative pour un proche déjà condamné ?",
                         "Qui décide du nombre d'heures de travail d'intérêt général ?"],
    ("ar", "support"): ["العقوبات البديلة خطوة مهمة لإعادة الإدماج وتخفيف الاكتظاظ",
                        "العمل لأجل المنفعة العامة يعيد للمجتمع ما خسره"],
    ("ar", "oppose"): ["لست مقتنعا بالعقوبات البديلة، التطبيق غير واضح",
                       "القانون 43.22 يحتاج إلى شرح أكثر للمواطنين"],
    ("ar", "neutral"): ["المندوبية العامة لإدارة السجون تقدم حصيلة العقوبات البديلة",
                        "الغرامة اليومية: ما الذي تغير مع القانون 43.22"],
    ("ar", "question"): ["كيف يمكن طلب عقوبة بديلة بعد صدور الحكم؟"],
    ("ary", "support"): ["العقوبات البديلة مزيانة، خاص الناس تفهمها مزيان",
                         "hadchi mzyan, l3o9oubat lbadila ghadi t3awen drari ybdaw mn jdid"],
    ("ary", "oppose"): ["ما عجبنيش هاد القانون ديال العقوبات البديلة",
                        "wach bssa7 had l9anoun ghadi ykhdem? ma fhemt walou"],
    ("ary", "neutral"): ["شكون اللي كيقرر فالعقوبات البديلة؟ القاضي ولا النيابة؟",
                         "daba l9anoun dyal l3o9oubat lbadila bda ykhdem"],
    ("ary", "question"): ["واش كاين شي واحد عارف كيفاش كتخدم الغرامة ديال النهار؟"],
}
STANCES = (("support", 0.3), ("neutral", 0.35), ("question", 0.15), ("oppose", 0.2))
NEWS_STANCES = (("neutral", 0.8), ("support", 0.1), ("question", 0.1))  # news report, they do not campaign


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    r = rng.random() * sum(w for _, w in weighted)
    for value, w in weighted:
        r -= w
        if r <= 0:
            return value
    return weighted[-1][0]


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth: fine for the small rates used here.
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Builder:
    """Accumulates mentions; every crisis is a method, the calm is ``calm``."""

    def __init__(self, seed: int = 43_22) -> None:
        self.rng = random.Random(seed)
        self.rows: list[dict] = []
        self.n = 0
        self.silences: list[tuple[str, datetime, datetime]] = []

    def _collect(self, source: Source, published: datetime) -> datetime:
        poll = timedelta(minutes=source.poll_minutes)
        offset = (published - START) % poll
        return published + (poll - offset) + timedelta(seconds=self.rng.randint(5, 50))

    def add(self, *, source: Source, published: datetime, lang: str, text: str, stance: str,
            toxicity: str = "none", myths: list[str] | None = None, cluster: str | None = None,
            followers: int | None = None, handle: str | None = None, relevant: bool = True,
            collected: datetime | None = None) -> dict:
        self.n += 1
        native = f"{source.platform}-{self.n}"
        is_news = source.platform == "news"
        if followers is None and not is_news:
            followers = int(self.rng.lognormvariate(5.5, 1.4)) % 40_000
        author = ({"id": None, "handle": None, "name": source.name, "followers": None} if is_news else
                  {"id": f"h:{self.rng.getrandbits(48):012x}", "handle": handle or f"user{self.n}",
                   "name": None, "followers": followers})
        row = {
            "id": mention_id(source.platform, native), "platform": source.platform, "source": source.name,
            "native_id": native, "url": f"https://{source.platform}.example/{native}", "author": author,
            "text": text, "title": None, "kind": "article" if is_news else "post",
            "published_at": published.isoformat(),
            "collected_at": (collected or self._collect(source, published)).isoformat(),
            "lang": lang, "script": "latn" if lang == "fr" or text.isascii() else "arab", "relevant": relevant,
            "topics": ["implementation"], "myths": myths or [], "stance": stance, "toxicity": toxicity,
            "entities": [], "cluster_id": cluster,
        }
        self.rows.append(row)
        return row

    def calm(self, start: datetime, days: int) -> None:
        """Ordinary days: the usual mix of support, questions, news and some opposition."""
        rng = self.rng
        for day in range(days):
            day_start = start + timedelta(days=day)
            weekend = day_start.weekday() >= 5
            for source in SOURCES:
                for hour in range(24):
                    lam = source.per_day / 24 * PROFILE[hour] * (0.8 if weekend else 1.0)
                    for _ in range(_poisson(rng, lam)):
                        published = day_start + timedelta(hours=hour, seconds=rng.randint(0, 3599))
                        lang = _pick(rng, source.langs)
                        news = source.platform == "news"
                        stance = _pick(rng, NEWS_STANCES if news else STANCES)
                        options = TEXTS.get((lang, stance)) or TEXTS[(lang, "neutral")]
                        tox = "none"
                        roll = rng.random()
                        if roll < 0.03 and not news:
                            tox = "insult"
                        elif roll < 0.035 and not news:
                            tox = "hate"
                        myths = [rng.choice(MYTHS)] if rng.random() < 0.12 else []
                        cluster = None if rng.random() < 0.6 else f"c-{rng.getrandbits(40):010x}"
                        self.add(source=source, published=published, lang=lang, stance=stance, toxicity=tox,
                                 myths=myths, cluster=cluster, text=rng.choice(options),
                                 relevant=rng.random() > 0.05)

    # -- crises -------------------------------------------------------------------------------

    def rumor(self, at: datetime) -> str:
        """A false claim (mass release) starts in French, then crosses into Arabic and Darija."""
        cid = "c-rumor-mass-release"
        fr = ("On nous cache tout : 5 000 détenus seront libérés d'un coup le mois prochain grâce aux "
              "peines alternatives, une amnistie déguisée.")
        ar = "سيتم الإفراج عن 5000 سجين دفعة واحدة الشهر المقبل بفضل العقوبات البديلة، إنه عفو مقنع"
        ary = "غادي يطلقو 5000 حباس دقة وحدة الشهر الجاي بالعقوبات البديلة، هادا عفو مخبي"
        fb, x, tg, yt = (SOURCES[1], SOURCES[0], SOURCES[3], SOURCES[2])
        for i in range(18):   # 2 h of French only
            self.add(source=x if i % 2 else fb, published=at + timedelta(minutes=6.5 * i + 1), lang="fr",
                     text=fr, stance="oppose", myths=["mass_release"], cluster=cid)
        for i in range(30):   # then Arabic and Darija take over for 3 h, French goes on
            lang = "ar" if i % 2 else "ary"
            self.add(source=tg if i % 3 == 0 else (yt if i % 3 == 1 else fb),
                     published=at + timedelta(hours=2, minutes=6 * i + 2), lang=lang,
                     text=ar if lang == "ar" else ary, stance="oppose", myths=["mass_release"], cluster=cid)
        for i in range(12):
            self.add(source=x, published=at + timedelta(hours=2, minutes=15 * i + 7), lang="fr", text=fr,
                     stance="oppose", myths=["mass_release"], cluster=cid)
        return cid

    def hate_wave(self, at: datetime) -> None:
        """An hour of hateful comments against detainees as a group, with a few threats."""
        fb = SOURCES[1]
        for i in range(45):
            tox = "threat" if i in (15, 27, 38) else ("insult" if i % 11 == 0 else "hate")
            lang = "ary" if i % 3 else "ar"
            text = ("هادوك الحباسة خاصهم يبقاو محبوسين، ما يستاهلوش حتى فرصة" if lang == "ary"
                    else "هؤلاء المجرمون لا يستحقون أي فرصة ويجب أن يبقوا في السجون")
            self.add(source=fb, published=at + timedelta(minutes=1.3 * i), lang=lang, text=text,
                     stance="oppose", toxicity=tox)

    def fait_divers(self, at: datetime) -> None:
        """A convict under electronic monitoring is arrested for theft: news, then a wave of reactions."""
        news = (SOURCES[5], SOURCES[6])
        for i, src in enumerate(news * 2):
            self.add(source=src, published=at + timedelta(minutes=5 + 20 * i), lang="fr" if src is SOURCES[6] else "ar",
                     text="Un condamné sous bracelet électronique interpellé pour un vol à Casablanca",
                     stance="neutral")
        rng = self.rng
        reactions = [(3, 38), (5, 22)]  # (hours, posts per hour)
        t = at + timedelta(minutes=20)
        for hours, per_hour in reactions:
            for _ in range(hours * per_hour):
                t += timedelta(seconds=rng.expovariate(per_hour / 3600))
                source = SOURCES[_pick_index(rng, (0.5, 0.3, 0.1, 0.05, 0.05))]
                lang = _pick(rng, source.langs)
                stance = _pick(rng, (("neutral", 0.4), ("oppose", 0.35), ("question", 0.15), ("support", 0.1)))
                myths = (["crime_will_rise"] if rng.random() < 0.15 else
                         (["bracelet_fears"] if rng.random() < 0.05 else []))
                options = TEXTS.get((lang, stance)) or TEXTS[(lang, "neutral")]
                self.add(source=source, published=t, lang=lang, text=rng.choice(options), stance=stance,
                         myths=myths, toxicity="insult" if rng.random() < 0.05 else "none")

    def big_account(self, at: datetime) -> dict:
        """A hostile post by an account with 850k followers, and a few small replies."""
        post = self.add(source=SOURCES[0], published=at, lang="fr", followers=850_000, handle="grand_compte_maroc",
                        text="2 000 DH par jour et t'es libre : les riches achètent leur liberté, les pauvres "
                             "vont en prison. Voilà la justice des peines alternatives.",
                        stance="oppose", myths=["rich_buy_freedom"],
                        collected=at + timedelta(minutes=2))
        for i in range(5):
            self.add(source=SOURCES[0], published=at + timedelta(minutes=3 + 4 * i), lang="fr",
                     text="Tellement vrai.", stance="oppose", followers=120 + i)
        return post

    def silence(self, source_name: str, start: datetime, end: datetime) -> None:
        """The source's collector is down: what was published meanwhile arrives late, at the end."""
        self.silences.append((source_name, start, end))
        for row in self.rows:
            if row["source"] != source_name:
                continue
            published = datetime.fromisoformat(row["published_at"])
            collected = datetime.fromisoformat(row["collected_at"])
            if start <= collected < end:
                row["collected_at"] = max(end + timedelta(minutes=4), published).isoformat()

    def mentions(self) -> list[Mention]:
        rows = sorted(self.rows, key=lambda r: (r["collected_at"], r["id"]))
        return [Mention.model_validate(r) for r in rows]


def _pick_index(rng: random.Random, weights: tuple[float, ...]) -> int:
    r = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        r -= w
        if r <= 0:
            return i
    return len(weights) - 1


@dataclass(frozen=True)
class Crisis:
    rule: str
    kind: str
    severity: str
    key: str | None
    earliest: datetime
    latest: datetime


def fortnight(seed: int = 43_22) -> tuple[list[Mention], list[Crisis], Builder]:
    """A calm week, then a second week with one crisis a day; the alerts each should raise."""
    b = Builder(seed)
    b.calm(START, 14)
    d = START + WEEK                                   # Monday 9 November
    cid = b.rumor(d + timedelta(hours=10))
    b.hate_wave(d + timedelta(days=1, hours=21))       # Tuesday evening
    b.fait_divers(d + timedelta(days=3, hours=9))      # Thursday morning
    post = b.big_account(d + timedelta(days=4, hours=19, minutes=30))  # Friday evening
    b.silence("x:recent_search", d + timedelta(days=5, hours=10), d + timedelta(days=5, hours=18))  # Saturday
    h = timedelta(hours=1)
    m = timedelta(minutes=1)
    expected = [
        Crisis("rumor-cluster", "fired", "warning", cid, d + 10 * h, d + 12 * h + 30 * m),
        Crisis("rumor-cluster", "escalated", "critical", cid, d + 12 * h, d + 14 * h),
        Crisis("toxicity-surge", "fired", "warning", "all", d + 45 * h, d + 45 * h + 30 * m),
        Crisis("toxicity-surge", "escalated", "critical", "all", d + 45 * h, d + 46 * h + 15 * m),
        Crisis("volume-spike", "fired", "warning", "all", d + 3 * 24 * h + 9 * h, d + 3 * 24 * h + 10 * h + 30 * m),
        Crisis("volume-spike", "escalated", "critical", "all", d + 3 * 24 * h + 9 * h, d + 3 * 24 * h + 12 * h + 30 * m),
        Crisis("myth-surge", "fired", "warning", "crime_will_rise", d + 3 * 24 * h + 9 * h, d + 3 * 24 * h + 14 * h),
        Crisis("high-reach-hostile", "fired", "critical", post["author"]["id"],
               d + 4 * 24 * h + 19 * h + 30 * m, d + 4 * 24 * h + 19 * h + 35 * m),
        Crisis("collector-flatline", "fired", "critical", "x:recent_search",
               d + 5 * 24 * h + 11 * h, d + 5 * 24 * h + 14 * h),
    ]
    return b.mentions(), expected, b
