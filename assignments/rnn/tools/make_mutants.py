"""Regenerate mutants/<name>/<file>.py: the solution with one realistic bug each (staff only).

Each mutant is a list of exact text edits on solution/; an edit that no longer matches stops the
script, so a change to the solution cannot silently leave a mutant behind.
Run: python assignments/rnn/tools/make_mutants.py
"""

# The edits below are verbatim lines of solution code, so they cannot be wrapped.
# ruff: noqa: E501

from __future__ import annotations

import textwrap
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent

M: dict[str, tuple[str, str, list[tuple[str, str]]]] = {}  # name -> (file, bug, edits)

M["lstm_gate_order_ifog"] = (
    "rnn_layers.py",
    "LSTM gates packed as i, f, o, g (CS231n) instead of PyTorch's i, f, g, o",
    [
        (
            "    g = np.tanh(a[:, 2 * H : 3 * H])\n    o = sigmoid(a[:, 3 * H :])",
            "    o = sigmoid(a[:, 2 * H : 3 * H])\n    g = np.tanh(a[:, 3 * H :])",
        ),
        (
            """            dc * i * (1.0 - g**2),  # cell candidate
            dh_next * tanh_c * o * (1.0 - o),  # output gate""",
            """            dh_next * tanh_c * o * (1.0 - o),  # output gate
            dc * i * (1.0 - g**2),  # cell candidate""",
        ),
    ],
)
M["lstm_cell_grad_missing_h_path"] = (
    "rnn_layers.py",
    "LSTM backward forgets that c_next also reaches the loss through h_next",
    [
        ("    dc = dc_next + dh_next * o * (1.0 - tanh_c**2)", "    dc = dc_next"),
    ],
)
M["gru_cho_reset"] = (
    "rnn_layers.py",
    "GRU candidate in Cho et al. 2014 form: tanh(W_in x + b_in + W_hn (r * h) + b_hn)",
    [
        (
            "    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])",
            "    n = np.tanh(gi[:, 2 * H :] + (r * h_prev) @ W_hh[2 * H :].T + b_hh[2 * H :])",
        ),
        (
            "    dr = dn * gh_n * r * (1.0 - r)\n    dgi = np.concatenate([dr, dz, dn], axis=1)\n    dgh = np.concatenate([dr, dz, dn * r], axis=1)\n    dx = dgi @ W_ih\n    dh_prev = dh_next * z + dgh @ W_hh\n    return dx, dh_prev, dgi.T @ x, dgh.T @ h_prev, dgi.sum(axis=0), dgh.sum(axis=0)",
            "    H = h_prev.shape[1]\n    drh = dn @ W_hh[2 * H :]  # gradient of r * h_prev\n    dr = drh * h_prev * r * (1.0 - r)\n    dgi = np.concatenate([dr, dz, dn], axis=1)\n    dgh = np.concatenate([dr, dz, np.zeros_like(dn)], axis=1)\n    dx = dgi @ W_ih\n    dh_prev = dh_next * z + dgh @ W_hh + drh * r\n    dW_hh = dgh.T @ h_prev\n    dW_hh[2 * H :] = dn.T @ (r * h_prev)\n    db_hh = dgh.sum(axis=0)\n    db_hh[2 * H :] = dn.sum(axis=0)\n    return dx, dh_prev, dgi.T @ x, dW_hh, dgi.sum(axis=0), db_hh",
        ),
    ],
)
M["gru_z_swapped"] = (
    "rnn_layers.py",
    "GRU update with z and 1 - z swapped: h' = z * n + (1 - z) * h",
    [
        ("    h_next = (1.0 - z) * n + z * h_prev", "    h_next = z * n + (1.0 - z) * h_prev"),
        ("    dn = dh_next * (1.0 - z) * (1.0 - n**2)", "    dn = dh_next * z * (1.0 - n**2)"),
        (
            "    dz = dh_next * (h_prev - n) * z * (1.0 - z)",
            "    dz = dh_next * (n - h_prev) * z * (1.0 - z)",
        ),
        (
            "    dh_prev = dh_next * z + dgh @ W_hh",
            "    dh_prev = dh_next * (1.0 - z) + dgh @ W_hh",
        ),
    ],
)
M["gru_biases_merged"] = (
    "rnn_layers.py",
    "GRU with b_hn merged into the input bias, outside the reset product",
    [
        (
            "    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])",
            "    n = np.tanh(gi[:, 2 * H :] + b_hh[2 * H :] + r * (gh[:, 2 * H :] - b_hh[2 * H :]))",
        ),
        (
            "    cache = (x, h_prev, r, z, n, gh[:, 2 * H :], W_ih, W_hh)",
            "    cache = (x, h_prev, r, z, n, gh[:, 2 * H :] - b_hh[2 * H :], W_ih, W_hh)",
        ),
        (
            "    return dx, dh_prev, dgi.T @ x, dgh.T @ h_prev, dgi.sum(axis=0), dgh.sum(axis=0)",
            "    db_hh = dgh.sum(axis=0)\n    H = h_prev.shape[1]\n    db_hh[2 * H :] = dn.sum(axis=0)\n    return dx, dh_prev, dgi.T @ x, dgh.T @ h_prev, dgi.sum(axis=0), db_hh",
        ),
    ],
)
M["dwhh_uses_h_next"] = (
    "rnn_layers.py",
    "dW_hh computed with h_t (the step's output) instead of h_{t-1}",
    [
        ("    dW_hh = da.T @ h_prev", "    dW_hh = da.T @ h_next"),
    ],
)
M["tanh_grad_from_preactivation"] = (
    "rnn_layers.py",
    "tanh derivative 1 - a^2 evaluated on the pre-activation a instead of 1 - tanh(a)^2",
    [
        (
            "    h_next = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)\n    cache = (x, h_prev, h_next, W_ih, W_hh)",
            "    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh\n    h_next = np.tanh(a)\n    cache = (x, h_prev, a, W_ih, W_hh)",
        ),
        (
            "    x, h_prev, h_next, W_ih, W_hh = cache\n    da = dh_next * (1.0 - h_next**2)  # tanh'(a) = 1 - tanh(a)^2, from the output we kept",
            "    x, h_prev, a, W_ih, W_hh = cache\n    da = dh_next * (1.0 - a**2)",
        ),
    ],
)
M["bptt_upstream_only"] = (
    "rnn_layers.py",
    "BPTT uses only the upstream gradient at each step, dropping the one from step t+1",
    [
        (
            "step_grads = rnn_step_backward(dh_all[:, t] + dh_prev, cache[t])",
            "step_grads = rnn_step_backward(dh_all[:, t], cache[t])",
        ),
    ],
)
M["bptt_grads_overwritten"] = (
    "rnn_layers.py",
    "BPTT keeps only the last-computed step's weight gradients instead of summing over time",
    [
        (
            "        sums = [total + part for total, part in zip(sums, step_grads, strict=True)]",
            "        sums = step_grads",
        ),
    ],
)
M["rnn_forward_ignores_h0"] = (
    "rnn_layers.py",
    "rnn_forward starts from zeros instead of the given h0",
    [
        ("    caches = []\n    h = h0\n", "    caches = []\n    h = np.zeros_like(h0)\n"),
    ],
)
M["clip_per_parameter"] = (
    "rnn_layers.py",
    "each gradient clipped by its own norm instead of the global norm",
    [
        (
            """    coef = max_norm / (total_norm + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            g *= coef""",
            """    for g in grads.values():
        coef = max_norm / (float(np.sqrt(np.sum(g * g))) + 1e-6)
        if coef < 1.0:
            g *= coef""",
        ),
    ],
)
M["clip_without_epsilon"] = (
    "rnn_layers.py",
    "clipping coefficient max_norm / total_norm, without PyTorch's 1e-6",
    [
        ("    coef = max_norm / (total_norm + 1e-6)", "    coef = max_norm / total_norm"),
    ],
)
M["clip_always_rescales"] = (
    "rnn_layers.py",
    "gradients rescaled to max_norm even when their norm is already below it",
    [
        (
            "    if coef < 1.0:\n        for g in grads.values():\n            g *= coef",
            "    for g in grads.values():\n        g *= coef",
        ),
    ],
)
M["hidden_state_not_reset"] = (
    "sequence_model.py",
    "RNNRegressor keeps the last hidden state and starts the next batch from it",
    [
        (
            "        self.params = {k: rng.uniform(-bound, bound, shape) for k, shape in shapes.items()}",
            "        self.params = {k: rng.uniform(-bound, bound, shape) for k, shape in shapes.items()}\n        self.h = None",
        ),
        (
            '        h0 = np.zeros((x.shape[0], p["W_hh"].shape[0]))\n        return rnn_forward(x, h0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])',
            '        if self.h is None or self.h.shape[0] != x.shape[0]:\n            self.h = np.zeros((x.shape[0], p["W_hh"].shape[0]))\n        h_all, cache = rnn_forward(x, self.h, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])\n        self.h = h_all[:, -1]\n        return h_all, cache',
        ),
    ],
)


def main() -> None:
    solution = {
        f: (PKG / "solution" / f).read_text() for f in ("rnn_layers.py", "sequence_model.py")
    }
    for name, (fname, desc, edits) in M.items():
        text = solution[fname]
        for old, new in edits:
            assert text.count(old) == 1, f"{name}: edit no longer matches the solution: {old!r}"
            text = text.replace(old, new)
        header = textwrap.wrap(f"Mutant {name}: {desc}.", 96)
        out = PKG / "mutants" / name / fname
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(f"# {line}\n" for line in header) + text)
    print(f"wrote {len(M)} mutants")


if __name__ == "__main__":
    main()
