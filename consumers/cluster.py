"""Consumer ``cluster``: mentions.labelled → rumor clusters → mentions.enriched.

The clusterer is stateful and must see every mention in order, so this stage reads a
single-partition topic: one process is active, others in the group stand by. Cluster state is
saved to Elasticsearch (sada/cluster_store.py) before the batch's outputs are produced, so the
offsets the run loop commits never run ahead of what the store holds; redelivered mentions are
recognised by id and change nothing.
"""

from __future__ import annotations

from kafka.consumer.fetcher import ConsumerRecord

from consumers.runloop import BatchResult, DeadLetter, Output, decode_mention
from enrichers.base import Pipeline
from enrichers.clusters import ClusterEnricher
from enrichers.registry import LABEL_FIELDS
from sada.errors import PoisonMessage
from sada.settings import Settings


class ClusterHandler:
    name = "cluster"
    input_topic = "mentions.labelled"
    output_topic = "mentions.enriched"
    group = "cluster"

    def __init__(self, settings: Settings, enricher: ClusterEnricher | None = None) -> None:
        self.settings = settings
        self.enricher = enricher
        self.pipeline: Pipeline | None = None

    def setup(self) -> None:
        if self.enricher is None:
            from sada.cluster_store import ElasticsearchClusterStore

            self.enricher = ClusterEnricher(store=ElasticsearchClusterStore(self.settings))
        self.pipeline = Pipeline([self.enricher], provided=LABEL_FIELDS)

    def handle(self, records: list[ConsumerRecord]) -> BatchResult:
        result = BatchResult()
        mentions = []
        for record in records:
            try:
                mentions.append(decode_mention(record, self.settings.max_text_chars))
            except PoisonMessage as exc:
                result.dead.append(DeadLetter(record, exc.reason, str(exc)))
        enriched = self.pipeline.run_many(mentions)
        self.enricher.flush()  # durable before the run loop produces and commits
        for m in enriched:
            result.outputs.append(Output(self.output_topic, m.id.encode(), m.to_json_bytes()))
        return result

    def close(self) -> None:
        if self.enricher is not None:
            self.enricher.close()


def make_handler(settings: Settings) -> ClusterHandler:
    return ClusterHandler(settings)
