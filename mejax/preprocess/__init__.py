"""Preprocessing of micro-expression clips, in Python and JAX.

- :mod:`~mejax.preprocess.tim`: Temporal Interpolation Model (and ``temporal``: linear).
- :mod:`~mejax.preprocess.flow`: TV-L1 optical flow in JAX (batched), Farneback, encodings.
- :mod:`~mejax.preprocess.evm`: Eulerian video magnification; macro-expression reduction.
- :mod:`~mejax.preprocess.face`: face detection (MTCNN, or OpenCV's Haar cascade) and one
  aligned crop per clip.
- :mod:`~mejax.preprocess.augment`: MER-auGCN enriched apex frames and paired rotations.
- :mod:`~mejax.preprocess.cached`: the expensive variants as TFDS builder configs.
"""
