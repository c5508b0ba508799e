"""The recognisers of spot-then-recognise (MEGC 2024-2025 STR): what gives a spotted interval an
emotion.

A recogniser is trained, per leave-one-subject-out round, on the training subjects' annotated
expressions that carry an emotion, and then labels the intervals spotted in the round's test
videos; the task scores STRS (:func:`mejax.spotting.evaluation.evaluate_strs`). Every interval,
annotated or spotted, is read the same way: its frames from onset to offset resampled to
``recogniser.num_frames`` (nearest position) and area-resized to ``recogniser.image_size``
square. The classes are the training expressions' emotions. A LOSO round of spotting has no
validation subject, so nothing is selected: the settings are fixed in the config.

``recogniser.kind`` (:data:`KINDS`):

* ``"descriptor"``: a hand-crafted descriptor of :mod:`mejax.baselines.descriptors`
  (``recogniser.descriptor``, ``recogniser.blocks``) and a standardised linear SVM with a fixed C
  (``recogniser.c``; :mod:`mejax.baselines.svm`).
* ``"model"``: a clip model of :mod:`mejax.models` (``recogniser.model``: ``i3d_classifier`` --
  STAP's I3D, here with DeepMind's logits head by default -- or ``sca_classifier`` and their tiny
  variants) trained from scratch with Adam (``recogniser.train``: ``learning_rate``, ``epochs``,
  ``batch_size``) on the clips in [-1, 1], the cross-entropy weighted by inverse class frequency
  (the emotions of micro-expressions are far from balanced and STRS scores the macro F1); the
  last epoch's weights label the test intervals. The 2-D models of mejax take one image or a
  flow field per clip, which a spotted interval (no annotated apex) does not give: they are
  refused with that reason.
"""

from __future__ import annotations

import cv2
import numpy as np

from mejax.spotting.evaluation import Interval

KINDS = ("descriptor", "model")
CLIP_MODELS = ("i3d_classifier", "sca_classifier")  # and their "_tiny" variants


def clip(video, onset: int, offset: int, num_frames: int, image_size: int) -> np.ndarray:
    """(num_frames, S, S, 3) uint8: a video's frames ``onset`` to ``offset`` (frame numbers)
    resampled to ``num_frames`` at ``image_size`` square."""
    first, last = video.position(onset), video.position(offset + 1)
    last = max(last, first + 2)
    frames = video.window(first, min(last, len(video)))
    positions = np.linspace(0, len(frames) - 1, num_frames)
    return np.stack(
        [cv2.resize(frames[int(round(p))], (image_size, image_size), interpolation=cv2.INTER_AREA)
         for p in positions]
    )  # fmt: skip


def training_clips(config, train) -> tuple[list[np.ndarray], list[str]]:
    """The clips and emotions of the training videos' annotated expressions with an emotion."""
    clips, emotions = [], []
    for video in train:
        for event in video.events:
            if event.emotion:
                clips.append(_clip(config, video, event.onset, event.offset))
                emotions.append(event.emotion)
    classes = sorted(set(emotions))
    if len(classes) < 2:
        raise ValueError(
            f"the recogniser needs two emotions among the training expressions, got {classes} "
            "(SAMM-LV's micro-movements take theirs from SAMM's coding sheet, "
            "SAMM_Micro_FACS_Codes_v2.xlsx, in the manual directory)"
        )
    return clips, emotions


def _clip(config, video, onset: int, offset: int) -> np.ndarray:
    return clip(video, onset, offset, config.get("num_frames", 10), config.get("image_size", 64))


class Recogniser:
    """Base: trains on construction, labels spotted intervals with :meth:`label`."""

    def __init__(self, config, train, seed: int = 0):
        self.config = config
        clips, emotions = training_clips(config, train)
        self.classes = sorted(set(emotions))
        self.fit(clips, np.asarray([self.classes.index(e) for e in emotions]), seed)

    def fit(self, clips: list[np.ndarray], labels: np.ndarray, seed: int) -> None:
        raise NotImplementedError

    def predict(self, clips: list[np.ndarray]) -> np.ndarray:
        """Class indices of clips."""
        raise NotImplementedError

    def label(self, test, spotted: dict[str, list[Interval]]) -> dict[str, list[Interval]]:
        """The spotted intervals of each test video, each with the emotion predicted for it."""
        labelled = {}
        for video in test:
            found = spotted[video.key]
            clips = [_clip(self.config, video, i.onset, i.offset) for i in found]
            classes = self.predict(clips) if clips else []
            labelled[video.key] = [
                Interval(i.onset, i.offset, i.type, i.score, self.classes[int(c)])
                for i, c in zip(found, classes, strict=True)
            ]
        return labelled


class DescriptorRecogniser(Recogniser):
    """A hand-crafted descriptor and a standardised linear SVM with a fixed C."""

    def fit(self, clips, labels, seed):
        from mejax.baselines import descriptors, svm

        self.describe = descriptors.make(self.config.descriptor, self.config.blocks)
        settings = svm.Settings(c_selection="fixed", fixed_c=self.config.get("c", 1.0))
        x = np.stack([self.describe(c) for c in clips])
        self.model = svm.make_classifier(settings.fixed_c, settings, 0).fit(x, labels)

    def predict(self, clips):
        return self.model.predict(np.stack([self.describe(c) for c in clips]))


class ModelRecogniser(Recogniser):
    """A clip model of :mod:`mejax.models` trained from scratch (see the module docstring)."""

    def fit(self, clips, labels, seed):
        import jax
        import jax.numpy as jnp
        import optax

        from mejax import models

        name = self.config.model.name
        if name.removesuffix("_tiny") not in CLIP_MODELS:
            raise ValueError(
                f"recogniser.model.name {name!r}: the recogniser feeds clips (B, T, H, W, 3) of "
                f"spotted intervals, which have no annotated apex; take one of {CLIP_MODELS} "
                "(or a '_tiny' variant)"
            )
        train = self.config.train
        self.model = models.build(self.config.model, num_outputs=len(self.classes))
        x = _scaled(np.stack(clips))
        counts = np.bincount(labels, minlength=len(self.classes))
        weights = len(labels) / (len(self.classes) * np.maximum(counts, 1))
        weights = jnp.asarray(weights, jnp.float32)
        key = jax.random.PRNGKey(seed)
        key, init_key = jax.random.split(key)
        variables = self.model.init({"params": init_key, "dropout": init_key}, x[:1], train=False)
        params, state = variables["params"], {k: v for k, v in variables.items() if k != "params"}
        optimizer = optax.adam(train.get("learning_rate", 1e-3))
        opt_state = optimizer.init(params)

        @jax.jit
        def step(params, state, opt_state, batch, targets, key):
            def loss_fn(params):
                out, updates = self.model.apply(
                    {"params": params, **state}, batch, train=True, rngs={"dropout": key},
                    mutable=list(state),
                )  # fmt: skip
                logits = _logits(out)
                ce = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
                w = weights[targets]
                return jnp.sum(w * ce) / jnp.sum(w), updates

            (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
            changes, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, changes), {**state, **updates}, opt_state, loss

        rng = np.random.default_rng(seed)
        size = train.get("batch_size", 8)
        for _ in range(train.get("epochs", 20)):
            order = rng.permutation(len(x))
            for start in range(0, len(order), size):
                chunk = order[start : start + size]
                key, step_key = jax.random.split(key)
                targets = jnp.asarray(labels[chunk])
                params, state, opt_state, _ = step(
                    params, state, opt_state, x[chunk], targets, step_key
                )
        self.variables = {"params": params, **state}
        self._apply = jax.jit(lambda v, b: _logits(self.model.apply(v, b, train=False)))

    def predict(self, clips):
        x = _scaled(np.stack(clips))
        size = self.config.train.get("batch_size", 8)
        logits = [np.asarray(self._apply(self.variables, x[i : i + size]))
                  for i in range(0, len(x), size)]  # fmt: skip
        return np.argmax(np.concatenate(logits), axis=-1)


def _scaled(clips: np.ndarray) -> np.ndarray:
    return clips.astype(np.float32) / 127.5 - 1.0


def _logits(out):
    return out["logits"] if isinstance(out, dict) else out


def make(config, train, seed: int = 0) -> Recogniser:
    """The recogniser of a ``recogniser`` block, trained on the training videos."""
    kind = config.get("kind", "descriptor")
    if kind not in KINDS:
        raise ValueError(f"recogniser.kind {kind!r} not in {KINDS}")
    return {"descriptor": DescriptorRecogniser, "model": ModelRecogniser}[kind](config, train, seed)
