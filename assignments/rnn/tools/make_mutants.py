"""Regenerate mutants/<name>.patch: the solution with one realistic bug each (staff only).

Each mutant is a list of exact text edits on solution/; an edit that no longer matches stops the
script, so a change to the solution cannot silently leave a mutant behind.
Run: python assignments/rnn/tools/make_mutants.py
"""

# The edits below are verbatim lines of solution code, so they cannot be wrapped.
# ruff: noqa: E501

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from to_patches import file_diff  # noqa: E402

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


# --- overflow warnings: right values, but exp() overflows on the way (caught by its warning)
M["sigmoid_naive_overflow"] = (
    "rnn_layers.py",
    "sigmoid written as 1 / (1 + exp(-x)): the values are right, exp overflows for x < -709",
    [
        (
            "    z = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
            "    return 1.0 / (1.0 + np.exp(-x))",
        ),
    ],
)
M["sigmoid_where_both_branches"] = (
    "rnn_layers.py",
    "stable-looking sigmoid with np.where, which evaluates both branches, so exp overflows anyway",
    [
        (
            "    z = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
            "    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))",
        ),
    ],
)
M["gru_inline_naive_sigmoid"] = (
    "rnn_layers.py",
    "sigmoid is stable, but the GRU writes its gates with an inline 1 / (1 + exp(-a))",
    [
        (
            "    r = sigmoid(gi[:, :H] + gh[:, :H])\n    z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])",
            "    r = 1.0 / (1.0 + np.exp(-(gi[:, :H] + gh[:, :H])))\n    z = 1.0 / (1.0 + np.exp(-(gi[:, H : 2 * H] + gh[:, H : 2 * H])))",
        ),
    ],
)

# --- float32: storage or arithmetic in single precision
M["rnn_forward_h_all_float32"] = (
    "rnn_layers.py",
    "rnn_forward stores h_all in a float32 array (every step itself is computed in float64)",
    [
        (
            "    h_all = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, W_hh))\n    caches = []",
            "    h_all = np.empty((N, T, h0.shape[1]), dtype=np.float32)\n    caches = []",
        ),
    ],
)
M["lstm_float32_compute"] = (
    "rnn_layers.py",
    "lstm_step_forward casts its inputs and weights to float32 to save memory",
    [
        (
            "    H = h_prev.shape[1]\n    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh",
            "    H = h_prev.shape[1]\n    x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh = (\n        v.astype(np.float32) for v in (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)\n    )\n    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh",
        ),
    ],
)
M["bptt_float32_accumulators"] = (
    "rnn_layers.py",
    "rnn_backward sums the weight gradients into float32 arrays (np.zeros(..., dtype=np.float32))",
    [
        (
            "    sums: list = [0.0, 0.0, 0.0, 0.0]  # dW_ih, dW_hh, db_ih, db_hh, summed over time",
            "    W_ih, W_hh = cache[0][3], cache[0][4]\n    shapes = (W_ih.shape, W_hh.shape, (H,), (H,))\n    sums: list = [np.zeros(s, dtype=np.float32) for s in shapes]",
        ),
        (
            "        sums = [total + part for total, part in zip(sums, step_grads, strict=True)]",
            "        for total, part in zip(sums, step_grads, strict=True):\n            total += part",
        ),
    ],
)

# --- clipping: in place vs a copy, the returned norm
M["clip_rebinds_entries"] = (
    "rnn_layers.py",
    "clip_grad_norm puts scaled copies into the dict (grads[k] = g * coef): the caller's arrays stay unclipped",
    [
        (
            "    if coef < 1.0:\n        for g in grads.values():\n            g *= coef",
            "    if coef < 1.0:\n        for name, g in grads.items():\n            grads[name] = g * coef",
        ),
    ],
)
M["clip_norm_as_array"] = (
    "rnn_layers.py",
    "clip_grad_norm accumulates the squares in np.zeros(1) and returns a 1-element array, not a float",
    [
        (
            "    total_norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))",
            "    squares = np.zeros(1)\n    for g in grads.values():\n        squares += np.sum(g * g)\n    total_norm = np.sqrt(squares)",
        ),
    ],
)
M["clip_returns_clipped_norm"] = (
    "rnn_layers.py",
    "clip_grad_norm returns the norm after clipping instead of the norm before",
    [
        ("    return total_norm", "    return min(total_norm, max_norm)"),
    ],
)

# --- BPTT: truncation, dh0, input mutation
M["bptt_truncated_20"] = (
    "rnn_layers.py",
    "rnn_backward only goes back 20 steps (truncated BPTT), so early steps and h0 get no gradient",
    [
        (
            "    dx_steps: list = [None] * T",
            "    dx_steps: list = [np.zeros((N, cache[0][0].shape[1]))] * T",
        ),
        (
            "    for t in reversed(range(T)):\n        # h_t",
            "    for t in reversed(range(max(0, T - 20), T)):  # truncated BPTT\n        # h_t",
        ),
    ],
)
M["bptt_truncated_chunks"] = (
    "rnn_layers.py",
    "rnn_backward cuts the recurrent gradient every 10 steps (truncated BPTT in chunks)",
    [
        (
            "    for t in reversed(range(T)):\n        # h_t",
            "    for t in reversed(range(T)):\n        if (t + 1) % 10 == 0:  # truncated BPTT: chunks of 10 steps\n            dh_prev = np.zeros((N, H))\n        # h_t",
        ),
    ],
)
M["dh0_off_by_one"] = (
    "rnn_layers.py",
    "rnn_backward returns the gradient reaching h_0's output (before step 0's backward) as dh0",
    [
        (
            "        dx_steps[t], dh_prev, *step_grads = rnn_step_backward(dh_all[:, t] + dh_prev, cache[t])",
            "        dh = dh_all[:, t] + dh_prev\n        dx_steps[t], dh_prev, *step_grads = rnn_step_backward(dh, cache[t])",
        ),
        (
            "    return (np.stack(dx_steps, axis=1), dh_prev, *sums)",
            "    return (np.stack(dx_steps, axis=1), dh, *sums)",
        ),
    ],
)
M["bptt_modifies_dh_all"] = (
    "rnn_layers.py",
    "rnn_backward adds the recurrent gradient into the caller's dh_all (dh_all[:, t] += dh_prev)",
    [
        (
            "        dx_steps[t], dh_prev, *step_grads = rnn_step_backward(dh_all[:, t] + dh_prev, cache[t])",
            "        dh_all[:, t] += dh_prev\n        dx_steps[t], dh_prev, *step_grads = rnn_step_backward(dh_all[:, t], cache[t])",
        ),
    ],
)

# --- layout and reductions
M["whh_not_transposed"] = (
    "rnn_layers.py",
    "RNN step uses h_prev @ W_hh (not W_hh.T), consistently in the backward, so gradient checks pass",
    [
        (
            "    h_next = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)",
            "    h_next = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh + b_hh)",
        ),
        ("    dh_prev = da @ W_hh\n    dW_ih", "    dh_prev = da @ W_hh.T\n    dW_ih"),
        ("    dW_hh = da.T @ h_prev\n    db = da", "    dW_hh = h_prev.T @ da\n    db = da"),
    ],
)
M["db_mean_over_batch"] = (
    "rnn_layers.py",
    "RNN step bias gradients averaged over the batch instead of summed",
    [
        (
            "    db = da.sum(axis=0)\n    return dx, dh_prev, dW_ih",
            "    db = da.mean(axis=0)\n    return dx, dh_prev, dW_ih",
        ),
    ],
)
M["db_keepdims"] = (
    "rnn_layers.py",
    "RNN step bias gradients of shape (1, H) (sum with keepdims=True) instead of (H,)",
    [
        (
            "    db = da.sum(axis=0)\n    return dx, dh_prev, dW_ih",
            "    db = da.sum(axis=0, keepdims=True)\n    return dx, dh_prev, dW_ih",
        ),
    ],
)
M["h_all_off_by_one"] = (
    "rnn_layers.py",
    "rnn_forward stores the state going into each step (h0, h1, ...) instead of the one after it",
    [
        (
            "        h, step_cache = rnn_step_forward(x[:, t], h, W_ih, W_hh, b_ih, b_hh)\n        h_all[:, t] = h",
            "        h_all[:, t] = h\n        h, step_cache = rnn_step_forward(x[:, t], h, W_ih, W_hh, b_ih, b_hh)",
        ),
    ],
)
M["lstm_forward_ignores_c0"] = (
    "rnn_layers.py",
    "lstm_forward starts from a zero cell state instead of the given c0",
    [
        ("    h, c = h0, c0\n", "    h, c = h0, np.zeros_like(c0)\n"),
    ],
)
M["gru_dh_prev_missing_direct_path"] = (
    "rnn_layers.py",
    "GRU backward drops the direct path z * h_prev from dh_prev",
    [
        ("    dh_prev = dh_next * z + dgh @ W_hh", "    dh_prev = dgh @ W_hh"),
    ],
)

# --- forbidden API
M["clip_with_torch"] = (
    "rnn_layers.py",
    "clip_grad_norm calls torch.nn.utils.clip_grad_norm_ (correct numbers, but torch is not allowed)",
    [
        (
            "    total_norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))\n    coef = max_norm / (total_norm + 1e-6)\n    if coef < 1.0:\n        for g in grads.values():\n            g *= coef\n    return total_norm",
            "    import torch\n\n    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]\n    for p, g in zip(params, grads.values(), strict=True):\n        p.grad = torch.from_numpy(g)  # shares memory: clipping scales g in place\n    return float(torch.nn.utils.clip_grad_norm_(params, max_norm))",
        ),
    ],
)

# --- sequence model: the params contract, predict's shape, the loss gradient
M["predict_returns_column"] = (
    "sequence_model.py",
    "predict returns shape (N, 1) (h @ W_out.T + b_out) instead of (N,)",
    [
        (
            '        return h_all[:, -1] @ self.params["W_out"][0] + self.params["b_out"][0]',
            '        return h_all[:, -1] @ self.params["W_out"].T + self.params["b_out"]',
        ),
    ],
)
M["weights_cached_in_attributes"] = (
    "sequence_model.py",
    "RNNRegressor copies the recurrent weights into attributes at construction and runs on those",
    [
        (
            "        self.params = {k: rng.uniform(-bound, bound, shape) for k, shape in shapes.items()}",
            '        self.params = {k: rng.uniform(-bound, bound, shape) for k, shape in shapes.items()}\n        self.W_ih, self.W_hh = self.params["W_ih"], self.params["W_hh"]\n        self.b_ih, self.b_hh = self.params["b_ih"], self.params["b_hh"]',
        ),
        (
            '        return rnn_forward(x, h0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])',
            "        return rnn_forward(x, h0, self.W_ih, self.W_hh, self.b_ih, self.b_hh)",
        ),
    ],
)
M["init_global_numpy_random"] = (
    "sequence_model.py",
    "RNNRegressor draws its initial weights from np.random instead of the rng it is given",
    [
        (
            "        self.params = {k: rng.uniform(-bound, bound, shape) for k, shape in shapes.items()}",
            "        self.params = {k: np.random.uniform(-bound, bound, shape) for k, shape in shapes.items()}",
        ),
    ],
)
M["mse_grad_missing_factor_2"] = (
    "sequence_model.py",
    "the MSE gradient drops the factor 2: dpred = (pred - y) / N",
    [
        ("        dpred = 2.0 * diff / len(y)", "        dpred = diff / len(y)"),
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
        text = "".join(f"# {line}\n" for line in header) + text
        patch = file_diff(fname, solution[fname].encode(), text.encode())
        (PKG / "mutants" / f"{name}.patch").write_text(patch, newline="")
        shutil.rmtree(PKG / "mutants" / name, ignore_errors=True)  # the old whole-file form
    print(f"wrote {len(M)} mutants")


if __name__ == "__main__":
    main()
