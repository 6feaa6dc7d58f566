"""
### collect_mentions — public mentions of Law 43.22 into Kafka, every 15 minutes

1. **plan_collection** reads `data/sources/sources.yaml` and `data/keywords.yaml` and lists one
   job per (source, query): search sources (X, YouTube, Reddit, Mastodon, Google News) once
   per keyword set, stream sources (RSS feeds, Telegram channels, a replay file) once with
   query `all`, the campaign's own accounts (YouTube comments, Meta) once with query `own`.
   A source without credentials is left out with a log line and a `skipped` run record.
2. **collect** (mapped over the jobs) fetches since the job's cursor, keeps what the keyword
   set matches, produces to `mentions.raw` (key = mention id), checks every delivery, and only
   then moves the cursor (Elasticsearch `sada-cursors`). HTTP 429/5xx/timeouts are retried
   with backoff inside the task; a failed task is retried by Airflow and resumes from its
   cursor — no gap, no duplicate. A rejected request (bad token, 404) fails without retries.
3. **report** logs one line per job and fails the run when a job failed, so a broken
   collector shows red; each job also writes a record to `sada-collector-runs`.

Settings come from the worker's environment at run time (`SADA_*`, see collectors/config.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="collect_mentions",
    schedule=timedelta(minutes=15),
    start_date=datetime(2025, 8, 22, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # one run at a time: two runs would race on the same cursors
    tags=["sada", "collect"],
    doc_md=__doc__,
    default_args={
        "owner": "sada",
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=12),
    },
)
def collect_mentions() -> None:
    @task(retries=1)
    def plan_collection() -> list[dict[str, str]]:
        """One job per (source, query) whose source is configured."""
        from collectors.task import plan_jobs

        return plan_jobs()

    @task(map_index_template="{{ job_label }}", max_active_tis_per_dagrun=4)
    def collect(job: dict[str, str]) -> dict:
        """Collect one (source, query) into mentions.raw, then move its cursor."""
        from airflow.sdk.exceptions import AirflowFailException

        from collectors.errors import CollectFailed
        from collectors.task import run_job

        context = get_current_context()
        context["job_label"] = f"{job['source']}:{job['query']}"  # type: ignore[typeddict-unknown-key]
        try:
            return run_job(job["source"], job["query"], run_id=context["run_id"])
        except CollectFailed as exc:
            if exc.permanent:  # a rejected token or a wrong id: retrying changes nothing
                raise AirflowFailException(str(exc)) from exc
            raise

    @task(trigger_rule="all_done", retries=0)
    def report(jobs: list[dict[str, str]], summaries: list[dict]) -> dict[str, int]:
        """Log the run's summary; fail when a job failed, so the run shows red."""
        from collectors.task import report_run

        return report_run(jobs, summaries)

    jobs = plan_collection()
    report(jobs, collect.expand(job=jobs))


collect_mentions()
