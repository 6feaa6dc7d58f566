"""Consumer ``notify``: ``alerts`` topic → channels (email, webhook, Telegram), every outcome recorded.

- Idempotent per alert id + channel: before sending, the delivery record in Elasticsearch
  (``sada-alert-deliveries``, read in real time) is checked; a redelivered or re-emitted alert
  that was sent, is being retried, or has failed for good is not sent again.
- A failing channel is retried at once a few times with backoff (``SADA_NOTIFY_ATTEMPTS``), then
  scheduled: the delivery record says ``retrying`` with the next attempt time, and a retry
  thread picks it up from Elasticsearch — so retries survive a restart and never block the topic.
- After ``SADA_NOTIFY_MAX_ATTEMPTS`` attempts, or at once for a permanent error (4xx, refused
  recipients, bad credentials), the delivery is recorded as ``failed`` with the reason, on the
  alert document and in the dead-letter topic (with the alert itself): never dropped silently.
- Alerts held for the daily summary or grouped under another alert are recorded as ``held``.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError

from alerts.channels.base import Channel, DeliveryError
from alerts.model import Alert
from alerts.recipients import load_channels
from alerts.settings import AlertSettings
from alerts.store import AlertStore
from consumers.runloop import DLQ_TOPIC, BatchResult, DeadLetter
from sada import es as sada_es
from sada import kafka as sada_kafka
from sada.settings import Settings

log = logging.getLogger(__name__)

FINAL = ("sent", "failed", "held", "retrying", "suppressed")


class NotifyHandler:
    name = "notify"
    input_topic = "alerts"
    group = "notify"

    def __init__(self, settings: Settings, *, env: AlertSettings | None = None, es: Any = None,
                 channels: list[Channel] | None = None, wall: Callable[[], float] = time.time,
                 start_retrier: bool = True, retry_poll: float = 2.0) -> None:
        self.settings = settings
        self.env = env or settings
        self.es = es
        self.channels = channels
        self.wall = wall
        self.start_retrier = start_retrier
        self.retry_poll = retry_poll
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.store: AlertStore | None = None
        self.producer: Any = None
        self._retrier: threading.Thread | None = None
        # Outcomes decided in this process, so a batch retried because Elasticsearch failed to
        # record a delivery does not send it again.
        self._outcomes: dict[tuple[str, str], dict[str, Any]] = {}
        self.sent = 0

    def setup(self) -> None:
        if self.channels is None:
            self.channels = load_channels(self.env.alert_recipients, self.env, self.settings.tz)
        if self.es is None:
            self.es = sada_es.client(self.settings, max_retries=1)
        self.store = AlertStore(self.es, self.settings)
        self.store.ensure_indices()
        if self.producer is None:
            self.producer = sada_kafka.producer(self.settings, client_id="sada-notify")
        log.info("notify channels", extra={"channels": ",".join(c.name for c in self.channels)})
        if self.start_retrier:
            self._retrier = threading.Thread(target=self._retry_loop, name="notify-retrier", daemon=True)
            self._retrier.start()

    def close(self) -> None:
        self.stop.set()
        if self._retrier is not None:
            self._retrier.join(30)
        for channel in self.channels or ():
            channel.close()
        if self.producer is not None:
            self.producer.close(timeout=10)
        if self.es is not None:
            self.es.close()

    # -- routing --------------------------------------------------------------------------

    def routes(self, alert: Alert) -> list[Channel]:
        chosen = []
        for ch in self.channels or ():
            if alert.kind == "summary":
                if ch.min_severity != "critical":
                    chosen.append(ch)
            elif ch.wants(alert):
                chosen.append(ch)
        return chosen

    # -- the batch ------------------------------------------------------------------------

    def handle(self, records: list[ConsumerRecord]) -> BatchResult:
        assert self.store is not None
        result = BatchResult()
        parsed: list[tuple[ConsumerRecord, Alert]] = []
        for record in records:
            try:
                parsed.append((record, Alert.model_validate_json(record.value or b"")))
            except ValidationError as exc:
                err = exc.errors()[0]
                result.dead.append(DeadLetter(record, "not_an_alert",
                                              f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"[:500]))
        with self.lock:
            keys = [(a.alert_id, ch.name) for _, a in parsed for ch in self.routes(a)]
            known = self.store.deliveries(keys)
            for record, alert in parsed:
                for ch in self.routes(alert):
                    key = (alert.alert_id, ch.name)
                    if key in known and known[key].get("status") in FINAL:
                        continue  # already sent, scheduled or failed: redelivery changes nothing
                    outcome = self._outcomes.get(key)
                    if outcome is None:
                        duplicate = self._duplicate_of(alert, ch) if alert.delivery == "page" else None
                        if duplicate is not None:
                            outcome = {"status": "suppressed", "attempts": 0, "updated_at": self._now().isoformat(),
                                       "detail": f"doublon de {duplicate} (même règle, même clé, déjà envoyée)"}
                        elif alert.delivery != "page":
                            outcome = self._held(alert)
                        else:
                            outcome = self._attempt(alert, ch, 0)
                        self._remember(key, outcome)
                    self.store.record_delivery(alert, ch.name, outcome)
                    known[key] = outcome
                    if outcome["status"] == "failed":
                        result.dead.append(DeadLetter(record, "delivery_failed",
                                                      f"{ch.name}: {outcome.get('last_error')}"[:1000]))
        return result

    def _duplicate_of(self, alert: Alert, ch: Channel) -> str | None:
        """Silence per rule + key in Elasticsearch: the same kind of alert for the same rule, key
        and severity already sent on this channel within the window (an id that differs only
        because mentions were re-read in another order after a restart) is not sent again."""
        assert self.store is not None
        if alert.kind == "summary":
            return None
        window = self.env.notify_duplicate_window
        similar = [d for d in self.store.similar(alert, window)
                   if d["alert_id"] != alert.alert_id and (d.get("details") or {}).get("kind") == alert.kind
                   and d.get("severity") == alert.severity]
        if not similar:
            return None
        keys = [(d["alert_id"], ch.name) for d in similar]
        sent = self.store.deliveries(keys)
        for key in keys:
            state = self._outcomes.get(key) or sent.get(key) or {}
            if state.get("status") in ("sent", "retrying"):
                return key[0]
        return None

    def _remember(self, key: tuple[str, str], outcome: dict[str, Any]) -> None:
        if len(self._outcomes) > 20_000:
            self._outcomes.clear()
        self._outcomes[key] = outcome

    def _held(self, alert: Alert) -> dict[str, Any]:
        why = "regroupée sous " + str(alert.details.get("grouped_into")) if alert.delivery == "grouped" else \
            "faible gravité"
        return {"status": "held", "attempts": 0, "detail": f"dans le résumé quotidien ({why})",
                "updated_at": self._now().isoformat()}

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    def _attempt(self, alert: Alert, ch: Channel, done: int, *, quick: int | None = None) -> dict[str, Any]:
        """Try a channel up to ``quick`` times now; return the delivery record to store."""
        attempts = done
        last = ""
        for i in range(quick or self.env.notify_attempts):
            attempts += 1
            try:
                detail = ch.send(alert)
            except DeliveryError as exc:
                last = str(exc)
                retryable = exc.retryable
            except Exception as exc:  # noqa: BLE001 - a rendering bug must be recorded, not lose the alert
                last = f"internal error: {type(exc).__name__}: {str(exc)[:200]}"
                retryable = False
                log.exception("channel crashed", extra={"channel": ch.name, "alert_id": alert.alert_id})
            else:
                self.sent += 1
                log.info("alert delivered", extra={"alert_id": alert.alert_id, "channel": ch.name, "attempts": attempts})
                return {"status": "sent", "attempts": attempts, "detail": detail[:500],
                        "updated_at": self._now().isoformat(), "next_attempt_at": None, "last_error": None}
            log.warning("delivery failed", extra={"alert_id": alert.alert_id, "channel": ch.name,
                                                  "attempt": attempts, "error": last[:300]})
            if not retryable or attempts >= self.env.notify_max_attempts:
                return {"status": "failed", "attempts": attempts, "last_error": last[:1000],
                        "updated_at": self._now().isoformat(), "next_attempt_at": None}
            if i + 1 < (quick or self.env.notify_attempts) and self.stop.wait(self.env.backoff(attempts)):
                break
        next_at = self._now() + timedelta(seconds=self.env.backoff(attempts))
        return {"status": "retrying", "attempts": attempts, "last_error": last[:1000],
                "updated_at": self._now().isoformat(), "next_attempt_at": next_at.isoformat()}

    # -- scheduled retries ----------------------------------------------------------------

    def _retry_loop(self) -> None:
        while not self.stop.wait(self.retry_poll):
            try:
                self.retry_due()
            except Exception as exc:  # noqa: BLE001 - the retrier must outlive a failed round
                log.warning("retry round failed (will try again)", extra={"error": str(exc)[:300]})

    def retry_due(self) -> int:
        """One attempt for each scheduled delivery that is due; returns how many were tried."""
        assert self.store is not None
        tried = 0
        by_name = {c.name: c for c in self.channels or ()}
        for due in self.store.due_retries(self._now()):
            with self.lock:
                current = self.store.deliveries([(due["alert_id"], due["channel"])])
                state = current.get((due["alert_id"], due["channel"]), {})
                if state.get("status") != "retrying":
                    continue
                doc = self.store.get(due["alert_id"])
                ch = by_name.get(due["channel"])
                if doc is None or ch is None:
                    continue
                alert = Alert.from_document(doc)
                outcome = self._attempt(alert, ch, int(state.get("attempts", 0)), quick=1)
                self._remember((alert.alert_id, ch.name), outcome)
                self.store.record_delivery(alert, ch.name, outcome)
                tried += 1
                if outcome["status"] == "failed":
                    self._dead_letter(alert, ch.name, outcome.get("last_error") or "")
        return tried

    def _dead_letter(self, alert: Alert, channel: str, reason: str) -> None:
        raw = alert.to_json_bytes()
        value = json.dumps({
            "reason": "delivery_failed", "detail": f"{channel}: {reason}"[:1000],
            "topic": self.settings.topic(self.input_topic), "partition": None, "offset": None,
            "key": alert.alert_id, "consumer_group": self.settings.topic(self.group),
            "failed_at": self._now().isoformat(), "alert_id": alert.alert_id, "channel": channel,
            "original_size": len(raw), "original_b64": base64.b64encode(raw).decode("ascii"),
        }, ensure_ascii=False).encode("utf-8")
        fut = self.producer.send(self.settings.topic(DLQ_TOPIC), key=alert.alert_id.encode(), value=value)
        self.producer.flush(timeout=30)
        fut.get(timeout=30)


def make_handler(settings: Settings) -> NotifyHandler:
    """The handler ``sada consume notify`` runs."""
    return NotifyHandler(settings)
