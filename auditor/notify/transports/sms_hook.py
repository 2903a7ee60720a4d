"""The SMS hook: an HTTP POST of the channel's JSON template, with its secret header."""

from __future__ import annotations

import urllib.error
import urllib.request

from palisade.auditor.notify import templates
from palisade.auditor.notify.messages import Delivery, template_values
from palisade.auditor.notify.models import SmsHookConfig
from palisade.auditor.notify.transports import PermanentDeliveryError

# Answers that may succeed later (overload, auth being fixed, ...); other 4xx are final.
_RETRYABLE_4XX = {401, 403, 404, 408, 409, 425, 429}


def body(delivery: Delivery, config: SmsHookConfig) -> bytes:
    template = config.body_template or templates.DEFAULT_TEMPLATE
    return templates.render(template, template_values(delivery)).encode("utf-8")


class SmsHookTransport:
    def send(self, delivery: Delivery) -> None:
        config = delivery.channel.config
        assert isinstance(config, SmsHookConfig)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Palisade-Notify/1",
            "X-Palisade-Delivery": delivery.delivery_id,  # the receiver can drop repeats
        }
        if config.secret_header:
            headers[config.secret_header] = config.secret_value
        request = urllib.request.Request(
            config.url, data=body(delivery, config), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=config.timeout_s) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500 and exc.code not in _RETRYABLE_4XX:
                raise PermanentDeliveryError(f"the hook answered HTTP {exc.code}") from None
            raise ConnectionError(f"the hook answered HTTP {exc.code}") from None
