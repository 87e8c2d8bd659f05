"""A fourth layer that turns the digit classifier's 10 outputs into the digit's 4-bit binary code.

Run it as is::

    python examples/ex_bitwise_output.py            # trains [784, 30, 10] for 5 epochs (seconds)
    python examples/ex_bitwise_output.py --quick    # 1 epoch on 10,000 training images
    python examples/ex_bitwise_output.py --out DIR  # put the figure in DIR

The book's chapter 1 exercise: add a layer of 4 sigmoid neurons after the output layer whose
outputs are the binary digits of the recognised digit, with weights and biases set by hand.
Output neuron j (bit j, value 2^j) gets weight +K from every digit whose code has bit j set and
−K from the others, bias 0; so z_j = K·(Σ_{d: bit j set} a_d − Σ_{d: bit j clear} a_d). The
script trains the [784, 30, 10] network with jaxnn.sgd, stacks the hand-set layer on it, and
measures on the 10,000 test images how often all four bits are right.
"""

import _common
import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import plotting

BITS = 4
DIGITS = np.arange(10)
CODES = (DIGITS[:, None] >> np.arange(BITS)) & 1  # CODES[d, j] = bit j of d (bit 0 = least significant)


def signed_layer(K=10.0, codes=CODES):
    """Weight +K from digits with the bit set, −K from the others, bias 0 (shape (4, 10))."""
    return {"w": jnp.asarray(K * (2.0 * codes.T - 1.0), jnp.float32), "b": jnp.zeros(BITS, jnp.float32)}


def one_sided_layer(K=10.0):
    """Weight +K from digits with the bit set, 0 from the others, bias −K/2."""
    return {"w": jnp.asarray(K * CODES.T, jnp.float32), "b": jnp.full(BITS, -K / 2, jnp.float32)}


def decode(bits):
    """Bit outputs in [0, 1] -> the integer they spell (threshold 0.5)."""
    return jnp.sum((bits > 0.5).astype(jnp.int32) * (1 << jnp.arange(BITS)), axis=-1)


def main():
    args = _common.parser(__doc__, "1 epoch on 10,000 training images").parse_args()

    data = jaxnn.load_mnist()
    n_train, epochs = (10_000, 1) if args.quick else (50_000, 5)
    train = (data.training.x[:n_train], data.training.y[:n_train])
    params = jaxnn.init_params(jax.random.key(0), [784, 30, 10], "large")
    print(
        f"training [784, 30, 10] (sigmoid, quadratic cost, η = 3.0, m = 10) on {n_train:,} images for {epochs} epoch(s)"
    )
    params, history = jaxnn.sgd(
        params, train, epochs, 10, 3.0, key=jax.random.key(1), evaluation_data=data.test, verbose=True
    )

    x, labels = data.test.x, data.test.y
    outputs = jaxnn.forward(params, x)
    argmax_acc = float(jnp.mean(jnp.argmax(outputs, axis=1) == labels))
    print()
    print(f"argmax of the 10 outputs (the book's classifier): {argmax_acc:.2%} of test images")

    print()
    print("the hand-set 4th layer, K = 10 (rows: bit 0 = 1s, bit 1 = 2s, bit 2 = 4s, bit 3 = 8s; columns: digits 0-9)")
    layer = signed_layer()
    for j in range(BITS):
        print(f"  bit {j}: w = {' '.join(f'{int(v):+d}' for v in layer['w'][j])}   b = 0")

    ideal = np.full((10, 10), 0.01, np.float32) + np.eye(10, dtype=np.float32) * 0.98  # 0.99 on the digit
    ideal_bits = jaxnn.forward([layer], ideal)
    ideal_z = ideal @ np.asarray(layer["w"]).T
    print(
        f"  on the exercise's ideal outputs (0.99 for the digit, 0.01 elsewhere) it decodes "
        f"{int(jnp.sum(decode(ideal_bits) == DIGITS))} / 10 digits; smallest |z| = {float(np.min(np.abs(ideal_z))):.2f}, "
        f"bits within {float(jnp.max(jnp.abs(ideal_bits - CODES))):.1e} of 0/1"
    )

    results = {}
    for name, layer4 in [("±K weights, bias 0", signed_layer()), ("+K/0 weights, bias −K/2", one_sided_layer())]:
        net = params + [layer4]  # the 4-layer network [784, 30, 10, 4]
        bits = jaxnn.forward(net, x)
        code = decode(bits)
        exact = float(jnp.mean(code == labels))
        agree = float(jnp.mean(code == jnp.argmax(outputs, axis=1)))
        per_bit = jnp.mean((bits > 0.5) == CODES[labels], axis=0)
        results[name] = (exact, per_bit, bits)
        print()
        print(f"4-layer network [784, 30, 10, 4], 4th layer {name}:")
        print(f"  bit-code accuracy on the test set: {exact:.2%} (all four bits right)")
        print(f"  per-bit accuracy (bit 0..3): {', '.join(f'{float(v):.2%}' for v in per_bit)}")
        print(f"  bit code equals the argmax digit's code: {agree:.2%}")
        print(f"  codes that are not a digit (10-15): {int(jnp.sum(code > 9))}")

    wrong = CODES.copy()
    wrong[9, 1] = 1  # a note's bit-1 list 2, 3, 6, 7, 9 puts 9 in it
    wrong_bits = jaxnn.forward([signed_layer(codes=wrong)], ideal)
    print()
    print(
        f"with bit 1 wired to digits 2, 3, 6, 7, 9 (9 included), the ideal 9 decodes as "
        f"{int(decode(wrong_bits)[9])} (binary {int(decode(wrong_bits)[9]):04b}), not 9 (1001)"
    )
    print(
        f"  4-layer network with that wiring: bit-code accuracy "
        f"{float(jnp.mean(decode(jaxnn.forward(params + [signed_layer(codes=wrong)], x)) == labels)):.2%}"
    )

    if not _common.can_plot():
        return
    fig, (ax1, ax2) = plotting.subplots(1, 2, width=4.5, height=3.2)
    ax1.imshow(np.asarray(signed_layer(1.0)["w"]), cmap="coolwarm", vmin=-1.5, vmax=1.5)
    ax1.set(
        xticks=range(10),
        yticks=range(4),
        xlabel="digit (old output neuron)",
        ylabel="bit neuron",
        title="4th-layer weights (÷K)",
    )
    exact, _, bits = results["±K weights, bias 0"]
    correct = np.asarray(decode(bits) == labels)
    by_digit = [correct[np.asarray(labels) == d].mean() for d in DIGITS]
    by_digit_argmax = [
        np.asarray(jnp.argmax(outputs, axis=1) == labels)[np.asarray(labels) == d].mean() for d in DIGITS
    ]
    ax2.bar(DIGITS - 0.2, by_digit_argmax, 0.4, label="argmax")
    ax2.bar(DIGITS + 0.2, by_digit, 0.4, label="4-bit code")
    ax2.set(
        xticks=DIGITS,
        xlabel="digit",
        ylabel="test accuracy",
        ylim=(min(by_digit + by_digit_argmax) - 0.05, 1.0),
        title="accuracy per digit",
    )
    ax2.legend(fontsize=8, loc="lower left")
    _common.save_figure(fig, "ex_bitwise_output", args)


if __name__ == "__main__":
    main()
