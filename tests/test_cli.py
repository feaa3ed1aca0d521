import json
import subprocess
import sys

import pytest

from palaestra.cli import main


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_list_shows_the_envs(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and "ToolUse-v0" in out


def test_run_writes_trajectories_and_a_summary(capsys, tmp_path):
    out_file = tmp_path / "oracle.jsonl"
    code, out, err = run_cli(
        capsys,
        "run",
        "ToolUse-v0",
        "--agent",
        "oracle",
        "--episodes",
        "6",
        "--split",
        "test",
        "--out",
        str(out_file),
    )
    assert code == 0, err
    assert "success rate" in out and "100.0%" in out
    assert len(out_file.read_text().splitlines()) == 6
    summary = json.loads(out_file.with_suffix(".summary.json").read_text())
    assert (
        summary["episodes"] == 6 and summary["success_rate"] == 1.0 and summary["split"] == "test"
    )
    code, out, _ = run_cli(capsys, "show", str(out_file), "--episode", "0")
    assert code == 0 and "assistant" in out and "verdict" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "Nope-v0"], "unknown env 'Nope-v0'"),
        (["run", "ToolUse-v0", "--episodes", "0"], "--episodes"),
        (["run", "ToolUse-v0", "--agent", "gpt"], "unknown agent spec"),
        (["run", "ToolUse-v0", "--split", "dev"], "--split must be train or test"),
        (
            ["run", "ToolUse-v0", "--agent", "noop", "--env-arg", "domain=banking"],
            "domain must be one of",
        ),
        (["run", "ToolUse-v0", "--agent", "noop", "--env-arg", "colour=red"], "does not accept"),
        (["run", "ToolUse-v0", "--env-arg", "novalue"], "key=value"),
        (["show", "/nonexistent.jsonl"], "no trajectory file"),
        (["train", "ppo"], "algorithm must be one of sft, dpo, kto, stepdpo"),
        (["train", "dpo", "--set", "lr=0.1"], "DPOConfig does not know: lr"),
        (["train", "dpo", "--group-size", "1"], "group_size must be at least 2"),
        (["train", "kto", "--temperature", "0"], "temperature must be > 0"),
        (["train", "sft", "--env", "Nope-v0"], "unknown env 'Nope-v0'"),
        (["train", "sft", "--env-arg", "colour=red"], "does not accept"),
        (["train", "grpo", "--horizons", "2,four"], "--horizons takes turn limits"),
        (["train", "rloo", "--horizons", "4,2"], "horizons must grow"),
        (["train", "dpo", "--horizons", "2,4"], "horizons are for the RL algorithms"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_arguments_give_one_line(capsys, args, message):
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_console_script_runs():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "palaestra.cli",
            "run",
            "ToolUse-v0",
            "--agent",
            "noop",
            "--episodes",
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "0.0%" in result.stdout


def test_eval_reports_the_test_split_success_rate(capsys, tiny_model_dir):
    code, out, err = run_cli(
        capsys,
        "eval",
        "--env",
        "ToolUse-v0",
        "--model",
        str(tiny_model_dir),
        "--episodes",
        "2",
        "--max-new-tokens",
        "4",
    )
    assert code == 0, err
    assert "test split" in out and "success rate" in out and "0.0%" in out
    code, _, err = run_cli(capsys, "eval", "--env", "ToolUse-v0", "--model", "/no/such/model")
    assert code == 2 and "no model at" in err


def test_train_runs_the_loop_and_resumes(capsys, tiny_model_dir, tmp_path):
    out = tmp_path / "kto"
    args = ["train", "kto", "--model", str(tiny_model_dir), "--rounds", "1", "--tasks", "1"]
    args += ["--group-size", "2", "--eval-episodes", "2", "--max-turns", "1", "--out", str(out)]
    args += ["--max-new-tokens", "4", "--set", "max_steps=1", "--env-arg", "domain=retail"]
    code, printed, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "round-1" in printed and "test success" in printed, printed
    results = json.loads((out / "results.json").read_text())
    assert [s["stage"] for s in results["stages"]] == ["round-0", "round-1"]
    assert results["config"]["train"]["lora"] is True
    assert results["config"]["train"]["learning_rate"] == 1e-5, "LoRA's learning rate"
    assert results["stages"][1]["train"]["steps"] == 1
    code, _, err = run_cli(capsys, *args[:-2], "--env-arg", "domain=calendar")
    assert code == 2 and "other settings (env_kwargs differ)" in err


def test_show_prints_web_pages_with_their_brackets(capsys, tmp_path):
    out_file = tmp_path / "web.jsonl"
    code, _, err = run_cli(
        capsys, "run", "WebNav-v0", "--agent", "oracle", "--episodes", "1", "--out", str(out_file)
    )
    assert code == 0, err
    code, out, _ = run_cli(capsys, "show", str(out_file))
    assert code == 0 and "click [id]" in out and '[1] link "' in out
