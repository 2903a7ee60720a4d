"""The SMS hook: an HTTP POST of the channel's JSON template, with its secret header.

Before each send the URL is checked again (`hook_targets`): the host is resolved, every
address must be allowed, and the request goes to those addresses, not to a second look-up
(the Host header and TLS server name are still the URL's host, and the certificate is
verified against it). Redirects are not followed; proxies are not used.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Sequence

from palisade.auditor.notify import hook_targets, templates
from palisade.auditor.notify.hook_targets import HookPolicy, HookUrl, HookUrlError
from palisade.auditor.notify.messages import Delivery, template_values
from palisade.auditor.notify.models import SmsHookConfig
from palisade.auditor.notify.transports import PermanentDeliveryError

# Answers that may succeed later (overload, auth being fixed, ...); other 4xx are final.
_RETRYABLE_4XX = {401, 403, 404, 408, 409, 425, 429}


def body(delivery: Delivery, config: SmsHookConfig) -> bytes:
    template = config.body_template or templates.DEFAULT_TEMPLATE
    return templates.render(template, template_values(delivery)).encode("utf-8")


def _connect(addresses: Sequence[str], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of `addresses` that answers."""
    error: OSError = ConnectionError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, url: HookUrl, addresses: Sequence[str], timeout: float):
        super().__init__(url.host, url.port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, url: HookUrl, addresses: Sequence[str], timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(url.host, url.port, timeout=timeout, context=self._tls)
        self._addresses = addresses

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class SmsHookTransport:
    def __init__(self, policy: HookPolicy | None = None):
        self.policy = policy or HookPolicy()

    def _destination(self, url: str) -> tuple[HookUrl, list[str] | None]:
        """The URL and the checked addresses to connect to (None: an allowed host, looked up
        as usual). A refused URL is a permanent failure; a name that does not resolve (now)
        is retried."""
        try:
            parsed = hook_targets.parse(url)
            if self.policy.allows_host(parsed.host):
                return parsed, None
            return parsed, self.policy.addresses(parsed)
        except HookUrlError as exc:
            raise PermanentDeliveryError(f"the hook URL is refused: {exc.message}") from None
        except UnicodeError:
            raise PermanentDeliveryError("the hook URL's host is not a valid name") from None

    def send(self, delivery: Delivery) -> None:
        config = delivery.channel.config
        assert isinstance(config, SmsHookConfig)
        url, addresses = self._destination(config.url)
        headers = {
            "Host": url.host_header,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Palisade-Notify/1",
            "X-Palisade-Delivery": delivery.delivery_id,  # the receiver can drop repeats
        }
        if config.secret_header:
            headers[config.secret_header] = config.secret_value
        if addresses is None:
            addresses = [url.host]
        connection: http.client.HTTPConnection
        if url.scheme == "https":
            connection = _PinnedHTTPSConnection(url, addresses, config.timeout_s)
        else:
            connection = _PinnedHTTPConnection(url, addresses, config.timeout_s)
        try:
            connection.request("POST", url.target, body=body(delivery, config), headers=headers)
            response = connection.getresponse()
            response.read(65536)
            status = response.status
        finally:
            connection.close()
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise PermanentDeliveryError(
                f"the hook answered HTTP {status}; redirects are not followed, give the final URL"
            )
        if 400 <= status < 500 and status not in _RETRYABLE_4XX:
            raise PermanentDeliveryError(f"the hook answered HTTP {status}")
        raise ConnectionError(f"the hook answered HTTP {status}")
