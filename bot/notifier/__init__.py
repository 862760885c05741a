"""Sending the outbox: one-time codes and other messages to a customer's registered contact.

Rows in `outbox_messages` are written in the same transaction as the change that causes
them (transactional outbox). The `Dispatcher` claims due rows, sends them by SMS (the
company's SMS REST API) or email (SMTP), and records the outcome; the `Notifier` runs a
dispatch in the background right after a conversation turn queued a row, and the worker
runs one on every loop for retries. In demo mode nothing leaves the machine: the row is
the delivery, read with `privacybot outbox` or at `/dev/outbox`.
"""

from bot.notifier.base import SendError
from bot.notifier.dispatch import Dispatcher, Notifier, Policy
from bot.notifier.sms import SmsClient
from bot.notifier.smtp import EmailSender

__all__ = ["Dispatcher", "EmailSender", "Notifier", "Policy", "SendError", "SmsClient"]
