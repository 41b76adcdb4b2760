"""Notifiers: deliver a message and say whether a failure is worth retrying.

SlackNotifier  chat.postMessage with a bot token (slack-sdk); replies go into a thread.
ConsoleNotifier  prints the message; what the demo and a token-less install use.

Tokens never appear in errors: slack-sdk's exceptions carry the response, not the request.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol, TextIO

from alerts.errors import PermanentNotifyError, RetryableNotifyError
from alerts.message import render_console

PERMANENT = {
    "invalid_auth": ("the bot token is not valid", "slack.token"),
    "not_authed": ("no bot token was sent", "slack.token"),
    "token_revoked": ("the bot token was revoked", "slack.token"),
    "account_inactive": ("the bot's account is deactivated", "slack.token"),
    "missing_scope": ("the bot token lacks the chat:write scope", "slack.token"),
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


class SlackNotifier:
    def __init__(self, client) -> None:
        """`client` is a slack_sdk.WebClient (built with token, base_url, and retry_handlers=[])."""
        self.client = client

    def send(self, out: Outgoing) -> Delivery:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            resp = self.client.chat_postMessage(
                channel=out.channel, text=out.message["text"], blocks=out.message.get("blocks"),
                thread_ts=out.thread_ts, unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = (exc.response.data or {}).get("error", "") if isinstance(
                exc.response.data, dict) else ""
            if status == 429 or error == "ratelimited":
                retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get(
                    "retry-after")
                raise RetryableNotifyError("Slack rate limit (429)",
                                           float(retry_after) if retry_after else None) from None
            if error in PERMANENT:
                what, setting = PERMANENT[error]
                where = f"; check {setting}" if setting else ""
                raise PermanentNotifyError(f"Slack said {error}: {what}{where}", setting) from None
            if status >= 500:
                raise RetryableNotifyError(f"Slack answered HTTP {status}") from None
            raise PermanentNotifyError(f"Slack said {error or status}") from None
        except (SlackClientError, OSError) as exc:
            raise RetryableNotifyError(f"Slack unreachable: {type(exc).__name__}") from None
        channel = resp.get("channel", out.channel)
        return Delivery(channel, resp.get("ts"), f"Slack {out.channel}")


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
