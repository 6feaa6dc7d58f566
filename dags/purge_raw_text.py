"""
### purge_raw_text — Law 09-08 retention of raw text, daily

Empties `text` and `title` (and the author's handle and name) of every mention published more
than `SADA_TEXT_RETENTION_DAYS` days ago (default 180), keeping ids, dates, metrics and every
label, so aggregates on old periods still work. Idempotent; see collectors/purge.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task


@dag(
    dag_id="purge_raw_text",
    schedule="30 3 * * *",  # 03:30 UTC, away from the morning digest
    start_date=datetime(2025, 8, 22, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["sada", "privacy"],
    doc_md=__doc__,
    default_args={"owner": "sada", "retries": 2, "retry_delay": timedelta(minutes=10)},
)
def purge_raw_text() -> None:
    @task
    def purge_old_text() -> dict:
        """Remove raw text older than the retention period from the mentions indices."""
        from collectors.config import CollectorSettings
        from collectors.purge import purge_raw_text as purge
        from sada.settings import Settings

        return purge(Settings(), older_than_days=CollectorSettings().text_retention_days)

    purge_old_text()


purge_raw_text()
