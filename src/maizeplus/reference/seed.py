"""Load languages and countries from pycountry and babel into the database."""

from __future__ import annotations

from functools import cache

import pycountry
from babel import Locale, UnknownLocaleError
from sqlalchemy import Connection, insert, select, update

from maizeplus.reference.models import Country, Language


def _own_language_name(code: str, english_name: str) -> str:
    try:
        name = Locale(code).get_display_name(code)
    except (UnknownLocaleError, ValueError):
        name = None
    if not name:
        return english_name
    # CLDR writes many language names in lower case ("italiano"); the contract
    # shows them capitalised ("Italiano").
    return name[0].upper() + name[1:]


@cache
def iso_languages() -> dict[str, str]:
    """Map every ISO 639-1 code to the language's name in that language."""
    return {
        language.alpha_2: _own_language_name(language.alpha_2, language.name)
        for language in pycountry.languages
        if hasattr(language, "alpha_2")
    }


@cache
def iso_countries() -> dict[str, str]:
    """Map every ISO 3166-1 alpha-2 code to the country's common English name."""
    return {
        country.alpha_2: getattr(country, "common_name", country.name)
        for country in pycountry.countries
    }


def _sync_table(
    connection: Connection, model: type[Language] | type[Country], rows: dict[str, str]
) -> int:
    stored = dict(connection.execute(select(model.code, model.name)).all())
    new = [
        {"code": code, "name": name}
        for code, name in rows.items()
        if code not in stored
    ]
    if new:
        connection.execute(insert(model), new)
    for code, name in rows.items():
        if code in stored and stored[code] != name:
            connection.execute(
                update(model).where(model.code == code).values(name=name)
            )
    # A code that the library withdraws is kept, since users may still use it.
    return len(rows)


def sync_reference_data(connection: Connection) -> tuple[int, int]:
    """Insert or rename every language and country; return how many of each."""
    languages = _sync_table(connection, Language, iso_languages())
    countries = _sync_table(connection, Country, iso_countries())
    return languages, countries
