"""Answer matching: the expected value stated plainly passes, hedging does not."""

from __future__ import annotations

import pytest

from palaestra.tasks.verify import answer_matches

QUESTION = "How many units of product P-5773 are in stock? Reply with the number."


@pytest.mark.parametrize(
    ("answer", "matches"),
    [
        ("15", True),
        ("Done. The answer is 15.", True),
        ("There are 15 units of P-5773 in stock.", True),  # the id is the task's, not a guess
        ("15 units, 3 more on order", True),
        ("There are 1,5 units", False),
        ("16", False),
        ("1. 1.\n2. 2.\n3. 3.\n4. 4.\n15. 15.", False),  # listing numbers until one is right
        ("15 or 16 or 17", False),
        ("P-5773", False),
    ],
)
def test_a_numeric_answer_states_the_value_without_hedging(answer, matches):
    assert answer_matches("15", answer, context=QUESTION) is matches


def test_numbers_compare_by_value_and_phrases_as_whole_words():
    assert answer_matches("1250", "It costs $1,250.00")
    assert answer_matches("12.5", "The total is 12.50")
    assert answer_matches("Alice Chen", "The customer is alice chen.")
    assert not answer_matches("Alice Chen", "The customer is Alice Chenoweth.")
