"""Shared fixtures: the converted SmolLM2 checkpoint, a tiny random model with its tokenizer,
a look at the host's processes (to prove that sandboxes leave nothing behind), and one round of
``palaestra train sft`` on any env."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from palaestra.agents.transformers_agent import TransformersAgent

# Tests never reach the hub: every model they load is local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _host_processes_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            if int(status.split("Uid:")[1].split()[0]) == uid:
                found.append(int(entry))
    return found


@pytest.fixture
def host_processes_of():
    """``host_processes_of(uid)``: the host's processes running as that uid."""
    return _host_processes_of


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The converted SmolLM2 checkpoint in the palaestra cache (converted on the first session).

    The cache is the real one (``$PALAESTRA_CACHE`` or ``~/.cache/palaestra``), shared with the
    CLI, so the ~25 s conversion runs once per machine rather than once per session.
    """
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from palaestra.agents.models import resolve_model

    return Path(resolve_model("smollm2"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """A 2-layer, 32-wide random Llama saved with the real SmolLM2 tokenizer.

    The end-of-turn row of the output layer is scaled up so that some greedy replies stop early
    and others run to the token limit: both paths get exercised.
    """
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=end_of_turn,
        pad_token_id=tokenizer.pad_token_id,
        # Wide weights spread the logits, so greedy choices are far from ties and do not
        # flip under the tiny numeric differences that padding causes.
        initializer_range=0.2,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    with torch.no_grad():
        model.lm_head.weight[end_of_turn] *= 3.0
    out = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_agent(tiny_model_dir: Path) -> TransformersAgent:
    """A greedy `TransformersAgent` on the tiny model, replies capped at a few tokens."""
    from palaestra.agents.transformers_agent import SamplingConfig, TransformersAgent

    sampling = SamplingConfig(max_new_tokens=12, temperature=0.0, batch_size=3)
    return TransformersAgent(str(tiny_model_dir), sampling=sampling, device="cpu")


@pytest.fixture
def sft_round(capsys, tiny_model_dir: Path, tmp_path: Path):
    """Run ``palaestra train sft`` for one round on an env with the tiny model; its results.

    Checks what every env promises the trainers: the warm-up trained on oracle episodes that all
    succeeded. Call it with the env id, its ``--env-arg`` values and a turn limit.
    """
    from palaestra.cli import main

    def run(env_id: str, env_args: dict[str, str], max_turns: int) -> dict:
        out = tmp_path / "sft"
        args = ["train", "sft", "--env", env_id, "--model", str(tiny_model_dir)]
        args += ["--rounds", "1", "--tasks", "1", "--group-size", "2", "--eval-episodes", "2"]
        args += ["--max-turns", str(max_turns), "--max-new-tokens", "4"]
        args += ["--warmup-episodes", "2", "--set", "max_steps=1", "--out", str(out)]
        for key, value in env_args.items():
            args += ["--env-arg", f"{key}={value}"]
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        captured = capsys.readouterr()
        assert exit_info.value.code == 0, captured.err
        results = json.loads((out / "results.json").read_text())
        stages = {s["stage"]: s for s in results["stages"]}
        assert "warmup" in stages and stages["warmup"]["train"]["steps"] >= 1
        oracle = [json.loads(line) for line in (out / "warmup" / "oracle.jsonl").open()]
        assert len(oracle) == 2 and all(t["success"] for t in oracle)
        return results

    return run
