"""A small transformer text classifier exported as .pt2: int64 token input, token-level gradient attributions taken
w.r.t. the embeddings (checked against autograd on the original module), IG completeness, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explainers.attribution import explain
from explainers.errors import InvalidInput, UnsupportedModel
from explainers.pt2 import export_pt2, load_pt2

SEQ, VOCAB, CLASSES = 16, 100, 3


class TextClassifier(torch.nn.Module):
    """Embedding -> 2 TransformerEncoder layers (GELU) -> mean pooling -> Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, 32)
        layer = torch.nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0, activation="gelu",
                                                 batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = torch.nn.Linear(32, CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(tokens)).mean(dim=1))


@pytest.fixture(scope="module")
def model_and_loaded():
    torch.manual_seed(0)
    module = TextClassifier().eval()
    loaded = load_pt2(export_pt2(module, torch.randint(0, VOCAB, (1, SEQ))))
    return module, loaded


def _tokens(n: int) -> np.ndarray:
    return np.random.default_rng(3).integers(0, VOCAB, size=(n, SEQ), dtype=np.int64)


def _embedding_attribution(module: torch.nn.Module, tokens: np.ndarray, target: int) -> np.ndarray:
    """Native oracle: autograd on the original module (float64) w.r.t. its embedding output, gradient x input."""
    ref = TextClassifier().double().eval()
    ref.load_state_dict(module.state_dict())
    emb = ref.embed(torch.from_numpy(tokens)[None]).detach().requires_grad_(True)
    logits = ref.head(ref.encoder(emb).mean(dim=1))
    (grad,) = torch.autograd.grad(logits[0, target], emb)
    return (grad * emb).sum(dim=-1)[0].detach().numpy()


def test_token_model_loads_with_int64_input_and_predicts_like_the_module(model_and_loaded) -> None:
    module, loaded = model_and_loaded
    assert loaded.input_dtype == "int64" and loaded.input_shape == (SEQ,) and loaded.vocab_size == VOCAB
    x = _tokens(3)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(loaded.reference_logits(x), expected, rtol=0, atol=1e-4)


def test_gradient_x_input_on_tokens_matches_autograd_on_the_original(model_and_loaded) -> None:
    module, loaded = model_and_loaded
    x = _tokens(2)
    got = explain(loaded, x, "gradient_x_input", target=1)
    assert got.shape == (2, SEQ)
    for i in range(2):
        np.testing.assert_allclose(got[i], _embedding_attribution(module, x[i], 1), rtol=1e-7, atol=1e-10)
    assert explain(loaded, x[0], "gradient").shape == (SEQ,)


def test_integrated_gradients_on_tokens_is_complete(model_and_loaded) -> None:
    _, loaded = model_and_loaded
    x = _tokens(1)[0]
    target = int(np.argmax(loaded.reference_logits(x)[0]))
    scores = explain(loaded, x, "integrated_gradients_steps_256", target)
    embed = next(m for m in loaded.torch_module.modules() if isinstance(m, torch.nn.Embedding))
    handle = embed.register_forward_hook(lambda _m, _i, out: torch.zeros_like(out))
    try:
        baseline = loaded.reference_logits(x)[0, target]
    finally:
        handle.remove()
    gap = loaded.reference_logits(x)[0, target] - baseline
    assert abs(scores.sum() - gap) <= 1e-2 * max(1.0, abs(gap)), (scores.sum(), gap)


def test_methods_that_cannot_apply_are_refused_clearly(model_and_loaded) -> None:
    _, loaded = model_and_loaded
    x = _tokens(1)[0]
    for method in ("lrp_epsilon_0_1", "occlusion", "grad_cam"):
        with pytest.raises(UnsupportedModel, match="gradient_x_input"):
            explain(loaded, x, method)
    from explainers.methods import parse_method
    from explainers.rules import check_support

    with pytest.raises(UnsupportedModel, match=r"layer .*(Embedding|LayerNorm|ScaledDotProductAttention).*methods that apply"):
        check_support(loaded.torch_module, parse_method("lrp_epsilon_0_1"))


def test_bad_token_ids_are_invalid_input(model_and_loaded) -> None:
    _, loaded = model_and_loaded
    x = _tokens(1)[0]
    for bad in (np.where(x == x[0], VOCAB, x), -x - 1, x + 0.5, x.astype(bool)):
        with pytest.raises(InvalidInput):
            loaded.predict(bad)
