"""NumPy training and int8 export for edgedigits (workstation only; the runtime never imports it).

Modules: mnist (IDX reading and the 50k/10k split), models (logistic regression and sigmoid MLP,
log-sum-exp), gradients (per datapoint as the notebook derives them, and vectorised), augment
(OpenCV distortions), train (the trainer and its command line), export (through the runtime's
quantiser) and report (figures and docs/training-report.md); the many-hands set: fonts
(handwriting fonts), variants (label-keeping European styles of MNIST digits), drawn (separators
and not-a-character marks), hands (all of them in one file); cache (the per-user cache folder).
"""
