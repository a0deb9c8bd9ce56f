"""Every message that an import reports, in the wording of Laravel's validator.

The original service is a Laravel application, so row errors read like
Laravel's (``The email field is required.``): the column name with
underscores as spaces is the attribute. The row rules produce the row
messages. The pipeline adds the messages that depend on the whole file or on
the database (duplicates, removed users, taken cids, unit plans), and the
header and file messages fail the job.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_TEXT_LENGTH = 255

INVALID_EMAIL = "The email field must be a valid email address."
INVALID_EMAIL_DOMAIN = "The selected email does not have a valid domain."
INVALID_ENABLED = "The enabled field must be true or false."

USER_REMOVED = (
    "The user with this email was removed and can only be restored by an operator."
)
CID_TAKEN = "The cid has already been taken by another user."

NO_DATA_ROWS = "The file has no data rows below the header row."


def attribute(column: str) -> str:
    """Return the column as messages name it: ``first_name`` as ``first name``."""
    return column.replace("_", " ")


# Row rules.


def required(column: str) -> str:
    return f"The {attribute(column)} field is required."


def too_long(column: str, maximum: int = MAX_TEXT_LENGTH) -> str:
    return (
        f"The {attribute(column)} field must not be greater than {maximum} characters."
    )


def invalid_selection(column: str) -> str:
    """Return the message for a value outside a list, such as an unknown language."""
    return f"The selected {attribute(column)} is invalid."


def date_cell(column: str) -> str:
    """Return the message for a spreadsheet cell that contains a date, not text."""
    return (
        f"The {attribute(column)} field contains a date, not text. Format the "
        f"{column} column as Text in the spreadsheet and enter the value again."
    )


# Rules that the pipeline checks across the file or against the database.


def email_used_on_row(first_row: int) -> str:
    """Return the message for a row repeating the email of an earlier row."""
    return f"The email has already been used on row {first_row} of this file."


def cid_used_on_row(first_row: int) -> str:
    """Return the message for a later row giving an earlier cid to another user."""
    return f"The cid has already been used on row {first_row} of this file."


# Organizational units, from the unit planner.


def unknown_parent_unit(parent_code: str) -> str:
    return (
        f'The parent organizational unit code "{parent_code}" is neither an existing '
        "unit nor a unit defined in this file."
    )


def rejected_parent_unit(parent_code: str, parent_row: int) -> str:
    """Return the message for a unit whose parent cannot be created or changed."""
    return (
        f'The parent organizational unit "{parent_code}" cannot be used because '
        f"its definition on row {parent_row} of this file has errors."
    )


def unit_cycle(cycle: Sequence[str]) -> str:
    """Return the message for a unit on a cycle, listed from the unit up its parents."""
    path = " → ".join([*cycle, cycle[0]])
    return (
        "The parent organizational unit code makes the unit "
        f'"{cycle[0]}" its own ancestor ({path}).'
    )


def unit_name_conflict(code: str, first_row: int) -> str:
    return (
        f"The organizational unit name differs from the name that row {first_row} "
        f'of this file gives the unit "{code}".'
    )


def unit_parent_conflict(code: str, first_row: int) -> str:
    return (
        "The parent organizational unit code differs from the parent that row "
        f'{first_row} of this file gives the unit "{code}".'
    )


# Header rules: each of these fails the job.


def missing_column(column: str) -> str:
    return f"The {column} column is missing from the header row."


def repeated_column(column: str, positions: Sequence[int]) -> str:
    """Return the message for a column named more than once, at 1-based positions."""
    listed = ", ".join(str(position) for position in positions[:-1])
    return (
        f"The {column} column appears more than once in the header row "
        f"(columns {listed} and {positions[-1]})."
    )


def invalid_header(missing: Sequence[str], repeated: Sequence[str]) -> str:
    """Return the job's message for a header with missing or repeated columns."""
    sentences = []
    if missing:
        sentences.append(
            f"The header row is missing the required {_columns(missing)}: "
            f"{', '.join(missing)}."
        )
    if repeated:
        sentences.append(
            f"The header row repeats the {_columns(repeated)}: {', '.join(repeated)}."
        )
    sentences.append("The first row of the file must name the columns.")
    return " ".join(sentences)


def _columns(names: Sequence[str]) -> str:
    return "column" if len(names) == 1 else "columns"
