"""Languages (ISO 639-1) and countries (ISO 3166-1 alpha-2)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from maizeplus.db.base import Base


class Language(Base):
    """An ISO 639-1 language with its name in that language, e.g. ``it`` Italiano."""

    __tablename__ = "languages"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Country(Base):
    """An ISO 3166-1 alpha-2 country with its English name, e.g. ``IT`` Italy."""

    __tablename__ = "countries"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
