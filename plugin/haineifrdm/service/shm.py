"""Client-created POSIX shared memory (/dev/shm), opened with strict checks.

The name must match the protocol's pattern, the object must belong to this
user, and its size must equal the expected float32 array exactly.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def mapped_array(name: object, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
    """A read-only, zero-copy float32 view of the client's buffer for the ``with`` block.

    The client must not change the buffer until the reply (the OFX plugin never does).
    """
    m = _open(name, shape, writable=False)
    try:
        view = np.frombuffer(m, dtype=np.float32).reshape(shape)
        yield view
        del view
    finally:
        try:
            m.close()
        except BufferError:  # a view escaped: let the GC unmap it
            pass


def write_array(name: object, data: np.ndarray) -> None:
    m = _open(name, data.shape, writable=True)
    try:
        dst = np.frombuffer(m, dtype=np.float32).reshape(data.shape)
        np.copyto(dst, data, casting="same_kind")
        del dst
    finally:
        m.close()


def create(name: str, nbytes: int) -> Path:
    """Create /dev/shm/<name> (0600) of ``nbytes``: used by Python clients and tests."""
    path = SHM_DIR / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, nbytes)
    finally:
        os.close(fd)
    return path
