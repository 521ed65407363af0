"""Small named layers for ATen ops of exported programs that ``torch.nn`` has no module for.

Data movement (:class:`Reshape`, :class:`Transpose`, :class:`Permute`, :class:`Unsqueeze`, :class:`Squeeze`,
:class:`Select`) routes relevance unchanged; :class:`Mean` and :class:`ScaledDotProductAttention` compute, and no
LRP rule is registered for them (:func:`explainers.rules.check_support` refuses LRP on them, naming the layer),
but gradient methods apply. :class:`PerSample` runs a graph specialised to batch size 1 on each sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["Mean", "Permute", "PerSample", "Reshape", "ScaledDotProductAttention", "Select", "Squeeze", "Transpose",
           "Unsqueeze"]


def _ints(values: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


class Reshape(torch.nn.Module):
    """``x.reshape(shape)``; with ``keep_batch`` the leading dim (1 when exported) is the input's batch size."""

    def __init__(self, shape: Sequence[int], keep_batch: bool) -> None:
        super().__init__()
        self.shape = _ints(shape)
        self.keep_batch = bool(keep_batch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.keep_batch:
            return x.reshape(x.shape[0], *self.shape[1:])
        return x.reshape(self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}, keep_batch={self.keep_batch}"


class Transpose(torch.nn.Module):
    """``x.transpose(dim0, dim1)``."""

    def __init__(self, dim0: int, dim1: int) -> None:
        super().__init__()
        self.dims = (int(dim0), int(dim1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(*self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Permute(torch.nn.Module):
    """``x.permute(dims)``."""

    def __init__(self, dims: Sequence[int]) -> None:
        super().__init__()
        self.dims = _ints(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Unsqueeze(torch.nn.Module):
    """``x.unsqueeze(dim)``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Squeeze(Unsqueeze):
    """``x.squeeze(dim)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.squeeze(self.dim)


class Select(torch.nn.Module):
    """``x.select(dim, index)``."""

    def __init__(self, dim: int, index: int) -> None:
        super().__init__()
        self.dim, self.index = int(dim), int(index)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.select(self.dim, self.index)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, index={self.index}"


class Mean(torch.nn.Module):
    """``x.mean(dims, keepdim)`` (e.g. mean pooling over tokens)."""

    def __init__(self, dims: Sequence[int], keepdim: bool) -> None:
        super().__init__()
        self.dims, self.keepdim = _ints(dims), bool(keepdim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=self.dims, keepdim=self.keepdim)

    def extra_repr(self) -> str:
        return f"dims={self.dims}, keepdim={self.keepdim}"


class ScaledDotProductAttention(torch.nn.Module):
    """``softmax(q k^T * scale) v`` (no mask, no dropout): the attention core, without an LRP rule."""

    def __init__(self, scale: float | None, is_causal: bool) -> None:
        super().__init__()
        self.scale = None if scale is None else float(scale)
        self.is_causal = bool(is_causal)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=self.is_causal, scale=self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}, is_causal={self.is_causal}"


class PerSample(torch.nn.Module):
    """Runs ``graph`` (exported for batch size 1) on each sample and concatenates: a batch wrapper, no compute."""

    def __init__(self, graph: torch.nn.Module) -> None:
        super().__init__()
        self.graph = graph

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.graph(x[i : i + 1]) for i in range(x.shape[0])], dim=0)
