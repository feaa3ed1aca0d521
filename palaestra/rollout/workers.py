"""Where envs run during collection: in this process (steps on a thread pool) or in Ray actors.

The collector only sees `EnvWorker`: ``reset`` and ``step`` return futures, so steps of many envs
run at once whether they are sandbox-bound threads here or actors on other machines.
"""

from __future__ import annotations

import concurrent.futures as futures
from collections.abc import Mapping
from typing import Any, Protocol

import gymnasium as gym

from palaestra.errors import MissingDependencyError

__all__ = ["EnvWorker", "LocalWorkers", "RayWorkers", "Workers"]

StepResult = tuple[str, float, bool, bool, dict[str, Any]]


class EnvWorker(Protocol):
    """One env, driven through futures."""

    env: Any
    """What an env-bound agent (the oracle) is given: the env, or a proxy with ``unwrapped``."""

    def reset(self, seed: int, options: dict[str, Any] | None) -> futures.Future[Any]:
        """Start resetting; the future holds ``(observation, info)``."""
        ...

    def step(self, action: str) -> futures.Future[Any]:
        """Start a step; the future holds the gymnasium 5-tuple."""
        ...

    def close(self) -> None:
        """Close the env."""
        ...


class Workers(Protocol):
    """A set of env workers and what they run on."""

    workers: list[EnvWorker]

    def close(self) -> None:
        """Close every env and what ran them."""
        ...


class _Inline(futures.Executor):
    """Runs the call at once: one env needs no threads."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        future: futures.Future[Any] = futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            future.set_exception(exc)
        return future


class _LocalWorker:
    def __init__(self, env: gym.Env[Any, Any], executor: futures.Executor) -> None:
        self.env = env
        self._executor = executor

    def reset(self, seed: int, options: dict[str, Any] | None) -> futures.Future[Any]:
        return self._executor.submit(self.env.reset, seed=seed, options=options)

    def step(self, action: str) -> futures.Future[Any]:
        return self._executor.submit(self.env.step, action)

    def close(self) -> None:
        self.env.close()


class LocalWorkers:
    """``count`` envs in this process; their steps share a thread pool (sandbox calls overlap)."""

    def __init__(
        self, env_id: str, env_kwargs: Mapping[str, Any], count: int, threads: int
    ) -> None:
        self._executor: futures.Executor = (
            futures.ThreadPoolExecutor(threads, thread_name_prefix="palaestra-env")
            if threads > 0
            else _Inline()
        )
        self.workers: list[EnvWorker] = []
        try:
            for _ in range(count):
                self.workers.append(
                    _LocalWorker(gym.make(env_id, **dict(env_kwargs)), self._executor)
                )
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the envs, then the threads."""
        for worker in self.workers:
            worker.close()
        self._executor.shutdown(wait=True)


class _RayEnv:
    """The Ray actor: one env in a worker process (the class is wrapped by ``ray.remote``)."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any]) -> None:
        import palaestra  # noqa: F401 - registers the envs in the actor's process

        self.env = gym.make(env_id, **env_kwargs)

    def reset(self, seed: int, options: dict[str, Any] | None) -> Any:
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str) -> Any:
        return self.env.step(action)

    def oracle_actions(self) -> list[str]:
        unwrapped: Any = self.env.unwrapped  # a palaestra env: it has the privileged oracle
        return list(unwrapped.oracle_actions())

    def close(self) -> None:
        self.env.close()


class _RayEnvProxy:
    """Stands for the actor's env where an env-bound agent asks for the privileged oracle."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    @property
    def unwrapped(self) -> _RayEnvProxy:
        return self

    def oracle_actions(self) -> list[str]:
        import ray

        return list(ray.get(self._actor.oracle_actions.remote()))


class _RayWorker:
    def __init__(self, actor: Any) -> None:
        self._actor = actor
        self.env = _RayEnvProxy(actor)

    def reset(self, seed: int, options: dict[str, Any] | None) -> futures.Future[Any]:
        return self._actor.reset.remote(seed, options).future()

    def step(self, action: str) -> futures.Future[Any]:
        return self._actor.step.remote(action).future()

    def close(self) -> None:
        import ray

        ray.get(self._actor.close.remote())
        ray.kill(self._actor)


class RayWorkers:
    """``count`` envs, each in a Ray actor; uses the running Ray instance or starts a local one."""

    def __init__(self, env_id: str, env_kwargs: Mapping[str, Any], count: int) -> None:
        try:
            import ray
        except ImportError as exc:
            raise MissingDependencyError(
                "the Ray backend needs ray; install it with: pip install 'palaestra[ray]'"
            ) from exc
        if not ray.is_initialized():
            ray.init(include_dashboard=False, log_to_driver=False)
        actor_class = ray.remote(num_cpus=0)(_RayEnv)
        actors = [actor_class.remote(env_id, dict(env_kwargs)) for _ in range(count)]
        self.workers: list[EnvWorker] = [_RayWorker(actor) for actor in actors]

    def close(self) -> None:
        """Close the envs and end their actors."""
        for worker in self.workers:
            worker.close()
