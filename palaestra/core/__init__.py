"""Contracts every other package uses: records, the TextEnv base, spaces, parsing, tools."""

from palaestra.core.conversation import Conversation
from palaestra.core.env import TextEnv
from palaestra.core.fork import fork
from palaestra.core.parsing import ActionError, ParsedAction, parse_action
from palaestra.core.spaces import UnicodeText
from palaestra.core.tools import Tool, Toolbox, tool
from palaestra.core.types import (
    AgentTurn,
    ErrorInfo,
    Message,
    StepRecord,
    ToolCall,
    ToolSpec,
    Trajectory,
    Verdict,
    read_jsonl,
    write_jsonl,
)

__all__ = [
    "ActionError",
    "AgentTurn",
    "Conversation",
    "ErrorInfo",
    "Message",
    "ParsedAction",
    "StepRecord",
    "TextEnv",
    "Tool",
    "ToolCall",
    "ToolSpec",
    "Toolbox",
    "Trajectory",
    "UnicodeText",
    "Verdict",
    "fork",
    "parse_action",
    "read_jsonl",
    "tool",
    "write_jsonl",
]
