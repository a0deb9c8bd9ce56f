"""Sending mail over SMTP with the standard library."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from maizeplus.settings import Settings


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


@dataclass(frozen=True)
class MailServer:
    """The SMTP server, login and sender of outgoing mail, from the ``MAIZEPLUS_SMTP_*`` settings."""

    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    timeout_seconds: float
    sender: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MailServer | None:
        """Return the configured server, or None when no SMTP host is set."""
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=(
                settings.smtp_password.get_secret_value()
                if settings.smtp_password
                else None
            ),
            starttls=settings.smtp_starttls,
            timeout_seconds=settings.smtp_timeout_seconds,
            sender=settings.mail_from,
        )


def build_message(
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    attachments: tuple[Attachment, ...] = (),
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    for attachment in attachments:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return message


def send_messages(server: MailServer, messages: list[EmailMessage]) -> None:
    """Deliver messages over one SMTP connection; raises ``OSError`` or ``smtplib.SMTPException``."""
    with smtplib.SMTP(server.host, server.port, timeout=server.timeout_seconds) as smtp:
        if server.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if server.username:
            smtp.login(server.username, server.password or "")
        for message in messages:
            smtp.send_message(message)
