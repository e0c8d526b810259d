"""Client-created POSIX shared memory (/dev/shm), opened with strict checks.

The name must match the protocol's pattern, the object must belong to this
user, and its size must equal the expected float32 array exactly.
"""

from __future__ import annotations

import mmap
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .protocol import SHM_NAME

SHM_DIR = Path("/dev/shm")


class ShmError(ValueError):
    pass


def _open(name: object, shape: tuple[int, ...], writable: bool) -> mmap.mmap:
    if not isinstance(name, str) or not SHM_NAME.match(name):
        raise ShmError(f"bad shared-memory name {name!r}")
    expected = int(np.prod(shape)) * 4
    if expected <= 0:
        raise ShmError(f"bad shape {shape}")
    try:
        fd = os.open(SHM_DIR / name, (os.O_RDWR if writable else os.O_RDONLY) | os.O_NOFOLLOW)
    except OSError as exc:
        raise ShmError(f"cannot open shared memory {name}: {exc.strerror}") from exc
    try:
        st = os.fstat(fd)
        if st.st_uid != os.getuid():
            raise ShmError(f"shared memory {name} belongs to another user")
        if st.st_size != expected:
            raise ShmError(f"shared memory {name} is {st.st_size} bytes, expected {expected}")
        return mmap.mmap(fd, expected, access=mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ)
    finally:
        os.close(fd)


class MappingCache:
    """Client buffers kept mapped between requests (a client reuses its buffers, so
    their pages are not faulted in again every frame).

    Keyed by (name, writable). Every lookup re-checks the file: one replaced
    (other inode, size or owner) is opened again with :func:`_open`'s checks; ones
    the client removed are dropped. Up to ``limit`` mappings; used by one thread.
    """

    def __init__(self, limit: int = 4) -> None:
        self.limit = limit
        self._maps: OrderedDict[tuple[str, bool], tuple[tuple[int, ...], mmap.mmap]] = \
            OrderedDict()

    @staticmethod
    def _identity(name: str) -> tuple[int, ...] | None:
        try:
            st = os.stat(SHM_DIR / name, follow_symlinks=False)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_uid)

    def array(self, name: object, shape: tuple[int, ...], writable: bool) -> np.ndarray:
        """A float32 view [shape] of the named buffer (ShmError as :func:`_open`)."""
        if not isinstance(name, str) or not SHM_NAME.match(name):
            raise ShmError(f"bad shared-memory name {name!r}")
        for key in [k for k in self._maps if self._identity(k[0]) != self._maps[k][0]]:
            self._drop(key)  # removed or replaced by the client
        key = (name, writable)
        if key not in self._maps:
            m = _open(name, shape, writable)
            ident = self._identity(name)
            if ident is None:
                m.close()
                raise ShmError(f"shared memory {name} vanished while opening")
            self._maps[key] = (ident, m)
            while len(self._maps) > self.limit:
                self._drop(next(iter(self._maps)))
        ident, m = self._maps[key]
        self._maps.move_to_end(key)
        if int(np.prod(shape)) * 4 != ident[2]:
            raise ShmError(f"shared memory {name} is {ident[2]} bytes, "
                           f"expected {int(np.prod(shape)) * 4}")
        view = np.frombuffer(m, dtype=np.float32).reshape(shape)
        if not writable:
            view.flags.writeable = False
        return view

    def _drop(self, key: tuple[str, bool]) -> None:
        _, m = self._maps.pop(key)
        try:
            m.close()
        except BufferError:  # a view is still alive: the GC unmaps it later
            pass

    def clear(self) -> None:
        for key in list(self._maps):
            self._drop(key)


def create(name: str, nbytes: int) -> Path:
    """Create /dev/shm/<name> (0600) of ``nbytes``: used by Python clients and tests."""
    path = SHM_DIR / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, nbytes)
    finally:
        os.close(fd)
    return path
