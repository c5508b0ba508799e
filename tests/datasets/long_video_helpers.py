"""Builds a long-video builder's config from a manual directory, for the long-video tests."""

import pathlib

import tensorflow_datasets as tfds

from mejax.datasets import long_video


def build(name: str, manual_dir: pathlib.Path, data_dir: pathlib.Path):
    """(builder, {video key: LongVideo}) of ``name`` built from ``manual_dir``."""
    b = tfds.builder(name, data_dir=str(data_dir))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return b, {v.key: v for v in long_video.load_videos(name, str(data_dir))}
