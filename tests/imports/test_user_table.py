"""The UUIDs that new users get: version 7, unique, in creation order."""

from __future__ import annotations

import uuid

from maizeplus.imports.user_table import new_uuids


def test_new_uuids_are_version_7() -> None:
    uuids = [uuid.UUID(text) for text in new_uuids(5_000)]

    assert {value.version for value in uuids} == {7}
    assert {value.variant for value in uuids} == {uuid.RFC_4122}
    assert len(set(uuids)) == 5_000


def test_new_uuids_sort_in_creation_order() -> None:
    first, second = new_uuids(3), new_uuids(3)

    assert first == sorted(first)
    assert max(first) < min(second) or first[0][:13] == second[0][:13]


def test_new_uuids_of_none() -> None:
    assert new_uuids(0) == []
