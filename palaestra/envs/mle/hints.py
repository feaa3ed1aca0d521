"""The likely cause of a failed run, in one sentence an agent can act on.

MLE-Dojo's observations pair an error with a hint; these are the mistakes models make most on
tabular data: a column that does not exist, text reaching a model that needs numbers, NaNs, a
package that is not installed, a run that is too slow or too big.
"""

from __future__ import annotations

from collections.abc import Sequence

from palaestra.sandbox import ExecResult

__all__ = ["likely_cause"]

_INSTALLED = "numpy, pandas, scipy, scikit-learn and statsmodels"

# (error type, a fragment of its message or "", the hint): the first match wins.
_HINTS: tuple[tuple[str, str, str], ...] = (
    ("ModuleNotFoundError", "", f"that package is not installed here; you have {_INSTALLED}"),
    ("ImportError", "", f"that name is not in the installed version; you have {_INSTALLED}"),
    (
        "FileNotFoundError",
        "",
        "the data files are in the working directory: train.csv, test.csv, "
        "sample_submission.csv and description.md",
    ),
    (
        "ValueError",
        "could not convert string to float",
        "a text or categorical column reached a model that needs numbers: encode it "
        "(OneHotEncoder, OrdinalEncoder, TfidfVectorizer) or drop it",
    ),
    (
        "ValueError",
        "contains NaN",
        "the data has missing values: impute them (SimpleImputer) or use a model that accepts "
        "NaN, such as HistGradientBoosting",
    ),
    (
        "ValueError",
        "feature names",
        "test.csv was given other columns than the model was fitted on: select the same "
        "feature columns, in the same order, for train and test",
    ),
    (
        "ValueError",
        "Found unknown categories",
        "test.csv has a category that train.csv lacks: use OneHotEncoder(handle_unknown='ignore')",
    ),
    ("ValueError", "shape", "the arrays do not line up: check the number of rows and columns"),
    ("NameError", "", "that name is not defined in this session: define it in this run"),
    ("AttributeError", "", "that object has no such attribute: check its type and the API"),
    ("TypeError", "", "a function got arguments of the wrong type or number"),
    ("IndentationError", "", "fix the indentation of the code"),
    ("SyntaxError", "", "the code is not valid Python: fix it (validate_code checks syntax)"),
    ("MemoryError", "", "the run needs more memory than the sandbox has: use fewer rows"),
    ("ZeroDivisionError", "", "a division by zero: check for empty groups or constant columns"),
)


def likely_cause(result: ExecResult, columns: Sequence[str], memory_mb: int) -> str | None:
    """A hint for a failed run, or None when the run went well or the error is unfamiliar.

    Args:
        result: The run.
        columns: The columns of train.csv, named in the hint for a missing key.
        memory_mb: The sandbox's memory limit, named in the hint for a killed run.
    """
    if result.timed_out:
        return (
            "the run hit its time limit: use fewer trees or iterations, fewer features, or fit "
            "on a sample of rows first"
        )
    if result.state_lost:
        return (
            f"the session was killed, most often by using more than {memory_mb} MB of memory: "
            "variables are gone and the data files were restored; load less at once"
        )
    if result.error is None:
        return None
    kind, message = result.error.type, result.error.message
    if kind == "KeyError":
        shown = ", ".join(columns[:30]) + (", ..." if len(columns) > 30 else "")
        return f"no such column or key; the columns of train.csv are: {shown}"
    for error_type, fragment, hint in _HINTS:
        if kind == error_type and fragment in message:
            return hint
    return None
