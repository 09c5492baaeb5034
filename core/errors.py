"""The one error hierarchy of smartcity.

Every error smartcity raises on purpose is a :class:`SmartcityError` whose message is meant for
the user: one line that names what is wrong and what to do. Each has a *kind*:

* **transient**: the same call may succeed later without anyone changing anything (the broker is
  away, a timeout, a coordinator moving). Flows retry these, daemons wait and try again.
* **terminal**: it fails the same way until someone changes something (a bad setting, a malformed
  message, a missing topic, a lake that disagrees with its topic). Nothing retries these.

Retries decide with :func:`is_transient`, never by class name. A class has a default kind; a
raise can override it (``SinkError("...", transient=True)``).
"""

from __future__ import annotations

import errno


class SmartcityError(Exception):
    """Root of every error smartcity raises on purpose; its message is meant for the user."""

    exit_code = 1
    transient = False

    def __init__(self, *args: object, transient: bool | None = None) -> None:
        super().__init__(*args)
        if transient is not None:
            self.transient = transient


class TransientError(SmartcityError):
    """May succeed when retried later: the broker away, a timeout, a coordinator moving."""

    transient = True


class TerminalError(SmartcityError):
    """Fails the same way until someone changes something; never retried."""


# -- terminal by default ----------------------------------------------------------------------------

class ConfigError(TerminalError):
    """An invalid setting or command-line value; the message names it and where it came from."""

    exit_code = 2


class DecodeError(TerminalError):
    """Bytes that are not a valid message of the expected type."""

    def __init__(self, message_type: str, reason: str) -> None:
        self.message_type = message_type
        self.reason = reason
        super().__init__(f"cannot decode {message_type}: {reason}")


class EncodeError(TerminalError):
    """A message that cannot be encoded (an unknown encoding, a wrong type)."""


class UnsafePathError(TerminalError, ValueError):
    """A value from a message (an id, a topic) that would take a path outside the lake."""


class FeedError(TerminalError):
    """A GTFS feed that cannot be used; the message names the file (and row) and what is wrong."""

    exit_code = 2


class BrokerError(TerminalError):
    """The development broker could not be provisioned, started or stopped."""


class KafkaSetupError(TerminalError):
    """A Kafka admin operation (topics, metadata) failed."""


class SinkError(TerminalError):
    """The sink cannot go on (bad topics, a failed write, an unreachable dead-letter topic)."""


class CorruptStateError(TerminalError):
    """A state file or manifest of the lake cannot be read; the message names it and the fix."""


class FencedBatch(SmartcityError):
    """A batch that does not follow the lake's landed offset of its partition: another member (a new
    owner, or this one before a rebalance) has landed that range. The batch is discarded; the member
    reads again from the lake's offset. Neither transient nor an error of the run."""

    def __init__(self, topic: str, partition: int, first: int, landed: int | None) -> None:
        super().__init__(f"{topic}[{partition}]: batch from offset {first} fenced: the lake has offsets up to "
                         f"{landed} landed (expected {first - 1})")
        self.topic, self.partition, self.first, self.landed = topic, partition, first, landed


class AlertsError(TerminalError):
    """The alerting daemon cannot go on (a fatal Kafka error, a changelog too small)."""


class ReportError(TerminalError):
    """The report cannot be built (no data for the date, a date that is not a date)."""


class DeploymentError(TerminalError):
    """prefect.yaml names something that does not exist or is malformed."""


class QueryError(TerminalError):
    """A query over the lake's catalog failed (DuckDB's message, one line)."""


class EdgeError(TerminalError):
    """The edge gateway cannot go on (a transport endpoint that cannot be bound, a damaged spool)."""


class LiveError(TerminalError):
    """The live view cannot start or cannot reach its store."""


# -- transient by default ---------------------------------------------------------------------------

class KafkaUnavailableError(TransientError):
    """The Kafka cluster did not answer in time (down, unreachable, a coordinator moving)."""


_TERMINAL_ERRNO = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT,
                   errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EINVAL}


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the operation that raised ``exc`` may succeed without anyone acting.

    smartcity's own errors say so themselves. Of the others, timeouts and lost connections are
    transient; so are I/O errors except those that need a person (a full disk, no permission, a
    missing or read-only path). librdkafka's errors say whether they are retriable. Anything
    else is a bug or bad data: terminal.
    """
    if isinstance(exc, SmartcityError):
        return exc.transient
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    if isinstance(exc, OSError):
        return exc.errno not in _TERMINAL_ERRNO
    kafka_error = exc.args[0] if exc.args else None
    retriable = getattr(kafka_error, "retriable", None)
    if callable(retriable) and type(exc).__name__ == "KafkaException":
        return bool(retriable()) and not bool(getattr(kafka_error, "fatal", lambda: False)())
    return False
