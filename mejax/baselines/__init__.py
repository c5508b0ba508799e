"""Hand-crafted spatio-temporal descriptors with linear SVMs, the papers' baselines.

- :mod:`~mejax.baselines.lbp_top`: LBP-TOP (Zhao & Pietikäinen 2007) and LBP-SIP (Wang et al.
  2014), vectorised over whole planes, checked against scikit-image.
- :mod:`~mejax.baselines.lpq_top`: LPQ (Ojansivu & Heikkilä 2008) and LPQ-TOP (Päivärinta
  et al. 2011).
- :mod:`~mejax.baselines.hog3d`: HOG3D (Kläser et al. 2008) and 3DHOG (Polikovsky et al. 2009).
- :mod:`~mejax.baselines.hoof`: HOOF (Chaudhry et al. 2009) on Farneback or TV-L1 flow.
- :mod:`~mejax.baselines.blocks`: the block grid and per-block histograms.
- :mod:`~mejax.baselines.descriptors`: the descriptors by config name.
- :mod:`~mejax.baselines.features`: extraction over a database, cached on disk.
- :mod:`~mejax.baselines.svm`: standardised linear SVMs, C selected on validation subjects.
- :mod:`~mejax.baselines.fitter`: the per-round SVM fitter of the one experiment path.

The baseline configs are ``configs/lbp_top.py`` and its siblings.
"""
