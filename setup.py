"""The packages of mejax's distribution; everything else is in pyproject.toml.

Besides ``mejax*``, the experiment configs of ``configs/`` ship as ``mejax.configs`` (a
package-dir mapping, which pyproject.toml's ``packages.find`` cannot add), so that an installed
mejax finds them by name (``mejax-train --config=stapf``). The TFDS builders' ``dummy_data``
folders (the fake clips of the builders' tests, which run from a checkout) stay out of it.
"""

from setuptools import find_namespace_packages, setup

PACKAGES = find_namespace_packages(include=["mejax*"], exclude=["*.dummy_data", "*.dummy_data.*"])

setup(packages=[*PACKAGES, "mejax.configs"], package_dir={"mejax.configs": "configs"})
