"""Email over SMTP (smtplib): STARTTLS or implicit TLS when configured, login when
credentials are given. The password is used for `login` only, never logged."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from palisade.auditor.notify.messages import Delivery, subject, text_body
from palisade.auditor.notify.models import EmailConfig
from palisade.auditor.notify.transports import PermanentDeliveryError


def _domain(address: str) -> str:
    _, _, domain = address.rpartition("@")
    return domain.strip(">") or "palisade.invalid"


def build_message(delivery: Delivery, config: EmailConfig) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.recipients)
    msg["Subject"] = subject(delivery)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    # stable across retries: a copy re-sent after a takeover is recognisably the same
    msg["Message-ID"] = f"<{delivery.delivery_id}.{delivery.channel.channel_id}@" + (
        f"{_domain(config.sender)}>"
    )
    msg["X-Palisade-Level"] = delivery.level
    msg["X-Palisade-Alert-Ids"] = ",".join(e.alert_id for e in delivery.events)
    msg.set_content(text_body(delivery))
    return msg


def tls_context(config: EmailConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if config.ca_pem:
        context.load_verify_locations(cadata=config.ca_pem)
    return context


class EmailTransport:
    def send(self, delivery: Delivery) -> None:
        config = delivery.channel.config
        assert isinstance(config, EmailConfig)
        msg = build_message(delivery, config)
        if config.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_s, context=tls_context(config)
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
        try:
            client.ehlo()
            if config.security == "starttls":
                client.starttls(context=tls_context(config))
                client.ehlo()
            if config.username:
                client.login(config.username, config.password)
            client.send_message(msg, from_addr=config.sender, to_addrs=list(config.recipients))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise PermanentDeliveryError(f"the SMTP server refused the addresses: {exc}") from None
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
