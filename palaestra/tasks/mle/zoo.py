"""The reference pipelines of a competition: 50-70 scikit-learn scripts of graded quality.

Each pipeline is a complete Python script, the kind a participant writes: it reads train.csv and
test.csv from the working directory, picks a fixed-seed share of the feature columns, builds
features (imputation, scaling, one-hot or ordinal codes, tf-idf for text, calendar numbers for a
date column), fits one model and writes submission.csv. Their scores make a competition's
leaderboard (`palaestra.tasks.mle.leaderboard`), and the best of them is the oracle: the env runs
the very same source text in the sandbox, so the oracle reproduces its leaderboard score exactly.

A script hard-codes only what a participant reads in the description: the target, the positive
label, the class names, which columns are text and which is the date. Quality is spread by the
model family (dummy, linear, kNN, tree, forest, extra trees, gradient boosting, naive Bayes), its
settings, and the share of the columns it sees (30%, 60% or all). Everything is seeded and
single-threaded (``n_jobs=1``, no early stopping), so a script's output is the same on every run.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from palaestra.tasks.mle.competition import Competition
    from palaestra.tasks.mle.prepare import PreparedVariant

__all__ = ["FAMILIES", "SCRIPT_MODULES", "Pipeline", "reference_pipelines"]

FAMILIES = ("dummy", "linear", "knn", "tree", "forest", "extra-trees", "gbm", "naive-bayes")
"""Every family of reference pipeline (regression has no naive Bayes)."""


@dataclass(frozen=True)
class Pipeline:
    """One reference pipeline.

    Attributes:
        name: Unique within a competition, e.g. ``hgb-lr0.1-i100-d3-all``.
        family: One of `FAMILIES`.
        source: The whole script: run it in a folder holding train.csv and test.csv and it
            writes submission.csv.
    """

    name: str
    family: str
    source: str


@dataclass(frozen=True)
class _Spec:
    """What varies between pipelines: the model, how its features are encoded, what it sees."""

    name: str
    family: str
    model: str  # the estimator's constructor, as code
    share: float  # the share of the feature columns used
    encoding: str  # "onehot" (with scaled numbers), "ordinal" (raw numbers) or "none"
    text: str = "TfidfVectorizer(max_features=1000)"  # how text columns are vectorised
    dense: bool = False  # the model needs a dense matrix
    text_only: bool = False  # the model sees only the text columns (multinomial naive Bayes)


# ------------------------------------------------------------------------------------ the grid
_SHARES = {"f30": 0.3, "f60": 0.6, "all": 1.0}
_WIDTH = 99  # the longest line a script has

_IMPORTS = {
    "ColumnTransformer": "sklearn.compose",
    "DecisionTreeClassifier": "sklearn.tree",
    "DecisionTreeRegressor": "sklearn.tree",
    "DummyClassifier": "sklearn.dummy",
    "DummyRegressor": "sklearn.dummy",
    "ExtraTreesClassifier": "sklearn.ensemble",
    "ExtraTreesRegressor": "sklearn.ensemble",
    "GaussianNB": "sklearn.naive_bayes",
    "HistGradientBoostingClassifier": "sklearn.ensemble",
    "HistGradientBoostingRegressor": "sklearn.ensemble",
    "KNeighborsClassifier": "sklearn.neighbors",
    "KNeighborsRegressor": "sklearn.neighbors",
    "LogisticRegression": "sklearn.linear_model",
    "MultinomialNB": "sklearn.naive_bayes",
    "OneHotEncoder": "sklearn.preprocessing",
    "OrdinalEncoder": "sklearn.preprocessing",
    "RandomForestClassifier": "sklearn.ensemble",
    "RandomForestRegressor": "sklearn.ensemble",
    "Ridge": "sklearn.linear_model",
    "SimpleImputer": "sklearn.impute",
    "StandardScaler": "sklearn.preprocessing",
    "TfidfVectorizer": "sklearn.feature_extraction.text",
    "make_pipeline": "sklearn.pipeline",
}

SCRIPT_MODULES = ("numpy", "pandas", *sorted(set(_IMPORTS.values())))
"""Every module a reference script imports (a runner may import them ahead of time)."""


def _grid(competition: Competition) -> list[_Spec]:
    """Every pipeline's settings, family by family, weaker settings first."""
    classify = competition.kind != "regression"
    suffix = "Classifier" if classify else "Regressor"
    specs: list[_Spec] = []

    def add(name: str, family: str, model: str, shares: str, encoding: str, **text: Any) -> None:
        for label in shares.split():
            share = _SHARES[label]
            specs.append(_Spec(f"{name}-{label}", family, model, share, encoding, **text))

    dummies = (
        ("most_frequent", "prior", "stratified", "uniform") if classify else ("mean", "median")
    )
    for strategy in dummies:
        seed = ", random_state=0" if strategy in ("stratified", "uniform") else ""
        model = f'Dummy{suffix}(strategy="{strategy}"{seed})'
        specs.append(_Spec(f"dummy-{strategy}", "dummy", model, 1.0, "none"))

    # Strong to weak regularisation, with wider text vocabularies as the penalty weakens.
    for strength, vectorizer in (
        ("0.01", "TfidfVectorizer(max_features=500)"),
        ("0.1", "TfidfVectorizer(max_features=1000)"),
        ("1", "TfidfVectorizer(max_features=3000, ngram_range=(1, 2))"),
        ("10", "TfidfVectorizer(max_features=5000, ngram_range=(1, 2), sublinear_tf=True)"),
    ):
        if classify:
            model, name = f"LogisticRegression(C={strength}, max_iter=2000)", f"logreg-c{strength}"
        else:
            alpha = {"0.01": "100", "0.1": "10", "1": "1", "10": "0.1"}[strength]
            model, name = f"Ridge(alpha={alpha})", f"ridge-a{alpha}"
        add(name, "linear", model, "f30 f60 all", "onehot", text=vectorizer)

    for k in (1, 5, 25):
        add(f"knn-k{k}", "knn", f"KNeighbors{suffix}(n_neighbors={k})", "f30 f60 all", "onehot")

    for depth in ("2", "5", "None"):
        model = f"DecisionTree{suffix}(max_depth={depth}, random_state=0)"
        name = f"tree-d{depth.replace('None', 'full')}"
        add(name, "tree", model, "f30 f60 all", "ordinal", text="TfidfVectorizer(max_features=500)")

    # Regression forests try half the features at each split (classifiers: the square root),
    # which keeps deep trees on wide tables within a few seconds.
    half = "" if classify else ", max_features=0.5"
    for family, stem, estimator in (
        ("forest", "forest", f"RandomForest{suffix}"),
        ("extra-trees", "extra", f"ExtraTrees{suffix}"),
    ):
        for trees, depth, shares in (
            (10, "4", "f30 f60 all"),
            (100, "None", "f30 f60 all"),
            (200, "None", "all"),
        ):
            model = (
                f"{estimator}(n_estimators={trees}, max_depth={depth}{half}, random_state=0, "
                "n_jobs=1)"
            )
            name = f"{stem}-t{trees}-d{depth.replace('None', 'full')}"
            add(name, family, model, shares, "ordinal")

    # Boosting needs a dense matrix: a small text vocabulary keeps it fast.
    for rate, iterations, depth, shares in (
        ("0.3", 20, "2", "f30 all"),
        ("0.1", 100, "3", "f30 f60 all"),
        ("0.05", 200, "4", "f60 all"),
        ("0.1", 100, "6", "all"),
    ):
        model = (
            f"HistGradientBoosting{suffix}(learning_rate={rate}, max_iter={iterations}, "
            f"max_depth={depth}, early_stopping=False, random_state=0)"
        )
        name = f"hgb-lr{rate}-i{iterations}-d{depth}"
        text = "TfidfVectorizer(max_features=300)"
        add(name, "gbm", model, shares, "ordinal", dense=True, text=text)

    if classify and competition.text_columns:
        # Multinomial naive Bayes on word counts: the classic text baseline.
        for alpha in ("0.03", "0.3", "1.0"):
            text = "TfidfVectorizer(max_features=5000, ngram_range=(1, 2))"
            model = f"MultinomialNB(alpha={alpha})"
            specs.append(
                _Spec(f"mnb-a{alpha}-text", "naive-bayes", model, 1.0, "none", text, text_only=True)
            )
    elif classify:
        add("gnb", "naive-bayes", "GaussianNB()", "f30 f60 all", "onehot", dense=True)
    return specs


# ------------------------------------------------------------------------------- the templates
_DOCSTRING = '''"""{title}: reference pipeline `{name}` ({family}).

{summary}
"""
'''

_LOAD_LABELLED = """
# Labels are read as text, so predictions are written back exactly as train.csv spells them.
train = pd.read_csv("train.csv", dtype={TARGET: str})
test = pd.read_csv("test.csv")
y = train[TARGET]
"""

_LOAD_NUMERIC = """
train = pd.read_csv("train.csv")
test = pd.read_csv("test.csv")
y = train[TARGET]
"""

_DUMMY_FEATURES = """
# A baseline: it ignores the features.
X, X_test = np.zeros((len(train), 1)), np.zeros((len(test), 1))
"""

_CHOOSE_COLUMNS = """
# A fixed-seed share of the feature columns, kept in table order.
features = [column for column in train.columns if column not in ("id", TARGET)]
order = np.random.default_rng(0).permutation(len(features))
features = [features[i] for i in sorted(order[: max(1, round(FEATURE_SHARE * len(features)))])]
"""

_CHOOSE_COLUMNS_BESIDE_TEXT = """
# The text columns and a fixed-seed share of the other feature columns, kept in table order.
others = [column for column in train.columns if column not in ("id", TARGET, *TEXT_COLUMNS)]
order = np.random.default_rng(0).permutation(len(others))
chosen = {others[i] for i in order[: round(FEATURE_SHARE * len(others))]}
features = [column for column in train.columns if column in chosen or column in TEXT_COLUMNS]
"""

_TEXT_ONLY = """
# Only the text columns; missing text counts as empty.
X, X_test = train[TEXT_COLUMNS].fillna(""), test[TEXT_COLUMNS].fillna("")
preprocess = ColumnTransformer([(column, {text}, column) for column in TEXT_COLUMNS])
model = make_pipeline(preprocess, {model})
model.fit(X, y)
"""

_TIDY_HEAD = '''

def tidy(frame):
    """The chosen columns, with numbers as floats{what}."""
    table = frame[features].copy()
'''

_TIDY_DATE = """\
    if TIME_COLUMN in table and not pd.api.types.is_numeric_dtype(table[TIME_COLUMN]):
        when = pd.to_datetime(table.pop(TIME_COLUMN), format="ISO8601")
        table["day"] = (when - pd.Timestamp("1970-01-01")).dt.days
        table["weekday"] = when.dt.dayofweek
        table["month"] = when.dt.month
        table["day_of_year"] = when.dt.dayofyear
"""

_TIDY_TEXT = """\
    for column in TEXT_COLUMNS:
        if column in table:
            table[column] = table[column].fillna("").astype(str)
"""

_TIDY_TAIL = """\
    numbers = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    table[numbers] = table[numbers].astype(float)
    return table


X, X_test = tidy(train), tidy(test)
text = [column for column in TEXT_COLUMNS if column in X]
numeric = [column for column in X.columns if column not in text and X[column].dtype == float]
categorical = [column for column in X.columns if column not in text and column not in numeric]
"""

_NUMERIC = {
    "onehot": 'make_pipeline(SimpleImputer(strategy="median"), StandardScaler())',
    "ordinal": 'SimpleImputer(strategy="median")',
}
_CATEGORICAL = {
    "onehot": 'OneHotEncoder(handle_unknown="ignore")',
    "ordinal": 'OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)',
}

_PREPROCESS = """
encode_numbers = {numeric}
encode_categories = make_pipeline(
    SimpleImputer(strategy="most_frequent"),
    {categorical},
){vectorize}
preprocess = ColumnTransformer(
    [
        ("numeric", encode_numbers, numeric),
        ("categorical", encode_categories, categorical),{text}
    ],
    {sparse}
)
{model}
model.fit(X, y)
"""

_VECTORIZE = """
vectorize = {text}"""

_TEXT_ENTRY = """
        *[(column, vectorize, column) for column in text],"""

_SPARSE = {
    False: "sparse_threshold=0.3,",
    True: "sparse_threshold=0,  # the model needs a dense matrix",
}

_TEXT_ONLY = """
# Only the text columns; missing text counts as empty.
X, X_test = train[TEXT_COLUMNS].fillna(""), test[TEXT_COLUMNS].fillna("")
vectorize = {text}
preprocess = ColumnTransformer([(column, vectorize, column) for column in TEXT_COLUMNS])
{model}
model.fit(X, y)
"""

_FIT_DUMMY = """
model = {model}
model.fit(X, y)
"""

_OUTPUT = {
    "label": """
submission = pd.DataFrame({"id": test["id"], TARGET: model.predict(X_test)})
""",
    "value": """
submission = pd.DataFrame({"id": test["id"], TARGET: model.predict(X_test)})
""",
    "probability": """
# The probability of the positive class: find its column among the fitted classes.
positive = [str(label) for label in model.classes_].index(str(POSITIVE))
submission = pd.DataFrame({"id": test["id"], TARGET: model.predict_proba(X_test)[:, positive]})
""",
    "probabilities": """
# One column per class, named and ordered as in the sample submission.
fitted = [str(label) for label in model.classes_]
submission = pd.DataFrame(model.predict_proba(X_test), columns=fitted)
submission = submission.reindex(columns=CLASSES, fill_value=0.0)
submission.insert(0, "id", test["id"].to_numpy())
""",
}

_WRITE = """submission.to_csv("submission.csv", index=False)
"""


def _source(competition: Competition, classes: tuple[str, ...] | None, spec: _Spec) -> str:
    """The whole script of one pipeline, assembled from the templates above."""
    parts = [
        _DOCSTRING.format(
            title=competition.title,
            name=spec.name,
            family=spec.family,
            summary=_summary(spec, bool(competition.text_columns)),
        ),
        _imports(competition, spec),
        _settings(competition, classes, spec),
        _LOAD_NUMERIC if competition.kind == "regression" else _LOAD_LABELLED,
    ]
    if spec.family == "dummy":
        parts += [_DUMMY_FEATURES, _FIT_DUMMY.format(model=spec.model)]
    elif spec.text_only:
        model = _assign("model", f"make_pipeline(preprocess, {spec.model})")
        parts.append(_TEXT_ONLY.format(text=spec.text, model=model))
    else:
        texts = bool(competition.text_columns)
        parts += [
            _CHOOSE_COLUMNS_BESIDE_TEXT if texts else _CHOOSE_COLUMNS,
            _tidy(competition),
            _PREPROCESS.format(
                numeric=_NUMERIC[spec.encoding],
                categorical=_CATEGORICAL[spec.encoding],
                vectorize=_VECTORIZE.format(text=spec.text) if texts else "",
                text=_TEXT_ENTRY if texts else "",
                sparse=_SPARSE[spec.dense],
                model=_assign("model", f"make_pipeline(preprocess, {spec.model})"),
            ),
        ]
    parts += [_OUTPUT[competition.prediction_format], _WRITE]
    return "".join(parts)


def _summary(spec: _Spec, texts: bool) -> str:
    """The docstring's sentence of what the script does."""
    estimator = spec.model.split("(")[0]
    if spec.family == "dummy":
        seen = "ignoring the features (a baseline)"
    elif spec.text_only:
        seen = "on tf-idf vectors of the text columns"
    elif spec.share == 1.0:
        seen = "on all feature columns"
    elif texts:
        seen = f"on the text and a fixed-seed {spec.share:.0%} of the other feature columns"
    else:
        seen = f"on a fixed-seed {spec.share:.0%} of the feature columns"
    sentence = f"Reads train.csv and test.csv, fits a {estimator} {seen}, writes submission.csv."
    return textwrap.fill(sentence, width=96)


def _assign(name: str, call: str) -> str:
    """``name = call``, with the call's arguments wrapped one level deep when the line is long."""
    line = f"{name} = {call}"
    if len(line) <= _WIDTH:
        return line
    outer, _, inner = call.partition("(")
    inner = inner[:-1]  # the closing parenthesis of the outer call
    first, _, rest = inner.partition(", ")
    if "(" not in rest or len(f"    {rest},") <= _WIDTH:
        return f"{name} = {outer}(\n    {first},\n    {rest},\n)"
    head, _, arguments = rest.partition("(")
    return f"{name} = {outer}(\n    {first},\n    {head}(\n        {arguments[:-1]}\n    ),\n)"


def _imports(competition: Competition, spec: _Spec) -> str:
    """The import lines the script needs, grouped by module."""
    names = {name for name in _IMPORTS if f"{name}(" in spec.model}
    if spec.family != "dummy":
        names |= {"ColumnTransformer", "make_pipeline"}
        if competition.text_columns:
            names.add("TfidfVectorizer")
        if not spec.text_only:
            names.add("SimpleImputer")
            names |= {
                name
                for name in _IMPORTS
                if f"{name}(" in _NUMERIC[spec.encoding] + _CATEGORICAL[spec.encoding]
            }
    modules: dict[str, list[str]] = {}
    for name in sorted(names):
        modules.setdefault(_IMPORTS[name], []).append(name)
    lines = ["import numpy as np", "import pandas as pd"]
    lines += [f"from {module} import {', '.join(modules[module])}" for module in sorted(modules)]
    return "\n" + "\n".join(lines) + "\n"


def _settings(competition: Competition, classes: tuple[str, ...] | None, spec: _Spec) -> str:
    """The facts the description states, and this pipeline's column share."""
    lines = [f"TARGET = {json.dumps(competition.target)}"]
    if competition.prediction_format == "probability":
        lines.append(f"POSITIVE = {json.dumps(str(competition.positive))}")
    if competition.prediction_format == "probabilities":
        lines.append(f"CLASSES = {json.dumps(list(classes or ()))}")
    if spec.family != "dummy":
        if competition.time_column is not None and not spec.text_only:
            lines.append(f"TIME_COLUMN = {json.dumps(competition.time_column)}")
        lines.append(f"TEXT_COLUMNS = {json.dumps(list(competition.text_columns))}")
        if not spec.text_only:
            lines.append(f"FEATURE_SHARE = {spec.share}")
    return "\n" + "\n".join(lines) + "\n"


def _tidy(competition: Competition) -> str:
    """The feature-cleaning function, with the date and text steps only where they apply."""
    what = []
    if competition.time_column is not None:
        what.append("the date as calendar numbers")
    if competition.text_columns:
        what.append("missing text as empty")
    parts = [_TIDY_HEAD.format(what="".join(f", {item}" for item in what))]
    if competition.time_column is not None:
        parts.append(_TIDY_DATE)
    if competition.text_columns:
        parts.append(_TIDY_TEXT)
    parts.append(_TIDY_TAIL)
    return "".join(parts)


def reference_pipelines(competition: Competition, prepared: PreparedVariant) -> list[Pipeline]:
    """Every reference pipeline of one prepared variant of ``competition``, as runnable scripts.

    The variant supplies only what its description states (the class names of a multiclass
    probability submission), so the sources of a competition's variants differ at most there.
    """
    classes = prepared.classes
    return [
        Pipeline(name=spec.name, family=spec.family, source=_source(competition, classes, spec))
        for spec in _grid(competition)
    ]
