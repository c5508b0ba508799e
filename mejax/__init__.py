"""mejax: JAX/Flax research code for facial micro-expression analysis."""

__version__ = "0.1.0"
