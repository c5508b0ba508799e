"""The per-round fitter of a spotting run: spot the test videos' intervals, type by type.

A config with a ``spotter`` block runs through the one experiment path (:mod:`mejax.experiment`)
with this fitter. Per round (leave-one-subject-out over videos, as the learned spotters of MEGC
2020-2023 are evaluated; ``train.selection = "last"`` puts the protocol's validation subject
into training, as SOFTNet's LOSO does: there is no validation side), for each expression type
(micro and macro, spotted separately as MEGC does), it spots the intervals of the round's test
videos with

* ``spotter.method = "softnet"``: SOFTNet (Liong et al., ICIP 2021; :mod:`mejax.spotting.softnet`)
  trained from scratch on the training videos' windows, k from the training videos' expressions
  only (SOFTNet's rule, :func:`mejax.spotting.flow_features.softnet_k`), its features the flow
  from frame t to t + k (:mod:`mejax.spotting.flow_features`, cached per video with a progress
  bar), its peaks above T = mean + p (max - mean) turned into intervals, p = 0.55;
* ``spotter.method = "mdmd"``: the MEGC2020 organisers' training-free baseline
  (:mod:`mejax.spotting.mdmd`), its parameters those of the database (scaled by fps elsewhere);

and always, beside it, the trivial spotter (:mod:`mejax.spotting.trivial`: windows of the
training expressions' mean length at a fixed stride), the floor any spotter must beat.

Spot-then-recognise (MEGC 2024-2025). With a ``recogniser`` block, every spotted interval is
given an emotion by a recogniser trained on the same training subjects' expressions
(:mod:`mejax.spotting.recognisers`: a hand-crafted descriptor and a linear SVM, or a clip model
of :mod:`mejax.models`). STRS is then computed by the task.

Nothing here looks at a test video's annotations: they only travel into the record to be scored.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from absl import logging

from mejax import protocols, reporting
from mejax.spotting import flow_features, mdmd, recognisers, softnet, task, trivial, videos

DEFAULT_CACHE_DIR = Path("~/.cache/mejax/spotting")
METHODS = ("softnet", "mdmd")


class SpotterFitter:
    """Spots a round's test videos (see the module docstring)."""

    selected_label, selected_key = "setting", "settings"

    @staticmethod
    def method(config) -> str:
        """What the run fits, in a word or two (the console's first line)."""
        return f"{config.spotter.method} spotter"

    def __init__(self, config):
        self.config = config
        self.spotter = config.spotter
        if self.spotter.method not in METHODS:
            raise ValueError(f"spotter.method {self.spotter.method!r} not in {METHODS}")
        self.cache_dir = Path(self.spotter.get("cache_dir") or DEFAULT_CACHE_DIR).expanduser()

    def load(self) -> videos.VideoSet:
        return videos.load(self.config.dataset)

    def prepare(self, spotting_task, data: videos.VideoSet, targets, workdir) -> None:
        if spotting_task.target_kind != "intervals":
            raise ValueError(f"a spotter spots intervals, not {spotting_task.target_kind}")
        self.task, self.data, self.targets = spotting_task, data, targets
        self.workdir = Path(workdir)

    def fit(self, pending: list[tuple[int, protocols.Round]]):
        """Yields (index, record) of each pending round."""
        for index, round_ in pending:
            yield index, self._round(round_)

    def _round(self, round_) -> dict:
        train = self.data.take(round_.indices("train", self.data)).videos
        test = self.data.take(round_.indices("test", self.data)).videos
        spotted = {video.key: [] for video in test}
        windows = {video.key: [] for video in test}
        settings = {}
        for kind in self.task.types:
            if not any(e.type == kind for v in train for e in v.events):
                logging.warning("%s: no %s expression in training; none spotted", round_.name, kind)
                continue
            found, k, params = self._spot(round_, kind, train, test)
            self._save(round_, kind, k, params, test)
            for key, intervals in found.items():
                spotted[key] += intervals
            window = trivial.trivial_params(train, kind, self.spotter.get("trivial_stride", 1.0))
            for video in test:
                windows[video.key] += trivial.spot(video.frame_numbers, kind, window)
            settings.update({f"setting_k_{kind}": k, f"setting_window_{kind}": window.length})
        if "recogniser" in self.config:
            recogniser = recognisers.make(self.config.recogniser, train, self.config.seed)
            spotted = recogniser.label(test, spotted)
        index = {key: i for i, key in enumerate(self.data.keys)}
        truths = {key: list(self.targets[index[key]]) for key in spotted}
        return {
            "videos": np.asarray(list(spotted), dtype=str),
            **task.record_intervals("truth", truths),
            **task.record_intervals("spotter", spotted),
            **task.record_intervals("trivial", windows),
            **{key: np.asarray(value) for key, value in settings.items()},
        }

    def _spot(self, round_, kind: str, train, test):
        """(the spotter's intervals of the test videos for one type, its k, its trained
        variables: None for MDMD)."""
        flow = self.spotter.get("flow", {})
        if self.spotter.method == "mdmd":
            params = self._mdmd_params(kind, test)
            found = mdmd.spot_videos(
                test, kind, self.cache_dir, params, method=flow.get("method", "farneback"),
                work_size=flow.get("work_size", 64),
            )  # fmt: skip
            return found, params.k, None
        k = flow_features.softnet_k(train, kind)
        features = flow_features.FeatureConfig(
            k=k,
            method=flow.get("method", "farneback"),
            work_size=flow.get("work_size", 64),
            size=flow.get("size", 42),
            layout=flow.get("layout", "face"),
        )
        cached = flow_features.cached_features(train + test, features, self.cache_dir)
        settings = self.spotter.get("softnet", {})
        hyper = softnet.SoftNetConfig.for_type(
            kind,
            epochs=settings.get("epochs", 10),
            batch_size=settings.get("batch_size", 12),
            learning_rate=settings.get("learning_rate", 5e-4),
            keep_negatives=settings.get("keep_negatives", 0.5),
        )
        targets = [softnet.window_targets(v.frame_numbers, v.events, k, kind) for v in train]
        params = softnet.fit(
            [cached[v.key] for v in train], targets, hyper, seed=self.config.seed,
            on_epoch=lambda epoch, loss: logging.info(
                "%s %s: epoch %d, loss %.4f", round_.name, kind, epoch + 1, loss
            ),
        )  # fmt: skip
        p = settings.get("p", softnet.P)
        found = {
            video.key: softnet.spot(
                softnet.scores(params, cached[video.key], hyper), k, video.frame_numbers, kind, p
            )
            for video in test
        }
        return found, k, params

    def _save(self, round_, kind: str, k: int, params, test) -> None:
        """What :mod:`mejax.spotting.predict` needs to spot a new video with this round's
        spotter: ``ROUND/spotter.json`` (per type its k and threshold fraction, the flow
        settings, the frames' size and fps) and, for SOFTNet, ``ROUND/spotter_<type>.msgpack``
        (the trained variables)."""
        import jax
        from flax import serialization

        if jax.process_index() != 0:
            return
        round_dir = self.workdir / round_.name
        round_dir.mkdir(parents=True, exist_ok=True)
        if params is not None:
            reporting.write_atomic(
                round_dir / f"spotter_{kind}.msgpack",
                lambda file: file.write(serialization.to_bytes(params)),
                binary=True,
            )
        saved = round_dir / "spotter.json"
        found = json.loads(saved.read_text()) if saved.is_file() else {"types": {}}
        found.update(
            method=self.spotter.method,
            flow=dict(self.spotter.get("flow", {})),
            frame_size=list(test[0].window(0, 1).shape[1:3]),
            fps=test[0].fps,
            database=test[0].database,
        )
        p = self.spotter.get("softnet", {}).get("p", softnet.P)
        found["types"][kind] = {"k": int(k), "p": p}
        reporting.write_text(saved, json.dumps(found, indent=1))

    def _mdmd_params(self, kind: str, test) -> mdmd.MDMDParams:
        settings = {(video.database, video.fps) for video in test}
        if len(settings) != 1:
            raise ValueError(f"MDMD spots one database at one fps at a time, not {settings}")
        database, fps = settings.pop()
        return mdmd.mdmd_params(kind, fps, database)

    def add_results(self, results: dict, records: list[dict]) -> None:
        """Nothing to add: the task's summary holds the figures."""

    def close(self) -> None:
        """Nothing held open."""
