"""Errata: known errors in the databases' annotation files, corrected by an explicit table.

Each :class:`Erratum` names the database, the clip, the field, the value as released and the
corrected value, with the evidence. The table is versioned (:data:`ERRATA_VERSION`); a
builder's ``RELEASE_NOTES`` name the errata version it applies and its build report lists
every erratum applied. An erratum applies only where the file holds exactly the wrong value;
a file that already holds the corrected value (a re-release) is reported as such; any other
value is an error, because the table no longer describes that file.

A corrected value of ``None`` means "not annotated": the builders store -1 for such a frame
index (see :mod:`mejax.datasets.features`).
"""

from __future__ import annotations

import dataclasses

ERRATA_VERSION = "1"


@dataclasses.dataclass(frozen=True)
class Erratum:
    """One correction of one annotation cell.

    Attributes:
      database: ``"casme2"``, ``"samm"``, ...
      clip: the clip's file name as annotated (e.g. ``"028_4_1"``).
      field: the annotation field (``"onset"``, ``"apex"``, ``"offset"``, ``"au_code"``).
      wrong: the value as released.
      right: the corrected value (``None``: not annotated).
      reason: the evidence for the correction.
    """

    database: str
    clip: str
    field: str
    wrong: object
    right: object
    reason: str

    def describe(self) -> str:
        """One line for reports."""
        return (
            f"{self.database} {self.clip} {self.field}: {self.wrong!r} -> {self.right!r} "
            f"({self.reason})"
        )


ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "samm",
        "028_4_1",
        "apex",
        1143,
        1113,
        "SAMM_Micro_FACS_Codes_v2: the apex lies after the offset 1134; transposed digits of "
        "1113, the value public MEGC code uses (e.g. davidnvq/me_recognition)",
    ),
    Erratum(
        "samm",
        "032_3_1",
        "apex",
        1930,
        4930,
        "SAMM_Micro_FACS_Codes_v2: the apex lies before the onset 4896 (offset 4970); a typo "
        "for 4930, the value public MEGC code uses (e.g. davidnvq/me_recognition)",
    ),
    Erratum(
        "casme2",
        "sub04/EP12_01f",
        "apex",
        "/",
        None,
        "CASME II coding sheets (2014-05-08 and 2019-07-01): no apex frame given ('/'); the "
        "clip is kept with its onset and offset and the apex marked as not annotated",
    ),
)


def lookup(database: str, clip: str, field: str) -> Erratum | None:
    """The erratum of one cell, if any."""
    for erratum in ERRATA:
        if (erratum.database, erratum.clip, erratum.field) == (database, clip, field):
            return erratum
    return None
