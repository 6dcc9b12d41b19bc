"""A tiny TCP proxy on loopback that can cut connections, for fault tests.

Every connection is forwarded to ``target``. While ``cut_after`` is set, whenever the
connections together have carried another ``cut_after`` bytes towards the target, the
connection carrying the next byte is closed at once (both sides, mid-request), as a crash
or a network fault would; ``cuts`` counts them and ``cut_times`` limits them (then the
proxy forwards normally again). :meth:`down` makes the target unreachable (every open
connection closed, new ones closed at once, as a stopped server's refused connections) until
:meth:`up`; :meth:`cut_after_sending` forwards the client's message holding a pattern (say,
PostgreSQL's ``COMMIT``) and then drops the connection before any answer comes back.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

from live_server import free_port


class CuttingProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; cuts connections on demand."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.cut_after: int | None = None
        self.cut_times = 0
        self.cuts = 0
        self._carried = 0  # bytes towards the target since the last cut
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._closed = False
        self._down = False
        self._pattern: bytes | None = None
        self._after: bytes | None = None
        self._primed: set[int] = set()
        self.pattern_cuts = 0
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        """``http://127.0.0.1:port`` + path."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self._down:
                with contextlib.suppress(OSError):
                    client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def down(self) -> None:
        """Make the target unreachable: close every connection, refuse new ones."""
        self._down = True
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def up(self) -> None:
        """Reach the target again."""
        self._down = False

    def cut_after_sending(self, pattern: bytes, after: bytes | None = None) -> None:
        """The next client message holding ``pattern`` (on a connection that has sent
        ``after`` before it, if given) reaches the target; then its connection is
        dropped before the answer comes back (once)."""
        with self._lock:
            self._pattern, self._after, self._primed = pattern, after, set()

    def _matches(self, source: socket.socket, data: bytes) -> bool:
        with self._lock:
            if self._pattern is None:
                return False
            if self._after is not None and id(source) not in self._primed:
                if self._after in data:
                    self._primed.add(id(source))
                    data = data[data.index(self._after) :]
                else:
                    return False
            if self._pattern not in data:
                return False
            self._pattern = None
            self.pattern_cuts += 1
            return True

    def arm(self, after: int, times: int = 1) -> None:
        """Cut the connection carrying byte number ``after`` from now, ``times`` times."""
        with self._lock:
            self._carried = 0
            self.cut_after, self.cut_times, self.cuts = after, times, 0

    def _allowance(self, size: int) -> int | None:
        """Bytes of the next ``size`` to forward before cutting, or None: forward all."""
        with self._lock:
            self._carried += size
            if self.cut_after is None or self.cuts >= self.cut_times:
                return None
            if self._carried < self.cut_after:
                return None
            self.cuts += 1
            allowed = max(0, size - (self._carried - self.cut_after))
            self._carried = 0
            return allowed

    def _pump(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if outbound and self._matches(source, data):
                    sink.sendall(data)
                    # the target gets the whole message; the answer never comes back
                    with contextlib.suppress(OSError):
                        source.shutdown(socket.SHUT_RDWR)
                    time.sleep(0.5)
                    break
                allowed = self._allowance(len(data)) if outbound else None
                if allowed is not None:
                    sink.sendall(data[:allowed])
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._closed = True
        self._server.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
