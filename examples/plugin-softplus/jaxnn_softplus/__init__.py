"""softplus(z) = ln(1 + e^z), a smooth ReLU, as a third-party jaxnn activation.

Its derivative is the sigmoid: d/dz ln(1 + e^z) = e^z / (1 + e^z) = σ(z).
"""

import jax

from jaxnn import Activation

softplus = Activation(
    name="softplus",
    fn=jax.nn.softplus,
    prime=jax.nn.sigmoid,
    vjp=lambda z, a, g: g * jax.nn.sigmoid(z),
    output_range=(0.0, float("inf")),
)
