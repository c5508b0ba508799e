import jax
import jax.numpy as jnp
import pytest
from jax import lax

from mejax.models import compiler


def _conv(x, kernel):
    return lax.conv_general_dilated(x, kernel, (1, 1), "SAME",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))  # fmt: skip


def test_model_programs_compile_their_convolutions_without_ynnpack():
    if "xla_cpu_experimental_ynn_fusion_type" not in str(compiler.compiler_options()):
        pytest.skip("this XLA has no YNNPACK option")
    x, kernel = jnp.ones((8, 28, 28, 64)), jnp.ones((3, 3, 64, 64)) / 576
    default = jax.jit(_conv).lower(x, kernel).compile().as_text()
    ours = compiler.jit(_conv).lower(x, kernel).compile().as_text()
    assert "__ynn_fusion" in default  # the default this module turns off
    assert "__ynn_fusion" not in ours
    assert jnp.allclose(compiler.jit(_conv)(x, kernel), _conv(x, kernel))


def test_compiler_options_are_empty_off_cpu(monkeypatch):
    compiler.compiler_options.cache_clear()
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    try:
        assert compiler.compiler_options() == {}
    finally:
        compiler.compiler_options.cache_clear()


def test_jit_as_decorator_with_arguments():
    @compiler.jit(static_argnums=1)
    def scaled(x, factor):
        return x * factor

    assert float(scaled(jnp.float32(2), 3)) == 6.0
