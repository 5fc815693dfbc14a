"""The NumPy MiniLM forward pass: tokens, captured activations, and a semantic sanity test."""

from __future__ import annotations

import numpy as np
import pytest

from accel.errors import WorkloadError
from accel.workloads.checkpoint import model_folder
from accel.workloads.minilm import (
    PASSAGE,
    capture_activations,
    load_encoder,
    load_tokenizer,
    sentence_embeddings,
    token_batch,
)


@pytest.fixture(scope="module")
def folder():
    return model_folder("minilm-l6")


def test_paraphrases_are_closer_than_unrelated_sentences(folder):
    e = sentence_embeddings(folder, ["A man is playing a guitar.",
                                     "Someone is playing an acoustic guitar.",
                                     "The central bank raised interest rates again.",
                                     "Heavy snow closed the mountain roads."])
    sim = e @ e.T
    assert sim[0, 1] > 0.6  # measured 0.84-ish for a true paraphrase
    assert sim[0, 1] > sim[0, 2] + 0.3 and sim[0, 1] > sim[0, 3] + 0.3
    assert sim[2, 3] < 0.5


def test_token_batch_exact_length_cls_sep_and_wrap(folder):
    tok = load_tokenizer(str(folder))
    stream = tok.encode(PASSAGE, add_special_tokens=False).ids
    ids = token_batch(tok, 64, 3)
    assert ids.shape == (3, 64)
    assert np.all(ids[:, 0] == tok.token_to_id("[CLS]"))
    assert np.all(ids[:, -1] == tok.token_to_id("[SEP]"))
    assert ids[0, 1:-1].tolist() == stream[:62]
    assert ids[1, 1:-1].tolist() == stream[62:124]
    long = token_batch(tok, 512, 1)  # longer than the passage: wraps around
    assert long[0, 1:-1].tolist() == (stream * 3)[:510]
    for bad in ((1, 1), (513, 1), (-1, 1), (8, 0)):
        with pytest.raises(WorkloadError):
            token_batch(tok, *bad)


def test_captured_activations_are_the_layers_inputs(folder):
    acts = capture_activations(folder, seq_len=16, batch=2)
    assert len(acts) == 36
    assert acts["encoder.layer.0.attention.self.query"].shape == (32, 384)
    assert acts["encoder.layer.2.output.dense"].shape == (32, 1536)
    enc = load_encoder(str(folder))
    p = enc.p
    # layer-0 Q/K/V input = LayerNorm(word + position + type embeddings), recomputed here
    ids = token_batch(load_tokenizer(str(folder)), 16, 2)
    e = (p["embeddings.word_embeddings.weight"][ids] + p["embeddings.position_embeddings.weight"][:16]
         + p["embeddings.token_type_embeddings.weight"][0]).astype(np.float64)
    e = (e - e.mean(-1, keepdims=True)) / np.sqrt(e.var(-1, keepdims=True) + 1e-12)
    e = e * p["embeddings.LayerNorm.weight"] + p["embeddings.LayerNorm.bias"]
    np.testing.assert_allclose(acts["encoder.layer.0.attention.self.query"], e.reshape(32, 384),
                               rtol=1e-4, atol=1e-4)
    # FFN2 input is GELU of FFN1's output: GELU(x) >= -0.17 everywhere
    assert acts["encoder.layer.0.output.dense"].min() > -0.171
    # the next layer's input is the previous layer's LayerNorm output: ~zero mean per token
    np.testing.assert_allclose(((acts["encoder.layer.1.attention.self.query"]
                                 - p["encoder.layer.0.output.LayerNorm.bias"])
                                / p["encoder.layer.0.output.LayerNorm.weight"]).mean(1), 0,
                               atol=1e-3)
