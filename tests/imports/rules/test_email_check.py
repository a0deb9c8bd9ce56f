"""Email checks: the fast path against email-validator, domains, the DNS option."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.resolver
import email_validator
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from maizeplus.imports import email_check
from maizeplus.imports.email_check import DnsMailDomainLookup, EmailChecker

INVALID = "The email field must be a valid email address."
BAD_DOMAIN = "The selected email does not have a valid domain."

CHECKER = EmailChecker()

ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
HOST_CHARACTERS = "abcXYZ019-"
SUFFIXES = [
    "com",
    "org",
    "net",
    "it",
    "co.uk",
    "COM",
    "com.",
    "invalid",
    "local",
    "localhost",
    "onion",
    "test",
    "arpa",
    "in-addr.arpa",
    "example",
    "notatld",
    "xn--fiqs8s",
    "xn--zz",
    "123",
    "c0m",
    "blogspot.com",
]
ODD_CHARACTERS = list(' \t\u00a0\u200b"@<>(),;.éß\x00ｉ\\[]')


def label(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(HOST_CHARACTERS), min_size=1, max_size=max_size)


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """Addresses near the border of the fast path: mostly plausible, some broken."""
    local_atoms = draw(
        st.lists(
            st.text(st.sampled_from(ATEXT), min_size=1, max_size=12),
            min_size=1,
            max_size=3,
        )
    )
    local = ".".join(local_atoms)
    labels = draw(
        st.lists(label(draw(st.sampled_from([8, 70]))), min_size=0, max_size=3)
    )
    domain = ".".join([*labels, draw(st.sampled_from(SUFFIXES))])
    address = f"{local}@{domain}"
    if draw(st.booleans()):
        position = draw(st.integers(0, len(address)))
        odd = draw(st.sampled_from(ODD_CHARACTERS))
        address = address[:position] + odd + address[position:]
    if draw(st.integers(0, 9)) == 0:
        address = draw(st.sampled_from(["a" * 240 + ".", "x" * 200 + "@"])) + address
    return address


@given(addresses())
@settings(max_examples=1500, deadline=None)
@example("anna.verdi@example.com")
@example("a@b.c")
@example("a@aa--bb.com")
@example("a@" + "b" * 64 + ".com")
@example("a@" + "b" * 63 + ".com")
@example("a" * 241 + "@example.com")
@example("a" * 242 + "@example.com")
@example("info@EXAMPLE.COM")
@example("a@-example.com")
@example("a@example-.com")
@example("a@1.2.3.4")
def test_fast_path_agrees_near_common(address: str) -> None:
    assert CHECKER.check(address) == CHECKER.check_with_email_validator(address)


@given(st.text(min_size=1, max_size=80))
@settings(max_examples=800, deadline=None)
def test_fast_path_agrees_on_any_text(address: str) -> None:
    assert CHECKER.check(address) == CHECKER.check_with_email_validator(address)


@given(
    st.text(st.characters(codec="ascii"), min_size=1, max_size=40),
    st.sampled_from(["example.com", "example.invalid", "com", "[192.0.2.1]", ""]),
)
@settings(max_examples=800, deadline=None)
def test_fast_path_agrees_on_ascii(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert CHECKER.check(address) == CHECKER.check_with_email_validator(address)


@pytest.mark.parametrize(
    "address",
    [
        "anna.verdi@example.com",
        "Nicolo.Ferri@EXAMPLE.com",
        "o'brien+hr@mail.example.co.uk",
        "x@foo.notatld",
        "x@foo.invalid",
    ],
)
def test_common_address_skips_validator(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("email-validator was called")

    checker = EmailChecker()
    monkeypatch.setattr(email_validator, "validate_email", fail)

    stored, _ = checker.check(address)

    assert stored == address.lower()


@pytest.mark.parametrize(
    "address",
    ["not-an-email", "marco russo@example.com", "\tanna@example.com", "a@b.com\n"],
)
def test_obvious_invalid_skips_validator(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("email-validator was called")

    monkeypatch.setattr(email_validator, "validate_email", fail)

    assert CHECKER.check(address) == (address.lower(), INVALID)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("anna.verdi@example.com", ("anna.verdi@example.com", None)),
        ("Anna.Verdi@Example.ORG", ("anna.verdi@example.org", None)),
        ("paolo@example.net", ("paolo@example.net", None)),
        ("paolo@mail.example.co.uk", ("paolo@mail.example.co.uk", None)),
        ("blog@foo.blogspot.com", ("blog@foo.blogspot.com", None)),
        ("blog@blogspot.com", ("blog@blogspot.com", None)),
        ("zoë@exämple.com", ("zoë@exämple.com", None)),
        ("ZOË@xn--exmple-cua.com", ("zoë@exämple.com", None)),
        ("x@example.xn--fiqs8s", ("x@example.中国", None)),
        ("x@foo.invalid", ("x@foo.invalid", BAD_DOMAIN)),
        ("x@foo.local", ("x@foo.local", BAD_DOMAIN)),
        ("x@localhost", ("x@localhost", BAD_DOMAIN)),
        ("x@foo.notatld", ("x@foo.notatld", BAD_DOMAIN)),
        ("x@foo.test", ("x@foo.test", BAD_DOMAIN)),
        ("x@example", ("x@example", BAD_DOMAIN)),
        ("x@com", ("x@com", BAD_DOMAIN)),
        ("x@co.uk", ("x@co.uk", BAD_DOMAIN)),
        ("x@[192.0.2.1]", ("x@[192.0.2.1]", BAD_DOMAIN)),
        ("x@[IPv6:2001:db8::1]", ("x@[ipv6:2001:db8::1]", BAD_DOMAIN)),
        ("x@192.0.2.1", ("x@192.0.2.1", BAD_DOMAIN)),
        ("x@1.in-addr.arpa", ("x@1.in-addr.arpa", BAD_DOMAIN)),
        ("x@hidden.onion", ("x@hidden.onion", BAD_DOMAIN)),
        ("a" * 250 + "@foo.invalid", ("a" * 250 + "@foo.invalid", INVALID)),
        ("x@foo..invalid", ("x@foo..invalid", INVALID)),
        ("marco russo@example.com", ("marco russo@example.com", INVALID)),
        ("luca\u200b.bianchi@example.com", ("luca\u200b.bianchi@example.com", INVALID)),
        ("x@exa_mple.com", ("x@exa_mple.com", INVALID)),
        ("x@ab--cd.com", ("x@ab--cd.com", INVALID)),
        ('"x"@example.com', ('"x"@example.com', INVALID)),
    ],
)
def test_verdicts(address: str, expected: tuple[str, str | None]) -> None:
    assert CHECKER.check(address) == expected
    assert CHECKER.check_with_email_validator(address) == expected


@dataclass
class FakeMailDomains:
    """A mail-domain lookup that accepts a set of domains and records each request."""

    accepting: set[str]
    asked: list[str] = field(default_factory=list)

    def accepts_mail(self, domain: str) -> bool:
        self.asked.append(domain)
        return domain in self.accepting


def test_dns_check_rejects_domain() -> None:
    lookup = FakeMailDomains({"example.com"})
    checker = EmailChecker(check_dns=True, mail_domains=lookup)

    assert checker.check("anna@example.com") == ("anna@example.com", None)
    assert checker.check("anna@example.org") == ("anna@example.org", BAD_DOMAIN)
    assert checker.check_with_email_validator("zoë@example.org")[1] == BAD_DOMAIN


def test_dns_skipped_for_non_public_domains() -> None:
    lookup = FakeMailDomains({"foo.invalid", "foo.notatld"})
    checker = EmailChecker(check_dns=True, mail_domains=lookup)

    assert checker.check("anna@foo.invalid")[1] == BAD_DOMAIN
    assert checker.check("anna@foo.notatld")[1] == BAD_DOMAIN
    assert lookup.asked == []


def test_dns_off_by_default() -> None:
    lookup = FakeMailDomains(set())
    checker = EmailChecker(mail_domains=lookup)

    assert checker.check("anna@example.com") == ("anna@example.com", None)
    assert lookup.asked == []


def test_domain_verdict_cached() -> None:
    lookup = FakeMailDomains({"example.com"})
    checker = EmailChecker(check_dns=True, mail_domains=lookup)

    for number in range(1000):
        assert checker.check(f"user{number}@Example.COM")[1] is None
    for number in range(10):
        assert checker.check_with_email_validator(f"zoë{number}@example.com")[1] is None

    assert lookup.asked == ["example.com"]


def test_domain_cache_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_check, "MAX_CACHED_DOMAINS", 3)
    lookup = FakeMailDomains({f"example{number}.com" for number in range(10)})
    checker = EmailChecker(check_dns=True, mail_domains=lookup)

    for number in range(10):
        assert checker.check(f"a@example{number}.com")[1] is None
    assert checker.check("a@example0.com")[1] is None

    assert lookup.asked.count("example0.com") == 2


def dns_error(kind: type[Exception]) -> Exception:
    """Build a dnspython exception with its default message."""
    return kind()


@dataclass
class FakeRecord:
    exchange: str = ""


@dataclass
class FakeResolver:
    """A resolver that returns records or raises, from a table by (name, type)."""

    answers: dict[tuple[str, str], list[FakeRecord] | Exception]
    asked: list[tuple[str, str]] = field(default_factory=list)

    def resolve(self, qname: str, rdtype: str) -> Iterable[Any]:
        self.asked.append((qname, rdtype))
        answer = self.answers.get((qname, rdtype), dns_error(dns.resolver.NoAnswer))
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_dns_lookup_mx_accepts() -> None:
    resolver = FakeResolver({("example.com", "MX"): [FakeRecord("mx1.example.com.")]})

    assert DnsMailDomainLookup(resolver).accepts_mail("example.com")
    assert resolver.asked == [("example.com", "MX")]


def test_dns_lookup_null_mx_rejects() -> None:
    resolver = FakeResolver(
        {
            ("example.com", "MX"): [FakeRecord(".")],
            ("example.com", "A"): [FakeRecord()],
        }
    )

    assert not DnsMailDomainLookup(resolver).accepts_mail("example.com")


@pytest.mark.parametrize("rdtype", ["A", "AAAA"])
def test_dns_lookup_address_accepts(rdtype: str) -> None:
    resolver = FakeResolver({("example.org", rdtype): [FakeRecord()]})

    assert DnsMailDomainLookup(resolver).accepts_mail("example.org")


def test_dns_lookup_no_records_rejects() -> None:
    resolver = FakeResolver({})

    assert not DnsMailDomainLookup(resolver).accepts_mail("example.net")
    assert resolver.asked == [
        ("example.net", "MX"),
        ("example.net", "A"),
        ("example.net", "AAAA"),
    ]


def test_dns_lookup_nxdomain_rejects() -> None:
    resolver = FakeResolver({("gone.example", "MX"): dns_error(dns.resolver.NXDOMAIN)})

    assert not DnsMailDomainLookup(resolver).accepts_mail("gone.example")


@pytest.mark.parametrize(
    "failure", [dns_error(dns.exception.Timeout), dns_error(dns.resolver.NoNameservers)]
)
def test_dns_lookup_failure_accepts(
    caplog: pytest.LogCaptureFixture, failure: Exception
) -> None:
    resolver = FakeResolver({("slow.example", "MX"): failure})

    with caplog.at_level(logging.WARNING, logger="maizeplus.imports.email_check"):
        assert DnsMailDomainLookup(resolver).accepts_mail("slow.example")

    assert [record.message for record in caplog.records] == [
        "import.email_dns_undecided"
    ]
    assert getattr(caplog.records[0], "domain", None) == "slow.example"


def test_dns_lookup_in_checker() -> None:
    resolver = FakeResolver({("example.com", "MX"): [FakeRecord(".")]})
    checker = EmailChecker(check_dns=True, mail_domains=DnsMailDomainLookup(resolver))

    assert checker.check("anna@example.com") == ("anna@example.com", BAD_DOMAIN)


def test_special_use_names_from_validator() -> None:
    assert "invalid" in email_validator.SPECIAL_USE_DOMAIN_NAMES
    assert CHECKER.check("x@sub.foo.INVALID") == ("x@sub.foo.invalid", BAD_DOMAIN)
