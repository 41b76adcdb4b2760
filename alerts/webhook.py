"""WebhookNotifier: Slack through an incoming webhook (slack.webhook_url) instead of a bot token.

An incoming webhook posts to the one channel it was made for and answers "ok" and nothing else,
so, compared with a bot token:
  - every message goes to that channel (per-rule channels, routes, the critical channel, the
    reminder and digest channels are not used);
  - no threads: an escalation, a resolution or an acknowledgement is a new message;
  - no chat.update: the first message keeps the state it was posted with;
  - no chart upload.

Errors: 429 (with its Retry-After) and 5xx are retried by the outbox; 4xx are permanent and name
slack.webhook_url. The URL is the secret: it is never in an error or a log line (slack-sdk's
client logs it at DEBUG, so it gets a logger of its own held at WARNING).
"""

from __future__ import annotations

import logging

from alerts.errors import PermanentNotifyError, RetryableNotifyError
from alerts.limits import fit
from alerts.notifiers import Delivery, Outgoing
from alerts.pacing import Pacer

SETTING = "slack.webhook_url"
WEBHOOK_ERRORS = {
    "no_service": "the webhook is disabled or removed",
    "no_team": "the webhook's workspace is gone",
    "invalid_token": "the webhook's token is not valid",
    "action_prohibited": "an admin has restricted posting with this webhook",
    "channel_not_found": "the webhook's channel is gone",
    "channel_is_archived": "the webhook's channel is archived",
    "posting_to_general_channel_denied": "only admins may post to this channel",
}


def quiet_logger() -> logging.Logger:
    """For slack-sdk's WebhookClient, which logs the webhook URL at DEBUG."""
    logger = logging.getLogger("alerts.webhook.client")
    logger.setLevel(logging.WARNING)
    return logger


class WebhookNotifier:
    def __init__(self, client, pacer: Pacer | None = None) -> None:
        """`client` is a slack_sdk.webhook.WebhookClient (retry_handlers=[], quiet_logger())."""
        self.client = client
        self.pacer = pacer

    def send(self, out: Outgoing) -> Delivery:
        message = fit(out.message)
        if self.pacer is not None:
            self.pacer.wait("webhook")    # one channel, whatever out.channel says
        try:
            resp = self.client.send(text=message["text"], blocks=message.get("blocks"),
                                    unfurl_links=False, unfurl_media=False)
        except Exception as exc:   # urllib's errors; their text may hold the URL
            raise RetryableNotifyError(f"Slack webhook unreachable: {type(exc).__name__}") \
                from None
        if resp.status_code == 200:
            return Delivery(out.channel, None, "Slack (incoming webhook)")
        raise classify_webhook(resp.status_code, resp.body, resp.headers or {})


def classify_webhook(status: int, body: str,
                     headers) -> RetryableNotifyError | PermanentNotifyError:
    error = (body or "").strip()[:64]
    if status == 429:
        retry_after = headers.get("Retry-After") or headers.get("retry-after")
        return RetryableNotifyError("Slack webhook rate limit (429)",
                                    float(retry_after) if retry_after else None)
    if status >= 500:
        return RetryableNotifyError(f"Slack webhook answered HTTP {status}")
    if error in WEBHOOK_ERRORS:
        err = PermanentNotifyError(f"Slack webhook said {error} (HTTP {status}): "
                                   f"{WEBHOOK_ERRORS[error]}; check {SETTING}", SETTING)
    elif status in (400, 413):
        err = PermanentNotifyError(f"Slack webhook refused the message (HTTP {status}, "
                                   f"{error or 'no reason'})")
    else:
        err = PermanentNotifyError(f"Slack webhook answered HTTP {status} ({error or 'no reason'});"
                                   f" check {SETTING}", SETTING)
    err.code = error
    return err
