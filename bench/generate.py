"""Realistic synthetic mentions for benchmarks: mixed languages, viral copies, paraphrases.

Built from the bundled sample (data/sample/mentions.jsonl): each generated mention takes a
sample text and either keeps it (a viral copy, ~25%), adds what forwards add ("partagez",
"انشروا", emojis, hashtags, a handle), or swaps a few words, so the enrichment cache and the
rumor clusterer see the mix they see in production. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sada.model import Mention
from sada.settings import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "sample" / "mentions.jsonl"
ADDITIONS = ["partagez !!", "انشروا", "pls share", "3afak partagi", "🙏🙏", "😡", "#العقوبات_البديلة",
             "#PeinesAlternatives", "شاركوا قبل الحذف", "vrai ou faux ?", "واش بصح؟", "RT"]


def generate(n: int, seed: int = 4322, start: datetime | None = None, per_second: float = 100.0) -> Iterator[Mention]:
    rng = random.Random(seed)
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    t0 = start or datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    for i in range(n):
        row = rng.choice(rows)
        text = row["text"]
        roll = rng.random()
        if roll < 0.25:
            pass  # exact viral copy
        elif roll < 0.7:
            text = f"{text} {rng.choice(ADDITIONS)}" if rng.random() < 0.5 else f"{rng.choice(ADDITIONS)} {text}"
        else:
            words = text.split()
            if len(words) > 4:
                j = rng.randrange(len(words))
                words[j] = rng.choice(ADDITIONS)
            text = " ".join(words)
        when = t0 + timedelta(seconds=i / per_second)
        yield Mention.new(
            platform=row["platform"], source=row["source"], native_id=f"bench-{seed}-{i}",
            url=f"https://bench.example/{row['platform']}/{seed}/{i}", text=text, title=row.get("title"),
            kind=row["kind"], published_at=when, collected_at=when, author=row["author"],
            metrics=row["metrics"], query=row.get("query"),
        )
