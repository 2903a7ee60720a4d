"""Raw HTTP over a socket, for requests a client library would not send."""

from __future__ import annotations

import socket
import threading


def exchange(address: tuple[str, int], data: bytes) -> bytes:
    """Send `data` while reading the answer: a server that rejects a request early answers
    and hangs up before the client has sent it all."""
    received: list[bytes] = []
    with socket.create_connection(address, timeout=10) as s:

        def read() -> None:
            try:
                while chunk := s.recv(65536):
                    received.append(chunk)
            except OSError:
                pass

        reader = threading.Thread(target=read)
        reader.start()
        try:
            s.sendall(data)
        except OSError:
            pass  # the server answered and hung up mid-request
        reader.join(10)
    return b"".join(received)
