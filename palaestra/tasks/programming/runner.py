"""The process that runs an answer for the hidden-test harness: untrusted and expendable.

Standard library only. The harness (`harness.py`) starts it as ``python -s -S -B -c <this
source> CONFIG_JSON`` in the grading sandbox, with its current directory on the read-only root.
It sets its own limits, loads the answer (and the task's visible preamble) into a namespace named
``solution``, says whether the function is there, then answers one request per line on stdin:

    {"i": 3, "args": ..., "kwargs": ..., "wrap": null}   call the function, send back the value
    {"i": 7, "setup": ..., "check": ..., "names": [...]}  a weak check: run test code, pass or fail

Every reply is one JSON line on a private duplicate of the original stdout; the answer's own
``print`` output (descriptor 1) goes to /dev/null. Values travel in a small tagged JSON encoding
(`encode`, `decode`) that keeps tuples, sets, dicts with any keys, bytes and complex numbers.

Nothing here is trusted, and nothing here is secret: the answer runs in this process and may
replace any of it. The harness never sends an expected value, so all the answer can do is choose
what it sends back, which is what returning a value does anyway.
"""

from __future__ import annotations

import builtins
import json
import math
import operator
import os
import sys
from typing import Any

__all__ = ["decode", "encode", "main"]

MAX_DEPTH = 200
"""Deepest nesting `encode` and `decode` follow (deeper values are not sent)."""


class Unencodable(Exception):
    """A value the tagged encoding cannot carry."""


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON data: plain scalars and lists as they are, other containers tagged."""
    if depth > MAX_DEPTH:
        raise Unencodable("nested too deeply")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        number = float(value)
        if math.isfinite(number):
            return number
        return {"__f": repr(number)}
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, tuple):
        return {"__t": [encode(item, depth + 1) for item in value]}
    if isinstance(value, dict):
        return {"__d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, frozenset):
        return {"__fs": [encode(item, depth + 1) for item in value]}
    if isinstance(value, set):
        return {"__s": [encode(item, depth + 1) for item in value]}
    if isinstance(value, (bytes, bytearray)):
        return {"__b": bytes(value).hex()}
    if isinstance(value, complex):
        return {"__c": [encode(value.real, depth + 1), encode(value.imag, depth + 1)]}
    if hasattr(type(value), "__index__"):
        return operator.index(value)  # numpy integers and the like
    raise Unencodable(type(value).__name__)


def decode(data: Any, depth: int = 0) -> Any:
    """The value `encode` made ``data`` from; a `ValueError` for anything else."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, float):
        return data
    if isinstance(data, list):
        return [decode(item, depth + 1) for item in data]
    if isinstance(data, dict) and len(data) == 1:
        ((tag, body),) = data.items()
        if tag == "__f" and body in ("inf", "-inf", "nan"):
            return float(body)
        if tag == "__b" and isinstance(body, str):
            return bytes.fromhex(body)
        if isinstance(body, list):
            items = [decode(item, depth + 1) for item in body]
            if tag == "__t":
                return tuple(items)
            if tag == "__s":
                return set(items)
            if tag == "__fs":
                return frozenset(items)
            if tag == "__c" and len(items) == 2:
                return complex(items[0], items[1])
            if tag == "__d" and all(isinstance(p, list) and len(p) == 2 for p in items):
                return {key: value for key, value in items}
    raise ValueError("not a value in the harness's encoding")


# ----------------------------------------------------------------------------------- the process
def _limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    size = memory_mb * 1024 * 1024
    # Soft and hard limits both: the answer cannot raise them again.
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        # When the sandbox runs out of memory, the kernel kills this process, not the harness.
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def _truth(value: Any) -> bool | None:
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - a value whose truth cannot be told has none
        return None


def _call(request: dict[str, Any], function: Any) -> dict[str, Any]:
    args = decode(request.get("args", []))
    kwargs = decode(request.get("kwargs", {"__d": []}))
    value = function(*args, **kwargs)
    wrap = request.get("wrap")
    if wrap:
        name, extra_args, extra_kwargs = wrap
        value = getattr(builtins, name)(value, *decode(extra_args), **decode(extra_kwargs))
    reply: dict[str, Any] = {"i": request["i"], "ok": True, "t": _truth(value)}
    try:
        reply["v"] = encode(value)
    except (Unencodable, ValueError, RecursionError) as exc:
        reply["v"] = None
        reply["unencodable"] = str(exc)[:60]
    return reply


def _check(
    request: dict[str, Any], function: Any, solution: dict[str, Any], tests: dict[str, Any]
) -> dict[str, Any]:
    if not tests:
        # As the datasets' own harnesses do: the tests run among the solution's names.
        tests.update(solution, __name__="tests")
        exec(compile(request.get("setup", ""), "<tests>", "exec"), tests)
    for name in request.get("names", []):
        tests[name] = function
    try:
        exec(compile(request["check"], "<check>", "exec"), tests)
    except AssertionError:
        return {"i": request["i"], "ok": True, "passed": False}
    return {"i": request["i"], "ok": True, "passed": True}


def main() -> None:
    """Load the answer, then answer the harness's requests until stdin closes."""
    config = json.loads(sys.argv[1])
    sys.path[:] = config["path"]
    _limit_resources(int(config["memory_mb"]), int(config["cpu_seconds"]))
    results = os.fdopen(os.dup(1), "w", encoding="utf-8", errors="replace")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.chdir(config["workdir"])

    def send(reply: dict[str, Any]) -> None:
        results.write(json.dumps(reply) + "\n")
        results.flush()

    namespace: dict[str, Any] = {"__name__": "solution", "__builtins__": builtins}
    try:
        for label, path in (("<preamble>", config["preamble"]), ("<answer>", config["source"])):
            with open(path, encoding="utf-8") as handle:
                code = handle.read()
            exec(compile(code, label, "exec"), namespace)
        function = namespace.get(config["entry_point"])
        if not callable(function):
            raise NameError(f"the answer defines no function {config['entry_point']!r}")
    except BaseException as exc:  # noqa: BLE001 - every failure to load is reported
        send({"ready": False, "error": type(exc).__name__, "message": f"{exc}"[:200]})
        return
    send({"ready": True})

    tests: dict[str, Any] = {}
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        request = json.loads(line)
        try:
            if "check" in request:
                reply = _check(request, function, namespace, tests)
            else:
                reply = _call(request, function)
        except BaseException as exc:  # noqa: BLE001 - the answer's failures are results
            reply = {"i": request["i"], "ok": False, "error": type(exc).__name__}
        send(reply)


if __name__ == "__main__":
    main()
