"""The reference MLP training step in a peer framework, for `pnpm bench:peers`.

The same step grokstream's trainer takes on its reference run (examples/modular-addition-grokking.yaml):
(a + b) mod 59, half of the 3,481 pairs for training (1,740 samples, full batch), inputs
concat(one-hot(a), one-hot(b)) (118), a 128-unit hidden layer with the quadratic activation, no
bias, 59 logits, mean softmax cross-entropy, AdamW (lr 3e-3, betas 0.9/0.98, decoupled weight
decay 1.0). Each step reads the loss back, as the trainer does for its per-step metrics.

Prints one JSON line: {"framework", "threads", "ms_per_step" (median of the rounds), "rounds"}.

  python reference_step.py --framework torch --threads 1
  python reference_step.py --framework tf
  python reference_step.py --framework tf --matmuls   (the step's five matrix products alone)
"""
import argparse
import json
import os
import statistics
import sys
import time

P, HIDDEN, TRAIN_FRACTION = 59, 128, 0.5
LR, BETAS, WEIGHT_DECAY = 3e-3, (0.9, 0.98), 1.0


def dataset(seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    pairs = np.array([(a, b) for a in range(P) for b in range(P)])
    rng.shuffle(pairs)
    n = int(len(pairs) * TRAIN_FRACTION)
    train = pairs[:n]
    x = np.zeros((n, 2 * P), dtype=np.float32)
    x[np.arange(n), train[:, 0]] = 1
    x[np.arange(n), P + train[:, 1]] = 1
    y = ((train[:, 0] + train[:, 1]) % P).astype(np.int64)
    w1 = (rng.standard_normal((2 * P, HIDDEN)) / np.sqrt(2 * P)).astype(np.float32)
    w2 = (rng.standard_normal((HIDDEN, P)) / np.sqrt(HIDDEN)).astype(np.float32)
    return x, y, w1, w2


def timed(step, warmup, steps, rounds):
    for _ in range(warmup):
        step()
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        out.append((time.perf_counter() - t0) * 1000 / steps)
    return out


def torch_step(threads):
    import torch

    torch.set_num_threads(threads)
    x, y, w1, w2 = dataset()
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    w1 = torch.nn.Parameter(torch.from_numpy(w1))
    w2 = torch.nn.Parameter(torch.from_numpy(w2))
    opt = torch.optim.AdamW([w1, w2], lr=LR, betas=BETAS, weight_decay=WEIGHT_DECAY)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = ((x @ w1) ** 2) @ w2
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        return loss.item()

    return step, torch.__version__


def tf_step(threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    x, y, w1, w2 = dataset()
    x, y = tf.constant(x), tf.constant(y)
    w1, w2 = tf.Variable(w1), tf.Variable(w2)
    opt = tf.keras.optimizers.AdamW(learning_rate=LR, beta_1=BETAS[0], beta_2=BETAS[1], weight_decay=WEIGHT_DECAY)

    @tf.function
    def compiled():
        with tf.GradientTape() as tape:
            logits = tf.square(x @ w1) @ w2
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, [w1, w2])
        opt.apply_gradients(zip(grads, [w1, w2]))
        return loss

    def step():
        return float(compiled().numpy())

    return step, tf.__version__


def matmuls(framework, threads, steps):
    """The step's five matrix products alone (forward x@w1 and h@w2; backward dz@w2^T, h^T@dz and
    x^T@dh), all five in one call as in a step, reading one number back: ms per call, in the
    framework's own kernels, so that a gap on the whole step can be told apart from a gap in the
    matmuls."""
    import numpy as np

    x, _, w1, w2 = dataset()
    rng = np.random.default_rng(1)
    h = rng.standard_normal((len(x), HIDDEN)).astype(np.float32)
    dz = rng.standard_normal((len(x), P)).astype(np.float32)
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        X, W1, W2, H, DZ = (torch.from_numpy(a) for a in (x, w1, w2, h, dz))

        def call():
            outs = (X @ W1, H @ W2, DZ @ W2.T, H.T @ DZ, X.T @ H)
            return sum(o[0, 0] for o in outs).item()
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf

        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        X, W1, W2, H, DZ = (tf.constant(a) for a in (x, w1, w2, h, dz))

        @tf.function
        def five():
            outs = (tf.matmul(X, W1), tf.matmul(H, W2), tf.matmul(DZ, W2, transpose_b=True), tf.matmul(H, DZ, transpose_a=True), tf.matmul(X, H, transpose_a=True))
            return tf.add_n([o[0, 0] for o in outs])

        def call():
            return float(five().numpy())

    return statistics.median(timed(call, warmup=20, steps=steps, rounds=3))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--framework", choices=["torch", "tf"], required=True)
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (torch: default 1)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--matmuls", action="store_true", help="time the step's five matrix products alone")
    args = ap.parse_args()
    threads = args.threads or (1 if args.framework == "torch" else 0)
    if args.matmuls:
        ms = matmuls(args.framework, threads, args.steps)
        print(json.dumps({"framework": args.framework, "threads": threads or None, "ms_per_call": ms}))
        return 0
    make = torch_step if args.framework == "torch" else tf_step
    step, version = make(threads)
    rounds = timed(step, warmup=20, steps=args.steps, rounds=args.rounds)
    print(json.dumps({"framework": args.framework, "version": version, "threads": threads or None, "ms_per_step": statistics.median(rounds), "rounds": rounds}))


if __name__ == "__main__":
    sys.exit(main())
