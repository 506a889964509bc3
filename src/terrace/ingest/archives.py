"""Archive limits, applied to every input file before GDAL opens it (zip bombs and the like).

GDAL opens archives by their content as well as their name (a KMZ is a zip, /vsizip/ reads
shapefiles in place), so a file is recognized by its first bytes, whatever its extension. A zip
(and so a KMZ) is read through once, which checks every member against its declared size and
checksum, within limits on the unpacked size, the compression ratio and the member count. Other
archive and compression formats GDAL could open (gzip, tar, 7z, RAR, bzip2, xz) are refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from terrace.errors import InvalidInput

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
REFUSED_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"Rar!\x1a\x07": "RAR",
}
TAR_MAGIC_OFFSET = 257
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_unpacked_bytes: int = 20 * 1024**3
    max_ratio: float = 200.0
    max_members: int = 10_000


def check_archive(path: Path, limits: ArchiveLimits = ArchiveLimits()) -> None:
    """Raise InvalidInput if `path` is an archive over `limits` or of a kind Terrace does not open."""
    with path.open("rb") as file:
        head = file.read(TAR_MAGIC_OFFSET + 8)
    if head.startswith(ZIP_MAGIC):
        _check_zip(path, limits)
        return
    kind = next((name for magic, name in REFUSED_MAGIC.items() if head.startswith(magic)), None)
    if kind is None and head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar":
        kind = "tar"
    if kind is not None:
        raise InvalidInput(
            f"{path.name} is a {kind} archive, which Terrace does not open.",
            "Upload the data uncompressed, or as a zip (a zipped shapefile) or KMZ.",
        )


def _check_zip(path: Path, limits: ArchiveLimits) -> None:
    packed = max(1, path.stat().st_size)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > limits.max_members:
                raise _too_big(path, f"holds {len(members)} files (at most {limits.max_members})")
            _over(path, sum(m.file_size for m in members), packed, limits)
            unpacked = 0
            for member in members:
                with archive.open(member) as data:  # checks the declared size and the CRC
                    while chunk := data.read(CHUNK):
                        unpacked += len(chunk)
                        _over(path, unpacked, packed, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise InvalidInput(
            f"{path.name} is not a valid zip archive ({exc}).", "Create the archive again and upload it."
        ) from None


def _over(path: Path, unpacked: int, packed: int, limits: ArchiveLimits) -> None:
    if unpacked > limits.max_unpacked_bytes:
        raise _too_big(path, f"expands to over {limits.max_unpacked_bytes} bytes")
    if unpacked / packed > limits.max_ratio:
        raise _too_big(path, f"expands over {limits.max_ratio:.0f} times its size")


def _too_big(path: Path, problem: str) -> InvalidInput:
    return InvalidInput(
        f"{path.name} {problem}, which Terrace refuses as a possible zip bomb.",
        "Upload the data uncompressed or split into smaller archives.",
    )
