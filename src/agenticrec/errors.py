"""Exceptions that carry a message meant for the person running agenticrec."""


class AgenticRecError(Exception):
    """Base class: the CLI prints these without a traceback."""


class ConfigError(AgenticRecError):
    """A config file or override is invalid."""


class DataError(AgenticRecError):
    """Input data is missing or malformed; the message names the file, record and problem."""
