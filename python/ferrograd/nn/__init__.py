"""Neural-network layers with torch.nn's interface; maths in Rust."""

from ferrograd.nn import functional, init, utils
from ferrograd.nn.activation import LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Tanh
from ferrograd.nn.batchnorm import BatchNorm1d, BatchNorm2d
from ferrograd.nn.container import ModuleList, Sequential
from ferrograd.nn.conv import Conv2d
from ferrograd.nn.dropout import Dropout
from ferrograd.nn.linear import Flatten, Identity, Linear
from ferrograd.nn.module import Module
from ferrograd.nn.parameter import Parameter
from ferrograd.nn.pooling import AvgPool2d, MaxPool2d

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity",
    "Flatten", "Conv2d", "MaxPool2d", "AvgPool2d", "Dropout", "BatchNorm1d", "BatchNorm2d", "ReLU",
    "LeakyReLU", "PReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
]
