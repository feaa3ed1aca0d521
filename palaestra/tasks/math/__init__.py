r"""Math problems whose final answer is checked by symbolic equivalence (math-verify).

Two sources, one verifier. `MathFamily()` draws from reasoning-gym generators with exact answers
(`GENERATORS`, three levels each): task ``math-gcd-2-417`` is entry 417 of the ``gcd`` dataset at
level 2, whose seed is a hash of ``"math/gcd/2"``. `MathFamily.from_jsonl` and
`MathFamily.from_hf` load GSM8K- or MATH-style sets. A task's split is a hash of its question
(`palaestra.tasks.split_of`), so train and test never share a question.

The final answer goes in ``\boxed{...}``; math-verify compares it with the reference
symbolically, so ``\boxed{2/4}``, ``\boxed{0.5}`` and ``\boxed{\frac12}`` are all equal.
reasoning-gym, math-verify and datasets load slowly, so they are imported on first use.

Modules: ``family`` (`MathFamily`), ``generators`` (the reasoning-gym datasets and their levels)
with ``solvers`` (each entry's answer and reference code), ``loaders`` (JSONL and Hugging Face
sets), ``answers`` (reading ``\boxed{}``) and ``equivalence`` (math-verify, bounded in time).
"""

from palaestra.tasks.math.answers import default_answer, last_boxed
from palaestra.tasks.math.family import ANSWER_FORMAT, MathFamily
from palaestra.tasks.math.generators import GENERATORS, LEVELS

__all__ = ["ANSWER_FORMAT", "GENERATORS", "LEVELS", "MathFamily", "default_answer", "last_boxed"]
