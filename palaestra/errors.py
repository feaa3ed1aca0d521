"""Every exception palaestra raises, named after the boundary it crosses.

Agent mistakes are not exceptions: a malformed tool call becomes the next observation and
``info["error"]``. What is left here are misuses of the API, bad configuration or files, and
infrastructure that failed::

    PalaestraError
    ├── RegistrationError        unknown or duplicate env id
    ├── TaskError                unknown task id, bad task file, wrong split
    ├── RecordError              a trajectory file or record is malformed
    ├── EnvStateError            step before reset, step after the episode ended, fork failed
    ├── ToolError                a tool refused a call (precondition); envs show it to the agent
    ├── AgentError               an agent could not produce a reply (bad spec, model server failed)
    │   └── ModelLoadError       a model or tokenizer could not be found or loaded
    ├── ConfigError              a configuration value is invalid (also a ValueError)
    │   └── NoTrainingDataError  a trainer found nothing to learn from in the data it was given
    ├── MissingDependencyError   an optional extra is not installed (also an ImportError)
    ├── SandboxError             sandboxed execution failed
    │   └── SandboxTimeout       code ran past its wall-clock limit
    └── EnvServerError           the env server answered with an error or could not be reached
        ├── SessionNotFoundError no session has this id (closed, expired, never made)
        ├── ServerBusyError      the server holds its maximum number of sessions
        ├── ForbiddenError       a privileged call on a server that does not allow it
        └── SessionInUseError    a second WebSocket for a session that has one
"""

from __future__ import annotations

__all__ = [
    "AgentError",
    "ConfigError",
    "EnvServerError",
    "EnvStateError",
    "ForbiddenError",
    "MissingDependencyError",
    "NoTrainingDataError",
    "ModelLoadError",
    "PalaestraError",
    "RecordError",
    "RegistrationError",
    "SandboxError",
    "SandboxTimeout",
    "ServerBusyError",
    "SessionInUseError",
    "SessionNotFoundError",
    "TaskError",
    "ToolError",
]


class PalaestraError(Exception):
    """Root of every palaestra exception."""


class RegistrationError(PalaestraError):
    """An env id is unknown, or is registered twice with different entry points."""


class TaskError(PalaestraError):
    """A task id, task file or split is invalid."""


class RecordError(PalaestraError):
    """A trajectory file or record is malformed or missing."""


class EnvStateError(PalaestraError):
    """An env was used out of order: step before reset, step after the episode ended."""


class ToolError(PalaestraError):
    """A tool refused a well-formed call because a precondition does not hold.

    Tools raise it *before* changing any state, so a rejected call leaves the world as it was.
    Envs catch it and show the message to the agent; it never escapes ``step``.
    """


class AgentError(PalaestraError):
    """An agent could not produce a reply (bad agent spec, model server error)."""


class ModelLoadError(AgentError):
    """A model or tokenizer could not be found or loaded."""


class ConfigError(PalaestraError, ValueError):
    """A configuration value is invalid; the message says what was expected."""


class NoTrainingDataError(ConfigError):
    """The data give a trainer nothing to learn from: no success, no pair, nothing within length."""


class MissingDependencyError(PalaestraError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class SandboxError(PalaestraError):
    """Sandboxed execution failed for a reason other than the agent's code."""


class SandboxTimeout(SandboxError):
    """Sandboxed code ran past its wall-clock limit."""


class EnvServerError(PalaestraError):
    """The env server answered with an error or could not be reached."""


class SessionNotFoundError(EnvServerError):
    """No session has this id: it never existed, was closed, or expired after its idle TTL."""


class ServerBusyError(EnvServerError):
    """The server holds its maximum number of sessions; close some or try another server."""


class ForbiddenError(EnvServerError):
    """A privileged call (the oracle's ground truth) on a server that does not allow it."""


class SessionInUseError(EnvServerError):
    """A second WebSocket for a session that already has one (one connection per session)."""


def require(module: str, extra: str) -> None:
    """Raise a `MissingDependencyError` naming ``extra`` when ``module`` cannot be imported."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"{module!r} is not installed; install it with: pip install 'palaestra[{extra}]'"
        )
