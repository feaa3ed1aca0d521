"""The sandbox wire format, shared by the host and the worker inside the sandbox.

Standard library only: the worker imports this file by path, without palaestra installed.

A frame is ``[u32 header length][u32 blob length][header JSON][blob bytes]``; the blob carries
file contents for uploads and downloads, so they are never base64-encoded.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

__all__ = ["MAX_HEADER", "ChannelClosed", "recv_frame", "send_frame"]

MAX_HEADER = 64 * 1024 * 1024
_PREFIX = struct.Struct(">II")


class ChannelClosed(Exception):
    """The other end closed the channel (the process on it exited or was killed)."""


def send_frame(sock: socket.socket, header: dict[str, Any], blob: bytes = b"") -> None:
    """Send one frame."""
    body = json.dumps(header, ensure_ascii=False).encode("utf-8")
    sock.sendall(_PREFIX.pack(len(body), len(blob)) + body + blob)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed("the channel closed mid-frame" if chunks else "the channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, max_blob: int) -> tuple[dict[str, Any], bytes]:
    """Receive one frame; a frame larger than the limits is a protocol error."""
    header_size, blob_size = _PREFIX.unpack(_read_exactly(sock, _PREFIX.size))
    if header_size > MAX_HEADER or blob_size > max_blob:
        raise ValueError(f"frame too large: header {header_size} bytes, blob {blob_size} bytes")
    header = json.loads(_read_exactly(sock, header_size))
    blob = _read_exactly(sock, blob_size) if blob_size else b""
    return header, blob
