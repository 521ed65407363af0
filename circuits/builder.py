"""A gnark-style circuit builder: a circuit is a function ``define(api) -> None``.

Variables (:class:`Var`) are linear combinations of wires, so adding, subtracting and scaling are
free; only :meth:`Api.mul` (of two non-constant variables) and the assertions create R1CS
constraints. Gadgets are plain functions taking ``api``.

Compiling and solving:

* :func:`compile` runs ``define`` without values and records the constraint system, and beside it a
  *witness program*: for every wire that is not an input, how its value is computed from earlier
  wires (a product of two linear combinations, a hint, or a native block, see below);
* :meth:`CompiledCircuit.solve` replays that program over plain ints (a circom/gnark-style witness
  calculator: ``define`` is not run again and no variable is built), then checks the witness against
  the R1CS (``check=False``: only the assertion rows, see :meth:`CompiledCircuit.solve`);
* :meth:`CompiledCircuit.solve_reference` is the original solver, kept as the reference the fast one is
  tested against: it runs ``define`` again with every input value attached, so each new wire gets its
  value on the fly, rejects a ``define`` whose structure depended on input values
  (:class:`StructureMismatch`) and checks every constraint.

Native blocks (:meth:`Api.native_block`): a gadget whose wires are all determined by a few inputs
(a Poseidon permutation: its S-box products) can name a native function computing those wires' values
in allocation order; the program then calls that function once instead of replaying the gadget's
products one linear combination at a time. The constraints are the gadget's own, unchanged; the block
only changes how the solver computes values (the reference solver ignores it, which is how blocks are
tested).

Public inputs and Groth16 non-malleability: in Groth16 a public input ``x_i`` enters verification
only through ``IC_i = (beta*u_i(tau) + alpha*v_i(tau) + w_i(tau)) / gamma``, where ``u_i, v_i, w_i``
interpolate wire ``i``'s coefficients in the A, B, C matrices. A public wire that appears in no
constraint has ``IC_i`` = the point at infinity, so the proof verifies for *any* value of that input
(it is not bound at all). The compiler therefore appends one ``p * 1 = p`` constraint per public
input ``p``: it gives every public wire non-zero, pairwise independent polynomials, whether or not
the circuit otherwise uses it (e.g. model-hash limbs that the statement only carries along).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import mul as _mul
from typing import Any, Union

from .errors import CircuitError, WitnessError
from .field import R, element
from .r1cs import R1CS, Constraint

Operand = Union["Var", int]
Define = Callable[["Api"], None]
_RawConstraint = tuple[dict[int, int], dict[int, int], dict[int, int]]
#: A native solver: input values in, the values of a run of consecutive new wires out.
Solver = Callable[..., Sequence[int]]

_ONE = 0  # wire 0 is the constant 1

# witness-program operations (builder wire ids while recording, R1CS wire indices once compiled):
#   (_OP_MUL, out, a, b)                      w[out] = <a, w> * <b, w>
#   (_OP_HINT, out, fn, (lc, ...))            w[out] = fn(<lc, w>, ...)
#   (_OP_BLOCK, start, count, fn, (lc, ...))  w[start:start+count] = fn(<lc, w>, ...)
# a linear combination is recorded as a dict while compiling, as (wires, coeffs) tuples once compiled
_OP_MUL, _OP_HINT, _OP_BLOCK = 0, 1, 2


class StructureMismatch(CircuitError):
    """Solving produced a constraint system different from the compiled one (value-dependent define)."""


class Var:
    """A linear combination of wires, with its value when the builder is solving.

    Immutable by convention: operations return new variables. ``lc`` maps builder wire ids to
    non-zero coefficients in [0, R); wire 0 is the constant 1.
    """

    __slots__ = ("_api", "lc", "value")

    def __init__(self, api: Api, lc: dict[int, int], value: int | None) -> None:
        self._api = api
        self.lc = lc
        self.value = value

    def is_constant(self) -> bool:
        return all(w == _ONE for w in self.lc)

    def constant_value(self) -> int:
        """The value of a constant variable (raises if it depends on a wire)."""
        if not self.is_constant():
            raise CircuitError("variable is not a constant")
        return self.lc.get(_ONE, 0)

    def __add__(self, other: Operand) -> Var:
        return self._api.add(self, other)

    __radd__ = __add__

    def __sub__(self, other: Operand) -> Var:
        return self._api.sub(self, other)

    def __rsub__(self, other: Operand) -> Var:
        return self._api.sub(other, self)

    def __neg__(self) -> Var:
        return self._api.scale(self, -1)

    def __mul__(self, other: Operand) -> Var:
        if isinstance(other, int):
            return self._api.scale(self, other)
        return self._api.mul(self, other)

    def __rmul__(self, other: Operand) -> Var:
        return self.__mul__(other)

    def __repr__(self) -> str:
        return f"Var(lc={self.lc!r}, value={self.value!r})"


def _lc_combine(a: Mapping[int, int], b: Mapping[int, int], k: int) -> dict[int, int]:
    """a + k*b with zero coefficients dropped."""
    out = dict(a)
    for wire, coeff in b.items():
        c = (out.get(wire, 0) + k * coeff) % R
        if c:
            out[wire] = c
        else:
            out.pop(wire, None)
    return out


@dataclass(frozen=True)
class InputLayout:
    """What ``define`` declared: public names in order, secret names with vector lengths (None = scalar)."""

    public: tuple[str, ...]
    secret: tuple[tuple[str, int | None], ...]


class Api:
    """The narrow API a ``define`` function programs against.

    Created by :func:`compile` (no values) or by :meth:`CompiledCircuit.solve` (with values); user
    code never constructs it.
    """

    def __init__(
        self,
        public_values: Mapping[str, int] | None = None,
        secret_values: Mapping[str, int | Sequence[int]] | None = None,
    ) -> None:
        self._solving = public_values is not None
        self._public_values = public_values or {}
        self._secret_values = secret_values or {}
        self._values: list[int | None] = [1 if self._solving else None]
        self._public_wires: list[int] = []
        self._names: dict[int, str] = {}
        self._declared: set[str] = set()
        self._secret_layout: list[tuple[str, int | None]] = []
        self._public_layout: list[str] = []
        self.constraints: list[_RawConstraint] = []
        # the witness program (recorded while compiling only)
        self._program: list[tuple[Any, ...]] = []
        self._inputs: list[tuple[int, str, int | None]] = []
        self._assertion_rows: list[int] = []
        self._block_depth = 0

    # ----------------------------------------------------------------- wires and inputs
    def _new_wire(self, value: int | None, name: str | None = None) -> Var:
        wire = len(self._values)
        self._values.append(value)
        if name is not None:
            self._names[wire] = name
        return Var(self, {wire: 1}, value)

    def _declare(self, name: str) -> None:
        if self._block_depth:
            raise CircuitError(f"input {name!r} declared inside a native block")
        if not isinstance(name, str) or not name:
            raise CircuitError(f"input name must be a non-empty str, got {name!r}")
        if name in self._declared:
            raise CircuitError(f"input {name!r} declared twice")
        self._declared.add(name)

    def public(self, name: str) -> Var:
        """Declare a public input (wires 1..n_public in declaration order)."""
        self._declare(name)
        self._public_layout.append(name)
        value = self._public_values.get(name) if self._solving else None
        var = self._new_wire(value, name)
        self._public_wires.append(next(iter(var.lc)))
        self._inputs.append((self._public_wires[-1], name, None))
        return var

    def secret(self, name: str) -> Var:
        """Declare a scalar private input."""
        self._declare(name)
        self._secret_layout.append((name, None))
        value = self._secret_values.get(name) if self._solving else None
        var = self._new_wire(value if isinstance(value, int) else None, name)
        self._inputs.append((len(self._values) - 1, name, None))
        return var

    def secret_vector(self, name: str, length: int) -> list[Var]:
        """Declare a private input vector of fixed ``length`` (solve takes a sequence for it)."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise CircuitError(f"vector length must be a positive int, got {length!r}")
        self._declare(name)
        self._secret_layout.append((name, length))
        values = self._secret_values.get(name) if self._solving else None
        out = []
        for i in range(length):
            out.append(self._new_wire(None if values is None else values[i], f"{name}[{i}]"))  # type: ignore[index]
            self._inputs.append((len(self._values) - 1, name, i))
        return out

    def constant(self, c: int) -> Var:
        c %= R
        return Var(self, {_ONE: c} if c else {}, c if self._solving else None)

    def as_var(self, x: Operand) -> Var:
        """An int as a constant, a Var of this run as itself."""
        if isinstance(x, Var):
            if x._api is not self:
                raise CircuitError("variable belongs to another circuit run")
            return x
        if isinstance(x, bool) or not isinstance(x, int):
            raise CircuitError(f"expected Var or int, got {type(x).__name__}")
        return self.constant(x)

    # ----------------------------------------------------------------- free linear operations
    def add(self, a: Operand, b: Operand) -> Var:
        va, vb = self.as_var(a), self.as_var(b)
        value = (va.value + vb.value) % R if self._solving else None  # type: ignore[operator]
        return Var(self, _lc_combine(va.lc, vb.lc, 1), value)

    def sub(self, a: Operand, b: Operand) -> Var:
        va, vb = self.as_var(a), self.as_var(b)
        value = (va.value - vb.value) % R if self._solving else None  # type: ignore[operator]
        return Var(self, _lc_combine(va.lc, vb.lc, -1), value)

    def scale(self, a: Operand, k: int) -> Var:
        va = self.as_var(a)
        k %= R
        lc = {w: c * k % R for w, c in va.lc.items()} if k else {}
        value = va.value * k % R if self._solving else None  # type: ignore[operator]
        return Var(self, lc, value)

    def linear_combination(self, coeffs: Sequence[int], terms: Sequence[Operand]) -> Var:
        """sum coeffs[i] * terms[i] in one pass (free; the fast path for wide sums like MDS layers)."""
        if len(coeffs) != len(terms):
            raise CircuitError(f"{len(coeffs)} coefficients for {len(terms)} terms")
        acc: dict[int, int] = {}
        value = 0
        for k, term in zip(coeffs, terms):
            var = self.as_var(term)
            for wire, coeff in var.lc.items():
                acc[wire] = acc.get(wire, 0) + k * coeff
            if self._solving:
                value += k * var.value  # type: ignore[operator]
        lc = {w: c % R for w, c in acc.items() if c % R}
        return Var(self, lc, value % R if self._solving else None)

    def sum(self, terms: Sequence[Operand]) -> Var:
        return self.linear_combination([1] * len(terms), terms)

    # ----------------------------------------------------------------- constraints
    def _constrain(self, a: Var, b: Var, c: Var, *, assertion: bool = True) -> None:
        if assertion:
            self._assertion_rows.append(len(self.constraints))
        self.constraints.append((dict(a.lc), dict(b.lc), dict(c.lc)))

    @property
    def _recording(self) -> bool:
        """Whether a new wire needs a witness-program step (compiling, outside native blocks)."""
        return not self._solving and not self._block_depth

    def mul(self, a: Operand, b: Operand) -> Var:
        """a * b: a new wire and one constraint, unless an operand is constant (then free)."""
        va, vb = self.as_var(a), self.as_var(b)
        if va.is_constant():
            return self.scale(vb, va.constant_value())
        if vb.is_constant():
            return self.scale(va, vb.constant_value())
        out = self._new_wire(va.value * vb.value % R if self._solving else None)  # type: ignore[operator]
        self._constrain(va, vb, out, assertion=False)  # holds by construction of the solved value
        if self._recording:
            self._program.append((_OP_MUL, len(self._values) - 1, dict(va.lc), dict(vb.lc)))
        return out

    def assert_equal(self, a: Operand, b: Operand) -> None:
        """(a - b) * 1 = 0."""
        diff = self.sub(a, b)
        if diff.is_constant():
            if diff.constant_value() != 0:
                raise CircuitError("assert_equal between two different constants")
            return
        self._constrain(diff, self.constant(1), self.constant(0))

    def assert_product(self, a: Operand, b: Operand, c: Operand) -> None:
        """a * b = c (one constraint; constant products are checked or turned into a linear constraint)."""
        va, vb, vc = self.as_var(a), self.as_var(b), self.as_var(c)
        if va.is_constant() or vb.is_constant():
            self.assert_equal(self.mul(va, vb), vc)
            return
        self._constrain(va, vb, vc)

    def assert_boolean(self, a: Operand) -> None:
        """a * (1 - a) = 0."""
        va = self.as_var(a)
        if va.is_constant():
            if va.constant_value() not in (0, 1):
                raise CircuitError("assert_boolean on a non-boolean constant")
            return
        self._constrain(va, self.sub(1, va), self.constant(0))

    def hint(self, fn: Callable[..., int], *inputs: Operand) -> Var:
        """A new private wire holding ``fn(*input values) mod R``; the caller MUST constrain it."""
        vars_ = [self.as_var(x) for x in inputs]
        if not self._solving:
            var = self._new_wire(None)
            if self._recording:
                self._program.append((_OP_HINT, len(self._values) - 1, fn, tuple(dict(v.lc) for v in vars_)))
            return var
        return self._new_wire(_hint_value(fn, fn(*(v.value for v in vars_))))

    def hints(self, fn: Callable[..., Sequence[int]], n: int, *inputs: Operand) -> list[Var]:
        """``n`` new private wires holding ``fn(*input values)`` (a sequence of ``n`` ints, reduced mod R).

        One call for many outputs (e.g. all the bits of a value); wires as ``n`` :meth:`hint` calls would
        allocate them. The caller MUST constrain them."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise CircuitError(f"hint output count must be a positive int, got {n!r}")
        vars_ = [self.as_var(x) for x in inputs]
        if not self._solving:
            start = len(self._values)
            out = [self._new_wire(None) for _ in range(n)]
            if self._recording:
                self._program.append((_OP_BLOCK, start, n, fn, tuple(dict(v.lc) for v in vars_)))
            return out
        values = _block_values(fn, fn(*(v.value for v in vars_)), n)
        return [self._new_wire(v) for v in values]

    @contextmanager
    def native_block(self, solver: Solver, inputs: Sequence[Operand]) -> Iterator[None]:
        """Wires allocated inside the ``with`` are computed, when solving, by ``solver(*input values)``.

        ``solver`` returns the values of every wire the block allocates (products and hints), in
        allocation order; the block's constraints are recorded as usual (and checked, see
        :meth:`CompiledCircuit.solve`). Inputs cannot be declared inside; nested blocks belong to the
        outermost one. The reference solver runs the block's body instead of ``solver``."""
        vars_ = [self.as_var(x) for x in inputs]
        start = len(self._values)
        self._block_depth += 1
        try:
            yield
        finally:
            self._block_depth -= 1
        count = len(self._values) - start
        if count and self._recording:
            self._program.append((_OP_BLOCK, start, count, solver, tuple(dict(v.lc) for v in vars_)))

    # ----------------------------------------------------------------- finishing
    def _layout(self) -> InputLayout:
        return InputLayout(public=tuple(self._public_layout), secret=tuple(self._secret_layout))

    def _bind_public_inputs(self) -> None:
        for wire in self._public_wires:
            p = Var(self, {wire: 1}, self._values[wire])
            self._constrain(p, self.constant(1), p)

    def _wire_order(self) -> list[int]:
        """Builder wire ids in R1CS order: the constant, publics in declaration order, the rest."""
        publics = set(self._public_wires)
        rest = [w for w in range(1, len(self._values)) if w not in publics]
        return [_ONE, *self._public_wires, *rest]


def _hint_value(fn: Callable[..., Any], result: object) -> int:
    if isinstance(result, bool) or not isinstance(result, int):
        raise CircuitError(f"hint {getattr(fn, '__name__', fn)!r} returned {type(result).__name__}, not int")
    return result % R


def _block_values(fn: Callable[..., Any], result: object, count: int) -> list[int]:
    if isinstance(result, (str, bytes)) or not isinstance(result, Sequence) or len(result) != count:
        raise CircuitError(f"native solver {getattr(fn, '__name__', fn)!r} must return {count} ints")
    if set(map(type, result)) == {int}:  # the usual case, checked in C
        return [v % R for v in result]
    return [_hint_value(fn, v) for v in result]


def _remap(lc: Mapping[int, int], new_index: Mapping[int, int]) -> dict[int, int]:
    return {new_index[w]: c for w, c in lc.items()}


_FlatLc = tuple[tuple[int, ...], tuple[int, ...]]


def _flat(lc: Mapping[int, int], new_index: Mapping[int, int]) -> _FlatLc:
    """A recorded linear combination in R1CS wire indices, as (wires, coeffs)."""
    return tuple(new_index[w] for w in lc), tuple(lc.values())


def _compile_program(program: Sequence[tuple[Any, ...]], new_index: Mapping[int, int]) -> tuple[tuple[Any, ...], ...]:
    out: list[tuple[Any, ...]] = []
    for op in program:
        kind = op[0]
        if kind == _OP_MUL:
            _, wire, a, b = op
            out.append((_OP_MUL, new_index[wire], *_flat(a, new_index), *_flat(b, new_index)))
        elif kind == _OP_HINT:
            _, wire, fn, lcs = op
            out.append((_OP_HINT, new_index[wire], fn, tuple(_flat(lc, new_index) for lc in lcs)))
        else:
            _, start, count, fn, lcs = op
            first = new_index[start]
            # a block's wires are consecutive builder ids and never public, so consecutive in the R1CS too
            if [new_index[w] for w in range(start, start + count)] != list(range(first, first + count)):
                raise CircuitError("native block wires are not consecutive")  # defensive
            out.append((_OP_BLOCK, first, count, fn, tuple(_flat(lc, new_index) for lc in lcs)))
    return tuple(out)


def _run_program(program: Sequence[tuple[Any, ...]], witness: list[int]) -> None:
    """Fill ``witness`` (inputs already set) by replaying the witness program over ints."""
    get = witness.__getitem__
    for op in program:
        kind = op[0]
        if kind == _OP_MUL:
            _, out, aw, ac, bw, bc = op
            witness[out] = sum(map(_mul, ac, map(get, aw))) * sum(map(_mul, bc, map(get, bw))) % R
        elif kind == _OP_HINT:
            _, out, fn, lcs = op
            args = [sum(map(_mul, cs, map(get, ws))) % R for ws, cs in lcs]
            witness[out] = _hint_value(fn, fn(*args))
        else:
            _, start, count, fn, lcs = op
            args = [sum(map(_mul, cs, map(get, ws))) % R for ws, cs in lcs]
            witness[start : start + count] = _block_values(fn, fn(*args), count)


@dataclass(frozen=True, eq=False)
class CompiledCircuit:
    """A compiled ``define``: its R1CS plus what :meth:`solve` needs to compute a witness."""

    r1cs: R1CS
    layout: InputLayout
    _define: Define = field(repr=False)
    _raw_constraints: tuple[_RawConstraint, ...] = field(repr=False)
    _order: tuple[int, ...] = field(repr=False)
    #: the witness program, in R1CS wire indices
    _program: tuple[tuple[Any, ...], ...] = field(repr=False)
    #: (R1CS wire, input name, vector index or None) for every input wire
    _inputs: tuple[tuple[int, str, int | None], ...] = field(repr=False)
    #: constraints that are assertions (not ``a * b = out`` of a product the solver computed), in order
    _assertion_rows: tuple[int, ...] = field(repr=False)

    @property
    def n_constraints(self) -> int:
        return self.r1cs.n_constraints

    def _check_inputs(
        self, public: Mapping[str, int], secret: Mapping[str, int | Sequence[int]]
    ) -> None:
        expected_public = set(self.layout.public)
        if set(public) != expected_public:
            missing, extra = expected_public - set(public), set(public) - expected_public
            raise WitnessError(f"public inputs: missing {sorted(missing)}, unexpected {sorted(extra)}")
        for name in self.layout.public:
            _field_input(public[name], f"public input {name!r}")
        expected_secret = {name for name, _ in self.layout.secret}
        if set(secret) != expected_secret:
            missing, extra = expected_secret - set(secret), set(secret) - expected_secret
            raise WitnessError(f"secret inputs: missing {sorted(missing)}, unexpected {sorted(extra)}")
        for name, length in self.layout.secret:
            value = secret[name]
            if length is None:
                _field_input(value, f"secret input {name!r}")
                continue
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise WitnessError(f"secret input {name!r} must be a sequence of {length} ints")
            if len(value) != length:
                raise WitnessError(f"secret input {name!r} has {len(value)} values, expected {length}")
            for i, v in enumerate(value):
                _field_input(v, f"secret input {name}[{i}]")

    def solve(
        self, public: Mapping[str, int], secret: Mapping[str, int | Sequence[int]], *, check: bool = True
    ) -> list[int]:
        """The full witness (R1CS wire order) for these inputs, computed by replaying the witness program.

        ``check=True`` checks every constraint, so the witness returned satisfies ``self.r1cs``.
        ``check=False`` checks only the assertion rows (equalities, booleanity, public bindings: where
        inputs can fail the statement) and skips the product rows, which the solver satisfies by
        construction (native-block products by the block's solver, tested against
        :meth:`solve_reference`); for callers that check every row anyway, like the Groth16 prover.
        Either way the witness equals :meth:`solve_reference`'s.

        Raises :class:`WitnessError` for missing, extra or out-of-field inputs and
        :class:`~circuits.errors.UnsatisfiedConstraint` when the inputs do not satisfy the statement.
        """
        self._check_inputs(public, secret)
        witness = [0] * self.r1cs.n_wires
        witness[0] = 1
        for wire, name, index in self._inputs:
            value = public[name] if wire <= self.r1cs.n_public else secret[name]
            witness[wire] = int(value if index is None else value[index])  # type: ignore[index]
        _run_program(self._program, witness)
        if check:
            self.r1cs.check(witness)
        else:
            self.r1cs.check_rows(witness, self._assertion_rows)
        return witness

    def solve_reference(self, public: Mapping[str, int], secret: Mapping[str, int | Sequence[int]]) -> list[int]:
        """The witness computed by running ``define`` again with the input values (slow; the reference).

        Same result and errors as :meth:`solve`, plus :class:`StructureMismatch` when ``define`` builds a
        different constraint system once given values. Always checks every constraint.
        """
        self._check_inputs(public, secret)
        api = Api(public, secret)
        self._define(api)
        api._bind_public_inputs()
        if (
            api._layout() != self.layout
            or len(api._values) != len(self._order)
            or tuple(api.constraints) != self._raw_constraints
        ):
            raise StructureMismatch("define produced a different constraint system when given values")
        witness = [api._values[w] for w in self._order]
        if any(v is None for v in witness):  # defensive: every wire is computed while solving
            raise CircuitError("solver left a wire without a value")
        full = [int(v) for v in witness]  # type: ignore[arg-type]
        self.r1cs.check(full)
        return full


def _field_input(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WitnessError(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value < R:
        raise WitnessError(f"{what} is outside the field [0, r)")
    return element(value, what)


def compile(define: Define) -> CompiledCircuit:  # noqa: A001 - the natural name, as in gnark
    """Run ``define`` symbolically and return its R1CS (public inputs bound by ``p * 1 = p``)."""
    api = Api()
    define(api)
    api._bind_public_inputs()
    order = api._wire_order()
    new_index = {old: new for new, old in enumerate(order)}
    constraints = tuple(
        Constraint(_remap(a, new_index), _remap(b, new_index), _remap(c, new_index)) for a, b, c in api.constraints
    )
    r1cs = R1CS(
        n_wires=len(order),
        n_public=len(api._public_wires),
        constraints=constraints,
        public_names=tuple(api._public_layout),
        wire_names={new_index[w]: name for w, name in api._names.items()},
    )
    r1cs._flat  # noqa: B018 - prepare the constraint checker now rather than in the first solve
    return CompiledCircuit(
        r1cs=r1cs,
        layout=api._layout(),
        _define=define,
        _raw_constraints=tuple(api.constraints),
        _order=tuple(order),
        _program=_compile_program(api._program, new_index),
        _inputs=tuple((new_index[wire], name, index) for wire, name, index in api._inputs),
        _assertion_rows=tuple(api._assertion_rows),
    )
