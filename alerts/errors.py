"""Errors raised by the alerts package (drawn with the whole project's in listener/errors.py).

    NotifyError                 a notification could not be delivered
     ├── RetryableNotifyError   try again later (.retry_after seconds if the service said so)
     └── PermanentNotifyError   retrying will not help; .setting names the config key to fix
    MatcherError                a silence matcher cannot be parsed; says what to write instead
    NabDataError                a folder is not in NAB's format; says which file and what is wrong
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


class MatcherError(ValueError):
    """A matcher that cannot be parsed; the message says what to write instead."""


class NabDataError(ValueError):
    """The folder is not in NAB's format; the message says which file and what is wrong."""
