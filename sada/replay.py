"""Produce mentions to ``mentions.raw``, checking every delivery."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from collectors.replay import ReplayError, read_replay
from sada import kafka as sada_kafka
from sada.errors import ServiceError
from sada.model import Mention
from sada.settings import Settings

log = logging.getLogger(__name__)


def produce_mentions(settings: Settings, mentions: Iterable[Mention], *, progress: bool = False,
                     total: int | None = None) -> int:
    """Send each mention keyed by its id; return how many the broker acknowledged.

    Raises ServiceError if any delivery failed, so a caller never advances a cursor past a
    mention Kafka did not take.
    """
    producer = sada_kafka.producer(settings)
    topic = settings.topic("mentions.raw")
    futures = []
    try:
        for mention in tqdm(mentions, total=total, disable=not progress, desc="produce", unit="msg"):
            futures.append(producer.send(topic, key=mention.id.encode(), value=mention.to_json_bytes()))
        producer.flush(timeout=60)
        failed = [f for f in futures if f.failed() or not f.is_done]
        if failed:
            raise ServiceError(f"{len(failed)} of {len(futures)} mentions were not acknowledged by Kafka",
                               hint="check `sada status`; nothing was lost, produce again")
        return len(futures)
    finally:
        producer.close(timeout=30)


def produce_file(settings: Settings, path: Path) -> dict:
    mentions: list[Mention] = []
    errors: list[dict] = []
    for item in read_replay(path):
        if isinstance(item, ReplayError):
            errors.append({"line": item.line, "error": item.error})
            log.warning("skipping invalid line", extra={"file": str(path), "line": item.line, "error": item.error})
        else:
            mentions.append(item)
    produced = produce_mentions(settings, mentions, progress=True, total=len(mentions))
    return {"file": str(path), "produced": produced, "errors": errors}
