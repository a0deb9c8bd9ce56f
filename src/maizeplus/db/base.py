"""The declarative base and the column types that every model shares."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Constraint names are fixed so that Alembic sees the same names on SQLite and
# PostgreSQL and a later migration can drop a constraint by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite makes only an INTEGER PRIMARY KEY column an alias of the rowid, so a
# BIGINT surrogate key would never be filled in there.
BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Base class of every table of the service."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """Return a model's Core table, for bulk statements that skip the ORM."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
