"""Label sets of micro-expression recognition: which classes a clip belongs to.

Every mejax database carries a clip's ``emotion`` (text, as the database labels it) and its
``objective_class`` (index into :data:`mejax.datasets.aus.OBJECTIVE_CLASSES`, -1 where none).
A label set turns them into a class index, or -1 where the clip is not part of the task:

* ``megc2019`` -- the three classes of MEGC2019 (See et al., FG 2019, Sec. 3): *negative*
  (CASME II's repression and disgust, SAMM's anger, contempt, disgust, fear and sadness, SMIC's
  negative), *positive* (happiness; SMIC's positive) and *surprise*. ``others`` is left out,
  and so is CK+'s ``neutral``; CK+'s ``happy`` is positive and its ``sadness`` negative (the
  MEGC2019 recogniser's public code maps sadness to positive, a bug not copied here).
  The MEGC2019 composite already stores these names, which map to themselves.
* ``objective_5`` -- MEGC2018's objective classes I-V (Davison et al. 2018; Yap et al., FG
  2018): the HDE and CDE tasks of MER-auGCN. Classes VI and VII are left out.
* ``objective`` -- all seven objective classes I-VII.
* ``basic_5`` -- the five basic emotions Micro-Attention pretrains on (Wang, Peng, Bi, Chen,
  Neurocomputing 2020, Sec. 4.1): happiness, surprise, anger, disgust, sadness, from each
  macro-expression database's names (CK+'s ``happy``, JAFFE's, Oulu-CASIA's and MUG's, and
  ``synth_me``'s emotions of classes I-V); fear, contempt, neutral and others are left out.
* ``casme2_5`` -- CASME II's five emotion classes of its release paper (Yan et al., PLoS ONE
  2014, Sec. "Emotion labels"; the 5-class CASME II task of the recognition literature):
  happiness, disgust, repression, surprise, others. Fear (2 clips, both of sub09 in the 2014
  sheet) and sadness (7) are left out: a LOSO round testing sub09 would have no fear clip to
  train on.
* ``casme3_7``, ``casme3_4``, ``casme3_3`` -- CAS(ME)³ part A's micro-expression emotions
  (``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx``, column ``emotion``; Li et al., IEEE TPAMI
  2023, Sec. 5, which reports 3-, 4- and 7-class recognition): the 7 classes are the sheet's
  emotions disgust, surprise, others, fear, anger, sad, happy (``Others`` lower-cased); the 4
  classes negative (disgust, fear, anger, sad), positive (happy), surprise, others; the 3
  classes negative, positive, surprise, with others left out. The 860 rows of the v2 sheet:
  disgust 250, surprise 187, others 161, fear 86, anger 64, sad 57, happy 55 (4 classes: 457 /
  55 / 187 / 161).
* ``emotion`` -- each database's own emotion labels (CASME II: happiness, surprise, disgust,
  repression, others; SMIC: negative, positive, surprise; ...): the classes are the distinct
  non-empty emotions of the clips (or the config's list).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mejax.datasets import aus

MEGC2019_CLASSES = ("negative", "positive", "surprise")
MEGC2019_MAP = {
    "negative": "negative",
    "anger": "negative",
    "contempt": "negative",
    "disgust": "negative",
    "fear": "negative",
    "sadness": "negative",
    "repression": "negative",
    "positive": "positive",
    "happiness": "positive",
    "happy": "positive",  # CK+
    "surprise": "surprise",
}
OBJECTIVE_5 = aus.OBJECTIVE_CLASSES[:5]
BASIC_5_CLASSES = ("happiness", "surprise", "anger", "disgust", "sadness")
BASIC_5_MAP = {**{name: name for name in BASIC_5_CLASSES}, "happy": "happiness"}
CASME2_5_CLASSES = ("disgust", "happiness", "others", "repression", "surprise")
CASME3_7_CLASSES = ("disgust", "surprise", "others", "fear", "anger", "sad", "happy")
CASME3_4_CLASSES = ("negative", "positive", "surprise", "others")
CASME3_3_CLASSES = ("negative", "positive", "surprise")
CASME3_4_MAP = {
    "disgust": "negative",
    "fear": "negative",
    "anger": "negative",
    "sad": "negative",
    "happy": "positive",
    "surprise": "surprise",
    "others": "others",
}
CASME3_3_MAP = {k: v for k, v in CASME3_4_MAP.items() if v != "others"}
LABEL_SETS = (
    "megc2019", "objective_5", "objective", "emotion", "basic_5", "casme2_5", "casme3_7",
    "casme3_4", "casme3_3",
)  # fmt: skip
# Fixed classes and the emotion -> class map of the label sets that read ``emotion``.
_FIXED = {
    "casme3_7": (CASME3_7_CLASSES, {name: name for name in CASME3_7_CLASSES}),
    "casme3_4": (CASME3_4_CLASSES, CASME3_4_MAP),
    "casme3_3": (CASME3_3_CLASSES, CASME3_3_MAP),
}


def class_names(label_set: str, emotion: Sequence[str], objective_class: np.ndarray,
                classes: Sequence[str] = ()) -> tuple[str, ...]:  # fmt: skip
    """The classes of ``label_set`` (``classes`` when given, else fixed or found in the data)."""
    if label_set not in LABEL_SETS:
        raise ValueError(f"task.label_set {label_set!r} not in {LABEL_SETS}")
    if classes:
        return tuple(classes)
    if label_set == "megc2019":
        return MEGC2019_CLASSES
    if label_set == "objective_5":
        return OBJECTIVE_5
    if label_set == "objective":
        return aus.OBJECTIVE_CLASSES
    if label_set == "basic_5":
        return BASIC_5_CLASSES
    if label_set == "casme2_5":
        return CASME2_5_CLASSES
    if label_set in _FIXED:
        return _FIXED[label_set][0]
    return tuple(sorted({e.lower() for e in emotion if e}))


def class_labels(label_set: str, classes: Sequence[str], emotion: Sequence[str],
                 objective_class: np.ndarray) -> np.ndarray:  # fmt: skip
    """(N,) int32 class index of every clip in ``classes``, -1 where it is not in the task.

    Raises:
      ValueError: an unknown label set, or (``emotion``) an emotion outside ``classes``.
    """
    if label_set == "megc2019":
        names = [MEGC2019_MAP.get(e.lower(), "") for e in emotion]
    elif label_set == "basic_5":
        names = [BASIC_5_MAP.get(e.lower(), "") for e in emotion]
    elif label_set == "casme2_5":
        names = [e.lower() if e.lower() in CASME2_5_CLASSES else "" for e in emotion]
    elif label_set in _FIXED:
        names = [_FIXED[label_set][1].get(e.lower(), "") for e in emotion]
    elif label_set in ("objective_5", "objective"):
        names = [aus.OBJECTIVE_CLASSES[i] if i >= 0 else "" for i in np.asarray(objective_class)]
    elif label_set == "emotion":
        names = [e.lower() for e in emotion]
        unknown = sorted({n for n in names if n and n not in classes})
        if unknown:
            raise ValueError(f"task.classes {tuple(classes)} lacks the emotions {unknown}")
    else:
        raise ValueError(f"task.label_set {label_set!r} not in {LABEL_SETS}")
    index = {name: i for i, name in enumerate(classes)}
    return np.asarray([index.get(n, -1) for n in names], np.int32)
