"""The feature schema every micro-expression database builder of mejax produces.

One example is one micro-expression clip. Frame indices (``onset``, ``apex``, ``offset``)
are 0-based positions in ``frames``, whatever numbering the database's files use.
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from mejax.datasets import aus


def clip_features(
    frame_shape: tuple[int | None, int | None] = (None, None),
) -> tfds.features.FeaturesDict:
    """FeaturesDict of a micro-expression clip.

    Args:
      frame_shape: (height, width) of the frames, ``None`` where the database varies.

    Returns:
      The features: ``frames`` (T, H, W, 3) uint8 video; ``onset``/``apex``/``offset``
      int32 frame indices; ``subject``, ``clip``, ``database`` text; ``aus`` bool multi-hot
      over :data:`mejax.datasets.aus.AU_VOCAB`; ``au_code`` the raw FACS code string;
      ``emotion`` text as the database labels it; ``objective_class`` int32 index into
      :data:`~mejax.datasets.aus.OBJECTIVE_CLASSES` (-1 where not annotated); ``fps``.
    """
    height, width = frame_shape
    return tfds.features.FeaturesDict(
        {
            "frames": tfds.features.Video(shape=(None, height, width, 3), encoding_format="png"),
            "onset": np.int32,
            "apex": np.int32,
            "offset": np.int32,
            "subject": tfds.features.Text(),
            "clip": tfds.features.Text(),
            "aus": tfds.features.Tensor(shape=(len(aus.AU_VOCAB),), dtype=np.bool_),
            "au_code": tfds.features.Text(),
            "emotion": tfds.features.Text(),
            "objective_class": np.int32,
            "fps": np.float32,
            "database": tfds.features.Text(),
        }
    )
