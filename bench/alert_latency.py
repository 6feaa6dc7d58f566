"""Benchmark: mention produced → alert e-mail received, under a background load.

Runs the real ``alert`` and ``notify`` consumers (as processes, like production) against the
local Kafka and Elasticsearch, on their own topic/index prefix, with an SMTP server (aiosmtpd)
on loopback. A producer sends calm background mentions at ``--rate`` per second to
``mentions.enriched``; every ``--probe-every`` seconds it also sends a hostile post by a big
account (a new author each time: one immediate alert each). The latency of a probe is the time
from its produce call to the arrival of its e-mail. Prints the figures and writes them as JSON
to ``bench/results/``. Not a test: ``python bench/alert_latency.py [--duration 60]``.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from sada import es as sada_es  # noqa: E402
from sada import kafka as sada_kafka  # noqa: E402
from sada.model import Mention  # noqa: E402
from sada.settings import Settings  # noqa: E402

TEXTS = ["La DGAPR publie un point d'étape sur les peines alternatives.",
         "Comment on demande une peine alternative pour un proche déjà condamné ?",
         "العقوبات البديلة خطوة مهمة لإعادة الإدماج وتخفيف الاكتظاظ",
         "daba l9anoun dyal l3o9oubat lbadila bda ykhdem"]


class Inbox:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd hook
        now = time.time()
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.count += 1
        subject = str(msg["Subject"])
        if "@probe_" in subject:
            probe = subject.split("@probe_", 1)[1].split(" ", 1)[0]
            self.arrivals.setdefault(probe, now)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mention(i: int, now: datetime, *, probe: int | None = None) -> Mention:
    common = dict(relevant=True, topics=["implementation"], toxicity="none", entities=[], cluster_id=None,
                  published_at=now - timedelta(seconds=5), collected_at=now, script="latn")
    if probe is not None:
        return Mention.new(platform="x", source="x:recent_search", native_id=f"probe-{probe}-{uuid.uuid4().hex[:6]}",
                           url=f"https://x.com/probe/{probe}",
                           text="Les riches achètent leur liberté avec les peines alternatives.",
                           author={"id": f"h:probe{probe}", "handle": f"probe_{probe}", "followers": 800_000},
                           lang="fr", stance="oppose", myths=["rich_buy_freedom"], **common)
    return Mention.new(platform=random.choice(["x", "facebook", "youtube"]), source="bench:background",
                       native_id=f"bg-{i}", url=f"https://example.test/bg/{i}", text=random.choice(TEXTS),
                       author={"id": f"h:bg{i % 5000}", "handle": f"bg{i % 5000}", "followers": random.randint(10, 5000)},
                       lang="fr", stance=random.choice(["support", "neutral", "question", "neutral"]), myths=[], **common)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--rate", type=float, default=200.0, help="background mentions per second")
    parser.add_argument("--probe-every", type=float, default=2.0, help="seconds between probe posts")
    parser.add_argument("--drain", type=float, default=45.0, help="seconds to wait for the last e-mails")
    args = parser.parse_args()

    prefix = f"bench{uuid.uuid4().hex[:8]}-"
    settings = Settings(topic_prefix=prefix, index_prefix=prefix)
    sada_kafka.ensure_topics(settings)
    sada_es.ensure_templates(settings)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    workdir = ROOT / "bench" / "results"
    workdir.mkdir(parents=True, exist_ok=True)
    recipients = workdir / f".recipients-{prefix}yaml"
    recipients.write_text(yaml.safe_dump({"version": 1, "channels": {"email-cm": {
        "type": "email", "min_severity": "warning", "options": {"to": [{"email": "cm@campagne.test"}]}}}}),
        encoding="utf-8")
    env = {**os.environ, "SADA_TOPIC_PREFIX": prefix, "SADA_INDEX_PREFIX": prefix,
           "SADA_SMTP_HOST": "127.0.0.1", "SADA_SMTP_PORT": str(smtp.port), "SADA_ALERT_RECIPIENTS": str(recipients),
           "SADA_ALERT_TICK": "5"}
    logs = {name: open(workdir / f".{prefix}{name}.log", "w") for name in ("alert", "notify")}  # noqa: SIM115
    procs = {name: subprocess.Popen([sys.executable, "-m", "sada.cli_alerts", "consume", name, "--stats-every", "5"],
                                    env=env, stdout=logs[name], stderr=subprocess.STDOUT, cwd=ROOT)
             for name in ("alert", "notify")}
    sent: dict[str, float] = {}
    produced = 0
    stop = threading.Event()
    try:
        time.sleep(8)  # consumers join their groups
        producer = sada_kafka.producer(settings, linger_ms=20)
        topic = settings.topic("mentions.enriched")
        start = time.time()
        next_probe, probe, i = start + 1.0, 0, 0
        print(f"load: {args.rate:g} mentions/s for {args.duration:g} s, a probe every {args.probe_every:g} s")
        while time.time() - start < args.duration:
            tick = time.time()
            due = int((tick - start) * args.rate) - produced
            now = datetime.now(UTC)
            for _ in range(max(due, 0)):
                m = mention(i, now)
                producer.send(topic, key=m.id.encode(), value=m.to_json_bytes())
                i += 1
                produced += 1
            if tick >= next_probe:
                m = mention(0, now, probe=probe)
                sent[str(probe)] = time.time()
                producer.send(topic, key=m.id.encode(), value=m.to_json_bytes())
                producer.flush()
                probe += 1
                next_probe += args.probe_every
            time.sleep(0.01)
        producer.flush()
        load_seconds = time.time() - start
        deadline = time.time() + args.drain
        while time.time() < deadline and len(inbox.arrivals) < len(sent):
            time.sleep(0.2)
    finally:
        stop.set()
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        smtp.stop()
        for f in logs.values():
            f.close()
        recipients.unlink(missing_ok=True)
        cleanup(settings)

    latencies = [inbox.arrivals[k] - t for k, t in sent.items() if k in inbox.arrivals]
    result = {
        "benchmark": "alert_latency", "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "background_rate_target": args.rate, "background_rate_achieved": round(produced / load_seconds, 1),
        "background_mentions": produced, "duration_s": round(load_seconds, 1), "probes": len(sent),
        "emails_for_probes": len(latencies), "missing": len(sent) - len(latencies), "emails_total": inbox.count,
        "latency_s": {"p50": round(percentile(latencies, 0.5), 2), "p90": round(percentile(latencies, 0.9), 2),
                      "p99": round(percentile(latencies, 0.99), 2), "max": round(max(latencies), 2) if latencies else None,
                      "mean": round(statistics.fmean(latencies), 2) if latencies else None},
        "target_p99_s": 30.0,
    }
    result["target_met"] = bool(latencies) and result["latency_s"]["p99"] < 30.0 and result["missing"] == 0
    if result["target_met"]:
        for name in logs:
            (workdir / f".{prefix}{name}.log").unlink(missing_ok=True)
    else:
        print(f"consumer logs kept in {workdir.relative_to(ROOT)}/.{prefix}*.log")
    out = workdir / f"alert_latency-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lat = result["latency_s"]
    print(f"background: {result['background_rate_achieved']} mentions/s ({produced} in {result['duration_s']} s)")
    print(f"probes: {len(sent)} sent, {len(latencies)} e-mails received, {result['missing']} missing")
    print(f"mention produced → e-mail received: p50 {lat['p50']} s, p90 {lat['p90']} s, p99 {lat['p99']} s, "
          f"max {lat['max']} s (target p99 < 30 s: {'met' if result['target_met'] else 'NOT met'})")
    print(f"written to {out.relative_to(ROOT)}")
    return 0 if result["target_met"] else 1


def cleanup(settings: Settings) -> None:
    admin = sada_kafka.admin(settings)
    try:
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(settings.topic_prefix)])
    finally:
        admin.close()
    es = sada_es.client(settings)
    es.indices.delete(index=f"{settings.index_prefix}*", ignore_unavailable=True, allow_no_indices=True)
    for template in ("sada-mentions", "sada-alerts"):
        es.options(ignore_status=404).indices.delete_index_template(name=settings.index(template))
    es.close()


if __name__ == "__main__":
    sys.exit(main())
