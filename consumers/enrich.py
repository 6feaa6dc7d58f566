"""Consumer ``enrich``: mentions.raw → stateless labels → mentions.labelled.

Stateless, so several processes of the group share mentions.raw's partitions; the rumor
clusters are added by the single ``cluster`` stage downstream (consumers/cluster.py).
"""

from __future__ import annotations

from kafka.consumer.fetcher import ConsumerRecord

from consumers.runloop import BatchResult, DeadLetter, Output, decode_mention
from enrichers.base import Pipeline
from sada.errors import PoisonMessage
from sada.settings import Settings


class EnrichHandler:
    name = "enrich"
    input_topic = "mentions.raw"
    output_topic = "mentions.labelled"
    group = "enrich"

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline

    def setup(self) -> None:
        if self.pipeline is None:
            from enrichers.registry import labelling_pipeline

            self.pipeline = labelling_pipeline()

    def handle(self, records: list[ConsumerRecord]) -> BatchResult:
        result = BatchResult()
        mentions = []
        for record in records:
            try:
                mentions.append(decode_mention(record, self.settings.max_text_chars))
            except PoisonMessage as exc:
                result.dead.append(DeadLetter(record, exc.reason, str(exc)))
        for enriched in self.pipeline.run_many(mentions):
            result.outputs.append(Output(self.output_topic, enriched.id.encode(), enriched.to_json_bytes()))
        return result

    def close(self) -> None:
        pass


def make_handler(settings: Settings) -> EnrichHandler:
    return EnrichHandler(settings)
