"""Seeded generators for synthetic competitions: every seed draws a fresh, reproducible world.

Package tables are fixed, so re-splitting them is all a new variant can do; a generator here
draws new rows from the same story for every seed, which is how MLE-v0 gets variants an agent
cannot have memorised. Each story is built so that models of rising quality score better: the
target depends on thresholds and interactions (trees beat linear models), on features a
participant has to engineer (dates, negations in text), and on noise no model explains, with
missing values and categorical columns as in real tables. Each generator takes under half a
second and uses only ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["insurance_charges", "loan_default", "product_reviews", "store_demand"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    import numpy as np

    return 1.0 / (1.0 + np.exp(-x))


def _with_missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """A float or object copy of ``values`` with about ``share`` of entries missing."""
    import numpy as np

    out = values.astype(object if values.dtype.kind in "OUS" else float)
    out[rng.random(len(values)) < share] = None if out.dtype == object else np.nan
    return out


def loan_default(seed: int, rows: int = 3000) -> pd.DataFrame:
    """Loan applications and whether each loan defaulted (``default``: ``yes``/``no``).

    Risk jumps below a credit score of about 610, doubles when a high debt-to-income ratio
    meets a middling score, grows with the share of income the instalment takes, and is
    U-shaped in age; about one loan in six defaults. Income, score, employment years, the
    debt ratio and home ownership are sometimes missing.

    Args:
        seed: Seed of the draw.
        rows: Number of applications.

    Returns:
        One row per application.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(41, 12, rows), 19, 79).round()
    employment = rng.choice(
        ["salaried", "self_employed", "contract", "unemployed", "retired"],
        size=rows,
        p=[0.6, 0.15, 0.12, 0.05, 0.08],
    )
    years = np.minimum(rng.gamma(2.0, 3.5, rows), age - 18).round(1)
    years[employment == "unemployed"] = 0.0
    income_shift = {"salaried": 0.0, "self_employed": 0.1, "contract": -0.15}
    income_shift |= {"unemployed": -0.9, "retired": -0.35}
    log_income = (
        np.log(52_000)
        + 0.012 * (age - 40)
        + 0.02 * years
        + np.vectorize(income_shift.get)(employment)
        + rng.normal(0, 0.45, rows)
    )
    income = np.round(np.exp(log_income), -2)
    home = rng.choice(["rent", "mortgage", "own", "other"], size=rows, p=[0.42, 0.38, 0.15, 0.05])
    score = np.clip(
        rng.normal(675, 65, rows) + 35 * (home == "own") + 1.2 * (age - 40), 300, 850
    ).round()
    purposes = ["debt_consolidation", "credit_card", "home_improvement", "car", "medical"]
    purposes += ["small_business", "education"]
    purpose = rng.choice(purposes, size=rows, p=[0.32, 0.2, 0.14, 0.13, 0.08, 0.07, 0.06])
    amount = np.clip(np.round(np.exp(rng.normal(np.log(14_000), 0.6, rows)), -2), 1000, 60_000)
    term = rng.choice([36, 60], size=rows, p=[0.7, 0.3])
    rate = np.clip(
        5.5 + 0.04 * (800 - score) + 1.8 * (term == 60) + rng.normal(0, 1.2, rows), 4.0, 29.9
    ).round(2)
    monthly_rate = rate / 1200
    payment = np.round(amount * monthly_rate / (1 - (1 + monthly_rate) ** -term), 2)
    dti = np.clip(rng.beta(2.2, 5.0, rows) * 0.9, 0.0, 0.85).round(3)
    accounts = rng.poisson(8, rows)
    delinquencies = rng.poisson(0.25 + 0.9 * (score < 600), rows)
    inquiries = rng.poisson(1.0, rows)
    region = rng.choice(["north", "south", "east", "west", "central"], size=rows)

    purpose_risk = {"debt_consolidation": 0.2, "credit_card": 0.1, "home_improvement": -0.25}
    purpose_risk |= {"car": -0.35, "medical": 0.35, "small_business": 0.8, "education": 0.1}
    employment_risk = {"salaried": 0.0, "self_employed": 0.3, "contract": 0.45}
    employment_risk |= {"unemployed": 1.1, "retired": 0.1}
    burden = payment * 12 / income
    risk = (
        -5.6
        + 3.6 * _sigmoid((610 - score) / 8)
        + 3.0 * ((dti > 0.4) & (score < 690))
        + 12.0 * np.maximum(burden - 0.15, 0)
        + 0.8 * np.minimum(delinquencies, 3)
        + 1.6 * ((years < 1) & (employment != "retired"))
        + 1.3 * np.vectorize(purpose_risk.get)(purpose)
        + 1.3 * np.vectorize(employment_risk.get)(employment)
        + 1.6 * ((purpose == "small_business") & (income < 45_000))
        + 0.004 * (age - 45) ** 2
        + 0.7 * (inquiries > 2)
        + 0.3 * (region == "south")
        + rng.normal(0, 0.25, rows)
    )
    default = rng.random(rows) < _sigmoid(risk)
    default ^= rng.random(rows) < 0.015  # label noise: records that were filed wrongly
    return pd.DataFrame(
        {
            "applicant_age": age.astype(int),
            "annual_income": _with_missing(rng, income, 0.05),
            "employment_type": employment,
            "employment_years": _with_missing(rng, years, 0.07),
            "home_ownership": _with_missing(rng, home, 0.02),
            "loan_purpose": purpose,
            "loan_amount": amount,
            "term_months": term,
            "interest_rate": rate,
            "monthly_payment": payment,
            "credit_score": _with_missing(rng, score, 0.04),
            "debt_to_income": _with_missing(rng, dti, 0.03),
            "open_accounts": accounts,
            "delinquencies_2y": delinquencies,
            "credit_inquiries_6m": inquiries,
            "region": region,
            "default": np.where(default, "yes", "no"),
        }
    )


def insurance_charges(seed: int, rows: int = 3000) -> pd.DataFrame:
    """Health insurance members and their yearly charges (``annual_charges``, a number).

    Charges grow with age (faster after 50), jump for smokers and jump again for smokers
    with a BMI over 30, rise with chronic conditions and the plan's tier, and carry
    multiplicative noise plus rare large claims. BMI, exercise habit and income are
    sometimes missing.

    Args:
        seed: Seed of the draw.
        rows: Number of members.

    Returns:
        One row per member.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = rng.integers(18, 65, rows)
    sex = rng.choice(["female", "male"], size=rows)
    bmi = np.clip(rng.normal(29, 6, rows), 16, 55).round(1)
    children = np.minimum(rng.poisson(1.1, rows), 5)
    smoker = rng.random(rows) < 0.2
    region = rng.choice(["northeast", "northwest", "southeast", "southwest"], size=rows)
    exercise = rng.choice(["none", "light", "regular"], size=rows, p=[0.35, 0.4, 0.25])
    plan = rng.choice(["bronze", "silver", "gold", "platinum"], size=rows, p=[0.3, 0.35, 0.25, 0.1])
    occupation = rng.choice(["office", "manual", "hazardous"], size=rows, p=[0.6, 0.3, 0.1])
    chronic = rng.poisson(0.15 + 0.025 * (age - 18), rows)
    income = np.round(np.exp(rng.normal(np.log(48_000), 0.5, rows)), -2)

    plan_factor = {"bronze": 0.85, "silver": 1.0, "gold": 1.15, "platinum": 1.35}
    exercise_effect = {"none": 600.0, "light": 0.0, "regular": -1200.0}
    charges = (
        2200
        + 240 * age
        + 9.0 * np.maximum(age - 50, 0) ** 2
        + smoker * (13_000 + 19_000 * (bmi > 30))
        + 180 * np.maximum(bmi - 30, 0)
        + 1700 * chronic
        + 700 * np.sqrt(children)
        + np.vectorize(exercise_effect.get)(exercise)
        + 2600 * (occupation == "hazardous")
        + 1500 * ((region == "southeast") & (bmi > 35))
    ) * np.vectorize(plan_factor.get)(plan)
    charges *= np.exp(rng.normal(0, 0.2, rows))
    charges += (rng.random(rows) < 0.03) * rng.exponential(9000, rows)
    return pd.DataFrame(
        {
            "age": age,
            "sex": sex,
            "bmi": _with_missing(rng, bmi, 0.06),
            "children": children,
            "smoker": np.where(smoker, "yes", "no"),
            "region": region,
            "exercise": _with_missing(rng, exercise, 0.08),
            "plan_tier": plan,
            "occupation": occupation,
            "chronic_conditions": chronic,
            "annual_income": _with_missing(rng, income, 0.05),
            "annual_charges": np.round(np.maximum(charges, 500), 2),
        }
    )


# Word lists for product reviews. Negating a word flips its polarity ("not great"), so a
# bag of single words confuses the two; word pairs or sequence models do better.
_ASPECTS = {
    "electronics": ["battery", "screen", "sound", "charger", "remote", "app"],
    "kitchen": ["blade", "lid", "handle", "coating", "motor", "bowl"],
    "books": ["plot", "characters", "ending", "writing", "pacing", "translation"],
    "toys": ["pieces", "colors", "instructions", "wheels", "box", "paint"],
    "clothing": ["fabric", "fit", "stitching", "zipper", "color", "sizing"],
}
_GENERAL_ASPECTS = ["price", "delivery", "packaging", "quality", "seller", "support"]
_POSITIVE = ["great", "excellent", "sturdy", "perfect", "reliable", "lovely", "impressive"]
_POSITIVE += ["good", "solid", "fantastic", "worth it", "comfortable"]
_NEGATIVE = ["terrible", "flimsy", "broken", "awful", "useless", "disappointing", "cheap"]
_NEGATIVE += ["bad", "poor", "defective", "overpriced", "noisy"]
_NEUTRAL = ["okay", "average", "fine", "as described", "acceptable", "standard", "decent"]
_NEGATORS = ["not", "never", "hardly", "not at all"]
_FILLER = [
    "I bought this as a gift",
    "ordered it last month",
    "my second purchase from this shop",
    "used it every day for two weeks",
    "compared it with a few others first",
    "the order came on a Tuesday",
    "my kids tried it too",
    "bought it on sale",
    "this is my honest review",
    "wrote this after a month",
]
_OPENERS = ["the", "honestly the", "overall the", "I think the", "to be fair the", "sadly the"]
_VERBS = ["is", "was", "seems", "felt", "turned out"]
_CLOSERS = {
    1: ["would buy again", "highly recommend", "five stars from me", "happy with it"],
    -1: ["returning it", "would not recommend", "waste of money", "one star"],
    0: ["it does the job", "nothing special", "mixed feelings", "three stars"],
}


def _pick(rng: np.random.Generator, words: list[str]) -> str:
    # Indexing a list is much faster than rng.choice, which first builds an array.
    return words[int(rng.integers(len(words)))]


def _opinion(rng: np.random.Generator, polarity: int) -> str:
    if polarity == 0:
        return _pick(rng, _NEUTRAL)
    negate = rng.random() < 0.35
    # A negated word of the opposite polarity says the same thing: "not bad" is positive.
    word = _pick(rng, _POSITIVE if (polarity > 0) != negate else _NEGATIVE)
    return f"{_pick(rng, _NEGATORS)} {word}" if negate else word


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 4:
        return word
    cut = int(rng.integers(1, len(word) - 1))
    return word[:cut] + word[cut + 1 :]


def product_reviews(seed: int, rows: int = 2500) -> pd.DataFrame:
    """Product reviews and their sentiment (``sentiment``: negative, neutral or positive).

    A review is a few sentences, each an opinion on one aspect of the product. Its sentiment
    decides the mix of opinions, but positive reviews hold complaints and negative ones
    praise, some opinions are negated ("not great"), neutral reviews mix both, fillers and
    typos add noise, and 7% of labels are redrawn at random. Helpful votes, the product
    category and whether the purchase was verified come with each review.

    Args:
        seed: Seed of the draw.
        rows: Number of reviews.

    Returns:
        One row per review, with a ``text`` column.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    labels = np.array(["negative", "neutral", "positive"])
    sentiment = rng.choice(3, size=rows, p=[0.3, 0.25, 0.45]) - 1
    names = list(_ASPECTS)
    categories = rng.integers(len(names), size=rows)
    # Cumulative shares of (-1, 0, +1) sentences for each sentiment.
    mix = {-1: (0.72, 0.88), 0: (0.2, 0.8), 1: (0.1, 0.26)}
    texts = []
    for label, category in zip(sentiment.tolist(), categories.tolist(), strict=True):
        aspects = _ASPECTS[names[category]] + _GENERAL_ASPECTS
        parts = []
        for _ in range(int(rng.integers(3, 6))):
            draw = rng.random()
            polarity = -1 if draw < mix[label][0] else (0 if draw < mix[label][1] else 1)
            opener, aspect, verb = _pick(rng, _OPENERS), _pick(rng, aspects), _pick(rng, _VERBS)
            parts.append(f"{opener} {aspect} {verb} {_opinion(rng, polarity)}")
        if rng.random() < 0.6:
            parts.insert(int(rng.integers(0, len(parts) + 1)), _pick(rng, _FILLER))
        if rng.random() < 0.5:
            closer = label if rng.random() < 0.75 else int(rng.integers(-1, 2))
            parts.append(_pick(rng, _CLOSERS[closer]))
        text = ". ".join(p[0].upper() + p[1:] for p in parts) + "."
        if rng.random() < 0.3:
            words = text.split(" ")
            typo = int(rng.integers(len(words)))
            words[typo] = _typo(rng, words[typo])
            text = " ".join(words)
        texts.append(text)
    noisy = rng.random(rows) < 0.07
    observed = np.where(noisy, rng.integers(-1, 2, rows), sentiment)
    votes = rng.poisson(np.where(sentiment < 0, 3.0, 1.5))
    verified = rng.random(rows) < np.where(sentiment > 0, 0.85, 0.7)
    return pd.DataFrame(
        {
            "text": texts,
            "product_category": np.asarray(names)[categories],
            "helpful_votes": votes,
            "verified_purchase": np.where(verified, "yes", "no"),
            "sentiment": labels[observed + 1],
        }
    )


def store_demand(seed: int, stores: int = 10, days: int = 730) -> pd.DataFrame:
    """Daily units sold by a chain's stores over about two years (``units_sold``).

    Each store has its own level and growth; demand has a weekly profile that depends on
    the store type, a yearly cycle with a December peak, promotions (stronger in malls),
    public holidays (street shops close early, the day before is busy), and a warm-weather
    lift for street shops; counts are overdispersed. Temperature is sometimes missing.

    Args:
        seed: Seed of the draw.
        stores: Number of stores.
        days: Number of days, from 2022-01-01.

    Returns:
        One row per store and day, with an ISO ``date`` column.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    dates = np.datetime64("2022-01-01") + np.arange(days)
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(int) + 1
    weekday = (dates.astype("datetime64[D]").astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    month_day = pd.DatetimeIndex(dates).strftime("%m-%d")
    fixed = {"01-01", "05-01", "07-14", "08-15", "11-01", "11-11", "12-25", "12-26"}
    holiday = np.isin(month_day, sorted(fixed)) | (rng.random(days) < 0.004)
    eve = np.roll(holiday, -1) & ~holiday
    december = np.where((day_of_year >= 335) & (day_of_year <= 358), 1.0, 0.0)
    yearly = 1 + 0.12 * np.sin(2 * np.pi * (day_of_year - 100) / 365.25) + 0.45 * december

    types = np.array(["mall", "street", "suburban"])
    regions = np.array(["north", "south", "coast"])
    weekly = {
        "mall": [0.85, 0.8, 0.85, 0.95, 1.1, 1.45, 1.3],
        "street": [1.0, 1.0, 1.05, 1.1, 1.35, 1.0, 0.5],
        "suburban": [0.9, 0.85, 0.9, 0.95, 1.05, 1.5, 0.85],
    }
    frames = []
    region_temperature = {
        region: 13 + 9 * np.sin(2 * np.pi * (day_of_year - 110) / 365.25) + rng.normal(0, 3, days)
        for region in regions
    }
    for store in range(stores):
        kind = str(types[store % 3])
        region = str(rng.choice(regions))
        size = int(rng.integers(3, 25)) * 50
        level = np.exp(rng.normal(np.log(60), 0.3)) * (size / 600) ** 0.5
        growth = rng.normal(0.1, 0.08)
        temperature = region_temperature[region] + rng.normal(0, 0.7, days)
        promotion = np.zeros(days, dtype=bool)
        for start in rng.choice(days, size=days // 35, replace=False):
            promotion[start : start + int(rng.integers(3, 8))] = True
        lift = {"mall": 1.4, "street": 1.2, "suburban": 1.3}[kind]
        mean = (
            level
            * (1 + growth) ** (np.arange(days) / 365.25)
            * np.asarray(weekly[kind])[weekday]
            * yearly
            * np.where(promotion, lift, 1.0)
            * np.where(holiday, 0.35 if kind == "street" else 0.8, 1.0)
            * np.where(eve, 1.3, 1.0)
        )
        if kind == "street":
            mean *= 1 + 0.02 * np.maximum(temperature - 15, 0)
        units = rng.poisson(mean * rng.gamma(15.0, 1 / 15.0, days))
        frames.append(
            pd.DataFrame(
                {
                    "date": pd.DatetimeIndex(dates).strftime("%Y-%m-%d"),
                    "store_id": f"S{store + 1:02d}",
                    "store_type": kind,
                    "region": region,
                    "store_size_m2": size,
                    "promotion": promotion.astype(int),
                    "holiday": holiday.astype(int),
                    "temperature": _with_missing(rng, temperature.round(1), 0.03),
                    "units_sold": units,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
