"""chainrule's nn: neurons, layers and MLPs built from autograd Values."""

__all__: list[str] = []
