"""A SPARQL worker process: runs queries one at a time over a read-only store snapshot.

Started by :mod:`loader.query.service` as ``python -m loader.query.worker``; it reads
framed requests on stdin and writes framed, fully serialised results on stdout. The
parent enforces the time limit by killing the process, which is the only way to stop a
pyoxigraph query. Before it touches any query the worker caps its own heap
(SPARQL_WORKER_MEMORY), lowers its CPU priority so pages stay responsive, and, when no
SERVICE endpoint is allowed, moves into a network namespace of its own: it can reach
nothing, whatever a query says. Queries run in a thread with a large stack
(:data:`QUERY_STACK`): the engine's parser recurses once per level of nesting, and the
checks of :mod:`loader.query.policy` keep queries far below what that stack holds.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import struct
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

_FRAME = struct.Struct(">II")  # header length, body length
#: Stack of the thread running queries: 8 times a main thread's usual 8 MiB.
QUERY_STACK = 64 << 20
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


def write_frame(out: IO[bytes], header: dict[str, Any], body: bytes = b"") -> None:
    """One message: lengths, a JSON header, raw body bytes."""
    head = json.dumps(header).encode()
    out.write(_FRAME.pack(len(head), len(body)) + head + body)
    out.flush()


def read_frame(inp: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    """The next message, or None at end of input."""
    prefix = _read_exactly(inp, _FRAME.size)
    if prefix is None:
        return None
    head_len, body_len = _FRAME.unpack(prefix)
    head = _read_exactly(inp, head_len)
    body = _read_exactly(inp, body_len) if body_len else b""
    if head is None or body is None:
        return None
    header: dict[str, Any] = json.loads(head)
    return header, body


def _read_exactly(inp: IO[bytes], size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = inp.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def isolate_network() -> bool:
    """Move this (still single-threaded) process into an empty network namespace."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) == 0:
            return True
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
            return False
        # Keep our own uid and gid inside the new user namespace, so files stay readable.
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"{uid} {uid} 1"),
            ("gid_map", f"{gid} {gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w", encoding="ascii") as fh:  # noqa: PTH123
                fh.write(text)
        return True
    except (OSError, AttributeError):
        return False


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    import resource

    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _exit_with_parent(parent: int) -> None:
    """Leave as soon as the web process is gone (even mid-query)."""

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def serve(inp: IO[bytes], out: IO[bytes], isolated: bool) -> None:
    """Answer requests until the input ends."""
    import pyoxigraph as ox

    from loader.query.execute import QueryOutcome, QueryRequest, execute

    store: ox.Store | None = None
    opened: str | None = None
    while True:
        message = read_frame(inp)
        if message is None:
            return
        header, _ = message
        snapshot = header["snapshot"]
        if snapshot != opened:
            store, opened = None, None  # closes the previous snapshot first
            try:
                store = ox.Store.read_only(snapshot)
                opened = snapshot
            except OSError as exc:
                print(f"cannot open snapshot {snapshot}: {exc}", file=sys.stderr)
        if store is None:
            outcome = QueryOutcome(
                status=503, title="Store unavailable", message="Please try again shortly."
            )
        elif header.get("request") is None:
            outcome = QueryOutcome()
        else:
            outcome = execute(
                store, QueryRequest.from_json(header["request"]), network_isolated=isolated
            )
        write_frame(out, outcome.header(), outcome.body)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m loader.query.worker``."""
    parser = argparse.ArgumentParser(description="Bigtent SPARQL worker (internal)")
    parser.add_argument("--memory", type=int, default=0, help="heap limit in MB (0: none)")
    parser.add_argument("--isolate", action="store_true", help="run without network access")
    args = parser.parse_args(argv)
    isolated = isolate_network() if args.isolate else False
    parent = os.getppid()
    import pyoxigraph  # noqa: F401  (imported before the heap limit applies)

    import loader.query.execute  # noqa: F401

    _limit_memory(args.memory)
    with contextlib.suppress(OSError):
        os.nice(5)
    _exit_with_parent(parent)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints go to the log, never into the result pipe
    write_frame(out, {"ready": True, "isolated": isolated, "pid": os.getpid()})
    try:
        threading.stack_size(QUERY_STACK)
        runner = threading.Thread(
            target=serve, args=(sys.stdin.buffer, out, isolated), name="queries"
        )
        runner.start()
    except (RuntimeError, ValueError):  # a heap limit too small for the stack
        threading.stack_size(0)
        serve(sys.stdin.buffer, out, isolated)
    else:
        runner.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
