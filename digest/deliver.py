"""Send a week's digest once: claim, build, archive, send, record (see ``digest.store``).

``send_week`` is what the ``weekly_digest`` DAG and ``sada digest --send`` run; ``preview``
is ``sada digest --preview``; ``notify_failure`` is the DAG's failure callback.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.build import Digest, build_digest
from digest.config import DigestSettings, RecipientsBook, load_recipients
from digest.mail import digest_message, failure_message, send
from digest.store import DigestStore
from digest.week import IsoWeek
from sada import es as sada_es
from sada.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    week: str
    status: str                       # sent | already_sent
    recipients: list[str] = field(default_factory=list)
    message_id: str | None = None
    archive: str | None = None
    volume: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _write_atomic(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def archive(digest: Digest, folder: Path) -> Path:
    """Write the standalone HTML (charts embedded) as ``<folder>/<week>.html``."""
    path = folder / f"{digest.week.label}.html"
    _write_atomic(path, digest.html_standalone())
    return path


def send_week(settings: Settings, week: IsoWeek, *, force: bool = False, now: datetime | None = None,
              digest_settings: DigestSettings | None = None) -> Outcome:
    """Build, archive and send the digest of ``week`` unless it was already sent (or ``force``)."""
    ds = digest_settings or DigestSettings()
    book = load_recipients(ds.recipients_file)  # a bad file fails before anything is claimed
    now = now or datetime.now(UTC)
    es = sada_es.client(settings)
    try:
        store = DigestStore(es, settings)
        store.ensure_index()
        base = {"week_start": week.start.isoformat(), "week_end": week.end.isoformat()}
        claim = store.claim(week.label, base, now=now, stale_after=timedelta(minutes=ds.claim_minutes), force=force)
        if claim is None:
            log.info("the digest of %s was already sent; nothing to do (use force to send it again)", week)
            return Outcome(week.label, "already_sent")
        try:
            digest = build_digest(settings, week, es=es, digest_settings=ds, book=book, now=now)
            path = archive(digest, ds.archive_folder(settings))
            msg = digest_message(digest, book.recipients, settings, send_number=claim.send_number)
            delivered = send(settings, msg, book.recipients)
        except Exception as exc:
            store.mark_failed(claim, f"{type(exc).__name__}: {exc}")
            raise
        record = {"subject": digest.subject, "message_id": msg["Message-ID"], "recipients": delivered,
                  "generated_at": digest.generated_at.isoformat(), "archive_path": str(path), "forced": force,
                  "summary": digest.summary(), "html": digest.html_standalone(), "text": digest.text}
        store.mark_sent(claim, record)
        log.info("digest %s sent to %d recipient(s), archived at %s", week, len(delivered), path)
        return Outcome(week.label, "sent", delivered, msg["Message-ID"], str(path), digest.current.volume)
    finally:
        es.close()


def preview(settings: Settings, week: IsoWeek, out: Path, *, text_out: Path | None = None,
            digest_settings: DigestSettings | None = None, book: RecipientsBook | None = None) -> Digest:
    """Write the digest of ``week`` as a standalone HTML file (nothing is sent or recorded)."""
    digest = build_digest(settings, week, digest_settings=digest_settings, book=book)
    _write_atomic(out, digest.html_standalone())
    if text_out is not None:
        _write_atomic(text_out, digest.text)
    return digest


def notify_failure(settings: Settings, week: str, error: str, *, where: str = "", log_url: str | None = None,
                   digest_settings: DigestSettings | None = None) -> list[str]:
    """Tell the ops recipients that the digest of ``week`` failed; never raises (it runs in a
    failure callback, where an exception would hide the original one)."""
    try:
        ds = digest_settings or DigestSettings()
        book = load_recipients(ds.recipients_file)
        if not book.ops:
            log.warning("the digest of %s failed and no ops recipient is configured", week)
            return []
        return send(settings, failure_message(week, error, book.ops, settings, where=where, log_url=log_url),
                    book.ops)
    except Exception:  # noqa: BLE001 - report and go on: the task already failed for a reason
        log.exception("could not notify the ops recipients of the failed digest of %s", week)
        return []
