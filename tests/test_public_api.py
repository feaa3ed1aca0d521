"""The names users import, and what importing them costs."""

import palaestra
import palaestra.agents
import palaestra.core
import palaestra.rollout
import palaestra.tasks


def test_exported_names():
    assert set(palaestra.__all__) == {
        "Conversation",
        "PalaestraError",
        "TextEnv",
        "ToolCall",
        "Trajectory",
        "__version__",
        "catalog",
        "fork",
        "read_jsonl",
        "write_jsonl",
    }
    assert {
        "Agent",
        "BaseAgent",
        "OracleAgent",
        "RandomAgent",
        "ScriptedAgent",
        "NoopAgent",
        "TransformersAgent",
        "OpenAIAgent",
        "resolve_agent",
    } <= set(palaestra.agents.__all__)
    assert {"collect", "summarize", "EpisodeRecorder"} <= set(palaestra.rollout.__all__)
    for module in (palaestra, palaestra.agents, palaestra.core, palaestra.rollout, palaestra.tasks):
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)


def test_errors_share_one_root():
    from palaestra import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.PalaestraError)
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.MissingDependencyError, ImportError)
