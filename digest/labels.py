"""French names of the TAXONOMY.md ids, as the campaign team reads them in the digest."""

from __future__ import annotations

from alerts.render import PLATFORM_FR

TOPIC_FR = {
    "community_service": "Travail d'intérêt général",
    "electronic_monitoring": "Bracelet électronique",
    "day_fine": "Amende journalière",
    "rights_restriction": "Restriction de droits",
    "prison_overcrowding": "Surpopulation carcérale",
    "recidivism_reintegration": "Récidive et réinsertion",
    "victims": "Victimes",
    "implementation": "Mise en œuvre",
    "eligibility": "Éligibilité",
}
# Short names for charts and tables; the myth book (data/myths.yaml) has the quoted titles.
MYTH_FR = {
    "impunity": "Impunité",
    "rich_buy_freedom": "Les riches achètent leur liberté",
    "crime_will_rise": "Hausse de la délinquance",
    "dangerous_criminals_freed": "Grands criminels libérés",
    "mass_release": "Libération massive",
    "foreign_agenda": "Agenda étranger",
    "bracelet_fears": "Craintes sur le bracelet",
    "victims_forgotten": "Victimes oubliées",
}
STANCE_FR = {"support": "Favorable", "oppose": "Opposé", "neutral": "Neutre", "question": "Question",
             "unlabelled": "Non étiqueté"}
STANCE_COLORS = {"support": "#2e7d32", "oppose": "#c62828", "neutral": "#78909c", "question": "#1565c0",
                 "unlabelled": "#bdbdbd"}
STANCE_ORDER = ("support", "oppose", "neutral", "question", "unlabelled")
LANG_FR = {"fr": "Français", "ar": "Arabe standard", "ary": "Darija", "en": "Anglais", "es": "Espagnol",
           "und": "Indéterminée", "unlabelled": "Non étiquetée"}
TOXICITY_FR = {"insult": "insulte", "hate": "haine", "threat": "menace", "defamation": "diffamation"}
STATUS_FR = {"new": "nouvelle", "acknowledged": "prise en compte", "resolved": "résolue"}
SEVERITY_FR = {"info": "info", "warning": "alerte", "critical": "critique"}
# Where a counter-argument lands best, per platform (recommendations).
FORMAT_FR = {
    "youtube": "une courte vidéo de contre-argument sur YouTube (et en commentaire épinglé)",
    "facebook": "un post et des réponses en commentaire sur Facebook",
    "instagram": "un carrousel ou une story sur Instagram",
    "x": "un fil sur X en réponse aux publications les plus partagées",
    "telegram": "un message clair et sourcé dans les canaux Telegram concernés",
    "news": "une note ou un droit de réponse aux rédactions",
    "reddit": "une réponse sourcée dans les fils Reddit",
    "mastodon": "une publication sourcée sur Mastodon",
    "replay": "une publication",
}


def platform_fr(value: str | None) -> str:
    return PLATFORM_FR.get(value or "", value or "—")


def topic_fr(value: str) -> str:
    return TOPIC_FR.get(value, value)


def myth_fr(value: str) -> str:
    return MYTH_FR.get(value, value)


def lang_fr(value: str) -> str:
    return LANG_FR.get(value, value)


def stance_fr(value: str) -> str:
    return STANCE_FR.get(value, value)
