"""Writing the site: built whole in a sibling folder, then swapped in for the old one, so a reader
(or a server serving the folder) never sees half a site; a folder pal did not write is never
touched."""

from __future__ import annotations

import ctypes
import fcntl
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from states.errors import BadInput

# Left in every site pal writes: a folder with it may be replaced by the next build.
MARKER = ".pal-dashboard"
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def check_target(out: Path) -> None:
    """Refuse a file, or a folder with something in it that an earlier build did not write."""
    try:
        _check(_real(out), out)
    except OSError as exc:  # a name too long, a folder that cannot be read
        raise BadInput(f"cannot write {out}: {exc.strerror}") from exc


def _check(out: Path, shown: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BadInput(f"{shown} is a file: give a folder for the dashboard")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / MARKER).is_file():
        raise BadInput(f"{shown} has files pal did not write: give an empty or new folder")
    # A file put in a dashboard's folder since is someone's: the build would delete it.
    ours = set((out / MARKER).read_text(encoding="utf-8").splitlines()[1:])
    theirs = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if not p.is_dir() and p.relative_to(out).as_posix() not in {*ours, MARKER}
    )
    if ours and theirs:
        raise BadInput(f"{shown} has files pal did not write ({theirs[0]}"
                       f"{' and more' if len(theirs) > 1 else ''}): move them, or give an empty "
                       "or new folder")  # fmt: skip


def write_site(out: Path, files: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[Path]:
    """Write `files` (relative path: text, or such pairs as they are made) as the folder `out`,
    replacing an earlier build whole; the relative paths written."""
    check_target(out)
    shown, out = out, _real(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(out)
        building = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise BadInput(f"cannot write {shown}: {exc.strerror}") from exc
    held = -1
    try:
        held = _hold(building)
        written = _write_all(building, files.items() if isinstance(files, Mapping) else files)
        _mark(building, written)
        building.chmod(0o755)  # mkdtemp's folder is private; the site is for reading
        _swap(building, out)
    except OSError as exc:
        raise BadInput(f"cannot write {shown}: {exc.strerror}") from exc
    finally:
        shutil.rmtree(building, ignore_errors=True)
        if held >= 0:
            os.close(held)
    return written


def _real(out: Path) -> Path:
    """`out` with its links and dots resolved: a link to a folder has the folder it names
    replaced (not the link), and `.` is the folder itself."""
    try:
        return out.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise BadInput(f"cannot write {out}: {getattr(exc, 'strerror', None) or exc}") from exc


def _hold(building: Path) -> int:
    """Lock the folder being built (the lock ends with the process, however it ends) and mark
    it as pal's: a marked folder nobody holds is a build that died, removed by the next one."""
    held = os.open(building, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    _mark(building, [])
    return held


def _mark(folder: Path, written: list[Path]) -> None:
    """The marker: pal wrote this folder, and these files in it (each a line after the first)."""
    lines = ["written by pal dashboard", *sorted(p.as_posix() for p in written)]
    (folder / MARKER).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _remove_abandoned(out: Path) -> None:
    """Remove the building folders beside `out` left by a build that was killed: pal's marker
    inside, and no live build holding it (a build under way is left alone)."""
    # mkdtemp's names, exactly: a dashboard someone built at `.site.backup` is not one of them.
    ours = re.compile(rf"\.{re.escape(out.name)}\.[a-z0-9_]{{8}}(\.old)?")
    for folder in out.parent.glob(f".{glob.escape(out.name)}.*"):
        if not ours.fullmatch(folder.name) or folder.is_symlink():
            continue
        if not (folder / MARKER).is_file():
            continue
        try:
            held = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass  # another build's, under way
        finally:
            os.close(held)


def _write_all(folder: Path, files: Iterable[tuple[str, str]]) -> list[Path]:
    """Write each file while the next is being made: the writing (waiting on the disk, which
    frees the interpreter) overlaps the rendering."""
    written, pending, folders = [], list[Future[int]](), {folder}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pal-dashboard") as pool:
        for name, text in files:
            path = folder / name
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            pending.append(pool.submit(path.write_text, text, encoding="utf-8"))
            written.append(Path(name))
        for done in pending:
            done.result()  # a failed write raises here
    return written


def _swap(new: Path, out: Path) -> None:
    """Put `new` at `out`; the old site (if any) ends up at `new`'s name, to be removed. On Linux
    the two are exchanged in one step; elsewhere `out` is missing for an instant."""
    if not out.exists():
        new.rename(out)
        return
    if _exchange(new, out):
        return
    old = new.with_name(new.name + ".old")
    out.rename(old)
    try:
        new.rename(out)
    except OSError:
        old.rename(out)  # the earlier site back in its place, not left hidden
        raise
    old.rename(new)


def _exchange(first: Path, second: Path) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                     _RENAME_EXCHANGE)  # fmt: skip
    return bool(done == 0)
