"""What to solve and how it is verified: the Task record, splits, verifier helpers."""

from palaestra.tasks.splits import TEST_FRACTION, split_of
from palaestra.tasks.task import Split, Task
from palaestra.tasks.verify import answer_matches, diff_states

__all__ = ["TEST_FRACTION", "Split", "Task", "answer_matches", "diff_states", "split_of"]
