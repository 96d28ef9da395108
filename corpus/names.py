"""Organisation names: normalisation into ids, and a kind guessed from the name's suffix."""

from __future__ import annotations

import re
import unicodedata

from corpus.models import OrgKind

_NOISE = re.compile(r"[\s\u3000·•\.,，。'\"“”‘’]+")
# Most specific first: "研究院有限公司" is an enterprise, "中国科学院…研究所" an institute.
_KIND_MARKERS: tuple[tuple[str, OrgKind], ...] = (
    ("有限公司", OrgKind.enterprise),
    ("股份公司", OrgKind.enterprise),
    ("集团", OrgKind.enterprise),
    ("公司", OrgKind.enterprise),
    ("工厂", OrgKind.enterprise),
    ("厂", OrgKind.enterprise),
    ("创新中心", OrgKind.new_rd_institution),
    ("科学院", OrgKind.institute),
    ("研究院", OrgKind.institute),
    ("研究所", OrgKind.institute),
    ("大学", OrgKind.university),
    ("学院", OrgKind.university),
    ("学校", OrgKind.university),
    ("实验室", OrgKind.institute),
    ("研究中心", OrgKind.institute),
)


def normalise_name(name: str) -> str:
    """Canonical form of an organisation name: NFKC, no spaces or dots, ASCII brackets.

    Full- and half-width variants of the same name ("（" vs "(") map to one id.
    """
    text = unicodedata.normalize("NFKC", name)
    return _NOISE.sub("", text).strip()


def infer_kind(name: str) -> OrgKind:
    """Guess the kind of an organisation from its name; `other` when nothing matches."""
    text = normalise_name(name)
    for marker, kind in _KIND_MARKERS:
        if marker in text:
            return kind
    return OrgKind.other
