"""The package's SampleCNN (Kim, Lee, Nam, IEEE JSTSP 2019) written in PyTorch, for the benchmarks' PyTorch arms.

Why: the tool a researcher would otherwise pick is PyTorch. Won et al. (SMC 2020, ``minzwon/sota-music-tagging-
models``, ``training/model.py`` and ``modules.py``) benchmark SampleCNN and SampleCNN-SE as ``nn.Module`` s:
channels-first ``(batch, channels, samples)`` tensors, ``nn.Conv1d`` with ``padding=kernel // 2``,
``nn.BatchNorm1d``, ``nn.ReLU``, ``nn.MaxPool1d``, squeeze-and-excitation as two ``nn.Linear`` on the time-averaged
channels, a head of ``nn.Linear`` -> ``nn.BatchNorm1d`` -> ReLU -> ``nn.Dropout(0.5)`` -> ``nn.Linear`` ->
sigmoid, trained with ``nn.BCELoss``. Their SampleCNN-SE is a different network (the ReSE-2 block with a residual
1x1 conv, SE of full width, eleven layers), so a comparison with it would compare two models. This module writes
*the package's* topology (the model of ``sampleaudio.models.SampleCNN(block="se", multi=True)``) in that code's
style, so that both frameworks train the same model: the same layers, parameter count and FLOPs (checked by the
benchmarks, which fail a PyTorch arm when they differ):

- ``conv0``: Conv1d(1, w, 3, stride 3) -> BN -> ReLU (Keras' ``padding="same"`` pads nothing at stride 3 on a
  length divisible by 3, so the torch conv has ``padding=0``);
- ``num_blocks`` blocks, widths ``sampleaudio.models.block_widths``: Conv1d(k=3, padding=1) -> BN -> ReLU ->
  MaxPool1d(3), and for SE blocks the pooled output scaled by sigmoid(Linear(ReLU(Linear(mean over time))))
  with ``max(1, int(C * 0.125))`` hidden units;
- multi-level: the global max pools of the last three blocks, concatenated; or the last block's;
- head: Linear(D, D) -> BN -> ReLU -> Dropout(0.5) -> Linear(D, classes); the sigmoid (or softmax) and the loss in
  float32, outside autocast, as Keras' mixed precision keeps the output activation in float32.

Batch norm uses Keras' epsilon (1e-3) and momentum (0.99, i.e. torch's 0.01); neither changes the cost.
This file is the benchmarks' own code (no code of the Won 2020 repository is copied) and imports no TensorFlow.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from bench_common import cpu_seconds
from torch import nn

#: Keras' BatchNormalization defaults, in torch's terms
_BN = {"eps": 1e-3, "momentum": 0.01}


def block_widths(num_blocks: int, init_features: int) -> list[int]:
    """The widths of ``sampleaudio.models.block_widths`` (double at block 2 and at the last block)."""
    widths, f = [], init_features
    for i in range(num_blocks):
        f *= 2 if (i == 2 or i == num_blocks - 1) else 1
        widths.append(f)
    return widths


class Block(nn.Module):
    """Conv(3) -> BN -> ReLU -> MaxPool(3), then (``se``) the channel scale of Hu et al.'s squeeze-excitation."""

    def __init__(self, cin: int, cout: int, *, se: bool, amplifying_ratio: float):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm1d(cout, **_BN)
        self.pool = nn.MaxPool1d(3)
        self.se = se
        if se:
            hidden = max(1, int(cout * amplifying_ratio))
            self.ex0 = nn.Linear(cout, hidden)
            self.ex1 = nn.Linear(hidden, cout)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        if not self.se:
            return x
        s = torch.sigmoid(self.ex1(F.relu(self.ex0(x.mean(dim=-1)))))
        return x * s.unsqueeze(-1)


class SampleCNN(nn.Module):
    """SampleCNN on raw waveforms ``(batch, samples)``; returns logits ``(batch, num_classes)``."""

    def __init__(self, *, init_features: int = 128, num_blocks: int = 9, num_classes: int = 50, block: str = "se",
                 multi: bool = True, amplifying_ratio: float = 0.125, dropout: float = 0.5):
        super().__init__()
        if block not in ("se", "basic"):
            raise SystemExit(f"torch_samplecnn: block {block!r} is not written in PyTorch here (se or basic)")
        if multi and num_blocks < 3:
            raise SystemExit("torch_samplecnn: multi-level aggregation needs at least 3 blocks")
        self.conv0 = nn.Conv1d(1, init_features, 3, stride=3)
        self.norm0 = nn.BatchNorm1d(init_features, **_BN)
        widths = block_widths(num_blocks, init_features)
        ins = [init_features, *widths[:-1]]
        self.blocks = nn.ModuleList(Block(i, o, se=block == "se", amplifying_ratio=amplifying_ratio)
                                    for i, o in zip(ins, widths))
        self.multi = multi
        features = sum(widths[-3:]) if multi else widths[-1]
        self.fc = nn.Linear(features, features)
        self.fc_norm = nn.BatchNorm1d(features, **_BN)
        self.dropout = nn.Dropout(dropout)
        self.logit = nn.Linear(features, num_classes)

    def forward(self, x):
        x = F.relu(self.norm0(self.conv0(x.unsqueeze(1))))
        outputs = []
        for block in self.blocks:
            x = block(x)
            outputs.append(x)
        kept = outputs[-3:] if self.multi else outputs[-1:]
        x = torch.cat([o.amax(dim=-1) for o in kept], dim=1)
        x = self.dropout(F.relu(self.fc_norm(self.fc(x))))
        return self.logit(x)


def param_counts(model: nn.Module) -> tuple[int, int]:
    """(trainable parameters, non-trainable state): the second is batch norm's running mean and variance, Keras'
    non-trainable weights (torch's ``num_batches_tracked`` counter has no Keras counterpart and is left out)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stats = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    return trainable, stats


def loss_fn(logits, y, multi_label: bool):
    """Binary cross-entropy over sigmoid outputs (multi-label) or cross-entropy over softmax, in float32."""
    logits = logits.float()
    if multi_label:
        return F.binary_cross_entropy(torch.sigmoid(logits), y)
    return F.cross_entropy(logits, y.argmax(dim=1))


def train_flops(model: nn.Module, segment: int, batch: int, multi_label: bool) -> float:
    """FLOPs of one training step at ``batch``, counted by ``torch.utils.flop_counter`` (every conv and matrix
    product of the forward and backward pass; the first conv's input gradient is not computed, as in the Keras
    hand count) on a batch of 2 and scaled to ``batch``: a count independent of the Keras one it is checked
    against."""
    import copy

    from torch.utils.flop_counter import FlopCounterMode

    m = copy.deepcopy(model).train()
    x = torch.zeros(2, segment)
    y = torch.zeros(2, m.logit.out_features)
    y[:, 0] = 1.0
    with FlopCounterMode(display=False) as counter:
        loss_fn(m(x), y, multi_label).backward()
    return counter.get_total_flops() * batch / 2


def forward_flops(model: nn.Module, segment: int) -> float:
    """FLOPs of the forward pass of one segment (inference), counted as :func:`train_flops` does."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(2, segment))
    return counter.get_total_flops() / 2


def _data(batch: int, segment: int, num_classes: int, count: int):
    """``count`` batches of random waveforms and one-hot labels, as the plain Keras arm feeds (in memory)."""
    rng = np.random.default_rng(0)
    xs = [torch.from_numpy(rng.standard_normal((batch, segment)).astype(np.float32)) for _ in range(count)]
    ys = [torch.from_numpy(np.eye(num_classes, dtype=np.float32)[rng.integers(0, num_classes, batch)])
          for _ in range(count)]
    return xs, ys


def measure_train(*, compiled: bool, bf16: bool, width: int, num_blocks: int, num_classes: int, multi_label: bool,
                  block: str, segment: int, batch: int, steps: int) -> dict:
    """Median wall and CPU seconds of ``steps`` training steps (SGD with Nesterov momentum, lr 0.01, momentum 0.9,
    as the Keras arms), after warm-up steps (one in eager mode, two with ``torch.compile``, whose first call
    compiles); ``compile_s`` is the wall time of the warm-up steps."""
    torch.manual_seed(0)
    model = SampleCNN(init_features=width, num_blocks=num_blocks, num_classes=num_classes, block=block).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)

    def forward_loss(x, y):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        return loss_fn(logits, y, multi_label)

    run = torch.compile(forward_loss) if compiled else forward_loss
    warm = 2 if compiled else 1
    xs, ys = _data(batch, segment, num_classes, warm + steps)
    walls, cpus = [], []
    start = time.perf_counter()
    for k in range(warm + steps):
        t0, c0 = time.perf_counter(), cpu_seconds()
        opt.zero_grad(set_to_none=True)
        loss = run(xs[k], ys[k])
        loss.backward()
        opt.step()
        if k == warm - 1:
            compile_s = time.perf_counter() - start
        if k >= warm:
            walls.append(time.perf_counter() - t0)
            cpus.append(cpu_seconds() - c0)
    if not np.isfinite(float(loss)):
        raise SystemExit(f"torch arm: the loss is {float(loss)}")
    return {"step_s": float(np.median(walls)), "cpu_s": float(np.median(cpus)), "compile_s": compile_s,
            "threads": torch.get_num_threads()}


class Predictor:
    """Inference of the same model: ``eval`` mode, ``torch.inference_mode``, optional bfloat16 autocast and
    ``torch.compile``; ``__call__`` maps segments ``[n, segment]`` (float32 numpy) to sigmoid scores ``[n, C]``."""

    def __init__(self, *, compiled: bool, bf16: bool, width: int, num_blocks: int, num_classes: int, block: str):
        torch.manual_seed(0)
        self.model = SampleCNN(init_features=width, num_blocks=num_blocks, num_classes=num_classes,
                               block=block).eval()
        self.bf16 = bf16
        self.run = torch.compile(self.model) if compiled else self.model

    def __call__(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        out = []
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            for i in range(0, len(x), batch_size):
                out.append(torch.sigmoid(self.run(torch.from_numpy(x[i:i + batch_size])).float()).numpy())
        return np.concatenate(out)
