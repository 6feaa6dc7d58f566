"""
### weekly_digest — the campaign team's Monday veille e-mail

Every Monday at 08:00 (Africa/Casablanca) the digest of the previous ISO week (Monday 00:00 to
Sunday 24:00, Casablanca time) goes to the recipients of `data/digest/recipients.yaml`:
headline figures against the week before, the daily trend, topics and myths, the rumor clusters
with their counter-arguments, the week's alerts, the top mentions, the public's questions,
recommendations derived from the figures and Kibana links. Only `relevant: true` mentions count.

1. **pick_week** — the ISO week before the run's logical date (or `week` from the run conf,
   e.g. `{"week": "2026-W47"}`; `{"force": true}` sends a week again).
2. **send_digest** — claims the week in the `digests` index, builds the digest from
   Elasticsearch, archives it (HTML under `SADA_DIGEST_ARCHIVE_DIR`, default
   `SADA_HOME/digests`, and the document itself) and sends it. Idempotent: a week already sent
   is not sent again, whatever the number of runs or retries, unless forced.

A task that fails for good e-mails the `ops` recipients (on_failure_callback). Settings come
from the worker's environment at run time (`SADA_*`, see sada/settings.py and digest/config.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

CASABLANCA = ZoneInfo("Africa/Casablanca")


def notify_ops(context) -> None:
    """on_failure_callback: a short e-mail to the ops recipients (never raises)."""
    from digest.deliver import notify_failure
    from sada.settings import Settings

    ti = context.get("task_instance") or context.get("ti")
    week = "?"
    try:
        week = (ti.xcom_pull(task_ids="pick_week") or {}).get("week") or week
    except Exception:  # noqa: BLE001 - the week is only a detail of the message
        pass
    dag_id = getattr(context.get("dag"), "dag_id", "weekly_digest")
    where = f"{dag_id}.{getattr(ti, 'task_id', '?')} (essai {getattr(ti, 'try_number', '?')})"
    notify_failure(Settings(), week, str(context.get("exception") or "échec"), where=where,
                   log_url=getattr(ti, "log_url", None))


@dag(
    dag_id="weekly_digest",
    schedule=CronTriggerTimetable("0 8 * * 1", timezone="Africa/Casablanca"),
    start_date=datetime(2025, 8, 25, 8, 0, tzinfo=CASABLANCA),  # the first Monday after the law came into force
    catchup=False,
    max_active_runs=1,
    tags=["sada", "digest"],
    doc_md=__doc__,
    params={
        "week": Param(None, type=["null", "string"], description="ISO week to send, e.g. 2026-W47 (default: last week)"),
        "force": Param(False, type="boolean", description="send again a week already sent"),
    },
    default_args={
        "owner": "sada",
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(minutes=20),
        "on_failure_callback": notify_ops,
    },
)
def weekly_digest() -> None:
    @task(retries=0)
    def pick_week() -> dict:
        """The ISO week this run covers: the one before its logical date, unless the conf names one."""
        from digest.week import IsoWeek
        from sada.settings import Settings

        context = get_current_context()
        tz = Settings().tz
        params = context.get("params") or {}
        if params.get("week"):
            week = IsoWeek.parse(str(params["week"]), tz)
        else:
            when = context.get("logical_date") or context["dag_run"].run_after
            week = IsoWeek.before(when, tz)
        return {"week": week.label, "force": bool(params.get("force"))}

    @task
    def send_digest(choice: dict) -> dict:
        """Build, archive and send the week's digest, once (see digest/deliver.py)."""
        from digest.deliver import send_week
        from digest.week import IsoWeek
        from sada.settings import Settings

        settings = Settings()
        return send_week(settings, IsoWeek.parse(choice["week"], settings.tz), force=choice["force"]).as_dict()

    send_digest(pick_week())


weekly_digest()
