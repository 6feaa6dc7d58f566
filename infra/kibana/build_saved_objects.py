"""Write ``saved_objects.ndjson``: Sada's data views, saved searches, Lens charts and dashboard.

The NDJSON is what ``sada kibana import`` uploads; this script is its source, so the Lens
state (JSON inside JSON) is never edited by hand. Run it after a change and commit both:

    .venv/bin/python infra/kibana/build_saved_objects.py

A unit test fails while the NDJSON and this script disagree, and ``sada kibana validate``
checks every field used against the Elasticsearch templates. Objects follow Kibana 8.19's
saved-object format (``typeMigrationVersion`` per type, as Kibana 8.19 exports them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("saved_objects.ndjson")
CORE_VERSION = "8.8.0"
TYPE_VERSION = {"index-pattern": "8.0.0", "search": "10.5.0", "lens": "8.9.0", "dashboard": "10.3.0"}
PANEL_VERSION = "8.19.0"

MENTIONS, ALERTS, CLUSTERS = "sada-mentions", "sada-alerts", "sada-clusters"
RELEVANT = "not relevant:false"  # relevant or not yet labelled; keyword noise stays out

# TAXONOMY.md myth ids → the French label analysts see (the ids are the contract).
MYTH_LABELS = {
    "impunity": "Impunité",
    "rich_buy_freedom": "Les riches achètent leur liberté",
    "crime_will_rise": "La délinquance va augmenter",
    "dangerous_criminals_freed": "Les grands criminels libérés",
    "mass_release": "Prisons vidées, amnistie déguisée",
    "foreign_agenda": "Réforme imposée de l'étranger",
    "bracelet_fears": "Craintes sur le bracelet",
    "victims_forgotten": "Victimes oubliées",
}


def _obj(kind: str, ident: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {"id": ident, "type": kind, "attributes": attributes, "references": references, "managed": False,
            "coreMigrationVersion": CORE_VERSION, "typeMigrationVersion": TYPE_VERSION[kind]}


def data_view(ident: str, title: str, name: str, time_field: str, labels: dict[str, str],
              formats: dict[str, Any] | None = None) -> dict[str, Any]:
    return _obj("index-pattern", ident, {
        "title": title,
        "name": name,
        "timeFieldName": time_field,
        "allowNoIndex": True,
        "fields": "[]",
        "runtimeFieldMap": "{}",
        "sourceFilters": "[]",
        "typeMeta": "{}",
        "fieldFormatMap": json.dumps(formats or {}, ensure_ascii=False),
        "fieldAttrs": json.dumps({f: {"customLabel": label} for f, label in labels.items()}, ensure_ascii=False),
    }, [])


def saved_search(ident: str, title: str, description: str, kql: str, columns: list[str],
                 time_range: dict[str, str] | None = None) -> dict[str, Any]:
    source = {"query": {"query": kql, "language": "kuery"}, "filter": [],
              "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"}
    attrs: dict[str, Any] = {
        "title": title,
        "description": description,
        "columns": columns,
        "sort": [["published_at", "desc"]],
        "grid": {},
        "hideChart": False,
        "isTextBasedQuery": False,
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source, ensure_ascii=False)},
    }
    if time_range:
        attrs.update(timeRestore=True, timeRange=time_range, refreshInterval={"pause": True, "value": 60000})
    return _obj("search", ident, attrs, [{"id": MENTIONS, "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
                                          "type": "index-pattern"}])


# -- Lens columns ------------------------------------------------------------------------------

def count(label: str = "Mentions") -> dict[str, Any]:
    return {"label": label, "customLabel": True, "dataType": "number", "operationType": "count",
            "isBucketed": False, "scale": "ratio", "sourceField": "___records___", "params": {"emptyAsNull": True}}


def metric(op: str, field: str, label: str) -> dict[str, Any]:
    return {"label": label, "customLabel": True, "dataType": "number", "operationType": op, "isBucketed": False,
            "scale": "ratio", "sourceField": field, "params": {"emptyAsNull": True}}


def histogram(field: str, label: str) -> dict[str, Any]:
    return {"label": label, "customLabel": True, "dataType": "date", "operationType": "date_histogram",
            "sourceField": field, "isBucketed": True, "scale": "interval",
            "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False}}


def terms(field: str, label: str, order_by: str, size: int = 10, other: bool = True) -> dict[str, Any]:
    return {"label": label, "customLabel": True, "dataType": "string", "operationType": "terms", "scale": "ordinal",
            "sourceField": field, "isBucketed": True,
            "params": {"size": size, "orderBy": {"type": "column", "columnId": order_by}, "orderDirection": "desc",
                       "otherBucket": other, "missingBucket": False, "parentFormat": {"id": "terms"},
                       "include": [], "exclude": [], "includeIsRegex": False, "excludeIsRegex": False}}


def lens(ident: str, title: str, description: str, data_view_id: str, columns: dict[str, dict[str, Any]],
         visualization_type: str, visualization: dict[str, Any], kql: str = "") -> dict[str, Any]:
    layer = "layer1"
    state = {
        "datasourceStates": {"formBased": {"layers": {layer: {
            "columns": columns, "columnOrder": list(columns), "incompleteColumns": {}, "sampling": 1}}}},
        "visualization": {**visualization, **({"layerId": layer, "layerType": "data"}
                                              if "layers" not in visualization else {})},
        "query": {"query": kql, "language": "kuery"},
        "filters": [],
        "internalReferences": [],
        "adHocDataViews": {},
    }
    return _obj("lens", ident, {"title": title, "description": description, "visualizationType": visualization_type,
                                "state": state},
                [{"id": data_view_id, "name": f"indexpattern-datasource-layer-{layer}", "type": "index-pattern"}])


def xy(series: str, x: str, y: list[str], split: str | None = None, legend: str = "right") -> dict[str, Any]:
    layer = {"layerId": "layer1", "layerType": "data", "seriesType": series, "xAccessor": x, "accessors": y,
             "palette": {"type": "palette", "name": "default"}}
    if split:
        layer["splitAccessor"] = split
    return {"legend": {"isVisible": True, "position": legend}, "valueLabels": "hide", "fittingFunction": "None",
            "preferredSeriesType": series, "layers": [layer],
            "axisTitlesVisibilitySettings": {"x": False, "yLeft": True, "yRight": True},
            "tickLabelsVisibilitySettings": {"x": True, "yLeft": True, "yRight": True},
            "gridlinesVisibilitySettings": {"x": True, "yLeft": True, "yRight": True},
            "labelsOrientation": {"x": 0, "yLeft": 0, "yRight": 0}}


def table(column_ids: list[str]) -> dict[str, Any]:
    return {"columns": [{"columnId": c, "isTransposed": False} for c in column_ids],
            "paging": {"size": 10, "enabled": True}}


def volume_by(ident: str, field: str, label: str) -> dict[str, Any]:
    cols = {"split": terms(field, label, "count"), "date": histogram("published_at", "Publication"),
            "count": count()}
    return lens(ident, f"Volume par {label.lower()}", f"Mentions pertinentes par {label.lower()} dans le temps "
                f"(heure de Casablanca). Requête : {RELEVANT}.", MENTIONS, cols, "lnsXY",
                xy("bar_stacked", "date", ["count"], "split"), RELEVANT)


def build() -> list[dict[str, Any]]:
    objects = [
        data_view(MENTIONS, "mentions", "Sada — mentions", "published_at", {
            "published_at": "Publié le", "platform": "Plateforme", "source": "Source", "author.handle": "Auteur",
            "author.name": "Nom de l'auteur", "author.followers": "Abonnés", "text": "Texte", "title": "Titre",
            "lang": "Langue", "script": "Écriture", "relevant": "Pertinent", "topics": "Thèmes", "myths": "Mythes",
            "stance": "Position", "toxicity": "Toxicité", "cluster_id": "Rumeur (cluster)", "reach": "Portée",
            "engagement": "Engagement", "url": "Lien", "entities.id": "Institutions",
        }, {"url": {"id": "url", "params": {"type": "a", "labelTemplate": "ouvrir le post"}}}),
        data_view(ALERTS, "alerts", "Sada — alertes", "fired_at", {
            "fired_at": "Déclenchée le", "rule": "Règle", "severity": "Gravité", "key": "Clé", "status": "Statut",
            "count": "Nombre", "baseline": "Référence", "summary": "Résumé",
        }),
        data_view(CLUSTERS, "clusters", "Sada — rumeurs (clusters)", "last_seen", {
            "cluster_id": "Rumeur (cluster)", "size": "Taille", "first_seen": "Vue la première fois",
            "last_seen": "Vue la dernière fois", "growth_per_hour": "Croissance / heure",
            "representative": "Texte représentatif", "myths": "Mythes", "languages": "Langues",
            "platforms": "Plateformes",
        }),
        saved_search("sada-search-a-moderer", "À modérer",
                     "Mentions toxiques (insulte, haine, menace, diffamation) à traiter par le Community Manager.",
                     f"{RELEVANT} and toxicity:* and not toxicity:none",
                     ["platform", "author.handle", "toxicity", "text", "url"]),
        saved_search("sada-search-rumeurs-actives", "Rumeurs actives",
                     "Mentions des 7 derniers jours qui portent un mythe sans le corriger (position autre que "
                     "soutien), groupées par rumeur (cluster).",
                     f"{RELEVANT} and myths:* and not stance:support",
                     ["platform", "cluster_id", "myths", "stance", "lang", "text", "reach", "url"],
                     {"from": "now-7d", "to": "now"}),
        saved_search("sada-search-questions", "Questions du public",
                     "Personnes qui demandent comment fonctionnent les peines alternatives : à qui répondre.",
                     f"{RELEVANT} and stance:question",
                     ["platform", "author.handle", "lang", "topics", "text", "url"]),
    ]
    for myth, label in MYTH_LABELS.items():
        objects.append(saved_search(
            f"sada-search-myth-{myth.replace('_', '-')}", f"Mythe — {label}",
            f"Mentions qui portent ou corrigent le mythe « {myth} » (TAXONOMY.md) ; la colonne Position dit de "
            "quel côté elles sont.",
            f"{RELEVANT} and myths:{myth}", ["platform", "stance", "lang", "cluster_id", "text", "reach", "url"]))

    lenses = [
        volume_by("sada-lens-volume-platform", "platform", "Plateforme"),
        volume_by("sada-lens-volume-lang", "lang", "Langue"),
        volume_by("sada-lens-volume-stance", "stance", "Position"),
        lens("sada-lens-topics", "Thèmes", "Mentions pertinentes par thème (une mention peut en avoir plusieurs).",
             MENTIONS, {"topic": terms("topics", "Thème", "count", size=12, other=False), "count": count()},
             "lnsXY", xy("bar_horizontal", "topic", ["count"]), RELEVANT),
        lens("sada-lens-myths", "Mythes", "Mentions par mythe, empilées par position (qui propage, qui corrige).",
             MENTIONS, {"myth": terms("myths", "Mythe", "count", size=10, other=False),
                        "stance": terms("stance", "Position", "count", size=4, other=False), "count": count()},
             "lnsXY", xy("bar_horizontal_stacked", "myth", ["count"], "stance"), RELEVANT),
        lens("sada-lens-top-clusters", "Rumeurs les plus reprises",
             "Clusters de rumeur par nombre de mentions, avec auteurs distincts et portée cumulée.",
             MENTIONS, {"cluster": terms("cluster_id", "Rumeur (cluster)", "count", size=10, other=False),
                        "count": count(), "authors": metric("unique_count", "author.handle", "Auteurs distincts"),
                        "reach": metric("sum", "reach", "Portée cumulée")},
             "lnsDatatable", table(["cluster", "count", "authors", "reach"]), f"{RELEVANT} and myths:*"),
        lens("sada-lens-top-authors", "Auteurs les plus suivis",
             "Auteurs par portée (abonnés), avec leur nombre de mentions et leur engagement.",
             MENTIONS, {"author": terms("author.handle", "Auteur", "reach", size=15, other=False),
                        "reach": metric("max", "reach", "Portée (abonnés)"), "count": count(),
                        "engagement": metric("sum", "engagement", "Engagement")},
             "lnsDatatable", table(["author", "reach", "count", "engagement"]), RELEVANT),
        lens("sada-lens-alerts", "Alertes dans le temps", "Alertes déclenchées, par gravité.",
             ALERTS, {"severity": terms("severity", "Gravité", "count", size=5, other=False),
                      "date": histogram("fired_at", "Déclenchement"), "count": count("Alertes")},
             "lnsXY", xy("bar_stacked", "date", ["count"], "severity")),
    ]
    objects.extend(lenses)

    layout = [(0, 0, 24, 13), (24, 0, 24, 13), (0, 13, 24, 13), (24, 13, 24, 13),
              (0, 26, 24, 14), (24, 26, 24, 14), (0, 40, 24, 15), (24, 40, 24, 15)]
    order = ["sada-lens-volume-platform", "sada-lens-volume-lang", "sada-lens-volume-stance", "sada-lens-alerts",
             "sada-lens-topics", "sada-lens-myths", "sada-lens-top-clusters", "sada-lens-top-authors"]
    panels, refs = [], []
    for n, (ident, (x, y, w, h)) in enumerate(zip(order, layout, strict=True), start=1):
        index = f"p{n}"
        panels.append({"type": "lens", "version": PANEL_VERSION, "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                       "panelIndex": index, "embeddableConfig": {"enhancements": {}}, "panelRefName": f"panel_{index}"})
        refs.append({"id": ident, "name": f"{index}:panel_{index}", "type": "lens"})
    objects.append(_obj("dashboard", "sada-dashboard-veille", {
        "title": "Veille — peines alternatives",
        "description": "Veille de la réforme des peines alternatives (loi 43.22) : volume, langues, positions, "
                       "thèmes, mythes, rumeurs, auteurs, alertes. Heures de Casablanca (dateFormat:tz).",
        "panelsJSON": json.dumps(panels, ensure_ascii=False),
        "optionsJSON": json.dumps({"useMargins": True, "syncColors": True, "syncCursor": True, "syncTooltips": False,
                                   "hidePanelTitles": False}),
        "timeRestore": True,
        "timeFrom": "now-7d",
        "timeTo": "now",
        "refreshInterval": {"pause": False, "value": 300000},
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"},
                                                                  "filter": []})},
    }, refs))
    return objects


def render(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n" for o in objects)


def main() -> int:
    OUT.write_text(render(build()), encoding="utf-8")
    print(f"wrote {OUT} ({len(build())} objects)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
