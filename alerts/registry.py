"""The two registries: rule types and alert channels, looked up by name.

Adding a rule type or a channel is one module plus one line here. Names carry a version
(``volume_spike.v1``); a rule file may omit it to get the latest.
"""

from __future__ import annotations

from alerts.channels.base import Channel
from alerts.channels.email import EmailChannel
from alerts.channels.telegram import TelegramChannel
from alerts.channels.webhook import WebhookChannel
from alerts.rules.base import RuleType
from alerts.rules.flatline import CollectorFlatline
from alerts.rules.high_reach import HighReachHostile
from alerts.rules.keyword_watch import KeywordWatch
from alerts.rules.myth_surge import MythSurge
from alerts.rules.negative_share import NegativeShare
from alerts.rules.rumor_cluster import RumorCluster
from alerts.rules.toxicity_surge import ToxicitySurge
from alerts.rules.volume_spike import VolumeSpike

RULE_TYPES: dict[str, type[RuleType]] = {
    "volume_spike.v1": VolumeSpike,
    "negative_share.v1": NegativeShare,
    "toxicity_surge.v1": ToxicitySurge,
    "rumor_cluster.v1": RumorCluster,
    "myth_surge.v1": MythSurge,
    "high_reach_hostile.v1": HighReachHostile,
    "keyword_watch.v1": KeywordWatch,
    "collector_flatline.v1": CollectorFlatline,
}

CHANNEL_TYPES: dict[str, type[Channel]] = {
    "email.v1": EmailChannel,
    "webhook.v1": WebhookChannel,
    "telegram.v1": TelegramChannel,
}


def _resolve(name: str, table: dict[str, type], what: str) -> type:
    if name in table:
        return table[name]
    versions = sorted((k for k in table if k.split(".v")[0] == name), key=lambda k: int(k.rsplit(".v", 1)[1]))
    if versions:
        return table[versions[-1]]
    known = ", ".join(sorted({k.split(".v")[0] for k in table}))
    raise KeyError(f"unknown {what} {name!r}; registered: {known}")


def resolve_rule_type(name: str) -> type[RuleType]:
    return _resolve(name, RULE_TYPES, "rule type")


def resolve_channel_type(name: str) -> type[Channel]:
    return _resolve(name, CHANNEL_TYPES, "channel type")
