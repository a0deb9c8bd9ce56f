"""XML text and attributes as the regex scanners accept them, decoded as expat does.

The scanners take only what they can decode exactly as expat would. That is
UTF-8 text of the characters that XML 1.0 allows, the five predefined entities
and numeric character references to allowed characters. A carriage return is
left out, because expat turns a line break of CR LF or a lone CR into LF.
Anything else raises ``TextUnrecognised``, and the scanner leaves the item to
expat, which decodes it or rejects the part.
"""

from __future__ import annotations

import re

# An attribute whose value needs no decoding: printable ASCII but '"', '&' and
# '<', in double quotes. A name has at most one prefix.
ATTRIBUTE_NAME = rb"[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?"
ATTRIBUTE_VALUE = rb'"[ !#-%\'-;=-~]*"'
ATTRIBUTE = ATTRIBUTE_NAME + b"=" + ATTRIBUTE_VALUE

_ATTRIBUTE_NAMES = re.compile(rb" (" + ATTRIBUTE_NAME + rb")=" + ATTRIBUTE_VALUE)
# Bytes that never reach a scanned text: the control characters that XML 1.0
# forbids, the carriage return, and "]]>", which XML forbids in text.
_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\r]|\]\]>")
_REFERENCE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


class TextUnrecognised(Exception):
    """A text that only expat can decode or reject."""


def decode_text(raw: bytes) -> str:
    """Decode the raw text of an element, without markup, as expat would."""
    if _FORBIDDEN.search(raw) is not None:
        raise TextUnrecognised
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TextUnrecognised from None
    # Noncharacters that expat rejects and Python's UTF-8 codec decodes.
    if "\ufffe" in text or "\uffff" in text:
        raise TextUnrecognised
    if "&" in text:
        return _expand_references(text)
    return text


def has_unique_names(attributes: bytes, forbidden: bytes | None = None) -> bool:
    """Tell whether attributes of the ``ATTRIBUTE`` form have distinct names.

    Expat rejects a repeated attribute. ``forbidden`` is a name that must not
    appear, such as one that the pattern has read already.
    """
    names = _ATTRIBUTE_NAMES.findall(attributes)
    return len(set(names)) == len(names) and forbidden not in names


def _expand_references(text: str) -> str:
    expanded, count = _REFERENCE.subn(_referenced_text, text)
    if count != text.count("&"):
        raise TextUnrecognised  # an "&" that starts no reference
    return expanded


def _referenced_text(reference: re.Match[str]) -> str:
    entity, decimal, hexadecimal = reference.groups()
    if entity:
        return _ENTITIES[entity]
    try:
        code = int(decimal) if decimal else int(hexadecimal, 16)
    except ValueError:
        # int() refuses strings of more than 4,300 digits.
        raise TextUnrecognised from None
    if not _is_xml_character(code):
        raise TextUnrecognised
    return chr(code)


def _is_xml_character(code: int) -> bool:
    """Tell whether XML 1.0 allows the character (production 2, Char)."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )
