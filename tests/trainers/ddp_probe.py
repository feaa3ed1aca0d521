"""Real ToolUse-v0 episodes made short enough for a tiny model, and the data-parallel probe.

Imported by the trainer tests for `episodes`; run under ``accelerate launch`` by
test_distributed.py as a script (see `main`).
"""

from __future__ import annotations

import sys

from palaestra.core.types import Message, Trajectory

SHORT_SYSTEM = "You are an airline and calendar assistant. Call tools to handle the request."


def shorten(trajectory: Trajectory) -> Trajectory:
    """The same episode with a one-line system prompt (the real one is ~700 tokens)."""
    messages = [
        Message(role="system", content=SHORT_SYSTEM) if m.role == "system" else m
        for m in trajectory.messages
    ]
    return trajectory.model_copy(update={"messages": messages})


def episodes(tasks: int = 4, seed: int = 0) -> tuple[list[Trajectory], list[Trajectory]]:
    """Oracle successes and random-agent failures of the same tasks, shortened."""
    from palaestra.agents import OracleAgent, RandomAgent
    from palaestra.rollout import collect

    good = collect("ToolUse-v0", OracleAgent, tasks, seed=seed)
    ids = [t.task_id for t in good]
    bad = collect("ToolUse-v0", RandomAgent(seed=seed), tasks=ids, max_turns=3)
    assert all(t.success for t in good) and not any(t.success for t in bad)
    return [shorten(t) for t in good], [shorten(t) for t in bad]


def digest(model) -> str:
    """A hash of every parameter's bytes."""
    import hashlib

    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().cpu().numpy().tobytes())
    return h.hexdigest()


def main() -> None:
    """One SFT step on two processes, each on its own example; write what each process saw.

    ``python ddp_probe.py MODEL_DIR TRAJECTORIES_JSONL OUT_DIR`` under ``accelerate launch``
    writes ``OUT_DIR/rank<i>.json``: the parameter hashes before and after the step, hashes of
    the batches the process trained on, and the reference log-probs it computed (split across
    the processes and gathered). The model is saved to ``OUT_DIR/model`` by the main process.
    """
    import hashlib
    import json
    from pathlib import Path

    from palaestra.core.types import read_jsonl
    from palaestra.trainers.sft import SFTConfig, SFTTrainer

    model_dir, data_file, out_dir = sys.argv[1:4]
    trajectories = list(read_jsonl(data_file))
    config = SFTConfig(
        model=model_dir,
        learning_rate=1e-2,
        batch_size=1,
        max_steps=1,
        max_length=128,
        warmup_ratio=0.0,
        output_dir=str(Path(out_dir) / "model"),
        progress=False,
    )
    trainer = SFTTrainer(config)
    accelerator = trainer.engine.accelerator
    sequences = trainer.examples(trajectories)
    logprobs = trainer.engine.logprobs(sequences)
    seen: list[str] = []
    loss = trainer.loss

    def recording(model, batch):
        seen.append(hashlib.sha256(str(batch["input_ids"].tolist()).encode()).hexdigest())
        return loss(model, batch)

    trainer.loss = recording  # type: ignore[method-assign]
    before = digest(trainer.model)
    result = trainer.train(trajectories)
    report = {
        "rank": accelerator.process_index,
        "world": accelerator.num_processes,
        "before": before,
        "after": digest(trainer.model),
        "seen": seen,
        "steps": result.steps,
        "logprobs": logprobs,
        "tokens": result.tokens,
    }
    Path(out_dir, f"rank{accelerator.process_index}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
