"""The digest as an e-mail, and SMTP delivery (the same ``SADA_SMTP_*`` settings as the alerts).

Structure, as mail clients expect it::

    multipart/alternative
    ├── text/plain                      the text part
    └── multipart/related
        ├── text/html                   <img src="cid:daily.2026-W47@sada.digest">
        └── image/png (inline, Content-ID <daily.2026-W47@sada.digest>) …

The Message-ID is derived from the week and the send number, so a repeated send of the same
digest (see ``digest.store``) carries the same id.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from alerts.safetext import one_line
from digest.build import Digest
from digest.config import Person
from sada.mail import smtp_send
from sada.settings import Settings

DOMAIN = "sada.digest"


def _address(person: Person) -> Address:
    return Address(display_name=person.name, addr_spec=person.email) if person.name else Address(addr_spec=person.email)


def message_id(week: str, send_number: int) -> str:
    return f"<digest.{week}.{send_number}@{DOMAIN}>"


def digest_message(digest: Digest, to: list[Person], settings: Settings, *, send_number: int = 1) -> EmailMessage:
    """The e-mail of a built digest, addressed to ``to``."""
    msg = EmailMessage()
    msg["Subject"] = digest.subject
    msg["From"] = settings.smtp_from
    msg["To"] = [_address(p) for p in to]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(digest.week.label, send_number)
    msg["X-Sada-Digest-Week"] = digest.week.label
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = "fr"
    msg.set_content(digest.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(digest.html, subtype="html", charset="utf-8", cte="quoted-printable")
    html_part = msg.get_payload()[1]
    for chart in digest.charts:
        html_part.add_related(chart.png, maintype="image", subtype="png", cid=f"<{chart.cid}>",
                              filename=chart.filename, disposition="inline")
    return msg


def failure_message(week: str, error: str, to: list[Person], settings: Settings, *, where: str = "",
                    log_url: str | None = None) -> EmailMessage:
    """A short plain-text e-mail to the ops recipients: the digest of ``week`` failed."""
    msg = EmailMessage()
    msg["Subject"] = one_line(f"[Sada] ÉCHEC du digest hebdomadaire {week}", 150)
    msg["From"] = settings.smtp_from
    msg["To"] = [_address(p) for p in to]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=DOMAIN)
    msg["Auto-Submitted"] = "auto-generated"
    lines = [f"Le digest hebdomadaire de la semaine {week} n'a pas pu être envoyé.", "",
             f"Erreur : {one_line(error, 800)}"]
    if where:
        lines.append(f"Où : {one_line(where, 200)}")
    if log_url:
        lines.append(f"Journal : {log_url}")
    lines += ["", "Que faire : corriger la cause, puis relancer la tâche dans Airflow ou lancer",
              f"  sada digest --week {week} --send",
              "(sans risque : un digest déjà envoyé ne part pas une seconde fois)."]
    msg.set_content("\n".join(lines) + "\n", charset="utf-8")
    return msg


def send(settings: Settings, msg: EmailMessage, to: list[Person]) -> list[str]:
    """Deliver ``msg``; returns the addresses accepted. DeliveryError says whether to retry."""
    return smtp_send(settings, msg, [p.email for p in to], recipients_hint="check data/digest/recipients.yaml")
