"""CodeInterpreter-v0: tool-integrated reasoning and programming in a sandboxed Python session."""

from palaestra.envs.code_interpreter.env import CodeInterpreterEnv

__all__ = ["CodeInterpreterEnv"]
