"""Programming problems graded by hidden unit tests: CodeInterpreter-v0's ``programming`` family.

The agent writes one Python function; after the episode, hidden tests run against it in a fresh
sandbox, where it cannot see or change them (`grader.py` says how). The score is the fraction of
tests passed. 75 original problems are built in; HumanEval- and MBPP-style JSONL files load with
`ProgrammingFamily.from_jsonl`.
"""

from palaestra.tasks.programming.family import ANSWER_FORMAT, ProgrammingFamily, problem_task
from palaestra.tasks.programming.grader import GraderLimits, extract_code
from palaestra.tasks.programming.problems import PROBLEMS, Problem

__all__ = [
    "ANSWER_FORMAT",
    "PROBLEMS",
    "GraderLimits",
    "Problem",
    "ProgrammingFamily",
    "extract_code",
    "problem_task",
]
