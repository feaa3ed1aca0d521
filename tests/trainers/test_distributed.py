"""Data parallelism: a trainer under ``accelerate launch`` with two CPU processes.

Each process trains on a different example; after one optimizer step the parameters are
identical on both processes (the gradients were averaged across them) and differ from the start.

On CPU, ``accelerate launch --cpu --num_processes 2`` starts ONE process unless MPI is set up
(``--mpirun_hostfile``): its simple launcher ignores the count. Two gloo processes come from
the torchrun launcher with the CPU forced: ``ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu
--num_processes 2`` (accelerate 1.15), which is what this test runs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from ddp_probe import episodes

from palaestra.core.types import write_jsonl

PROBE = Path(__file__).with_name("ddp_probe.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_on_different_data_and_stay_identical(tiny_model_dir, tmp_path):
    pytest.importorskip("accelerate")
    good, _ = episodes(4)
    data = tmp_path / "trajectories.jsonl"
    write_jsonl(good, data)
    out = tmp_path / "out"
    out.mkdir()
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(free_port()),
        str(PROBE), str(tiny_model_dir), str(data), str(out),
    ]  # fmt: skip
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((out / f"rank{i}.json").read_text()) for i in (0, 1)]

    assert [r["world"] for r in ranks] == [2, 2] and [r["steps"] for r in ranks] == [1, 1]
    assert ranks[0]["seen"] != ranks[1]["seen"]  # each process trained on its own example
    assert ranks[0]["before"] == ranks[1]["before"]
    assert ranks[0]["after"] == ranks[1]["after"]  # ... yet they took the same step
    assert ranks[0]["after"] != ranks[0]["before"]
    # Reference scoring is split across the processes and gathered: both hold every score.
    assert ranks[0]["logprobs"] == ranks[1]["logprobs"] and len(ranks[0]["logprobs"]) == 4
    assert ranks[0]["tokens"] == ranks[1]["tokens"] > 0  # summed over both processes
    assert (out / "model" / "model.safetensors").is_file()  # saved once, by the main process
