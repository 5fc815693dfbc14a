import json

import pytest


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory):
    """A small LLaMA-style Hugging Face config.json, so model tests run in milliseconds."""
    p = tmp_path_factory.mktemp("llm") / "config.json"
    p.write_text(json.dumps({
        "model_type": "llama", "hidden_size": 256, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 4, "intermediate_size": 512,
        "vocab_size": 1024, "hidden_act": "silu", "rms_norm_eps": 1e-5,
        "max_position_embeddings": 2048}))
    return str(p)
