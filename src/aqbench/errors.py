"""Typed errors. Each message says what is wrong and what to change; the CLI prints it as one line."""


class AqbenchError(Exception):
    """Base of every error the CLI turns into one line on stderr and a non-zero exit."""

    exit_code = 1


class ConfigError(AqbenchError):
    """A profile, option or argument is invalid; nothing has been done yet."""

    exit_code = 2


class DataError(AqbenchError):
    """Input data cannot be read at all (missing, unreadable, corrupt compression)."""

    exit_code = 3


class VerificationError(AqbenchError):
    """An engine's result differs from the independent reference: the run must not count."""

    exit_code = 4


class RunFailed(AqbenchError):
    """Calls or tasks of a run failed past their retries: the message names them."""

    exit_code = 5


class UnreliableRatio(AqbenchError):
    """A ratio the paper would quote is impossible or rests on a machine that changed during the run."""

    exit_code = 6
