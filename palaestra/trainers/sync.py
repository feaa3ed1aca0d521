"""Weight sync to a generation server: the policy's LoRA adapter, saved and loaded by name.

`GRPOTrainer` can let an OpenAI-compatible server such as vLLM generate its episodes
(``GRPOConfig.generation_url``) while it trains a LoRA adapter itself. The server has to sample
from the policy as it is now, so before each update's collection the trainer hands it the
adapter (`LoRAServerSync.push`):

    1. save    ``model.save_pretrained(adapter_dir / name)``: the adapter alone (peft's
               ``adapter_config.json`` and ``adapter_model.safetensors``, megabytes, not the model)
    2. load    ``POST {base}/v1/load_lora_adapter`` ``{"lora_name": name, "lora_path": path}``
    3. collect with an `OpenAIAgent` whose ``model`` is ``name``: every request of the update is
               served by the base weights plus this adapter
    4. unload  ``POST {base}/v1/unload_lora_adapter`` ``{"lora_name": previous}``, and delete the
               previous adapter's directory

Each update gets a fresh name, ``palaestra-<run>-u<update>`` (``<run>``: random per trainer), so
no request can meet a half-replaced adapter, and a restarted run never collides with the names
an earlier one left loaded.

The server must be started with runtime LoRA loading on, on the same base model, with
``--max-lora-rank`` at least ``lora_r``, and able to read ``adapter_dir`` (the same machine or a
shared filesystem)::

    export VLLM_ALLOW_RUNTIME_LORA_UPDATING=True
    vllm serve BASE_MODEL --enable-lora --max-lora-rank 16 --generation-config vllm

Old log-probs. The server returns text, not the token ids it sampled nor their log-probs, so the
trainer re-tokenizes each episode with its own chat template and scores it with one forward pass
without gradients before optimising (`GRPOTrainer.examples`): the PPO ratio starts at 1 against
the trainer's policy, not the sampler's. Where the two differ, the difference is not corrected:

- sampling settings: the server samples at ``temperature`` but with its own defaults for the
  rest; vLLM applies the model's ``generation_config.json`` (top-p, top-k, repetition penalty)
  unless started with ``--generation-config vllm``. No ``seed`` is sent: a seeded request gives
  every episode of a group the same reply.
- numerics: the server's kernels and precision (bf16, fused LoRA) are not the trainer's float32.
- tokens: the re-tokenized text may split differently from the ids the server sampled, and the
  server renders the conversation with its chat template and native tool calls, which can differ
  in whitespace or tool formatting from what the trainer renders.

Full weights (``lora=False``) would need a transfer path this module does not have (an NCCL
broadcast into the server's workers, or a checkpoint reload per update), so the config refuses
it.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import httpx

from palaestra.agents.openai_agent import api_root, credentials, error_detail, redact
from palaestra.errors import AgentError

__all__ = ["LoRAServerSync"]


class LoRAServerSync:
    """Hands a LoRA adapter to an OpenAI-compatible server (vLLM's runtime LoRA endpoints).

    Args:
        base_url: The server, e.g. ``http://localhost:8000/v1`` (``/v1`` is added when missing).
        adapter_dir: Where adapters are written; the server must be able to read it.
        api_key: Bearer token; default ``$OPENAI_API_KEY``; none is sent when both are unset.
        timeout: Seconds to wait for the server to load an adapter.
    """

    def __init__(
        self,
        base_url: str,
        adapter_dir: str | Path,
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
    ) -> None:
        self.root = api_root(base_url)
        self.adapter_dir = Path(adapter_dir).resolve()
        self.run = secrets.token_hex(3)
        self.loaded: str | None = None
        """The adapter the server holds now (the last one pushed), or None."""
        self._key, self._headers = credentials(api_key)
        self._timeout = timeout

    def name(self, update: int) -> str:
        """The adapter name of update ``update``."""
        return f"palaestra-{self.run}-u{update}"

    def push(self, model: Any, update: int) -> str:
        """Save ``model``'s adapter, load it on the server, unload the previous; its name.

        The last adapter pushed stays loaded (to evaluate the final policy with).
        """
        name = self.name(update)
        path = self.adapter_dir / name
        model.save_pretrained(str(path))  # a peft model saves its adapter alone
        self._post("load_lora_adapter", {"lora_name": name, "lora_path": str(path)})
        previous, self.loaded = self.loaded, name
        if previous is not None and previous != name:
            self._post("unload_lora_adapter", {"lora_name": previous})
            shutil.rmtree(self.adapter_dir / previous, ignore_errors=True)
        return name

    def _post(self, endpoint: str, body: dict[str, str]) -> None:
        url = f"{self.root}/{endpoint}"
        try:
            response = httpx.post(url, json=body, headers=self._headers, timeout=self._timeout)
        except httpx.TransportError as exc:
            raise self._error(f"{url} could not be reached: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise self._error(
                f"{url} answered HTTP {response.status_code} for {body['lora_name']!r}: "
                f"{error_detail(response)}. "
                "The server needs --enable-lora, VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, "
                "--max-lora-rank at least lora_r, the same base model, and read access to "
                f"{self.adapter_dir}"
            )

    def _error(self, message: str) -> AgentError:
        return AgentError(redact(message, self._key))
