"""Small builders for test data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sada.model import Mention

BASE_TIME = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)

TEXTS = [
    "Les peines alternatives entrent en vigueur : bracelet électronique et travail d'intérêt général.",
    "العقوبات البديلة دخلت حيز التنفيذ والمندوبية العامة لإدارة السجون تتابع التنفيذ",
    "واش بصح اللي عندو الفلوس يشري الحبس؟ هادشي حكرة",
    "wach had l9anoun dyal l3o9oubat lbadila ghadi ykhrej ga3 li f l7bs?",
    "Morocco's alternative sentences law: first electronic bracelet fitted in Tangier.",
]


def mention(i: int = 0, *, text: str | None = None, platform: str = "x", **fields) -> Mention:
    return Mention.new(
        platform=platform,
        source=f"{platform}:test",
        native_id=str(1_000_000 + i),
        url=f"https://example.test/{platform}/{i}",
        text=text if text is not None else f"{TEXTS[i % len(TEXTS)]} #{i}",
        published_at=BASE_TIME + timedelta(minutes=i),
        collected_at=BASE_TIME + timedelta(minutes=i, seconds=30),
        **fields,
    )
