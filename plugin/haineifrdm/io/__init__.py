"""Frame I/O: read and write image sequences without ever losing a frame."""

from .frames import (
    FrameInfo,
    atomic_write,
    list_frames,
    read_frame,
    read_sequence,
    write_frame,
)

__all__ = ["FrameInfo", "atomic_write", "list_frames", "read_frame", "read_sequence",
           "write_frame"]
