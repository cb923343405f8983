"""Domain exceptions. Each message names the input at fault and what the user can do about it."""


class CodemillError(Exception):
    """Base class for every error codemill raises on purpose."""


class ConfigError(CodemillError):
    """A setting is missing or invalid."""


class BrokerError(CodemillError):
    """The Kafka broker could not be started, reached or administered."""


class RepositoryError(CodemillError):
    """A git repository could not be cloned, fetched or read."""


class WebhookError(CodemillError):
    """A webhook request was refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
