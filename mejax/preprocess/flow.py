"""Dense optical flow: TV-L1 in JAX (batched, jit-compiled), Farneback via OpenCV, encodings.

TV-L1 is the duality-based TV-L1 flow of Zach, Pock and Bischof, "A Duality Based Approach
for Realtime TV-L1 Optical Flow" (DAGM 2007), section 3 (the alternating thresholding step on
``v`` and Chambolle's projection step on the dual variable ``p``), in the form analysed by
Sanchez, Meinhardt-Llopis and Facciolo, "TV-L1 Optical Flow Estimation" (IPOL 2013),
algorithm 1 and section 4 (coarse-to-fine pyramid, warps, stopping rule). The scheme follows
OpenCV's ``cv2.optflow.DualTVL1OpticalFlow`` step for step, because that is the
implementation the micro-expression papers ran (MER-auGCN, Neural ME Recognizer, OFF-ApexNet,
STSTNet), with the same parameters and defaults:

- intensities on the 0-255 scale (``lambda_`` is tuned for it);
- pyramid: each level is the previous one bilinearly resized by ``scale_step`` (no
  pre-smoothing), levels stop before a side drops under 16 pixels; flow upsampled bilinearly
  and divided by ``scale_step``;
- per scale the dual variable restarts at zero; per warp, I1 and its centred gradient
  (replicated border) are warped by bicubic interpolation (Keys, a = -0.75; pixels outside
  the image read 0, OpenCV's ``remap`` default);
- per outer iteration an optional ``median_filtering`` x ``median_filtering`` median filter of
  the flow (replicated border; Sanchez et al. section 4.1, OpenCV's default 5); inner
  iterations stop once the mean squared update drops under ``epsilon ** 2``.

Known differences from OpenCV: sums run in another order and the data-dependent stopping
rule reacts to float rounding, so the two flows agree to a small fraction of a pixel rather
than bit for bit (``benchmarks/flow.py`` and the tests report the mutual end-point error);
the building blocks (resize, bicubic remap, median) match OpenCV's to float precision, which
the tests check. The illumination term (``gamma``) and an initial flow are not supported.

Batching: :func:`tvl1` takes any leading batch shape and runs one jit-compiled program per
image size and parameter set, in one of two ways (the same flows up to float rounding, each
pair stopping where it would alone):

- vectorised (the default on a GPU / TPU): the flattened batch is ``vmap``ped, so a whole
  database of onset/apex pairs is a single XLA program; the data-dependent stopping rule
  becomes a masked ``while_loop`` that runs until the slowest pair of the batch stops;
- pair by pair (the default on a CPU): the program takes one pair, and worker threads (one
  per usable core) take the pairs in turn. On a CPU this is faster: no pair waits for the
  slowest one, and one pair's working set (a dozen 112x112 float images) stays in the core's
  cache, where a vmapped batch streams from memory at every iteration.

The 5x5 median is a selection network of elementwise min / max (:func:`median_network`),
not a sort of the 25 shifted windows, which XLA runs two orders of magnitude slower on a CPU.
``benchmarks/flow.py`` times the whole against OpenCV on a database's worth of 112x112 pairs.

Encodings the papers feed (:func:`encode`): the u and v components (MER-auGCN: two 28x28
channels), magnitude, optical strain (Liong et al., "Shallow Triple Stream Three-dimensional
CNN (STSTNet)", 2019, eq. 2-3; OFF-ApexNet), and the HSV image (hue = direction, value =
magnitude) that ImageNet-pretrained backbones take (Neural ME Recognizer).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import os

import cv2
import jax
import jax.numpy as jnp
import numpy as np

from mejax.preprocess import validate

_CUBIC_A = -0.75  # OpenCV's bicubic kernel parameter
_MIN_PYRAMID_SIDE = 16


@dataclasses.dataclass(frozen=True)
class TVL1Params:
    """Parameters of TV-L1, named and defaulted as OpenCV's ``DualTVL1OpticalFlow``.

    Attributes:
      tau: time step of the dual update (stable for tau < 0.25 in theory; 0.25 in practice).
      lambda_: weight of the data term (smaller = smoother flow); for 0-255 intensities.
      theta: coupling between the flow u and its data-term proxy v.
      num_scales: pyramid levels (fewer if a side would drop under 16 pixels).
      num_warps: warps of I1 per level.
      epsilon: stopping threshold on the root-mean-square flow update.
      inner_iterations: iterations between median filterings.
      outer_iterations: median filterings per warp.
      scale_step: size ratio between pyramid levels.
      median_filtering: median filter size applied to the flow (<= 1: none).
    """

    tau: float = 0.25
    lambda_: float = 0.15
    theta: float = 0.3
    num_scales: int = 5
    num_warps: int = 5
    epsilon: float = 0.01
    inner_iterations: int = 30
    outer_iterations: int = 10
    scale_step: float = 0.8
    median_filtering: int = 5

    def opencv(self):
        """The equivalent ``cv2.optflow.DualTVL1OpticalFlow`` (needs opencv-contrib)."""
        if not hasattr(cv2, "optflow") or not hasattr(cv2.optflow, "DualTVL1OpticalFlow_create"):
            raise ImportError(
                "OpenCV's TV-L1 needs the contrib build: pip install "
                "opencv-contrib-python-headless (and uninstall opencv-python-headless, which "
                "would shadow it)"
            )
        return cv2.optflow.DualTVL1OpticalFlow_create(
            tau=self.tau,
            lambda_=self.lambda_,
            theta=self.theta,
            nscales=self.num_scales,
            warps=self.num_warps,
            epsilon=self.epsilon,
            innnerIterations=self.inner_iterations,
            outerIterations=self.outer_iterations,
            scaleStep=self.scale_step,
            gamma=0.0,
            medianFiltering=self.median_filtering,
            useInitialFlow=False,
        )


# --------------------------------------------------------------------------------------
# Building blocks (one (H, W) float32 image each; vmap adds the batch).


def pyramid_shapes(height: int, width: int, params: TVL1Params) -> list[tuple[int, int]]:
    """Image sizes of the pyramid levels, finest first (OpenCV's rounding and stop rule)."""
    shapes = [(height, width)]
    for _ in range(1, params.num_scales):
        h, w = shapes[-1]
        h, w = round(h * params.scale_step), round(w * params.scale_step)
        if h < _MIN_PYRAMID_SIDE or w < _MIN_PYRAMID_SIDE:
            break
        shapes.append((h, w))
    return shapes


def _linear_taps(out_size: int, in_size: int, scale: float):
    """Indices and weights of OpenCV's INTER_LINEAR along one axis (src = (d + .5) s - .5)."""
    src = (np.arange(out_size) + 0.5) * scale - 0.5
    lower = np.floor(src)
    frac = src - lower
    lower = lower.astype(int)
    frac = np.where(lower < 0, 0.0, frac)
    lower = np.maximum(lower, 0)
    frac = np.where(lower >= in_size - 1, 0.0, frac)
    lower = np.minimum(lower, in_size - 1)
    upper = np.minimum(lower + 1, in_size - 1)
    return lower, upper, frac.astype(np.float32)


def resize_linear(image: jax.Array, shape: tuple[int, int], scale=None) -> jax.Array:
    """Bilinear resize of an (H, W) image with OpenCV's pixel-centre convention, no antialias.

    Args:
      image: (H, W) array.
      shape: output (height, width).
      scale: (sy, sx) source pixels per output pixel; default in/out (``cv2.resize`` to a
        size); OpenCV uses ``1 / fx`` when resizing by a factor.
    """
    (in_h, in_w), (out_h, out_w) = image.shape, shape
    sy, sx = scale if scale is not None else (in_h / out_h, in_w / out_w)
    y0, y1, fy = _linear_taps(out_h, in_h, sy)
    x0, x1, fx = _linear_taps(out_w, in_w, sx)
    rows = image[y0] * (1 - fy[:, None]) + image[y1] * fy[:, None]
    return rows[:, x0] * (1 - fx) + rows[:, x1] * fx


def centered_gradient(image: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Central differences with a replicated border (OpenCV's ``centeredGradient``)."""
    padded = jnp.pad(image, 1, mode="edge")
    dx = 0.5 * (padded[1:-1, 2:] - padded[1:-1, :-2])
    dy = 0.5 * (padded[2:, 1:-1] - padded[:-2, 1:-1])
    return dx, dy


def forward_gradient(u: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Forward differences, zero on the last column / row."""
    dx = jnp.pad(u[:, 1:] - u[:, :-1], ((0, 0), (0, 1)))
    dy = jnp.pad(u[1:] - u[:-1], ((0, 1), (0, 0)))
    return dx, dy


def divergence(p1: jax.Array, p2: jax.Array) -> jax.Array:
    """Backward-difference divergence, the negative adjoint of :func:`forward_gradient`."""
    return p1 - jnp.pad(p1[:, :-1], ((0, 0), (1, 0))) + p2 - jnp.pad(p2[:-1], ((1, 0), (0, 0)))


def _cubic_weights(t: jax.Array) -> list[jax.Array]:
    a = _CUBIC_A
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    return [w0, w1, w2, 1 - w0 - w1 - w2]


def remap_cubic(images: jax.Array, map_x: jax.Array, map_y: jax.Array) -> jax.Array:
    """Bicubic sampling of (K, H, W) images at (map_y, map_x); taps outside the image read 0."""
    _, height, width = images.shape
    x0, y0 = jnp.floor(map_x), jnp.floor(map_y)
    wx, wy = _cubic_weights(map_x - x0), _cubic_weights(map_y - y0)
    x0, y0 = x0.astype(jnp.int32) - 1, y0.astype(jnp.int32) - 1
    flat = images.reshape(images.shape[0], -1)
    out = jnp.zeros(images.shape, images.dtype)
    for j in range(4):
        yy = y0 + j
        y_ok = (yy >= 0) & (yy < height)
        row = jnp.clip(yy, 0, height - 1) * width
        for i in range(4):
            xx = x0 + i
            ok = y_ok & (xx >= 0) & (xx < width)
            values = flat[:, row + jnp.clip(xx, 0, width - 1)]
            out = out + jnp.where(ok, wy[j] * wx[i], 0.0) * values
    return out


def _merge_exchange(n: int) -> list[tuple[int, int]]:
    """Batcher's merge-exchange sorting network for any n (Knuth, TAOCP vol. 3, 5.2.2 M)."""
    comparators = []
    t = max(1, (n - 1).bit_length())
    p = 1 << (t - 1)
    while p > 0:
        q, r, d = 1 << (t - 1), 0, p
        while True:
            comparators += [(i, i + d) for i in range(n - d) if i & p == r]
            if q == p:
                break
            d, q, r = q - p, q // 2, p
        p //= 2
    return comparators


@functools.cache
def median_network(n: int) -> tuple[tuple[int, int], ...]:
    """Comparators (i, j) (min to i, max to j) that put the median of n (odd) values on n // 2.

    Batcher's sorting network with the comparators that cannot reach wire ``n // 2`` removed;
    a comparator network moves values without computing new ones, so the median is exactly
    the middle order statistic (``jnp.median``, ``cv2.medianBlur``), ties included. For n = 25
    (5x5): 113 comparators of pure elementwise min / max, which XLA fuses into one loop, where
    a sort of 25 stacked windows costs two orders of magnitude more on a CPU.
    """
    if n % 2 == 0:
        raise ValueError(f"median_network: n = {n}; expected an odd number of values")
    needed, kept = {n // 2}, []
    for i, j in reversed(_merge_exchange(n)):
        if i in needed or j in needed:
            kept.append((i, j))
            needed |= {i, j}
    return tuple(reversed(kept))


def median_filter(u: jax.Array, size: int) -> jax.Array:
    """size x size median of (..., H, W) images, replicated border (``cv2.medianBlur``, float).

    A selection network (:func:`median_network`) over the size^2 shifted copies of the image.
    """
    r = size // 2
    height, width = u.shape[-2:]
    padded = jnp.pad(u, [(0, 0)] * (u.ndim - 2) + [(r, r), (r, r)], mode="edge")
    wires = [padded[..., i : i + height, j : j + width] for i in range(size) for j in range(size)]
    for i, j in median_network(size * size):
        wires[i], wires[j] = jnp.minimum(wires[i], wires[j]), jnp.maximum(wires[i], wires[j])
    return wires[size * size // 2]


# --------------------------------------------------------------------------------------
# The solver.


def _one_scale(i0, i1, u1, u2, params: TVL1Params):
    """TV-L1 at one pyramid level, starting from the flow (u1, u2)."""
    height, width = i0.shape
    scaled_epsilon = jnp.float32(params.epsilon**2 * height * width)
    l_t = jnp.float32(params.lambda_ * params.theta)
    taut = jnp.float32(params.tau / params.theta)
    theta = jnp.float32(params.theta)
    i1x, i1y = centered_gradient(i1)
    stack = jnp.stack([i1, i1x, i1y])
    grid_y, grid_x = jnp.mgrid[0:height, 0:width].astype(jnp.float32)
    zeros = jnp.zeros_like(i0)

    def warp(_, carry):
        u1, u2, p = carry
        i1w, i1wx, i1wy = remap_cubic(stack, grid_x + u1, grid_y + u2)
        grad = i1wx * i1wx + i1wy * i1wy
        rho_c = i1w - i1wx * u1 - i1wy * u2 - i0

        def inner(state):
            u1, u2, p, _, n_inner = state
            rho = rho_c + i1wx * u1 + i1wy * u2
            fi = jnp.where(
                rho < -l_t * grad,
                l_t,
                jnp.where(
                    rho > l_t * grad,
                    -l_t,
                    jnp.where(grad > np.finfo(np.float32).eps, -rho / jnp.maximum(grad, 1e-30), 0),
                ),
            )
            v1, v2 = u1 + fi * i1wx, u2 + fi * i1wy
            p11, p12, p21, p22 = p
            new_u1 = v1 + theta * divergence(p11, p12)
            new_u2 = v2 + theta * divergence(p21, p22)
            error = jnp.sum((new_u1 - u1) ** 2 + (new_u2 - u2) ** 2)
            u1x, u1y = forward_gradient(new_u1)
            u2x, u2y = forward_gradient(new_u2)
            ng1 = 1 + taut * jnp.hypot(u1x, u1y)
            ng2 = 1 + taut * jnp.hypot(u2x, u2y)
            p = ((p11 + taut * u1x) / ng1, (p12 + taut * u1y) / ng1)
            p += ((p21 + taut * u2x) / ng2, (p22 + taut * u2y) / ng2)
            return new_u1, new_u2, p, error, n_inner + 1

        def outer(state):
            u1, u2, p, error, n_outer = state
            if params.median_filtering > 1:
                u1 = median_filter(u1, params.median_filtering)
                u2 = median_filter(u2, params.median_filtering)
            u1, u2, p, error, _ = jax.lax.while_loop(
                lambda s: (s[3] > scaled_epsilon) & (s[4] < params.inner_iterations),
                inner,
                (u1, u2, p, error, 0),
            )
            return u1, u2, p, error, n_outer + 1

        u1, u2, p, _, _ = jax.lax.while_loop(
            lambda s: (s[3] > scaled_epsilon) & (s[4] < params.outer_iterations),
            outer,
            (u1, u2, p, jnp.float32(np.inf), 0),
        )
        return u1, u2, p

    u1, u2, _ = jax.lax.fori_loop(0, params.num_warps, warp, (u1, u2, (zeros,) * 4))
    return u1, u2


def _tvl1_single(i0: jax.Array, i1: jax.Array, params: TVL1Params) -> jax.Array:
    """Flow (H, W, 2) from two (H, W) float32 images on the 0-255 scale: I0(x) ~ I1(x + flow)."""
    shapes = pyramid_shapes(*i0.shape, params)
    inverse = (1 / params.scale_step, 1 / params.scale_step)
    pyramid = [(i0, i1)]
    for shape in shapes[1:]:
        pyramid.append(tuple(resize_linear(image, shape, inverse) for image in pyramid[-1]))
    u1 = u2 = jnp.zeros(shapes[-1], jnp.float32)
    for level in range(len(shapes) - 1, -1, -1):
        u1, u2 = _one_scale(*pyramid[level], u1, u2, params)
        if level:
            u1, u2 = (resize_linear(u, shapes[level - 1]) / params.scale_step for u in (u1, u2))
    return jnp.stack([u1, u2], axis=-1)


@functools.partial(jax.jit, static_argnames="params")
def _tvl1_batch(i0: jax.Array, i1: jax.Array, params: TVL1Params) -> jax.Array:
    return jax.vmap(functools.partial(_tvl1_single, params=params))(i0, i1)


_tvl1_pair = jax.jit(_tvl1_single, static_argnames="params")


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _tvl1_pairwise(i0: jax.Array, i1: jax.Array, params: TVL1Params, threads: int) -> jax.Array:
    """(N, H, W, 2) flows of (N, H, W) pairs, one jit call per pair, ``threads`` at a time."""
    i0, i1 = np.asarray(i0), np.asarray(i1)

    def one(k):
        return _tvl1_pair(i0[k], i1[k], params=params).block_until_ready()

    if len(i0) == 0:
        return jnp.zeros((*i0.shape, 2), jnp.float32)
    first = one(0)  # compiles (once per size and parameters) before the threads start
    if threads <= 1 or len(i0) <= 2:
        return jnp.stack([first] + [one(k) for k in range(1, len(i0))])
    with concurrent.futures.ThreadPoolExecutor(min(threads, len(i0) - 1)) as pool:
        return jnp.stack([first, *pool.map(one, range(1, len(i0)))])


def to_gray(images) -> jax.Array:
    """(..., H, W) or (..., H, W, 3) RGB -> (..., H, W) float32 on the 0-255 scale.

    uint8 images are taken as 0-255; float images as 0-1 (OpenCV's convention for TV-L1).
    """
    images = jnp.asarray(images)
    scale = 1.0 if images.dtype == jnp.uint8 else 255.0
    images = images.astype(jnp.float32) * scale
    if images.ndim >= 3 and images.shape[-1] == 3:
        images = images @ jnp.array([0.299, 0.587, 0.114], jnp.float32)
    return images


def vectorized_by_default() -> bool:
    """Whether :func:`tvl1` runs a batch as one vmapped program (GPU, TPU) rather than pair by
    pair (CPU) when not told."""
    return jax.default_backend() != "cpu"


def tvl1(
    frames0,
    frames1,
    params: TVL1Params = TVL1Params(),
    *,
    vectorize: bool | None = None,
    threads: int | None = None,
) -> jax.Array:
    """TV-L1 flow from ``frames0`` to ``frames1``, batched over any leading dimensions.

    Args:
      frames0: (..., H, W) gray or (..., H, W, 3) RGB images, uint8 (0-255) or float (0-1);
        e.g. onset frames. H and W at least 3.
      frames1: the same shape; e.g. apex frames.
      params: TV-L1 parameters (OpenCV's defaults).
      vectorize: True: the batch as one vmapped program; False: one call per pair on worker
        threads; None: False on a CPU backend, True otherwise or when traced (inside ``jit``)
        (see the module docstring). Both give the same flows up to float rounding.
      threads: worker threads when not vectorised (default: the usable CPU cores).

    Returns:
      (..., H, W, 2) float32 flow (u = x, v = y displacement in pixels) with
      ``frames0(x) ~ frames1(x + flow(x))``, as ``cv2.optflow.DualTVL1OpticalFlow.calc``.
    """
    i0, i1 = to_gray(frames0), to_gray(frames1)
    if i0.shape != i1.shape or i0.ndim < 2 or min(i0.shape[-2:]) < 3:
        raise ValueError(
            f"tvl1: frames of shape {np.shape(frames0)} and {np.shape(frames1)}; expected "
            "equal (..., H, W[, 3]) shapes with H, W >= 3"
        )
    batch = i0.shape[:-2]
    flat = (-1, *i0.shape[-2:])
    traced = isinstance(i0, jax.core.Tracer)  # called inside jit / vmap: one program only
    if vectorize is None:
        vectorize = traced or vectorized_by_default()
    if traced and not vectorize:
        raise ValueError("tvl1: vectorize=False needs concrete frames, not traced ones (jit)")
    if vectorize:
        flow = _tvl1_batch(i0.reshape(flat), i1.reshape(flat), params)
    else:
        threads = _usable_cores() if threads is None else threads
        flow = _tvl1_pairwise(i0.reshape(flat), i1.reshape(flat), params, threads)
    return flow.reshape(*batch, *flow.shape[1:])


def tvl1_opencv(frame0: np.ndarray, frame1: np.ndarray, params: TVL1Params = TVL1Params()):
    """OpenCV's TV-L1 (the reference) on one pair of (H, W) uint8 gray frames."""
    return params.opencv().calc(frame0, frame1, None)


def farneback(
    frame0: np.ndarray,
    frame1: np.ndarray,
    *,
    pyr_scale: float = 0.5,
    levels: int = 3,
    winsize: int = 15,
    iterations: int = 3,
    poly_n: int = 5,
    poly_sigma: float = 1.2,
) -> np.ndarray:
    """Farneback flow through OpenCV (the cheap option) on (H, W[, 3]) uint8 frames.

    Returns (H, W, 2) float32 flow with the same convention as :func:`tvl1`.
    """
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if f.ndim == 3 else f for f in (frame0, frame1)]
    return cv2.calcOpticalFlowFarneback(
        *gray, None, pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, 0
    )


# --------------------------------------------------------------------------------------
# Encodings.


def magnitude(flow: jax.Array) -> jax.Array:
    """(..., H, W) flow magnitude."""
    return jnp.hypot(flow[..., 0], flow[..., 1])


def optical_strain(flow: jax.Array) -> jax.Array:
    """(..., H, W) optical strain magnitude sqrt(e_xx^2 + e_yy^2 + 2 e_xy^2).

    e = (grad u + grad u^T) / 2 with central differences (one-sided at the border), as in
    Liong et al. (STSTNet, eq. 2-3).
    """
    u, v = flow[..., 0], flow[..., 1]
    u_y, u_x = jnp.gradient(u, axis=(-2, -1))
    v_y, v_x = jnp.gradient(v, axis=(-2, -1))
    e_xy = 0.5 * (u_y + v_x)
    return jnp.sqrt(u_x**2 + v_y**2 + 2 * e_xy**2)


def _hsv_to_rgb(h, s, v):
    """HSV in [0, 1] to RGB in [0, 1] (the standard hexcone model)."""
    i = jnp.floor(h * 6)
    f = h * 6 - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    i = i.astype(jnp.int32) % 6
    r = jnp.choose(i, [v, q, p, p, t, v], mode="clip")
    g = jnp.choose(i, [t, v, v, q, p, p], mode="clip")
    b = jnp.choose(i, [p, p, t, v, v, q], mode="clip")
    return jnp.stack([r, g, b], axis=-1)


def hsv_image(flow: jax.Array, max_magnitude: float | None = None) -> jax.Array:
    """(..., H, W, 3) uint8 RGB rendering of flow: hue = direction, value = magnitude.

    Args:
      flow: (..., H, W, 2).
      max_magnitude: magnitude shown at full brightness; None normalises each image by its
        own maximum (OpenCV's tutorial, and most ME code; it discards absolute magnitude).
    """
    mag = magnitude(flow)
    angle = jnp.arctan2(flow[..., 1], flow[..., 0])
    hue = (angle / (2 * jnp.pi)) % 1.0
    if max_magnitude is None:
        top = jnp.max(mag, axis=(-2, -1), keepdims=True)
    else:
        top = jnp.float32(max_magnitude)
    value = jnp.clip(mag / jnp.maximum(top, 1e-12), 0, 1)
    rgb = _hsv_to_rgb(hue, jnp.ones_like(hue), value)
    return jnp.round(rgb * 255).astype(jnp.uint8)


ENCODINGS = ("uv", "uvm", "uv_strain", "hsv")


def encode(flow: jax.Array, encoding: str) -> jax.Array:
    """Flow as a network input.

    Args:
      flow: (..., H, W, 2).
      encoding: ``"uv"`` (H, W, 2) components; ``"uvm"`` + magnitude; ``"uv_strain"`` +
        optical strain; ``"hsv"`` the uint8 RGB image of :func:`hsv_image`.

    Returns:
      (..., H, W, C) float32 (uint8 for ``"hsv"``).
    """
    if encoding == "uv":
        return flow
    if encoding == "uvm":
        return jnp.concatenate([flow, magnitude(flow)[..., None]], axis=-1)
    if encoding == "uv_strain":
        return jnp.concatenate([flow, optical_strain(flow)[..., None]], axis=-1)
    if encoding == "hsv":
        return hsv_image(flow)
    raise ValueError(f"unknown flow encoding {encoding!r}; expected one of {ENCODINGS}")


def endpoint_error(flow: np.ndarray, reference: np.ndarray, border: int = 0) -> float:
    """Mean end-point error between two (..., H, W, 2) flows, ignoring ``border`` pixels."""
    flow, reference = np.asarray(flow), np.asarray(reference)
    if border:
        flow = flow[..., border:-border, border:-border, :]
        reference = reference[..., border:-border, border:-border, :]
    return float(np.mean(np.hypot(*np.moveaxis(flow - reference, -1, 0))))


def onset_apex_flow(
    frames,
    onset: int,
    apex: int,
    *,
    sample: str = "clip",
    params: TVL1Params = TVL1Params(),
) -> jax.Array:
    """TV-L1 flow from the onset to the apex frame of one clip, with checks naming it."""
    frames = validate.check_clip(frames, sample)
    validate.check_phases(onset, apex, None, len(frames), sample)
    return tvl1(frames[onset], frames[apex], params)
