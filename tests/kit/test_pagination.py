"""Unit tests of the paging rules and the body of Laravel's length-aware paginator."""

from __future__ import annotations

import asyncio

import pytest

from maizeplus.kit.errors import ValidationFailed
from maizeplus.kit.pagination import (
    DEFAULT_LIMIT,
    MAX_PAGE,
    NEXT_LABEL,
    PREVIOUS_LABEL,
    PageLinks,
    PageRequest,
    PageResult,
    paginator_body,
    parse_page_request,
    read_page,
)

PATH = "https://open.example.com/api/v1/users"
GAP = "..."


def laravel_window(current: int, last: int) -> list[str]:
    """Labels of Laravel's UrlWindow, 3 links each side, written from its rules."""
    if last < 14:
        pages: list[int | str] = list(range(1, last + 1))
    elif current <= 7:
        pages = [*range(1, 11), GAP, last - 1, last]
    elif current > last - 7:
        pages = [1, 2, GAP, *range(last - 9, last + 1)]
    else:
        pages = [1, 2, GAP, *range(current - 3, current + 4), GAP, last - 1, last]
    return [str(page) for page in pages]


def window_labels(current: int, total_pages: int) -> list[str]:
    body = paginator_body(
        [],
        total=total_pages * 10,
        page=PageRequest(page=current, limit=10),
        count=0,
        links=PageLinks(PATH, []),
    )
    labels = [link["label"] for link in body["meta"]["links"]]
    assert labels[0] == PREVIOUS_LABEL
    assert labels[-1] == NEXT_LABEL
    return labels[1:-1]


@pytest.mark.parametrize(
    ("total_pages", "current", "expected"),
    [
        (1, 1, ["1"]),
        (5, 1, ["1", "2", "3", "4", "5"]),
        (5, 5, ["1", "2", "3", "4", "5"]),
        (13, 7, [str(page) for page in range(1, 14)]),
        (14, 1, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", GAP, "13", "14"]),
        (14, 7, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", GAP, "13", "14"]),
        (14, 8, ["1", "2", GAP, "5", "6", "7", "8", "9", "10", "11", "12", "13", "14"]),
        (
            14,
            14,
            ["1", "2", GAP, "5", "6", "7", "8", "9", "10", "11", "12", "13", "14"],
        ),
        (50, 1, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", GAP, "49", "50"]),
        (50, 8, ["1", "2", GAP, "5", "6", "7", "8", "9", "10", "11", GAP, "49", "50"]),
        (
            50,
            25,
            ["1", "2", GAP, "22", "23", "24", "25", "26", "27", "28", GAP, "49", "50"],
        ),
        (
            50,
            43,
            ["1", "2", GAP, "40", "41", "42", "43", "44", "45", "46", GAP, "49", "50"],
        ),
        (50, 44, ["1", "2", GAP, *[str(page) for page in range(41, 51)]]),
        (50, 50, ["1", "2", GAP, *[str(page) for page in range(41, 51)]]),
    ],
)
def test_window_matches_laravel_examples(
    total_pages: int, current: int, expected: list[str]
) -> None:
    assert window_labels(current, total_pages) == expected


@pytest.mark.parametrize("total_pages", [1, 5, 13, 14, 15, 50])
def test_window_matches_laravel_rules_on_every_page(total_pages: int) -> None:
    for current in range(1, total_pages + 2):
        assert window_labels(current, total_pages) == laravel_window(
            current, total_pages
        ), f"page {current} of {total_pages}"


def test_window_marks_only_current_page_active() -> None:
    body = paginator_body(
        [],
        total=50,
        page=PageRequest(page=3, limit=10),
        count=0,
        links=PageLinks(PATH, []),
    )

    active = [link["label"] for link in body["meta"]["links"] if link["active"]]

    assert active == ["3"]


def test_window_gap_has_no_url() -> None:
    body = paginator_body(
        [],
        total=500,
        page=PageRequest(page=25, limit=10),
        count=0,
        links=PageLinks(PATH, []),
    )

    gaps = [link for link in body["meta"]["links"] if link["label"] == GAP]

    assert gaps == [{"url": None, "label": GAP, "active": False}] * 2


def test_body_of_middle_page() -> None:
    links = PageLinks(PATH, [("limit", "2"), ("page", "2")])

    body = paginator_body(
        ["c", "d"], total=5, page=PageRequest(2, 2), count=2, links=links
    )

    assert body["data"] == ["c", "d"]
    assert body["links"] == {
        "first": f"{PATH}?limit=2&page=1",
        "last": f"{PATH}?limit=2&page=3",
        "prev": f"{PATH}?limit=2&page=1",
        "next": f"{PATH}?limit=2&page=3",
    }
    meta = body["meta"]
    assert list(meta) == [
        "current_page",
        "from",
        "last_page",
        "links",
        "path",
        "per_page",
        "to",
        "total",
    ]
    assert (meta["current_page"], meta["from"], meta["to"]) == (2, 3, 4)
    assert (meta["last_page"], meta["per_page"], meta["total"]) == (3, 2, 5)
    assert meta["path"] == PATH


def test_body_past_last_page_is_empty() -> None:
    body = paginator_body(
        [], total=5, page=PageRequest(4, 2), count=0, links=PageLinks(PATH, [])
    )

    assert body["meta"]["from"] is None
    assert body["meta"]["to"] is None
    assert body["meta"]["last_page"] == 3
    assert body["links"]["next"] is None
    assert body["links"]["prev"] == f"{PATH}?page=3"


def test_body_of_empty_list_has_one_page() -> None:
    body = paginator_body(
        [], total=0, page=PageRequest(1, 48), count=0, links=PageLinks(PATH, [])
    )

    assert body["meta"]["last_page"] == 1
    assert body["links"]["last"] == f"{PATH}?page=1"
    assert body["links"]["prev"] is None
    assert body["links"]["next"] is None


def test_links_keep_other_parameters_and_encode_them() -> None:
    links = PageLinks(
        PATH, [("page", "9"), ("limit", "5"), ("include", "language,country")]
    )

    assert links.url(2) == f"{PATH}?limit=5&include=language%2Ccountry&page=2"


@pytest.mark.parametrize(
    ("page", "limit", "expected"),
    [
        (None, None, PageRequest(1, DEFAULT_LIMIT)),
        ("3", None, PageRequest(3, DEFAULT_LIMIT)),
        (None, "100", PageRequest(1, 100)),
        (" 2 ", "+5", PageRequest(2, 5)),
        ("0007", "1", PageRequest(7, 1)),
        (str(MAX_PAGE), "100", PageRequest(MAX_PAGE, 100)),
    ],
)
def test_parse_accepts_integers_in_range(
    page: str | None, limit: str | None, expected: PageRequest
) -> None:
    assert parse_page_request(page, limit) == expected


@pytest.mark.parametrize(
    ("page", "limit", "field", "message"),
    [
        ("0", None, "page", "The page field must be at least 1."),
        ("-1", None, "page", "The page field must be at least 1."),
        ("abc", None, "page", "The page field must be an integer."),
        ("1.5", None, "page", "The page field must be an integer."),
        ("", None, "page", "The page field must be an integer."),
        ("\u0661", None, "page", "The page field must be an integer."),
        (
            str(MAX_PAGE + 1),
            None,
            "page",
            f"The page field must not be greater than {MAX_PAGE}.",
        ),
        (
            "9" * 5000,
            None,
            "page",
            f"The page field must not be greater than {MAX_PAGE}.",
        ),
        ("-" + "9" * 5000, None, "page", "The page field must be at least 1."),
        (None, "101", "limit", "The limit field must not be greater than 100."),
        (None, "0", "limit", "The limit field must be at least 1."),
        (None, "-5", "limit", "The limit field must be at least 1."),
        (None, "abc", "limit", "The limit field must be an integer."),
    ],
)
def test_parse_rejects_invalid_value(
    page: str | None, limit: str | None, field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_page_request(page, limit)

    assert raised.value.errors == {field: [message]}


def test_parse_reports_both_parameters() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_page_request("x", "0")

    assert set(raised.value.errors) == {"page", "limit"}


def test_read_page_past_end_skips_read() -> None:
    reads: list[tuple[int, int]] = []

    async def count() -> int:
        return 5

    async def read(offset: int, limit: int) -> list[int]:
        reads.append((offset, limit))
        return [offset]

    past_end = asyncio.run(read_page(PageRequest(MAX_PAGE, 100), count, read))
    inside = asyncio.run(read_page(PageRequest(2, 2), count, read))

    assert past_end == PageResult(items=[], total=5)
    assert inside == PageResult(items=[2], total=5)
    assert reads == [(2, 2)]
