"""Helpers around parameters: the dropout paper's max-norm constraint, gradient clipping, and
optimizer groups without weight decay."""

from ferrograd.nn.utils.clip_grad import clip_grad_norm_
from ferrograd.nn.utils.max_norm import max_norm_
from ferrograd.nn.utils.param_groups import param_groups_without_decay

__all__ = ["clip_grad_norm_", "max_norm_", "param_groups_without_decay"]
