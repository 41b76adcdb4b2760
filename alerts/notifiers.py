"""Notifiers: deliver a message and say whether a failure is worth retrying.

SlackNotifier  chat.postMessage with a bot token (slack-sdk); replies go into a thread, and
               chat.update keeps the incident's first message showing its current state.
WebhookNotifier  an incoming webhook instead (alerts/webhook.py): one fixed channel, no threads,
               updates or uploads.
ConsoleNotifier  prints the message; what the demo and a token-less install use.

Tokens never appear in errors: slack-sdk's exceptions carry the response, not the request.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Protocol, TextIO

from alerts.alert_message import render_console
from alerts.errors import PermanentNotifyError, RetryableNotifyError
from alerts.limits import fit
from alerts.pacing import Pacer

log = logging.getLogger(__name__)

PERMANENT = {
    "invalid_auth": ("the bot token is not valid", "slack.token"),
    "not_authed": ("no bot token was sent", "slack.token"),
    "token_revoked": ("the bot token was revoked", "slack.token"),
    "account_inactive": ("the bot's account is deactivated", "slack.token"),
    "missing_scope": ("the bot token lacks a scope (chat:write; files:write for charts)",
                      "slack.token"),
    "not_allowed_token_type": ("this token type cannot call the method; use a bot token",
                               "slack.token"),
    "channel_not_found": ("the channel does not exist or the bot cannot see it", "slack.channel"),
    "not_in_channel": ("the bot is not a member of the channel; /invite it", "slack.channel"),
    "is_archived": ("the channel is archived", "slack.channel"),
    "invalid_blocks": ("Slack rejected the message blocks", None),
}


@dataclass
class Outgoing:
    channel: str
    message: dict               # {"text", "blocks"}
    thread_ts: str | None = None


@dataclass
class Delivery:
    channel: str
    ts: str | None
    where: str                  # human-readable destination, e.g. "Slack #crisis"


class Notifier(Protocol):
    def send(self, out: Outgoing) -> Delivery: ...

    # optional: update(channel_id, ts, message) edits a message already sent (SlackNotifier)


class SlackNotifier:
    def __init__(self, client, pacer: Pacer | None = None) -> None:
        """`client` is a slack_sdk.WebClient (built with token, base_url, and retry_handlers=[]);
        `pacer` spaces the posts to one channel (alerts/pacing.py)."""
        self.client = client
        self.pacer = pacer
        self.charts_off = False

    def send(self, out: Outgoing) -> Delivery:
        message = fit(out.message)
        if self.pacer is not None:
            self.pacer.wait(out.channel)
        resp = self._call(self.client.chat_postMessage, channel=out.channel,
                          text=message["text"], blocks=message.get("blocks"),
                          thread_ts=out.thread_ts, unfurl_links=False, unfurl_media=False)
        channel = resp.get("channel", out.channel)
        return Delivery(channel, resp.get("ts"), f"Slack {out.channel}")

    def update(self, channel_id: str, ts: str, message: dict) -> None:
        """chat.update of a message already posted (the incident's first message), by the
        channel id Slack answered with and its ts."""
        message = fit(message)
        self._call(self.client.chat_update, channel=channel_id, ts=ts, text=message["text"],
                   blocks=message.get("blocks"))

    def upload_chart(self, channel_id: str, thread_ts: str | None, png: bytes,
                     title: str) -> bool:
        """files_upload_v2 into the alert's thread. A token without the files:write scope (or a
        token type that cannot upload) skips charts, said once; the message stands without."""
        if self.charts_off:
            return False
        try:
            self._call(self.client.files_upload_v2, channel=channel_id, thread_ts=thread_ts,
                       content=png, filename="chart.png", title=title)
        except PermanentNotifyError as exc:
            if getattr(exc, "code", "") not in ("missing_scope", "not_allowed_token_type"):
                raise
            self.charts_off = True
            log.warning("charts are off: %s (give the bot the files:write scope to get them)",
                        exc)
            return False
        return True

    @staticmethod
    def _call(method, **kwargs):
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            return method(**kwargs)
        except SlackApiError as exc:
            raise classify(exc.response.status_code, exc.response.data,
                           exc.response.headers) from None
        except (SlackClientError, OSError) as exc:
            raise RetryableNotifyError(f"Slack unreachable: {type(exc).__name__}") from None


def classify(status: int, data, headers) -> RetryableNotifyError | PermanentNotifyError:
    """The error a failed Slack answer means: retryable (429 with its Retry-After, 5xx) or
    permanent, naming the setting to fix."""
    error = (data or {}).get("error", "") if isinstance(data, dict) else ""
    if status == 429 or error == "ratelimited":
        retry_after = headers.get("Retry-After") or headers.get("retry-after")
        return RetryableNotifyError("Slack rate limit (429)",
                                    float(retry_after) if retry_after else None)
    if error in PERMANENT:
        what, setting = PERMANENT[error]
        where = f"; check {setting}" if setting else ""
        err = PermanentNotifyError(f"Slack said {error}: {what}{where}", setting)
        err.code = error
        return err
    if status >= 500:
        return RetryableNotifyError(f"Slack answered HTTP {status}")
    return PermanentNotifyError(f"Slack said {error or status}")


class ConsoleNotifier:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._n = 0

    def send(self, out: Outgoing) -> Delivery:
        stream = self.stream or sys.stdout
        self._n += 1
        bar = "─" * 78
        where = f"(thread reply) {out.channel}" if out.thread_ts else out.channel
        stream.write(f"\n{bar}\nALERT → console, would go to {where}\n{bar}\n"
                     f"{render_console(out.message)}\n{bar}\n")
        stream.flush()
        ts = out.thread_ts or f"console.{self._n}"
        return Delivery(out.channel, ts if not out.thread_ts else f"{ts}.{self._n}",
                        "the console")
