"""Email checks of the import: valid syntax and a real public domain, fast.

email-validator costs about 21 µs an address, too slow for a file of a
million rows. ``EmailChecker`` decides the common ASCII address with one
precompiled regular expression and a dictionary of domain verdicts, and
hands every other address to email-validator. Both paths give the same
verdict, message and stored form, which the tests check with hypothesis.

Syntax follows email-validator 2 with ``globally_deliverable=False`` and
``allow_domain_literal=True``: a bare TLD, an IP address or a reserved name
such as ``foo.invalid`` is then a syntactically valid address whose domain
fails the domain check, so it gets the bad-domain message. The domain
check requires a registrable domain under an ICANN suffix of the Public
Suffix List, read from the copy packaged with ``publicsuffixlist`` without
any network access. It also rejects the special-use names that
email-validator lists. A DNS check runs only when it is switched on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol

import email_validator
from publicsuffixlist import PublicSuffixList

from maizeplus.imports import messages

logger = logging.getLogger(__name__)

# A checked address, trimmed and in lower case, and its error message or None.
EmailCheck = tuple[str, str | None]

# email-validator's limit on a whole address (RFC 5321 4.5.3.1.3), in octets.
MAX_ADDRESS_LENGTH = 254
# The number of domain verdicts kept. Past it, the cache is cleared and refilled.
MAX_CACHED_DOMAINS = 100_000

# The limit on one label of a domain (RFC 1035 2.3.1).
MAX_LABEL_LENGTH = 63

# RFC 5322 atext: the characters of an unquoted local part.
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
# An RFC 1123 hostname label of any length: letters and digits, with inner
# hyphens. The possessive quantifiers keep the match free of backtracking.
_LABEL = r"[A-Za-z0-9]++(?:-++[A-Za-z0-9]++)*+"
# The common address: a dot-atom local part and at least two labels.
_COMMON_ADDRESS = re.compile(
    rf"[{_ATEXT}]++(?:\.[{_ATEXT}]++)*+@{_LABEL}(?:\.{_LABEL})++"
)
# Returns a match for an address of that form, else None.
is_common_address = _COMMON_ADDRESS.fullmatch
# Returns a match when every line of the text is an address of that form.
# One call for a chunk of addresses joined by line breaks costs a fifth of
# one call per address (CPython 3.11, 200,000 addresses).
are_common_addresses = re.compile(
    rf"(?:{_COMMON_ADDRESS.pattern}\n)*+{_COMMON_ADDRESS.pattern}"
).fullmatch
# An ASCII address with any of these characters is invalid in every form
# that email-validator parses: dot-atom, quoted local part, display name or
# domain literal.
_ASCII_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")

# Letters that replace a special-use suffix when the syntax is checked apart
# from the domain rules; any letters of the same length would do.
_NEUTRAL_LABEL_LETTER = "a"


class MailDomainLookup(Protocol):
    """A check that a domain can receive mail, such as a DNS lookup."""

    def accepts_mail(self, domain: str) -> bool:
        """Return whether the domain (ASCII, lower case) can receive mail."""
        ...


class DnsResolver(Protocol):
    """The part of ``dns.resolver.Resolver`` that ``DnsMailDomainLookup`` calls."""

    def resolve(self, qname: str, rdtype: str) -> Iterable[Any]: ...


class DnsMailDomainLookup:
    """A domain receives mail if DNS gives it an MX record, or lacking MX, an A or AAAA.

    A null MX (RFC 7505, a single MX of ``.``) and a name that does not
    exist count as no mail. A lookup that times out or reaches no server
    that responds decides nothing, so the domain is accepted and a warning
    logged.
    """

    def __init__(self, resolver: DnsResolver | None = None) -> None:
        # NOTE: only tests with a fake resolver run this class. It has not
        # been run against a real DNS server.
        if resolver is None:
            import dns.resolver

            resolver = dns.resolver.Resolver()
        self._resolver = resolver

    def accepts_mail(self, domain: str) -> bool:
        import dns.exception
        import dns.resolver

        try:
            exchanges = self._mail_exchanges(domain)
            if exchanges:
                # A null MX is the exchange "." alone: the domain takes no mail.
                return any(exchanges)
            return self._has_address(domain)
        except dns.resolver.NXDOMAIN:
            return False
        except dns.exception.DNSException as error:
            logger.warning(
                "import.email_dns_undecided",
                extra={"domain": domain, "error": repr(error)},
            )
            return True

    def _mail_exchanges(self, domain: str) -> set[str]:
        """Return the MX host names without their final dot, or no names without MX."""
        import dns.resolver

        try:
            records = self._resolver.resolve(domain, "MX")
        except dns.resolver.NoAnswer:
            return set()
        return {str(record.exchange).rstrip(".") for record in records}

    def _has_address(self, domain: str) -> bool:
        import dns.resolver

        for rdtype in ("A", "AAAA"):
            try:
                if list(self._resolver.resolve(domain, rdtype)):
                    return True
            except dns.resolver.NoAnswer:
                continue
        return False


@cache
def public_suffix_list() -> PublicSuffixList:
    """Load the ICANN section of the packaged Public Suffix List, once per process."""
    return PublicSuffixList(only_icann=True, accept_unknown=False)


class EmailChecker:
    """The email checks of one job, with a cache of the verdict on each domain."""

    def __init__(
        self, check_dns: bool = False, mail_domains: MailDomainLookup | None = None
    ) -> None:
        """Build a checker. With ``check_dns``, a domain also needs mail records.

        ``mail_domains`` replaces the DNS lookup (tests pass a fake), and is
        used only with ``check_dns``.
        """
        self._mail_domains: MailDomainLookup | None = None
        if check_dns:
            self._mail_domains = mail_domains or DnsMailDomainLookup()
        self._special_use_names = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
        self._public_suffixes = public_suffix_list()
        self._domain_verdicts: dict[str, bool] = {}

    def check(self, address: str) -> EmailCheck:
        """Check a trimmed, non-empty address and return its stored form and error."""
        if address.isascii():
            if is_common_address(address) is not None:
                lowered = address.lower()
                domain = lowered.rpartition("@")[2]
                if is_plain_domain(domain) and len(address) <= MAX_ADDRESS_LENGTH:
                    return lowered, self.domain_error(domain)
            elif "@" not in address or _ASCII_SPACE_OR_CONTROL.search(address):
                return address.lower(), messages.INVALID_EMAIL
        return self.check_with_email_validator(address)

    def check_with_email_validator(self, address: str) -> EmailCheck:
        """Check an address with email-validator alone: the fallback of ``check``."""
        try:
            result = _validate_syntax(address)
        except email_validator.EmailSyntaxError:
            if self._is_valid_apart_from_special_use(address):
                return address.lower(), messages.INVALID_EMAIL_DOMAIN
            return address.lower(), messages.INVALID_EMAIL
        return result.normalized.lower(), self.domain_error(result.ascii_domain.lower())

    def _is_valid_apart_from_special_use(self, address: str) -> bool:
        """Return whether a special-use domain such as ``.invalid`` is all that fails.

        email-validator rejects those names as syntax errors, but here they
        are addresses with a bad domain. Checking the address again with
        the name replaced by letters of the same length keeps every other
        rule, the length limits included.
        """
        local_part, at_sign, domain = address.rpartition("@")
        if not at_sign:
            return False
        # NOTE: only ASCII spellings are found here, so a domain such as
        # "foo.ｉｎｖａｌｉｄ" (full-width letters) gets the invalid-address message.
        name = self._special_use_suffix(domain.lower())
        if name is None:
            return False
        neutral = domain[: len(domain) - len(name)] + _NEUTRAL_LABEL_LETTER * len(name)
        try:
            _validate_syntax(f"{local_part}@{neutral}")
        except email_validator.EmailSyntaxError:
            return False
        return True

    def domain_error(self, domain: str) -> str | None:
        """Return the error of an ASCII, lower-case domain, or None for a good one."""
        verdict = self._domain_verdicts.get(domain)
        if verdict is None:
            verdict = self._is_public_mail_domain(domain)
            if len(self._domain_verdicts) >= MAX_CACHED_DOMAINS:
                self._domain_verdicts.clear()
            self._domain_verdicts[domain] = verdict
        return None if verdict else messages.INVALID_EMAIL_DOMAIN

    def _is_public_mail_domain(self, domain: str) -> bool:
        """Decide whether an ASCII, lower-case domain is public and takes mail."""
        if domain.startswith("[") or self._special_use_suffix(domain) is not None:
            return False
        if self._public_suffixes.privatesuffix(domain, accept_unknown=False) is None:
            return False
        return self._mail_domains is None or self._mail_domains.accepts_mail(domain)

    def _special_use_suffix(self, domain: str) -> str | None:
        for name in self._special_use_names:
            if domain == name or domain.endswith("." + name):
                return name
        return None


def is_plain_domain(domain: str) -> bool:
    """Return whether email-validator would accept a matched domain without IDNA.

    Labels with "--" (Punycode, or invalid R-LDH labels) and domains long
    enough to hold a label over 63 characters are left to email-validator.
    """
    return len(domain) <= MAX_LABEL_LENGTH and "--" not in domain


def _validate_syntax(address: str) -> email_validator.ValidatedEmail:
    return email_validator.validate_email(
        address,
        check_deliverability=False,
        globally_deliverable=False,
        allow_domain_literal=True,
    )
