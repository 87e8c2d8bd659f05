"""The errors jaxnn raises: one class, so that callers can catch every input problem at once."""


class JaxnnError(ValueError):
    """A problem with what the caller passed in; the message names the fix."""


class NotDifferentiableError(JaxnnError):
    """A component has no useful derivative (the perceptron step), so no gradient can be taken."""
