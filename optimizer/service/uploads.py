"""Scenario uploads: a zip unpacked defensively, validated by the CLI's loader, hashed.

Refused before anything is kept: not a zip, entries that escape the folder (absolute paths,
``..``, drive letters, backslashes), links, more than :data:`MAX_ENTRIES` entries, more than
``max_unpacked_bytes`` once unpacked (counted while reading, not trusted from the headers),
and a folder without ``scenario.yaml``. Nothing is unpickled or evaluated: the loader reads
YAML (safe) and CSV.
"""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from optimizer.errors import ScenarioError
from optimizer.scenario import Scenario, load_scenario

MAX_ENTRIES = 2_000
CHUNK = 1024 * 1024


@dataclass
class UploadError(Exception):
    """An upload refused: the HTTP status, one clear line and, for an invalid scenario, the
    loader's problems (file, row, field, message)."""

    status: int
    message: str
    problems: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def unpack(data: bytes, into: Path, max_unpacked_bytes: int) -> Path:
    """Unpack the zip ``data`` into the empty folder ``into``; the scenario folder inside
    (``into`` itself, or its single top folder)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError(400, "the upload is not a zip file") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise UploadError(413, f"the zip has {len(entries)} entries (at most {MAX_ENTRIES})")
        for entry in entries:
            _check_entry(entry)
        total = 0
        for entry in entries:
            if entry.is_dir():
                continue
            target = into.joinpath(*PurePosixPath(entry.filename).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as source, target.open("wb") as sink:
                while chunk := source.read(CHUNK):
                    total += len(chunk)
                    if total > max_unpacked_bytes:
                        raise UploadError(
                            413, f"the zip unpacks to more than {max_unpacked_bytes} bytes"
                        )
                    sink.write(chunk)
    return _scenario_root(into)


def _check_entry(entry: zipfile.ZipInfo) -> None:
    name = entry.filename
    path = PurePosixPath(name)
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise UploadError(400, f"zip entry {name!r} is a link; links are refused")
    if (
        "\\" in name
        or path.is_absolute()
        or ".." in path.parts
        or (path.parts and ":" in path.parts[0])
    ):
        raise UploadError(400, f"zip entry {name!r} escapes the scenario folder")


def _scenario_root(folder: Path) -> Path:
    if (folder / "scenario.yaml").is_file():
        return folder
    inner = [p for p in folder.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(inner) == 1 and (inner[0] / "scenario.yaml").is_file():
        return inner[0]
    raise UploadError(422, "the zip holds no scenario.yaml (at its top or in one top folder)")


def load(root: Path) -> Scenario:
    """The CLI's loader; its problems as a 422 naming file, row and field."""
    try:
        return load_scenario(root)
    except ScenarioError as e:
        problems = [
            {
                "file": p.file.replace(str(root), ".").removeprefix("./"),
                "row": p.row,
                "field": p.field,
                "message": p.message,
            }
            for p in e.problems
        ]
        text = "; ".join(str(p).replace(str(root), ".") for p in e.problems[:5])
        more = f" (and {len(e.problems) - 5} more)" if len(e.problems) > 5 else ""
        raise UploadError(
            422, f"{len(e.problems)} problem(s) in the scenario: {text}{more}", problems
        ) from None


def digest(root: Path) -> str:
    """SHA-256 over the folder's files (relative path and content, in path order)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()
