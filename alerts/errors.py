"""Errors raised by the alerts package.

    NotifyError                 a notification could not be delivered
     ├── RetryableNotifyError   try again later (.retry_after seconds if the service said so)
     └── PermanentNotifyError   retrying will not help; .setting names the config key to fix
"""


class NotifyError(Exception):
    pass


class RetryableNotifyError(NotifyError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentNotifyError(NotifyError):
    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting
