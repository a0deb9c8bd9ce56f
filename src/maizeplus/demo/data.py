"""Generated rows of the demo tenant: units, catalogue, users and their progress.

Everything comes from one seeded ``random.Random`` and seeded Faker instances,
so the same seed and user count give the same names, emails and uuids. The
progress times count back from the day of the run.
"""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker

SEED = 20221108
EMAIL_DOMAIN = "demo.example.com"


@dataclass(frozen=True)
class DemoLocale:
    """A Faker locale and the language and country of the users drawn from it."""

    faker_locale: str
    language_code: str
    country_code: str
    weight: int


# Mostly Italian, as the tenant is, with colleagues from around Europe.
LOCALES = (
    DemoLocale("it_IT", "it", "IT", 50),
    DemoLocale("de_DE", "de", "DE", 10),
    DemoLocale("de_CH", "de", "CH", 5),
    DemoLocale("fr_FR", "fr", "FR", 10),
    DemoLocale("es_ES", "es", "ES", 8),
    DemoLocale("pt_PT", "pt", "PT", 5),
    DemoLocale("en_GB", "en", "GB", 7),
    DemoLocale("pl_PL", "pl", "PL", 5),
)

BUSINESS_UNITS = (
    ("SALES", "Vendite"),
    ("OPS", "Operations"),
    ("TECH", "Tecnologia"),
    ("HR", "Risorse umane"),
)

# (code, name, parent code); every parent comes before its children.
ORGANIZATIONAL_UNITS = (
    ("HQ", "Sede centrale", None),
    ("MI", "Sede di Milano", "HQ"),
    ("RM", "Sede di Roma", "HQ"),
    ("MI-SALES", "Vendite Milano", "MI"),
    ("MI-TECH", "Sviluppo prodotto", "MI"),
    ("RM-OPS", "Logistica Roma", "RM"),
    ("RM-CARE", "Assistenza clienti", "RM"),
)

TOPICS = ("Leadership", "Competenze digitali", "Sicurezza e compliance", "Lingue")

# (topic index, name, level, duration in minutes)
COURSES = (
    (0, "Guidare un team ibrido", "intermediate", 90),
    (0, "Feedback efficace", "basic", 45),
    (0, "Gestire il cambiamento", "advanced", 120),
    (1, "Excel per l'analisi dei dati", "basic", 60),
    (1, "Introduzione a Python", "basic", 180),
    (1, "Intelligenza artificiale generativa", "intermediate", 75),
    (1, "Cybersecurity di base", "basic", 40),
    (2, "GDPR: protezione dei dati personali", "basic", 50),
    (2, "Salute e sicurezza sul lavoro", "basic", 240),
    (2, "Codice etico e anticorruzione", "basic", 30),
    (3, "Business English", "intermediate", 600),
    (3, "Français des affaires", "basic", 480),
)

CERTIFICATIONS = (
    "Let's think like a designer!",
    "Are you a Data Expert?",
    "Do you know what's happening to customers?",
    "Are you really innovative?",
    "How many realities do you know?",
)

PASSING_SCORE = 60


@dataclass
class DemoRows:
    """Rows of every demo table, as dicts without ``tenant_id`` and ``id`` keys.

    References between them are list positions: ``organizational_unit_index``
    and the like, which the service turns into the ids it allocates.
    """

    business_units: list[dict[str, Any]]
    organizational_units: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    courses: list[dict[str, Any]]
    certifications: list[dict[str, Any]]
    users: list[dict[str, Any]]
    course_progress: list[dict[str, Any]]
    certification_progress: list[dict[str, Any]]


def _ascii_part(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    folded = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "", folded) or "user"


def _unique_email(first_name: str, last_name: str, used_emails: set[str]) -> str:
    local = f"{_ascii_part(first_name)}.{_ascii_part(last_name)}"
    email = f"{local}@{EMAIL_DOMAIN}"
    number = 2
    while email in used_emails:
        email = f"{local}{number}@{EMAIL_DOMAIN}"
        number += 1
    used_emails.add(email)
    return email


def _catalogue_rows() -> tuple[list[dict[str, Any]], ...]:
    topics = [{"name": name} for name in TOPICS]
    courses = [
        {
            "topic_index": topic_index,
            "name": name,
            "description": f"{name}: concetti chiave, esempi ed esercizi guidati.",
            "short_description": f"Un percorso di {duration} minuti su {name.lower()}.",
            "duration": duration,
            "level": level,
        }
        for topic_index, name, level, duration in COURSES
    ]
    certifications = [{"name": name} for name in CERTIFICATIONS]
    return topics, courses, certifications


def _user_rows(rng: random.Random, count: int) -> list[dict[str, Any]]:
    fakers = {}
    for index, locale in enumerate(LOCALES):
        faker = Faker(locale.faker_locale)
        faker.seed_instance(SEED + index)
        fakers[locale.faker_locale] = faker
    leaf_units = [
        index
        for index, (code, _, _) in enumerate(ORGANIZATIONAL_UNITS)
        if not any(parent == code for _, _, parent in ORGANIZATIONAL_UNITS)
    ]
    used_emails: set[str] = set()
    users = []
    for number in range(1, count + 1):
        locale = rng.choices(LOCALES, weights=[item.weight for item in LOCALES])[0]
        faker = fakers[locale.faker_locale]
        first_name, last_name = faker.first_name(), faker.last_name()
        # A share of users lacks each relation, so that the export shows both
        # the tenant's language and null relations.
        users.append(
            {
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "email": _unique_email(first_name, last_name, used_emails),
                "cid": f"DEMO-{number:05}",
                "first_name": first_name,
                "last_name": last_name,
                "enabled": rng.random() < 0.93,
                "language_code": locale.language_code if rng.random() < 0.85 else None,
                "country_code": locale.country_code if rng.random() < 0.9 else None,
                "business_unit_index": (
                    rng.randrange(len(BUSINESS_UNITS)) if rng.random() < 0.9 else None
                ),
                "organizational_unit_index": (
                    rng.choice(leaf_units) if rng.random() < 0.9 else None
                ),
            }
        )
    return users


def _progress_rows(
    rng: random.Random, user_count: int, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    course_progress = []
    certification_progress = []
    for user_index in range(user_count):
        for course_index in rng.sample(range(len(COURSES)), rng.randint(0, 5)):
            started_at = now - timedelta(
                days=rng.randint(1, 365), seconds=rng.randint(0, 86_399)
            )
            completed = rng.random() < 0.6
            finished_at = started_at + timedelta(
                days=rng.randint(0, 30), minutes=rng.randint(20, 600)
            )
            course_progress.append(
                {
                    "user_index": user_index,
                    "course_index": course_index,
                    "started_at": started_at,
                    "finished_at": min(finished_at, now) if completed else None,
                    "progress": "completed" if completed else "started",
                }
            )
        for certification_index in rng.sample(
            range(len(CERTIFICATIONS)), rng.randint(0, 2)
        ):
            started_at = now - timedelta(
                days=rng.randint(1, 365), seconds=rng.randint(0, 86_399)
            )
            scores = [rng.randint(30, 100) for _ in range(rng.randint(1, 3))]
            passed = scores[-1] >= PASSING_SCORE
            certification_progress.append(
                {
                    "user_index": user_index,
                    "certification_index": certification_index,
                    "started_at": started_at,
                    "finished_at": min(started_at + timedelta(days=len(scores)), now)
                    if passed
                    else None,
                    "progress": "completed" if passed else "started",
                    "score": scores[-1],
                    "score_avg": (Decimal(sum(scores)) / len(scores)).quantize(
                        Decimal("0.01")
                    ),
                    "attempts": len(scores),
                }
            )
    return course_progress, certification_progress


def generate_demo_rows(user_count: int, now: datetime, seed: int = SEED) -> DemoRows:
    """Generate every row of the demo tenant for ``user_count`` users."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    topics, courses, certifications = _catalogue_rows()
    users = _user_rows(rng, user_count)
    # Progress times are whole seconds, as the service stores them.
    today = now.replace(microsecond=0)
    course_progress, certification_progress = _progress_rows(rng, user_count, today)
    return DemoRows(
        business_units=[{"code": code, "name": name} for code, name in BUSINESS_UNITS],
        organizational_units=[
            {"code": code, "name": name, "parent_code": parent}
            for code, name, parent in ORGANIZATIONAL_UNITS
        ],
        topics=topics,
        courses=courses,
        certifications=certifications,
        users=users,
        course_progress=course_progress,
        certification_progress=certification_progress,
    )
