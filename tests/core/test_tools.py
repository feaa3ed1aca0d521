from __future__ import annotations

from typing import Literal

from palaestra.core.tools import Toolbox, tool
from palaestra.core.types import ToolCall


class Shop:
    @tool
    def order(self, item: str, quantity: int, gift: bool = False) -> dict:
        """Order an item.

        Args:
            item: What to order.
            quantity: How many,
                at least one.
        """
        return {"item": item, "quantity": quantity, "gift": gift}

    @tool
    def ship(self, speed: Literal["slow", "fast"], weights: list[float]) -> str:
        """Ship it."""
        return speed

    def helper(self) -> None:
        """Not a tool."""


def test_schema_comes_from_signature_and_docstring():
    box = Toolbox.of(Shop)
    assert list(box.tools) == ["order", "ship"]
    spec = box.specs[0]
    assert spec["type"] == "function"
    function = spec["function"]
    assert function["name"] == "order" and function["description"] == "Order an item."
    params = function["parameters"]
    assert params["required"] == ["item", "quantity"]
    assert params["properties"]["quantity"]["type"] == "integer"
    assert params["properties"]["quantity"]["description"] == "How many, at least one."
    assert params["additionalProperties"] is False
    assert box.specs[1]["function"]["parameters"]["properties"]["speed"]["enum"] == ["slow", "fast"]
    assert "order(item: str, quantity: int, gift: bool = False)" in box.describe()
    assert Toolbox.of(Shop) is box


def test_validation_is_strict_and_explains_each_problem():
    box = Toolbox.of(Shop)
    args, error = box.validate(ToolCall(name="order", arguments={"item": "mug", "quantity": 2}))
    assert error is None and args == {"item": "mug", "quantity": 2, "gift": False}

    _, error = box.validate(ToolCall(name="order", arguments={"item": "mug", "quantity": "2"}))
    assert error.type == "invalid_arguments"
    assert "'quantity' must be an integer, got \"2\"" in error.message
    assert "Usage: order(item: str" in error.message

    _, error = box.validate(ToolCall(name="order", arguments={"quantity": 1, "colour": "red"}))
    assert "missing required argument 'item'" in error.message
    assert "unexpected argument 'colour'" in error.message

    _, error = box.validate(ToolCall(name="ship", arguments={"speed": "warp", "weights": [1, 2.5]}))
    assert "'speed' must be one of 'slow' or 'fast'" in error.message

    _, error = box.validate(ToolCall(name="ship", arguments={"speed": "slow", "weights": ["x"]}))
    assert "'weights.0' must be a number" in error.message

    _, error = box.validate(ToolCall(name="refund", arguments={}))
    assert error.type == "unknown_tool" and "Available tools: order, ship" in error.message


class Notes:
    @tool
    def add(self, title: str, tags: list[str] | None = None) -> str:
        """Add a note.

        Args:
            title: The note's title.
            tags: Optional labels.
        """
        return title


def test_an_argument_named_title_stays_in_the_schema():
    box = Toolbox.of(Notes)
    params = box.specs[0]["function"]["parameters"]
    assert params["required"] == ["title"]
    assert params["properties"]["title"] == {"type": "string", "description": "The note's title."}
    assert "title" not in params
    assert "add(title: str, tags: list[str] | None = None)" in box.describe()
