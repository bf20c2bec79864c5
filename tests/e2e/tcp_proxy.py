"""A loopback TCP proxy that can cut every connection: a network drop, on demand.

The bot talks to Mattermost through it; `cut()` closes the bot's connections and
refuses new ones until `restore()`, while the server keeps running. `hold_request(b"POST
/api/v4/...")` stops the first request that starts with those bytes before the server sees
it; `hold_response(...)` lets it reach the server but keeps the answer from the bot. Either
way `held` is set, so a test can kill the bot at that exact point; `release()` then drops
the held bytes and closes that connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._refusing = False
        self._closed = False
        self._pattern = b""
        self._hold_answer = False
        self._held_pair: tuple[socket.socket, socket.socket] | None = None
        self.held = threading.Event()
        self._released = threading.Event()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        with self._lock:
            self._refusing = True
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def hold_request(self, pattern: bytes) -> None:
        self._arm(pattern, answer=False)

    def hold_response(self, pattern: bytes) -> None:
        self._arm(pattern, answer=True)

    def _arm(self, pattern: bytes, *, answer: bool) -> None:
        with self._lock:
            self._pattern, self._hold_answer, self._held_pair = pattern, answer, None
        self.held.clear()
        self._released.clear()

    def release(self) -> None:
        """Drop what is held and close its connection; stop holding."""
        with self._lock:
            self._pattern = b""
            pair = self._held_pair
        self._released.set()
        for sock in pair or ():
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        with self._lock:
            self._refusing = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refusing = self._refusing
            if refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            pair = (client, upstream)
            threading.Thread(target=self._pump, args=(client, upstream, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair), daemon=True).start()

    def _should_hold(self, chunk: bytes, is_request: bool, pair: tuple[socket.socket, ...]) -> bool:
        with self._lock:
            if is_request and self._pattern and self._held_pair is None:
                if chunk.startswith(self._pattern):
                    self._held_pair = (pair[0], pair[1])
                    return not self._hold_answer
                return False
            # The answer to the request we let through, on that same connection.
            return not is_request and self._hold_answer and self._held_pair == pair

    def _pump(
        self, source: socket.socket, target: socket.socket, pair: tuple[socket.socket, ...]
    ) -> None:
        is_request = source is pair[0]
        try:
            while chunk := source.recv(65536):
                if self._should_hold(chunk, is_request, pair):
                    self.held.set()
                    self._released.wait()
                    break  # the held bytes are never delivered
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
