"""GRPO with generation on an OpenAI-compatible server: the LoRA weight sync, over real HTTP.

The server here is an `http.server` on 127.0.0.1 that speaks vLLM's runtime-LoRA endpoints
(``/v1/load_lora_adapter``, ``/v1/unload_lora_adapter``) and ``/v1/chat/completions``. It loads
each adapter the way vLLM would (from the directory it is given, refusing a name it already
holds or a directory without an adapter) and answers every chat request for a loaded adapter,
alternately with a right and a wrong answer, so every group has mixed rewards to learn from.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import torch

from palaestra.agents.openai_agent import api_root
from palaestra.core.env import TextEnv
from palaestra.core.types import Verdict
from palaestra.errors import AgentError, ConfigError
from palaestra.trainers.grpo import GRPOConfig, GRPOTrainer
from palaestra.trainers.sync import LoRAServerSync

ENV = "GRPOServerSay-v0"


@dataclass(frozen=True)
class Word:
    id: str


class SayRedEnv(TextEnv):
    """One turn: solved when the answer starts with "red"."""

    default_max_turns = 1

    def _select_task(self, task_id: str | None) -> Word:
        return Word(task_id or "red")

    def _start(self, task: Word) -> tuple[str, dict[str, Any]]:
        return f"Say {task.id}.", {}

    def _instructions(self) -> str:
        return "Reply with one word."

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        raise AssertionError("this env has no tools")

    def _verify(self, answer: str) -> Verdict:
        solved = answer.strip().lower().startswith(self._task.id)
        return Verdict(score=float(solved), success=solved, reason="checked")

    def _oracle_actions(self) -> list[str]:
        return [self._task.id]


@pytest.fixture(scope="module", autouse=True)
def say_env() -> None:
    if ENV not in gym.registry:
        gym.register(ENV, entry_point=SayRedEnv, max_episode_steps=4)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """The tiny model gains nothing from a second thread on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@dataclass
class FakeVLLM:
    """What the server saw: loads (name, path, weights), unloads, and chat requests."""

    loads: list[tuple[str, str, dict[str, torch.Tensor]]] = field(default_factory=list)
    unloads: list[str] = field(default_factory=list)
    chats: list[tuple[str, list[str]]] = field(default_factory=list)
    """Per chat request: the model it named, and the adapters loaded at that moment."""
    loaded: dict[str, str] = field(default_factory=dict)
    replies: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, body: dict[str, Any]) -> tuple[int, str]:
        from safetensors.torch import load_file

        name, path = body["lora_name"], Path(body["lora_path"])
        weights = path / "adapter_model.safetensors"
        if name in self.loaded:
            return 400, f"The lora adapter '{name}' has already been loaded."
        if not path.is_absolute() or not (path / "adapter_config.json").is_file():
            return 400, f"no adapter_config.json in {path}"
        if not weights.is_file():
            return 400, f"no adapter weights in {path}"
        self.loaded[name] = str(path)
        self.loads.append((name, str(path), load_file(weights)))
        return 200, f"Success: LoRA adapter '{name}' added successfully."

    def unload(self, body: dict[str, Any]) -> tuple[int, str]:
        name = body["lora_name"]
        if self.loaded.pop(name, None) is None:
            return 404, f"The lora adapter '{name}' cannot be found."
        self.unloads.append(name)
        return 200, f"Success: LoRA adapter '{name}' removed successfully."

    def chat(self, body: dict[str, Any]) -> tuple[int, Any]:
        model = body["model"]
        self.chats.append((model, list(self.loaded)))
        if model not in self.loaded:
            return 404, {"error": {"message": f"The model `{model}` does not exist."}}
        text = "red" if self.replies % 2 == 0 else "blue"
        self.replies += 1
        message = {"role": "assistant", "content": text}
        usage = {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return 200, {"id": "c", "object": "chat.completion", "choices": [choice], "usage": usage}


@pytest.fixture
def vllm() -> Iterator[tuple[FakeVLLM, str]]:
    state = FakeVLLM()
    routes = {
        "/v1/load_lora_adapter": state.load,
        "/v1/unload_lora_adapter": state.unload,
        "/v1/chat/completions": state.chat,
    }

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            route = routes.get(self.path)
            with state.lock:
                status, answer = route(body) if route else (404, "no such route")
            data = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
            self.send_response(status)
            kind = "text/plain" if isinstance(answer, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield state, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def config(model_dir: Path, url: str | None, **overrides: Any) -> GRPOConfig:
    settings: dict[str, Any] = dict(
        model=str(model_dir),
        env=ENV,
        generation_url=url,
        lora=True,
        lora_r=4,
        updates=2,
        tasks_per_update=1,  # one group per update: the alternating replies mix within it
        group_size=4,
        horizons=(1,),
        max_new_tokens=4,
        num_envs=4,
        learning_rate=5e-2,
        batch_size=4,
        progress=False,
    )
    return GRPOConfig(**(settings | overrides))


def test_each_update_loads_the_trained_adapter_and_collects_with_it(tiny_model_dir, vllm, tmp_path):
    server, url = vllm
    out = tmp_path / "run"
    trainer = GRPOTrainer(config(tiny_model_dir, url, output_dir=str(out)))
    result = trainer.train()

    # One fresh adapter per update, saved under output_dir/adapters, the previous one unloaded.
    names = [name for name, _, _ in server.loads]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(re.fullmatch(r"palaestra-[0-9a-f]{6}-u\d", n) for n in names)
    assert [n[-2:] for n in names] == ["u0", "u1"]
    adapters = (out / "adapters").resolve()
    assert [Path(path) for _, path, _ in server.loads] == [adapters / n for n in names]
    assert server.unloads == names[:1] and list(server.loaded) == names[1:]
    assert not (adapters / names[0]).exists()  # unloaded, then deleted
    assert (adapters / names[1] / "adapter_config.json").is_file()

    # The first adapter is the untrained one (LoRA B starts at 0); the step changed it.
    first, second = server.loads[0][2], server.loads[1][2]
    assert first.keys() == second.keys() and any("lora_B" in k for k in first)
    assert all(not v.any() for k, v in first.items() if "lora_B" in k)
    assert any(not torch.equal(first[k], second[k]) for k in first)

    # Every chat request named the adapter loaded for its update, which the server held.
    assert [model for model, _ in server.chats] == [names[0]] * 4 + [names[1]] * 4
    assert all(model in loaded for model, loaded in server.chats)

    # Half of each group succeeded: non-zero advantages, so the trainer took steps.
    assert [u["success_rate"] for u in result.updates] == [0.5, 0.5]
    assert all(u["trained_episodes"] == 4 and u["steps"] > 0 for u in result.updates)
    assert result.steps == 2
    assert all(math.isfinite(h["loss"]) for h in result.history)


def test_server_generation_needs_lora_and_somewhere_for_the_adapters(tmp_path):
    url = "http://127.0.0.1:8000/v1"
    with pytest.raises(ConfigError, match="needs lora=True.*weight-transfer path"):
        GRPOConfig(generation_url=url, lora=False)
    with pytest.raises(ConfigError, match="adapter_dir"):
        GRPOConfig(generation_url=url, lora=True, output_dir=None)
    with pytest.raises(ConfigError, match="http:// or https://"):
        GRPOConfig(generation_url="localhost:8000", lora=True)
    chosen = GRPOConfig(generation_url=url, lora=True, adapter_dir=str(tmp_path), output_dir=None)
    assert chosen.adapter_path == tmp_path
    assert GRPOConfig(output_dir="runs/x").adapter_path == Path("runs/x/adapters")


def test_the_server_api_root_gets_v1_once():
    assert api_root("http://h:8000") == "http://h:8000/v1"
    assert api_root("http://h:8000/v1/") == "http://h:8000/v1"


class HalfSaved:
    """Writes a config and no weights: what a server must refuse to load."""

    def save_pretrained(self, path: str) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "adapter_config.json").write_text("{}")


def test_a_refused_adapter_is_an_agent_error_that_says_what_the_server_needs(vllm, tmp_path):
    server, url = vllm
    sync = LoRAServerSync(url, tmp_path, api_key="sk-secret")
    with pytest.raises(AgentError, match=r"HTTP 400.*--enable-lora.*VLLM_ALLOW_RUNTIME"):
        sync.push(HalfSaved(), 0)
    assert server.loads == [] and sync.loaded is None
    unreachable = LoRAServerSync("http://127.0.0.1:9/v1", tmp_path, timeout=2)
    with pytest.raises(AgentError, match="could not be reached"):
        unreachable.push(HalfSaved(), 0)
