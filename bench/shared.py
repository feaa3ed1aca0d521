"""What the benchmarks share: a tiny test model and the record of the machine a run used.

The scripts run as ``python bench/<script>.py``, so this directory is on ``sys.path``.
"""

from __future__ import annotations

import os
import platform
import resource
import shlex
import sys
import tempfile
from typing import Any


def tiny_model_dir() -> str:
    """A 2-layer random Llama with the real SmolLM2 tokenizer (as the tests use)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from palaestra.agents.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2"))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    out = tempfile.mkdtemp(prefix="palaestra-tiny-")
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def command() -> str:
    """The command line that reproduces this run, as a user would type it."""
    return shlex.join(["python", *sys.argv])


def machine(load_start: tuple[float, float, float], **versions: str) -> dict[str, Any]:
    """Python, CPU, torch (when loaded) and the given library versions, the load average at the
    start and the end of the run (other processes may share the cores) and this process's peak
    memory."""
    torch = sys.modules.get("torch")
    return {
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        **({"torch": torch.__version__, "torch_threads": torch.get_num_threads()} if torch else {}),
        **versions,
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def stats_ms(samples: list[float]) -> dict[str, float]:
    """Count, p50, p95 and mean of durations given in seconds, in milliseconds."""
    import numpy as np

    ms = np.asarray(samples) * 1000
    return {
        "n": int(ms.size),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
    }
