"""Output folders that never cost a planner a file.

A folder gridsite writes (a plan, a Pareto front, a derived scenario) carries a manifest,
``.gridsite``, listing every file written with its size and SHA-256. Only such a folder, with
no file beside the listed ones, or an empty or new folder, may be replaced; anything else (a
file, a folder of the user's, the current folder, the scenario folder, a folder holding it) is
refused before any work with :class:`OutputError`, whose message is one line.

Replacement is crash-safe: the new folder is filled beside the target (``.NAME.tmp-*``) and
swapped with it in one ``renameat2(RENAME_EXCHANGE)`` (Linux), so the path always holds either
the complete old folder or the complete new one. Where the exchange is unsupported the target
becomes a symbolic link to a versioned folder (``.NAME.v-*``), swapped by an atomic rename.
Leftovers of a killed run (``.NAME.*`` folders with a manifest) are recovered or removed by
the next run, which says so. ``fcntl.flock`` on ``.NAME.lock`` beside the target lets one run
write a folder at a time; the other is refused with :class:`OutputBusyError`.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MANIFEST = ".gridsite"
PAUSE_ENV = "GRIDSITE_PAUSE_AT"
"""Test hook: ``before_swap:SECONDS`` or ``after_swap:SECONDS`` sleeps at that point of a
replacement (SIGUSR1 resumes it), so a test can kill the process there, or hold its lock."""
_RENAME_EXCHANGE = 2
_log = logging.getLogger("gridsite.output")

Say = Callable[[str], None]


class OutputError(Exception):
    """An output location gridsite refuses to write (the message is one line)."""


class OutputBusyError(OutputError):
    """Another run is writing the same output folder."""


def check_target(path: str | Path, *, inputs: Sequence[Path] = ()) -> Path:
    """Refuse, before any work, an output location gridsite may not or cannot replace.

    ``inputs``: folders the run reads (the scenario), which the output may neither be, hold
    nor sit inside. Returns the path as given."""
    if not str(path).strip():
        raise OutputError("the output folder is empty: name a folder for the plan")
    out = Path(path)
    where = Path(os.path.abspath(out))
    cwd = Path.cwd().resolve()
    real = where.parent.resolve() / where.name
    if real == cwd or real in cwd.parents:
        raise OutputError(f"{out} is the current folder or holds it: name a new folder")
    for folder in inputs:
        source = folder.resolve()
        if real == source or real in source.parents:
            raise OutputError(f"{out} is or holds the scenario folder {folder}: name a new folder")
        if source in real.parents:
            raise OutputError(f"{out} is inside the scenario folder {folder}: write elsewhere")
    _check_parent(out, out.parent)
    if out.is_symlink():
        version = _version_of(where)
        if version is None:
            raise OutputError(f"{out} is a symbolic link gridsite did not make: name a folder")
        where = version
    elif out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder: gridsite will not replace it")
    if where.is_dir():
        foreign = foreign_files(where)
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            what = "is not a gridsite folder" if _manifest(where) is None else "holds files"
            raise OutputError(
                f"{out} {what} ({shown} would be lost): gridsite replaces only its own "
                "folders or empty ones; name a new folder"
            )
        if not _writable(where):
            raise OutputError(f"{out} is read-only: gridsite cannot replace it")
    return out


def default_target(root: Path, name: str) -> Path:
    """``root/name``, refused unless ``name`` is one plain folder name inside ``root``."""
    plain = name not in ("", ".", "..") and not any(c in name for c in "/\\\0")
    target = root / name
    inside = Path(os.path.abspath(target)).parent == Path(os.path.abspath(root))
    if not plain or not inside or Path(name).is_absolute():
        raise OutputError(f"scenario name {name!r} cannot be a folder name: give --out")
    return target


def foreign_files(folder: Path) -> list[str]:
    """Files under ``folder`` that its manifest does not list (all of them without one)."""
    listed = (_manifest(folder) or {}).get("files", {})
    return [rel for rel in _walk(folder) if rel != MANIFEST and rel not in listed]


def replace_folder(
    path: str | Path,
    fill: Callable[[Path], None],
    *,
    kind: str = "plan",
    inputs: Sequence[Path] = (),
    say: Say = _log.warning,
) -> Path:
    """Fill a new folder with ``fill(folder)`` and put it at ``path`` in one atomic step.

    ``path`` is checked (:func:`check_target`) and locked unless this process already holds
    its lock (:func:`claim`)."""
    out = Path(path)
    key = Path(os.path.abspath(out))
    if _held.get(key, (0, None))[1] == threading.get_ident():
        _replace(key, fill, kind, inputs, say)
        return out
    with claim(out, inputs=inputs, say=say):
        _replace(key, fill, kind, inputs, say)
    return out


_held: dict[Path, tuple[int, int]] = {}
"""Folder -> (lock file descriptor, thread) of the claims this process holds: the claiming
thread writes without locking again; any other thread, or process, is refused."""


def abandon() -> None:
    """Remove the lock files this process holds, for an exit that skips clean-up (a second
    Ctrl-C); a half-written folder is left for the next run to remove."""
    for where in _held:
        (where.parent / f".{where.name}.lock").unlink(missing_ok=True)


@contextmanager
def claim(
    path: str | Path, *, inputs: Sequence[Path] = (), say: Say = _log.warning
) -> Iterator[Path]:
    """Hold the lock of output folder ``path`` (checked first; its parent folders are made)
    while the block runs; recover or remove what a killed run left beside it."""
    out = check_target(path, inputs=inputs)
    where = Path(os.path.abspath(out))
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot make {where.parent}: {e.strerror}") from None
    lock = where.parent / f".{where.name}.lock"
    fd = _lock(lock, out)
    _held[where] = (fd, threading.get_ident())
    try:
        _clean_leftovers(where, say)
        check_target(out, inputs=inputs)
        yield out
    finally:
        del _held[where]
        lock.unlink(missing_ok=True)
        os.close(fd)


def _replace(
    where: Path, fill: Callable[[Path], None], kind: str, inputs: Sequence[Path], say: Say
) -> None:
    parent, name = where.parent, where.name
    tmp = parent / f".{name}.tmp-{os.getpid()}-{secrets.token_hex(3)}"
    tmp.mkdir()
    try:
        _write_manifest(tmp, kind, complete=False)
        fill(tmp)
        _write_manifest(tmp, kind, complete=True)
        _sync_tree(tmp)
        check_target(where, inputs=inputs)  # nothing foreign appeared while we worked
        _pause("before_swap")
        if not where.exists() and not where.is_symlink():
            os.rename(tmp, where)
        elif where.is_symlink() or not _exchange(tmp, where):
            _swap_link(where, tmp)
        else:
            _sync_dir(parent)
            _pause("after_swap")
            shutil.rmtree(tmp)  # now the old folder
        _sync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_link(where: Path, tmp: Path) -> None:
    """Fallback: ``where`` is a symbolic link to a versioned folder, swapped atomically."""
    parent, name = where.parent, where.name
    version = parent / f".{name}.v-{time.time_ns()}"
    os.rename(tmp, version)
    link = parent / f".{name}.link-{secrets.token_hex(3)}"
    link.symlink_to(version.name)
    old = _version_of(where)
    if where.is_dir() and not where.is_symlink():  # a real folder: one moment without it
        old = parent / f".{name}.old-{time.time_ns()}"
        os.rename(where, old)
    os.replace(link, where)
    _pause("after_swap")
    if old is not None:
        shutil.rmtree(old)


def _clean_leftovers(where: Path, say: Say) -> None:
    """Under the lock, every ``.NAME.*`` folder with a manifest is a killed run's. If the
    target is missing (a fallback run killed while moving a real folder aside), the newest
    complete old or versioned folder takes its place; the rest, and every unfinished
    ``.NAME.tmp-*`` (a plan that never took its place), are removed."""
    parent, name = where.parent, where.name
    current = _version_of(where)
    left = [
        p
        for p in parent.glob(f".{name}.*")
        if p.is_dir()
        and not p.is_symlink()
        and p != current
        and (_manifest(p) is not None or (p.name.startswith(f".{name}.tmp-") and _empty(p)))
    ]
    for stray in parent.glob(f".{name}.link-*"):
        if stray.is_symlink():
            stray.unlink()
    if not where.exists() and not where.is_symlink():
        complete = [
            p
            for p in left
            if (_manifest(p) or {}).get("complete") and not p.name.startswith(f".{name}.tmp-")
        ]
        if complete:
            newest = max(complete, key=lambda p: (_manifest(p) or {}).get("written_ns", 0))
            os.rename(newest, where)
            left.remove(newest)
            say(f"recovered {where} from {newest.name}, left by an interrupted run")
    for p in left:
        shutil.rmtree(p)
        say(f"removed {p}, left by an interrupted run")


def _lock(lock: Path, out: Path) -> int:
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise OutputError(f"cannot write beside {out}: {e.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputBusyError(
                f"{out} is being written by another gridsite run (pid {holder}): wait for it "
                "or name another folder"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not unlinked by the previous holder between our open and flock
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            return fd
        os.close(fd)


def _manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("gridsite") else None


def _write_manifest(folder: Path, kind: str, *, complete: bool) -> None:
    files = {}
    if complete:
        for rel in _walk(folder):
            if rel != MANIFEST:
                files[rel] = {
                    "bytes": (folder / rel).stat().st_size,
                    "sha256": _sha256(folder / rel),
                }
    manifest = {
        "gridsite": kind,
        "complete": complete,
        "written_ns": time.time_ns(),
        "files": files,
    }
    part = folder / f"{MANIFEST}.part"
    part.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(part, folder / MANIFEST)


def _empty(folder: Path) -> bool:
    return not any(folder.iterdir())


def _walk(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _version_of(where: Path) -> Path | None:
    """The versioned folder a fallback link at ``where`` points to, if it is gridsite's."""
    if not where.is_symlink():
        return None
    target = os.readlink(where)
    version = where.parent / target
    if "/" in target or not target.startswith(f".{where.name}.v-") or _manifest(version) is None:
        return None
    return version


def _check_parent(out: Path, parent: Path) -> None:
    existing = parent
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():
            raise OutputError(f"{existing} is a broken link: cannot make {out}")
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{existing} is not a folder: cannot make {out} there")
    if not _writable(existing):
        raise OutputError(f"{existing} is read-only: cannot write {out} there")


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (tried: ``os.access`` ignores read-only
    mounts, immutable folders and root's privileges)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    probe = folder / f".gridsite-probe-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        return False
    probe.unlink()
    return True


def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (``renameat2(RENAME_EXCHANGE)``); False where the system
    or the file system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    e = ctypes.get_errno()
    if e in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(e, f"cannot exchange {a} and {b}: {os.strerror(e)}")


def _sync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
    for d in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _sync_dir(d)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)


class _Resume(Exception):
    pass


def _resume(signum: int, frame: Any) -> None:
    raise _Resume


def _pause(point: str) -> None:
    """The test hook of :data:`PAUSE_ENV`; SIGUSR1 ends the pause early."""
    where, _, seconds = os.environ.get(PAUSE_ENV, "").partition(":")
    if where != point or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.signal(signal.SIGUSR1, _resume)
    print(f"gridsite: paused {point}", file=sys.stderr, flush=True)
    try:
        time.sleep(float(seconds or 60))
    except _Resume:
        pass
    finally:
        signal.signal(signal.SIGUSR1, previous)
