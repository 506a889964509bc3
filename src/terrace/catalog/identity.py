"""Deterministic identities (SPEC §6) and the names of the tables a release owns."""

from __future__ import annotations

import hashlib
import re

from terrace.errors import InvalidInput

PLATFORM_ID = "terrace"
MAX_IDENTIFIER = 63
LONGEST_SUFFIX = len("_polygon")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_VERSION = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def asset_id(dataset_id: str, resource_id: str, platform_id: str = PLATFORM_ID) -> str:
    return _digest(platform_id, dataset_id, resource_id)


def release_id(asset: str, submission_key: str) -> str:
    return _digest(asset, submission_key)


def request_id(release: str, revision: int) -> str:
    return _digest("request", release, str(revision))


def normalize_slug(value: str, field: str) -> str:
    """dataset_id / resource_id: case-insensitive, stored lowercase."""
    slug = value.strip().lower()
    if not _SLUG.match(slug):
        raise InvalidInput(
            f"{field} {value!r} is not a valid identifier.",
            "Use 1-100 letters, digits, '_' or '-', starting with a letter or digit, e.g. 'floods'.",
        )
    return slug


def normalize_version(value: str) -> str:
    version = value.strip().lower()
    if not _VERSION.match(version):
        raise InvalidInput(
            f"version_id {value!r} is not a valid version.",
            "Use 1-40 letters, digits, '.', '_' or '-', e.g. 'v2' or '2024.1'.",
        )
    return version


def sanitize_identifier(text: str) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    name = re.sub(r"_+", "_", name)
    return name if name and not name[0].isdigit() else f"t_{name}"


def table_base(dataset_id: str, resource_id: str, tag: str) -> str:
    """`{dataset}_{resource}_{tag}` as a safe identifier that leaves room for a split suffix.

    Too long a name is cut and given a short digest of the full name, so that two long names
    that share a prefix still differ.
    """
    full = sanitize_identifier(f"{dataset_id}_{resource_id}_{tag}")
    budget = MAX_IDENTIFIER - LONGEST_SUFFIX
    if len(full) <= budget:
        return full
    tail = f"_{hashlib.sha256(full.encode()).hexdigest()[:6]}_{sanitize_identifier(tag)}"
    return full[: budget - len(tail)].rstrip("_") + tail


def draft_table_base(dataset_id: str, resource_id: str, ordinal: int) -> str:
    return table_base(dataset_id, resource_id, f"ord{ordinal}")


def served_table_base(dataset_id: str, resource_id: str, version_id: str) -> str:
    return table_base(dataset_id, resource_id, version_id)


def latest_alias_base(dataset_id: str, resource_id: str) -> str:
    return table_base(dataset_id, resource_id, "latest")
