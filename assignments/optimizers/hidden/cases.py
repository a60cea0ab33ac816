"""Hidden cases of the optimizers assignment, run inside the sandbox (see assignments/README.md).

Each case builds seeded inputs from ctx.rng, drives the submitted optimizers, schedules and
mini-batch iterator, and returns what they produced. The grader runs the same case on the
reference solution and compares outside the sandbox, so nothing here knows the right answer.
Output names say what went wrong: "param1_step01" is the vector parameter after the first step,
"state2_exp_avg" is the matrix parameter's exp_avg buffer after the last step. The scorer names
the first output (in sorted order) that differs, so names sort chronologically.

The inputs are built so that each bug the handout rules out shows on EVERY draw, not only on
lucky ones (assignments/optimizers/STAFF.md lists which case catches which requirement):
- gradients are scaled per entry (_kinds): some entries are tiny by construction, so where eps
  sits matters; some fade after a few steps, so the second moment falls and AMSGrad's running
  max differs from the current moment; the defaults case spans 1 ... 1e-11 so every eps
  default moves some entry;
- the optimizer receives a copy of the parameter list and the case reads its own arrays, so
  only true in-place updates count (rebinding list items does not show through);
- gradients are refilled in place before every step, as a training loop refills .grad, so a
  momentum buffer that aliases the caller's gradient goes wrong, and every trajectory reports
  whether step() left the gradients it was given unchanged ("grads_unchanged").
"""

from __future__ import annotations

import numpy as np

STEPS = 25
CHECKPOINTS = (1, 2, 10, 25)
SHAPES = ((), (6,), (3, 4))  # a 0-d parameter, a vector and a matrix

PLAIN, TINY, FADING = 0, 1, 2  # how an entry's gradient is scaled (see _kinds)
# g ~ 1e-6 makes sqrt(v) ~ 1e-6: Adam's and RMSprop's default eps (1e-8) is 1% of it when added
# outside the square root, while sqrt(v + 1e-8) ~ 1e-4 (eps inside) shrinks the step 100x.
TINY_SCALE = 1e-6
# From step FADE_AFTER + 1 on, FADING entries get gradients 1000x smaller: their second moment
# falls, so the running max of AMSGrad stays above it (max over v vs v-hat, max written back).
FADE_AFTER, FADED_SCALE = 4, 1e-3
# The defaults case scales the entries of one parameter 1, 0.1, ..., 1e-11: whatever eps a
# default holds between 1e-12 and 0.1, some entry's step depends on it.
LADDER = 10.0 ** -np.arange(12)


# ---------------------------------------------------------------- helpers (not cases)


def _params(rng: np.random.Generator, shapes=SHAPES) -> list[np.ndarray]:
    """Float64 parameters: by default a scalar (0-d array), a vector and a matrix."""
    return [np.array(rng.standard_normal(shape), dtype=np.float64) for shape in shapes]


def _kinds(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """PLAIN, TINY or FADING per entry, at random places: a quarter TINY and a quarter FADING
    (at least one of each in every parameter with two or more entries), the rest PLAIN."""
    size = int(np.prod(shape, dtype=np.int64))
    kinds = np.full(size, PLAIN)
    if size >= 2:
        k = max(1, size // 4)
        order = rng.permutation(size)
        kinds[order[:k]] = TINY
        kinds[order[k : 2 * k]] = FADING
    return kinds.reshape(shape)


def _gradient_source(rng: np.random.Generator, params: list[np.ndarray], steps: int, scales=None):
    """Gradients of a noisy quadratic, scaled per entry: g = scale * ((p - target) + noise).

    The noise is large early and small late. `scales` is one (early, late) pair of arrays per
    parameter (late from step FADE_AFTER + 1 on); by default _kinds decides them. All random
    draws happen here, up front, so the student's code cannot shift them.
    """
    targets = [rng.standard_normal(p.shape) for p in params]
    noise = [
        [(0.3 + 1.5 * 0.8**t) * rng.standard_normal(p.shape) for p in params] for t in range(steps)
    ]
    if scales is None:
        scales = []
        for p in params:
            kinds = _kinds(rng, p.shape)
            early = np.where(kinds == TINY, TINY_SCALE, 1.0)
            scales.append((early, np.where(kinds == FADING, FADED_SCALE, early)))

    def grads_at(t: int, current: list[np.ndarray]) -> list[np.ndarray]:
        pick = 0 if t < FADE_AFTER else 1
        return [
            s[pick] * ((p - c) + n)
            for p, c, n, s in zip(current, targets, noise[t], scales, strict=True)
        ]

    return grads_at


def _state(opt, i: int, key: str) -> np.ndarray:
    """A state entry as float64 (an int step counter and a float one compare the same)."""
    return np.array(opt.state[i][key], dtype=np.float64)


def _step(opt, grads: list[np.ndarray], fresh: list[np.ndarray]) -> bool:
    """One opt.step the way a training loop calls it: the same gradient arrays every time,
    refilled in place (as torch refills .grad). True if step() left them as it got them."""
    for buf, g in zip(grads, fresh, strict=True):
        buf[...] = g
    sent = [g.copy() for g in grads]
    opt.step(list(grads))
    return all(np.array_equal(g, s) for g, s in zip(grads, sent, strict=True))


def _trajectory(
    ctx,
    name: str,
    kwargs: dict,
    state_keys: tuple[str, ...] = (),
    prefix: str = "",
    steps: int = STEPS,
    shapes=SHAPES,
    init_keys: tuple[str, ...] = (),
    scales=None,
) -> dict:
    """Run `steps` updates of optim.<name>(params, **kwargs); return checkpoints and state.

    The optimizer gets a copy of the list and the case reads its own arrays: only in-place
    updates of those very arrays count. `init_keys` are state entries read before any step.
    """
    optim = ctx.module("optim")
    params = _params(ctx.rng, shapes)
    grads_at = _gradient_source(ctx.rng, params, steps, scales)
    opt = getattr(optim, name)(list(params), **kwargs)
    out: dict = {}
    for i in range(len(params)):
        for key in init_keys:
            out[f"{prefix}init_state{i}_{key}"] = _state(opt, i, key)
    grads = [np.zeros_like(p) for p in params]
    unchanged = True
    for t in range(steps):
        unchanged = _step(opt, grads, grads_at(t, params)) and unchanged
        if t + 1 in CHECKPOINTS or t + 1 == steps:
            for i, p in enumerate(params):
                out[f"{prefix}param{i}_step{t + 1:02d}"] = np.array(p, dtype=np.float64)
    out[f"{prefix}grads_unchanged"] = unchanged
    for i in range(len(params)):
        for key in state_keys:
            out[f"{prefix}state{i}_{key}"] = _state(opt, i, key)
    return out


# ---------------------------------------------------------------- SGD


def sgd_basic(ctx) -> dict:
    """Plain SGD, 25 steps; also reports whether the caller's arrays were updated in place."""
    optim = ctx.module("optim")
    params = _params(ctx.rng)
    before = [p.copy() for p in params]
    grads_at = _gradient_source(ctx.rng, params, 1)
    optim.SGD(list(params), lr=0.07).step([g.copy() for g in grads_at(0, params)])
    changed = all(not np.array_equal(b, p) for b, p in zip(before, params, strict=True))
    # Sorts before any trajectory output: the feedback names it first.
    return {"in_place_update": bool(changed), **_trajectory(ctx, "SGD", {"lr": 0.07})}


def sgd_momentum_dampening(ctx) -> dict:
    """Heavy-ball momentum with dampening (the first step must not be dampened)."""
    kwargs = {"lr": 0.03, "momentum": 0.9, "dampening": 0.25}
    return _trajectory(ctx, "SGD", kwargs, ("momentum_buffer",))


def sgd_nesterov(ctx) -> dict:
    """Nesterov momentum in PyTorch's form."""
    kwargs = {"lr": 0.02, "momentum": 0.85, "nesterov": True}
    return _trajectory(ctx, "SGD", kwargs, ("momentum_buffer",))


def sgd_weight_decay(ctx) -> dict:
    """L2 decay goes into the gradient before momentum; the caller's gradients stay intact."""
    kwargs = {"lr": 0.05, "momentum": 0.6, "weight_decay": 0.15}
    return _trajectory(ctx, "SGD", kwargs, ("momentum_buffer",))


# ---------------------------------------------------------------- adaptive methods


def adagrad(ctx) -> dict:
    """Adagrad with lr_decay, a non-zero initial accumulator (set in __init__) and weight decay."""
    kwargs = {"lr": 0.2, "lr_decay": 0.05, "initial_accumulator_value": 0.3, "weight_decay": 0.02}
    return _trajectory(ctx, "Adagrad", kwargs, ("sum", "step"), init_keys=("sum", "step"))


def rmsprop(ctx) -> dict:
    """Plain RMSprop (no centering, no momentum), default eps against tiny gradients."""
    kwargs = {"lr": 0.01, "alpha": 0.9}
    return _trajectory(ctx, "RMSprop", kwargs, ("square_avg", "step"))


def rmsprop_centered_momentum(ctx) -> dict:
    """Centered RMSprop with momentum and weight decay."""
    kwargs = {"lr": 0.01, "alpha": 0.95, "momentum": 0.8, "centered": True, "weight_decay": 0.05}
    return _trajectory(
        ctx, "RMSprop", kwargs, ("square_avg", "grad_avg", "momentum_buffer", "step")
    )


def adam(ctx) -> dict:
    """Adam with non-default betas: bias correction matters at every checkpoint."""
    kwargs = {"lr": 0.05, "betas": (0.8, 0.99)}
    return _trajectory(ctx, "Adam", kwargs, ("exp_avg", "exp_avg_sq", "step"))


def adam_weight_decay(ctx) -> dict:
    """Adam's weight_decay is L2: added to the gradient, then the usual Adam step."""
    kwargs = {"lr": 0.02, "weight_decay": 0.1}
    return _trajectory(ctx, "Adam", kwargs, ("exp_avg", "exp_avg_sq"))


def amsgrad(ctx) -> dict:
    """Adam with amsgrad=True: running max of the raw second moment."""
    kwargs = {"lr": 0.05, "betas": (0.9, 0.99), "amsgrad": True}
    return _trajectory(ctx, "Adam", kwargs, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))


def adamw(ctx) -> dict:
    """AdamW's decoupled weight decay, its default weight_decay of 0.01, and AMSGrad."""
    keys = ("exp_avg", "exp_avg_sq", "step")
    out = _trajectory(ctx, "AdamW", {"lr": 0.05, "weight_decay": 0.2}, keys)
    out.update(_trajectory(ctx, "AdamW", {"lr": 0.1}, prefix="defaults_", steps=10))
    kwargs = {"lr": 0.05, "betas": (0.9, 0.99), "weight_decay": 0.1, "amsgrad": True}
    out.update(_trajectory(ctx, "AdamW", kwargs, ("max_exp_avg_sq",), prefix="amsgrad_"))
    return out


def defaults(ctx) -> dict:
    """Every optimizer built from its parameters alone: torch.optim's defaults, lr included.

    One parameter's entries are scaled 1 ... 1e-11 (LADDER), so every eps default shows."""
    shapes = ((), (5,), (2, 3, 2))
    runs = {
        "SGD": (),
        "Adagrad": ("sum",),
        "RMSprop": ("square_avg",),
        "Adam": ("exp_avg", "exp_avg_sq"),
        "AdamW": ("exp_avg", "exp_avg_sq"),
    }
    out: dict = {}
    for name, keys in runs.items():
        ladder = ctx.rng.permutation(LADDER).reshape(shapes[2])
        scales = [(np.ones(s), np.ones(s)) for s in shapes[:2]] + [(ladder, ladder)]
        out.update(_trajectory(ctx, name, {}, keys, f"{name.lower()}_", 10, shapes, scales=scales))
    return out


# ---------------------------------------------------------------- edge cases


def state_independence(ctx) -> dict:
    """Same-shape parameters with different gradients, and two optimizers used side by side."""
    out = _trajectory(
        ctx, "Adam", {"lr": 0.05}, ("exp_avg", "exp_avg_sq"), "adam_", 10, ((4,), (4,), (4,))
    )
    optim = ctx.module("optim")
    first, second = _params(ctx.rng, ((5,),)), _params(ctx.rng, ((5,),))
    opt_a = optim.SGD(list(first), lr=0.05, momentum=0.9)
    opt_b = optim.SGD(list(second), lr=0.05, momentum=0.9)
    for _ in range(8):
        opt_a.step([ctx.rng.standard_normal(5)])
        opt_b.step([ctx.rng.standard_normal(5)])
    out["two_sgd_first_param"] = first[0].copy()
    out["two_sgd_second_param"] = second[0].copy()
    out["two_sgd_first_momentum_buffer"] = _state(opt_a, 0, "momentum_buffer")
    return out


def eps_and_zero_grads(ctx) -> dict:
    """eps=0.1 with tiny gradients (eps outside the square root), and all-zero gradients."""
    optim = ctx.module("optim")
    out: dict = {}
    for name, kwargs in (("Adagrad", {"lr": 0.1}), ("RMSprop", {"lr": 0.01, "alpha": 0.9})):
        params = _params(ctx.rng, ((5,), (2, 3)))
        opt = getattr(optim, name)(list(params), eps=0.1, **kwargs)
        for t in range(1, 6):
            opt.step([1e-3 * ctx.rng.standard_normal(p.shape) for p in params])
            for i, p in enumerate(params):
                out[f"{name.lower()}_tiny_grads_param{i}_step{t}"] = p.copy()
    zero_grad_runs = {
        "sgd_nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        "adagrad": ("Adagrad", {"lr": 0.1}),
        "rmsprop_centered": ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
        "adam_amsgrad": ("Adam", {"lr": 0.1, "amsgrad": True}),
        "adamw": ("AdamW", {"lr": 0.1}),
    }
    for label, (name, kwargs) in zero_grad_runs.items():
        params = _params(ctx.rng, ((), (4,)))
        opt = getattr(optim, name)(list(params), **kwargs)
        for _ in range(3):
            opt.step([np.zeros_like(p) for p in params])
        for i, p in enumerate(params):
            out[f"zero_grads_{label}_param{i}"] = p.copy()
    return out


# ---------------------------------------------------------------- schedules


def lr_schedules(ctx) -> dict:
    """get_last_lr() and optimizer.lr after construction and after every sched.step()."""
    optim, schedule = ctx.module("optim"), ctx.module("schedule")
    step_size, gamma = int(ctx.rng.integers(2, 5)), float(ctx.rng.uniform(0.3, 0.8))
    t_max, eta_min = int(ctx.rng.integers(6, 12)), float(ctx.rng.uniform(0.001, 0.02))
    out: dict = {}
    runs = {
        "steplr": (schedule.StepLR, {"step_size": step_size, "gamma": gamma}, 3 * step_size + 2),
        "cosine": (schedule.CosineAnnealingLR, {"T_max": t_max, "eta_min": eta_min}, t_max),
    }
    for label, (cls, kwargs, epochs) in runs.items():
        opt = optim.SGD([np.zeros(3)], lr=float(ctx.rng.uniform(0.05, 0.5)))
        sched = cls(opt, **kwargs)
        last, used = [float(sched.get_last_lr())], [float(opt.lr)]
        for _ in range(epochs):
            sched.step()
            last.append(float(sched.get_last_lr()))
            used.append(float(opt.lr))
        out[f"{label}_get_last_lr"] = np.array(last)
        out[f"{label}_optimizer_lr"] = np.array(used)
    return out


def schedule_drives_optimizer(ctx) -> dict:
    """Every optimizer reads self.lr on every step: each one under StepLR or cosine annealing
    (the forms that put lr inside a buffer agree with PyTorch's only while lr is constant)."""
    optim, schedule = ctx.module("optim"), ctx.module("schedule")
    step_lr, cosine = schedule.StepLR, schedule.CosineAnnealingLR
    setups = {
        "sgd_steplr": ("SGD", {"lr": 0.05, "momentum": 0.9}, step_lr, {"step_size": 2}),
        "adagrad_steplr": (
            "Adagrad",
            {"lr": 0.1, "lr_decay": 0.01},
            step_lr,
            {"step_size": 2, "gamma": 0.5},
        ),
        "rmsprop_cosine": (
            "RMSprop",
            {"lr": 0.01, "momentum": 0.5},
            cosine,
            {"T_max": 6, "eta_min": 0.001},
        ),
        "adam_cosine": ("Adam", {"lr": 0.05}, cosine, {"T_max": 6}),
        "adamw_steplr": (
            "AdamW",
            {"lr": 0.05, "weight_decay": 0.1},
            step_lr,
            {"step_size": 3, "gamma": 0.3},
        ),
    }
    out: dict = {}
    for label, (name, kwargs, sched_cls, sched_kwargs) in setups.items():
        params = _params(ctx.rng, ((), (5,)))
        grads_at = _gradient_source(ctx.rng, params, 24)
        opt = getattr(optim, name)(list(params), **kwargs)
        sched = sched_cls(opt, **sched_kwargs)
        grads = [np.zeros_like(p) for p in params]
        for epoch in range(6):
            for t in range(4):
                _step(opt, grads, grads_at(4 * epoch + t, params))
            sched.step()
            for i, p in enumerate(params):
                out[f"{label}_param{i}_epoch{epoch + 1}"] = p.copy()
    return out


# ---------------------------------------------------------------- mini-batches (custom check)


def _visit(minibatch, X, y, batch_size: int, **kwargs) -> tuple[np.ndarray, np.ndarray, bool]:
    """Sample indices in the order visited, the batch sizes, and whether X and y stayed paired."""
    order, sizes, paired = [], [], True
    for xb, yb in minibatch.iterate_minibatches(X, y, batch_size, **kwargs):
        xb, yb = np.asarray(xb), np.asarray(yb)
        idx = np.rint(xb[:, 0]).astype(np.int64)
        paired = paired and np.array_equal(np.asarray(yb, dtype=np.int64) - 1000, idx)
        order.append(idx)
        sizes.append(len(idx))
    flat = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
    return flat, np.array(sizes, dtype=np.int64), bool(paired)


def minibatches(ctx) -> dict:
    """iterate_minibatches: coverage, sizes, pairing, seeded order, a new order every epoch."""
    minibatch = ctx.module("minibatch")
    batch_size = int(ctx.rng.integers(4, 8))
    n = batch_size * int(ctx.rng.integers(4, 7)) + int(ctx.rng.integers(1, batch_size))
    seed = int(ctx.rng.integers(2**31))
    X = np.column_stack([np.arange(n, dtype=np.float64), ctx.rng.standard_normal((n, 2))])
    y = np.arange(n, dtype=np.int64) + 1000
    out: dict = {"n": n, "batch_size": batch_size}
    rng = np.random.default_rng(seed)
    for epoch in (1, 2):  # one generator for both epochs, as in a training loop
        order, sizes, paired = _visit(minibatch, X.copy(), y.copy(), batch_size, rng=rng)
        out.update({f"epoch{epoch}_order": order, f"epoch{epoch}_sizes": sizes})
        out[f"epoch{epoch}_paired"] = paired
    again = np.random.default_rng(seed)
    out["reseeded_order"] = _visit(minibatch, X.copy(), y.copy(), batch_size, rng=again)[0]
    order, sizes, _ = _visit(minibatch, X.copy(), y.copy(), batch_size, shuffle=False)
    out.update({"unshuffled_order": order, "unshuffled_sizes": sizes})
    drop_rng = np.random.default_rng(seed + 1)
    order, sizes, _ = _visit(
        minibatch, X.copy(), y.copy(), batch_size, rng=drop_rng, drop_last=True
    )
    out.update({"drop_last_order": order, "drop_last_sizes": sizes})
    # shuffle=True without an rng: a fresh default_rng() (an order nobody can predict)
    order, sizes, _ = _visit(minibatch, X.copy(), y.copy(), batch_size)
    out.update({"default_rng_order": order, "default_rng_sizes": sizes})
    return out


# ---------------------------------------------------------------- integration on digits


def _digits(ctx) -> tuple[np.ndarray, np.ndarray]:
    """This run's training split (hidden/rundata.py); the held-out split never enters here."""
    X = np.load(ctx.data("run/train_x.npy"), allow_pickle=False) / 16.0
    y = np.load(ctx.data("run/train_y.npy"), allow_pickle=False).astype(np.int64)
    return X, y


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _softmax_regression_grads(W, b, xb, yb) -> list[np.ndarray]:
    """Gradients of the mean cross-entropy of softmax(xb @ W + b) with respect to W and b."""
    delta = _softmax(xb @ W + b)
    delta[np.arange(len(yb)), yb] -= 1.0
    delta /= len(yb)
    return [xb.T @ delta, delta.sum(axis=0)]


def train_digits_adam(ctx) -> dict:
    """Softmax regression on digits trained with the submitted Adam; returns the weights (scored
    outside on held-out digits by hidden/checks.py)."""
    optim = ctx.module("optim")
    X, y = _digits(ctx)
    W, b = 0.01 * ctx.rng.standard_normal((64, 10)), np.zeros(10)
    opt = optim.Adam([W, b], lr=0.01)
    for _ in range(12):
        order = ctx.rng.permutation(len(X))
        for start in range(0, len(X), 32):
            idx = order[start : start + 32]
            opt.step(_softmax_regression_grads(W, b, X[idx], y[idx]))
    return {"W": W.copy(), "b": b.copy()}


def train_digits_sgd(ctx) -> dict:
    """Nesterov SGD + StepLR + the submitted iterate_minibatches; returns the weights (scored
    outside on held-out digits by hidden/checks.py)."""
    optim, schedule = ctx.module("optim"), ctx.module("schedule")
    minibatch = ctx.module("minibatch")
    X, y = _digits(ctx)
    W, b = 0.01 * ctx.rng.standard_normal((64, 10)), np.zeros(10)
    opt = optim.SGD([W, b], lr=0.2, momentum=0.9, nesterov=True, weight_decay=1e-4)
    sched = schedule.StepLR(opt, step_size=5, gamma=0.5)
    rng = np.random.default_rng(int(ctx.rng.integers(2**31)))
    for _ in range(15):
        for xb, yb in minibatch.iterate_minibatches(X, y, 64, rng=rng):
            opt.step(_softmax_regression_grads(W, b, np.asarray(xb), np.asarray(yb)))
        sched.step()
    return {"W": W.copy(), "b": b.copy()}
