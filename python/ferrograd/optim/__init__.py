"""Optimizers with torch.optim's names, arguments and defaults; their update rules run in Rust,
one fused call per parameter group.

- ``SGD`` (momentum, Nesterov), ``Adam`` (AMSGrad), ``AdamW``, ``Adamax``, ``Adagrad``,
  ``RMSprop``, ``Adadelta``: the optimizers the Adam paper compares.
- ``lr_scheduler``: learning-rate schedules (StepLR, MultiStepLR, ExponentialLR,
  CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR) and momentum schedules
  (LambdaMomentum, LinearMomentum).
- ``max_norm_``: the dropout paper's max-norm constraint; any group may set ``max_norm=c`` to
  apply it after every step.
"""

from ferrograd.optim.optimizer import Optimizer
from ferrograd.optim.sgd import SGD
from ferrograd.optim.adam import Adam, AdamW
from ferrograd.optim.adamax import Adamax
from ferrograd.optim.adagrad import Adagrad
from ferrograd.optim.rmsprop import RMSprop
from ferrograd.optim.adadelta import Adadelta
from ferrograd.optim.constraints import max_norm_
from ferrograd.optim import lr_scheduler

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "Adamax", "Adagrad", "RMSprop", "Adadelta",
    "max_norm_", "lr_scheduler",
]
