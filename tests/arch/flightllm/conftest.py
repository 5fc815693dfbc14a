import pytest


@pytest.fixture(scope="session")
def tiny_config(tiny_llm_config):
    """The shared small LLaMA-style config.json (tests/data), so model tests run in
    milliseconds."""
    return tiny_llm_config
