"""TFDS's build messages for mejax's builders, which download nothing: the synthetic databases
are rendered and the licensed ones read from the copy in the manual directory.

TFDS prints "Downloading and preparing dataset Unknown size (download: Unknown size, generated:
Unknown size, total: Unknown size) to DIR..." before a build and "Dataset NAME downloaded and
prepared to DIR" after it; with :class:`LocalBuild` first among a builder's bases, mejax's log
says what is built where instead.
"""

from __future__ import annotations

from absl import logging


class LocalBuild:
    """A mixin for a ``tfds.core.GeneratorBasedBuilder`` whose data is made on this machine."""

    def _log_download_bytes(self) -> None:
        logging.info("building %s into %s (nothing is downloaded)", self.info.full_name,
                     self.data_dir_root)  # fmt: skip

    def _log_download_done(self) -> None:
        logging.info("built %s into %s", self.info.full_name, self.data_dir_root)
