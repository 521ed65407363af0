"""The attribution method catalog: SignXAI-style names parsed into :class:`MethodSpec` values.

Numbers inside names use ``_`` as the decimal point and an optional ``neg_`` prefix for negatives:
``0_1`` = 0.1, ``1`` = 1.0, ``0_25`` = 0.25, ``neg_0_5`` = -0.5. Integers are plain decimal.
A name either parses completely or raises :class:`UnknownMethod` (no partial matches, no fallbacks).

Gradient family (any differentiable model):

* ``gradient`` — d logit[target] / d x.
* ``gradient_x_input`` — gradient times input.
* ``gradient_x_sign`` / ``gradient_x_sign_mu_<v>`` — gradient times ``sign_mu(x)``, where ``sign_mu(x) = +1``
  if ``x >= mu`` else ``-1`` (SignXAI; default mu = 0, so zero inputs count as positive).
* ``integrated_gradients`` / ``integrated_gradients_steps_<n>`` — zero baseline, right Riemann sum over
  ``n`` steps (default 50).
* ``smoothgrad`` / ``vargrad`` with optional ``_samples_<n>`` (default 25), ``_noise_<v>`` (default 0.1,
  the std as a fraction of each sample's value range) and ``_seed_<n>`` (default 0): mean / variance of the
  gradient over noisy copies. The noise of each sample is drawn from a ``torch.Generator`` seeded from the
  seed and the sample's bytes, so results are reproducible and independent of batch composition.
* ``occlusion`` / ``occlusion_window_<n>`` — target-logit drop when a window (default 1, spatial for
  images, covering all channels) is set to zero; stride = window.
* ``grad_cam`` / ``grad_cam_layer_<name>`` — Grad-CAM at a convolution layer (default: the last
  Conv1d/Conv2d; ``<name>`` is the module path with ``.`` written as ``_``), upsampled (bi)linearly to the
  input and repeated over channels.
* ``grad_cam_plus_plus`` / ``grad_cam_plus_plus_layer_<name>`` — Grad-CAM++ (exp-score closed form), same
  layer and upsampling conventions.
* ``score_cam`` with optional ``_layer_<name>`` and ``_batch_<n>`` (masked inputs per forward pass, default
  32; a trailing ``_batch_<n>`` with n >= 1 is always this parameter, never part of the layer name) — Score-CAM,
  same conventions. See :mod:`explainers.cam` for the exact formulas.

Modified backward passes (ReLU networks; other activations are rejected):

* ``guided_backprop``, ``deconvnet``.

LRP (composites of zennit rules; every Linear/Conv gets a rule, ReLU the pass rule, average pooling the
norm rule, max pooling its gradient; BatchNorm directly after a Linear/Conv is merged into it by the
``SequentialMergeBatchNorm`` canonizer; anything else is rejected):

* ``lrp_z`` (LRP-0), ``lrp_epsilon_<v>``, ``lrp_z_plus`` (alias ``lrp_zplus``), ``lrp_gamma`` /
  ``lrp_gamma_<v>`` (default 0.25), ``lrp_alpha_<a>_beta_<b>`` (``a - b = 1``, e.g. ``lrp_alpha_1_beta_0``,
  ``lrp_alpha_2_beta_1``), ``lrp_flat``, ``lrp_w_square`` — one rule on every Linear/Conv layer.
* ``lrp_zbox`` / ``lrp_zbox_low_<v>_high_<v>`` — ZBox on the first layer (input bounds, default [0, 1]),
  LRP-0 elsewhere.
* ``lrp_sequential_composite_a`` / ``_b`` — iNNvestigate's presets: Linear gets epsilon 0.1, Conv gets
  alpha1-beta0 (A) or alpha2-beta1 (B).
* ``lrpsign_<x>`` for any ``lrp_<x>`` above except zbox — the same, but the first layer uses the SIGN
  input rule ``R_i = sign(x_i) * sum_j w_ij R_j / z_j`` (sign(0) = +1).
* zennit presets, by zennit's registry names: ``epsilon_plus``, ``epsilon_plus_flat``,
  ``epsilon_alpha2_beta1``, ``epsilon_alpha2_beta1_flat``, ``excitation_backprop``, ``epsilon_gamma_box``
  (optionally ``epsilon_gamma_box_low_<v>_high_<v>``, default bounds [0, 1]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from explainers.errors import UnknownMethod

Family = Literal[
    "gradient",
    "gradient_x_input",
    "gradient_x_sign",
    "integrated_gradients",
    "smoothgrad",
    "vargrad",
    "occlusion",
    "grad_cam",
    "grad_cam_plus_plus",
    "score_cam",
    "guided_backprop",
    "deconvnet",
    "lrp",
]
LrpRule = Literal[
    "epsilon", "zplus", "gamma", "alpha_beta", "flat", "w_square", "zbox", "sequential_a", "sequential_b", "preset"
]
ParamValue = float | int | str

LRP_Z_STABILIZER = 1e-9
DEFAULT_IG_STEPS = 50
DEFAULT_NOISE_SAMPLES = 25
DEFAULT_NOISE_LEVEL = 0.1
DEFAULT_GAMMA = 0.25
DEFAULT_BOUNDS = (0.0, 1.0)
DEFAULT_SCORE_CAM_BATCH = 32
SEQUENTIAL_EPSILON = 0.1
ZENNIT_PRESETS: tuple[str, ...] = (
    "epsilon_plus",
    "epsilon_plus_flat",
    "epsilon_alpha2_beta1",
    "epsilon_alpha2_beta1_flat",
    "excitation_backprop",
    "epsilon_gamma_box",
)
MAX_STEPS = 100_000

_NUM = r"(?:neg_)?(?:0|[1-9][0-9]*)(?:_[0-9]+)?"
_INT = r"[1-9][0-9]*"
_INT0 = r"(?:0|[1-9][0-9]*)"
_BOUNDS = rf"(?:_low_({_NUM})_high_({_NUM}))?"
_NOISE = rf"(?:_samples_({_INT}))?(?:_noise_({_NUM}))?(?:_seed_({_INT0}))?"


@dataclass(frozen=True)
class MethodSpec:
    """A parsed method name. ``params`` holds the method's remaining parameters as sorted (key, value) pairs."""

    name: str
    family: Family
    rule: LrpRule | None = None
    epsilon: float | None = None
    sign_first: bool = False
    params: tuple[tuple[str, ParamValue], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(sorted(self.params)))

    def param(self, key: str) -> ParamValue:
        """The value of parameter ``key`` (every parser fills in defaults, so a missing key is a bug)."""
        for k, v in self.params:
            if k == key:
                return v
        raise KeyError(f"method {self.name!r} has no parameter {key!r}")

    @property
    def uses_composite(self) -> bool:
        """True when the method runs with a zennit composite (LRP or modified ReLU backward)."""
        return self.family in ("lrp", "guided_backprop", "deconvnet")


def available_methods() -> tuple[str, ...]:
    """The catalog: ``<v>`` is a number (``0_1`` = 0.1, ``neg_1`` = -1), ``<n>`` a positive integer."""
    return (
        "gradient",
        "gradient_x_input",
        "gradient_x_sign",
        "gradient_x_sign_mu_<v>",
        "integrated_gradients",
        "integrated_gradients_steps_<n>",
        "smoothgrad[_samples_<n>][_noise_<v>][_seed_<n>]",
        "vargrad[_samples_<n>][_noise_<v>][_seed_<n>]",
        "occlusion",
        "occlusion_window_<n>",
        "grad_cam",
        "grad_cam_layer_<name>",
        "grad_cam_plus_plus",
        "grad_cam_plus_plus_layer_<name>",
        "score_cam[_layer_<name>][_batch_<n>]",
        "guided_backprop",
        "deconvnet",
        "lrp_z",
        "lrp_zplus",
        "lrp_z_plus",
        "lrp_epsilon_<v>",
        "lrp_gamma",
        "lrp_gamma_<v>",
        "lrp_alpha_1_beta_0",
        "lrp_alpha_2_beta_1",
        "lrp_alpha_<v>_beta_<v>",
        "lrp_flat",
        "lrp_w_square",
        "lrp_zbox",
        "lrp_zbox_low_<v>_high_<v>",
        "lrp_sequential_composite_a",
        "lrp_sequential_composite_b",
        "lrpsign_<lrp method without the lrp_ prefix, except zbox>",
        *ZENNIT_PRESETS,
        "epsilon_gamma_box_low_<v>_high_<v>",
    )


def parse_number(text: str) -> float:
    """``0_1`` -> 0.1, ``neg_2`` -> -2.0 (the caller's regex has already validated the shape)."""
    negative = text.startswith("neg_")
    body = text[4:] if negative else text
    whole, _, frac = body.partition("_")
    value = float(f"{whole}.{frac}" if frac else whole)
    if negative and value == 0.0:
        raise UnknownMethod(f"{text!r}: negative zero is not a canonical number")
    return -value if negative else value


def _unknown(name: str, why: str = "") -> UnknownMethod:
    suffix = f" ({why})" if why else ""
    return UnknownMethod(
        f"unknown attribution method {name!r}{suffix}; available: {', '.join(available_methods())}"
    )


def _bounds(name: str, low: str | None, high: str | None) -> tuple[tuple[str, ParamValue], ...]:
    lo, hi = (parse_number(low), parse_number(high)) if low is not None and high is not None else DEFAULT_BOUNDS
    if not lo < hi:
        raise _unknown(name, f"low {lo} must be below high {hi}")
    return (("high", hi), ("low", lo))


def _parse_lrp_tail(name: str, tail: str, sign_first: bool) -> MethodSpec:
    """Parse the part after ``lrp_`` / ``lrpsign_``."""
    if tail == "z":
        return MethodSpec(name, "lrp", "epsilon", LRP_Z_STABILIZER, sign_first)
    if tail in ("zplus", "z_plus"):
        return MethodSpec(name, "lrp", "zplus", sign_first=sign_first)
    if tail in ("flat", "w_square"):
        return MethodSpec(name, "lrp", "flat" if tail == "flat" else "w_square", sign_first=sign_first)
    if tail in ("sequential_composite_a", "sequential_composite_b"):
        rule: LrpRule = "sequential_a" if tail.endswith("a") else "sequential_b"
        return MethodSpec(name, "lrp", rule, SEQUENTIAL_EPSILON, sign_first)
    match = re.fullmatch(rf"epsilon_({_NUM})", tail)
    if match:
        epsilon = parse_number(match.group(1))
        if epsilon <= 0.0:
            raise _unknown(name, "epsilon must be positive; use 'lrp_z' for the z-rule")
        return MethodSpec(name, "lrp", "epsilon", epsilon, sign_first)
    match = re.fullmatch(rf"gamma(?:_({_NUM}))?", tail)
    if match:
        gamma = parse_number(match.group(1)) if match.group(1) else DEFAULT_GAMMA
        if gamma <= 0.0:
            raise _unknown(name, "gamma must be positive")
        return MethodSpec(name, "lrp", "gamma", sign_first=sign_first, params=(("gamma", gamma),))
    match = re.fullmatch(rf"alpha_({_NUM})_beta_({_NUM})", tail)
    if match:
        alpha, beta = parse_number(match.group(1)), parse_number(match.group(2))
        if beta < 0.0 or abs(alpha - beta - 1.0) > 1e-12:
            raise _unknown(name, "alpha-beta needs beta >= 0 and alpha - beta = 1")
        return MethodSpec(name, "lrp", "alpha_beta", sign_first=sign_first, params=(("alpha", alpha), ("beta", beta)))
    match = re.fullmatch(rf"zbox{_BOUNDS}", tail)
    if match:
        if sign_first:
            raise _unknown(name, "zbox already fixes the first-layer rule; it cannot be combined with SIGN")
        return MethodSpec(name, "lrp", "zbox", LRP_Z_STABILIZER, params=_bounds(name, match.group(1), match.group(2)))
    raise _unknown(name)


def _parse_noise(name: str, family: Family, match: re.Match[str]) -> MethodSpec:
    samples = int(match.group(1)) if match.group(1) else DEFAULT_NOISE_SAMPLES
    noise = parse_number(match.group(2)) if match.group(2) else DEFAULT_NOISE_LEVEL
    seed = int(match.group(3)) if match.group(3) else 0
    if samples > MAX_STEPS or (family == "vargrad" and samples < 2):
        raise _unknown(name, f"samples must be in [{2 if family == 'vargrad' else 1}, {MAX_STEPS}]")
    if noise < 0.0:
        raise _unknown(name, "noise must be non-negative")
    return MethodSpec(name, family, params=(("noise", noise), ("samples", samples), ("seed", seed)))


def parse_method(name: str) -> MethodSpec:
    """Parse a method name or raise :class:`UnknownMethod` (parsed names are cached: specs are immutable)."""
    if not isinstance(name, str):
        raise UnknownMethod(f"method name must be a string, got {type(name).__name__}")
    return _parse_cached(name)


@lru_cache(maxsize=256)
def _parse_cached(name: str) -> MethodSpec:
    if name in ("gradient", "gradient_x_input", "guided_backprop", "deconvnet"):
        return MethodSpec(name, name)  # type: ignore[arg-type]
    match = re.fullmatch(rf"gradient_x_sign(?:_mu_({_NUM}))?", name)
    if match:
        mu = parse_number(match.group(1)) if match.group(1) else 0.0
        return MethodSpec(name, "gradient_x_sign", params=(("mu", mu),))
    match = re.fullmatch(rf"integrated_gradients(?:_steps_({_INT}))?", name)
    if match:
        steps = int(match.group(1)) if match.group(1) else DEFAULT_IG_STEPS
        if steps > MAX_STEPS:
            raise _unknown(name, f"at most {MAX_STEPS} steps")
        return MethodSpec(name, "integrated_gradients", params=(("steps", steps),))
    for family in ("smoothgrad", "vargrad"):
        match = re.fullmatch(rf"{family}{_NOISE}", name)
        if match:
            return _parse_noise(name, family, match)  # type: ignore[arg-type]
    match = re.fullmatch(rf"occlusion(?:_window_({_INT}))?", name)
    if match:
        window = int(match.group(1)) if match.group(1) else 1
        return MethodSpec(name, "occlusion", params=(("window", window),))
    for family in ("grad_cam", "grad_cam_plus_plus"):
        match = re.fullmatch(rf"{family}(?:_layer_([0-9A-Za-z_]+))?", name)
        if match:
            return MethodSpec(name, family, params=(("layer", match.group(1) or ""),))  # type: ignore[arg-type]
    match = re.fullmatch(rf"score_cam(?:_layer_([0-9A-Za-z_]+?))?(?:_batch_({_INT}))?", name)
    if match:
        batch = int(match.group(2)) if match.group(2) else DEFAULT_SCORE_CAM_BATCH
        if batch > MAX_STEPS:
            raise _unknown(name, f"at most {MAX_STEPS} masked inputs per batch")
        return MethodSpec(name, "score_cam", params=(("batch", batch), ("layer", match.group(1) or "")))
    if name.startswith("lrp_"):
        return _parse_lrp_tail(name, name[len("lrp_") :], sign_first=False)
    if name.startswith("lrpsign_"):
        return _parse_lrp_tail(name, name[len("lrpsign_") :], sign_first=True)
    if name in ZENNIT_PRESETS:
        params = _bounds(name, None, None) if name == "epsilon_gamma_box" else ()
        return MethodSpec(name, "lrp", "preset", params=(("preset", name), *params))
    match = re.fullmatch(rf"epsilon_gamma_box{_BOUNDS}", name)
    if match and match.group(1) is not None:
        return MethodSpec(
            name, "lrp", "preset", params=(*_bounds(name, match.group(1), match.group(2)), ("preset", "epsilon_gamma_box"))
        )
    raise _unknown(name)
