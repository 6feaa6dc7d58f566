"""The digest's charts, as PNG bytes (matplotlib's Agg canvas: no display, no pyplot state).

Mail clients show images attached inline (``cid:``) and block remote ones, so each chart is a
small PNG, 640 px wide like the e-mail, with French labels. The numbers behind each chart are
also printed in a table of the e-mail: a reader whose client hides images loses nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from digest.labels import STANCE_COLORS, STANCE_FR, STANCE_ORDER, myth_fr
from digest.queries import WeekFigures

_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
WIDTH_IN, DPI = 6.4, 100


@dataclass(frozen=True)
class Chart:
    cid: str          # Content-ID without the angle brackets
    filename: str
    alt: str
    png: bytes


def _figure(height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8, colors="#444")
    ax.grid(axis="y" if ax.name == "rectilinear" else "both", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)


def daily_chart(current: WeekFigures, previous: WeekFigures, domain: str = "sada.digest") -> Chart:
    """Mentions per local day, stacked by stance, with last week's daily totals as a dashed line."""
    days = list(current.daily)
    fig = _figure(2.6)
    ax = fig.add_subplot(111)
    bottom = [0] * len(days)
    for stance in STANCE_ORDER:
        values = [current.daily_stances.get(d, {}).get(stance, 0) for d in days]
        if not any(values):
            continue
        ax.bar(range(len(days)), values, bottom=bottom, color=STANCE_COLORS[stance], width=0.65,
               label=STANCE_FR[stance])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for i, total in enumerate(bottom):
        ax.annotate(str(total), (i, total), ha="center", va="bottom", fontsize=8, color="#222",
                    xytext=(0, 2), textcoords="offset points")
    before = list(previous.daily.values())
    if any(before):
        ax.plot(range(len(before)), before, color="#555", linestyle="--", marker="o", markersize=3, linewidth=1,
                label="semaine précédente")
    ax.set_xticks(range(len(days)), [f"{_DAYS[d.weekday()]} {d.day}" for d in days])
    ax.set_ylabel("mentions", fontsize=8, color="#444")
    ax.set_ylim(0, max([*bottom, *before, 1]) * 1.18)
    _style(ax)
    ax.legend(fontsize=7, frameon=False, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    alt = "Mentions par jour, par position : " + ", ".join(
        f"{_DAYS[d.weekday()]} {d.day} {current.daily[d]}" for d in days)
    return Chart(f"daily.{current.week.label}@{domain}", "mentions-par-jour.png", alt, _png(fig))


def myths_chart(current: WeekFigures, previous: WeekFigures, domain: str = "sada.digest") -> Chart | None:
    """Each myth this week against last week (horizontal bars); None when no myth was seen."""
    myths = sorted(set(current.myths) | set(previous.myths),
                   key=lambda m: (current.myths.get(m, 0), previous.myths.get(m, 0), m))
    if not myths:
        return None
    fig = _figure(0.45 + 0.36 * len(myths))
    ax = fig.add_subplot(111)
    ys = range(len(myths))
    now = [current.myths.get(m, 0) for m in myths]
    then = [previous.myths.get(m, 0) for m in myths]
    ax.barh([y + 0.2 for y in ys], then, height=0.38, color="#b0bec5", label="semaine précédente")
    ax.barh([y - 0.2 for y in ys], now, height=0.38, color="#ef6c00", label="cette semaine")
    for y, v in zip(ys, now, strict=True):
        ax.annotate(str(v), (v, y - 0.2), va="center", fontsize=7, xytext=(3, 0), textcoords="offset points")
    ax.set_yticks(list(ys), [myth_fr(m) for m in myths])
    ax.set_xlim(0, max([*now, *then, 1]) * 1.15)
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    alt = "Mythes, cette semaine (semaine précédente) : " + ", ".join(
        f"{myth_fr(m)} {current.myths.get(m, 0)} ({previous.myths.get(m, 0)})" for m in reversed(myths))
    return Chart(f"myths.{current.week.label}@{domain}", "mythes.png", alt, _png(fig))
