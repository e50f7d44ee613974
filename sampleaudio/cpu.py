"""CPU execution settings of a training or tagging process: oneDNN, precision, XLA, thread pools,
``steps_per_execution``.

Which TensorFlow CPU path is fastest for SampleCNN depends on the CPU's vector extensions and on the model's
width (``benchmarks/throughput.py`` measures it): on an AVX2-only CPU oneDNN's kernels win at width 16 but lose
at the paper's width 128; on an AVX-512 (VNNI/BF16) CPU they win at every width, and there the ``mixed_bfloat16``
policy (bfloat16 convolutions on the CPU's bfloat16 dot-product instructions, float32 weights, fused batch
norm) needs about half the CPU time of float32 at the paper's width. The winner is chosen here from
:data:`MEASURED`, per instruction-set class and width, never as one global switch; ``mixed_precision="auto"``
(the trainer's default) takes the precision from it (:func:`auto_mixed_precision`).

``TF_ENABLE_ONEDNN_OPTS`` is read once, when TensorFlow is imported, so the choice has to be made before that:
``import sampleaudio`` applies the choice for the paper's model (width 128), and ``sampleaudio train`` (or a
call of :func:`apply` before TensorFlow is imported) re-decides for the model it is asked to train.

The user's word wins: an explicit ``TF_ENABLE_ONEDNN_OPTS``, or ``SAMPLEAUDIO_ONEDNN=0|1``, or the
``--onednn`` option of ``sampleaudio train`` (``auto`` = this rule); ``--mixed-precision off|bfloat16|float16``
(``TrainConfig.mixed_precision``) overrides the precision;
``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` set by the user are left alone.

This module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import dataclasses
import os
import sys

from sampleaudio.errors import ParameterError

__all__ = ["CpuSettings", "MEASURED", "cpu_flags", "isa_class", "describe", "choose",
           "apply", "auto_mixed_precision", "usable_cpus"]


@dataclasses.dataclass(frozen=True)
class CpuSettings:
    """How TensorFlow should run on this CPU.

    Attributes:
        onednn: ``1``: oneDNN kernels, ``0``: TensorFlow's Eigen kernels, ``None``: TensorFlow's own default.
        mixed_precision: ``off`` (float32) or ``bfloat16`` (Keras' ``mixed_bfloat16`` policy), what
            ``TrainConfig.mixed_precision="auto"`` trains a waveform SampleCNN with on this CPU.
        jit_compile: XLA-compile the train step.
        intra_op_threads, inter_op_threads: TensorFlow's thread pools (``0``: TensorFlow's default).
        steps_per_execution: train steps per ``tf.function`` call.
        source: where the choice came from (a row of :data:`MEASURED`, or the user's override).
    """

    onednn: int | None = None
    mixed_precision: str = "off"
    jit_compile: bool = False
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    steps_per_execution: int = 1
    source: str = ""


#: Measured winners, per instruction-set class: ``(largest init_features the row covers, settings)`` in
#: increasing width; a width above the last row takes the last row. SampleCNN SE + multi-level, MTAT preset,
#: batch 23, ``benchmarks/throughput.py``, 2 cores; docs/performance.md has the tables.
#:
#: - ``avx2`` (the earlier 2-core machine, no AVX-512): oneDNN 2.79x plain at width 16 and 2.34x at 32, but 0.72x at
#:   width 128, where the Eigen path (oneDNN off) was 1.14x. Width 64 was not measured there; it takes the
#:   width-128 row. bfloat16 has no hardware support there (no precision change).
#: - ``avx512_bf16`` (AMD EPYC Zen 4, AVX-512 F/VNNI/BF16, no AMX): oneDNN wins at every width measured (16, 32,
#:   64, 128; CPU time per step 1.9-3.3x less than with it off), and ``mixed_bfloat16`` (with the fused batch
#:   norm in bfloat16) beats float32 at every width (CPU time per step at 128: 2.20 s vs 3.46 s; plain Keras
#:   4.49 s). XLA (``jit_compile``) lost at 16 and 128 (1.4-3x the CPU time); intra/inter-op threads 2/1,
#:   oneDNN's caller-thread pool and ``steps_per_execution=4`` were within the noise of the defaults.
#: - ``avx512`` (AVX-512 without BF16): not measured; oneDNN in float32, as on the BF16 machine in float32
#:   (bfloat16 would be emulated there).
#: - ``amx``: not measured; TensorFlow turns oneDNN on there itself; float32 until measured.
MEASURED: dict[str, list[tuple[int, CpuSettings]]] = {
    "avx2": [(32, CpuSettings(onednn=1, source="avx2, width <= 32: oneDNN (measured 2.3-2.8x plain)")),
             (10**9, CpuSettings(onednn=0, source="avx2, width > 32: Eigen, oneDNN off (measured at 128)"))],
    "avx512_bf16": [(10**9, CpuSettings(onednn=1, mixed_precision="bfloat16",
                                        source="avx512_bf16: oneDNN + mixed_bfloat16 (measured at 16, 32, 64, 128)"))],
    "avx512": [(10**9, CpuSettings(onednn=1, source="avx512 without BF16: oneDNN, float32 (not measured; "
                                                    "the BF16 machine's float32 rule)"))],
    "amx": [(10**9, CpuSettings(onednn=1, source="amx: oneDNN (TensorFlow's default there; not measured)"))],
}



def cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    """The CPU's feature flags (empty where ``/proc/cpuinfo`` does not exist, e.g. macOS)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def isa_class(flags: set[str] | None = None) -> str:
    """``amx``, ``avx512_bf16`` (AVX-512F with bfloat16 dot products), ``avx512``, ``avx2`` or ``other``."""
    flags = cpu_flags() if flags is None else flags
    if any(f.startswith("amx") for f in flags):
        return "amx"
    if "avx512f" in flags:
        return "avx512_bf16" if "avx512_bf16" in flags else "avx512"
    return "avx2" if "avx2" in flags else "other"


def describe(flags: set[str] | None = None) -> str:
    """The vector extensions that matter here, e.g. ``AVX2, AVX-512 (F, VNNI, BF16)``."""
    flags = cpu_flags() if flags is None else flags
    parts = [name for flag, name in (("avx2", "AVX2"), ("fma", "FMA")) if flag in flags]
    avx512 = [n for f, n in (("avx512f", "F"), ("avx512_vnni", "VNNI"), ("avx512_bf16", "BF16")) if f in flags]
    if avx512:
        parts.append(f"AVX-512 ({', '.join(avx512)})")
    amx = sorted(f[4:].upper() for f in flags if f.startswith("amx_"))
    parts.append(f"AMX ({', '.join(amx)})" if amx else "no AMX")
    return ", ".join(parts) if flags else "unknown (no /proc/cpuinfo)"


def _onednn_override(onednn: str | int | bool | None) -> int | None:
    """``auto``/None -> None (the rule decides); on/off, 1/0, true/false -> 1/0."""
    if onednn is None or onednn == "auto":
        return None
    text = str(onednn).strip().lower()
    if text in ("1", "on", "true", "yes"):
        return 1
    if text in ("0", "off", "false", "no"):
        return 0
    raise ParameterError(f"onednn must be auto, on or off. Received: {onednn!r}")


def choose(init_features: int = 128, isa: str | None = None, onednn: str | int | None = None,
           env: dict | None = None) -> CpuSettings:
    """The measured winner for a SampleCNN of width ``init_features`` on this CPU (or on ``isa``).

    ``onednn`` (``auto``/``on``/``off``) overrides the table; so does ``SAMPLEAUDIO_ONEDNN`` in ``env``
    (default ``os.environ``), the argument first.
    """
    if init_features < 1:
        raise ParameterError(f"init_features must be >= 1. Received: {init_features}")
    isa = isa_class() if isa is None else isa
    rows = MEASURED.get(isa)
    if rows is None:  # no measurements: TensorFlow's own defaults
        settings = CpuSettings(source=f"{isa}: not measured, TensorFlow's defaults")
    else:
        settings = next((s for top, s in rows if init_features <= top), rows[-1][1])
    env = os.environ if env is None else env
    forced = _onednn_override(onednn)
    if forced is None:
        forced = _onednn_override(env.get("SAMPLEAUDIO_ONEDNN"))
    if forced is not None and forced != settings.onednn:
        settings = dataclasses.replace(settings, onednn=forced, source=f"{settings.source}; oneDNN set by user")
    if settings.onednn == 0 and settings.mixed_precision == "bfloat16":  # Eigen emulates bfloat16: 7x slower
        settings = dataclasses.replace(settings, mixed_precision="off",
                                       source=f"{settings.source}; float32, as oneDNN is off")
    return settings


def auto_mixed_precision(init_features: int, *, measured: bool = True, gpu: bool = False,
                         isa: str | None = None, env: dict | None = None) -> str:
    """What ``mixed_precision="auto"`` means for this model here: ``float16`` on a GPU (with loss scaling; the
    paper profile's choice, and 1.3-1.5x float32 on an H200, docs/performance.md), the measured CPU rule for an
    architecture the rule was measured on (``measured``: the waveform SampleCNNs declare it,
    :attr:`sampleaudio.families.Architecture.cpu_bfloat16`): ``bfloat16`` where the CPU has bfloat16 dot products
    and TensorFlow runs oneDNN, as ``env``'s ``TF_ENABLE_ONEDNN_OPTS`` says; ``off`` otherwise."""
    if gpu:
        return "float16"
    if not measured:
        return "off"
    env = os.environ if env is None else env
    # TensorFlow was imported with oneDNN off (the user's TF_ENABLE_ONEDNN_OPTS=0 or --onednn off): Eigen runs
    # bfloat16 emulated, 7x slower than its float32 at width 128 (docs/performance.md), so float32
    onednn = 0 if env.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false", "off") else None
    return choose(init_features, isa=isa, onednn=onednn, env={}).mixed_precision


_MARK = "_SAMPLEAUDIO_CPU_SET"  # the variables apply() set, kept in the environment it set them in


def apply(settings: CpuSettings, environ: dict | None = None, modules: dict | None = None, *,
          force_onednn: bool = False) -> bool:
    """Put ``settings`` into the environment TensorFlow reads at import; ``False`` if it is too late.

    Variables the user set (not this function) are left alone; the ones it set itself may be set again by a
    later, better-informed call (``sampleaudio train`` knows the width, ``import sampleaudio`` does not).
    ``force_onednn`` (an explicit ``--onednn on|off``) sets ``TF_ENABLE_ONEDNN_OPTS`` even over the user's.
    Once TensorFlow is imported nothing changes (oneDNN cannot be switched then); ``jit_compile`` and
    ``steps_per_execution`` are compile options that the caller passes to ``model.compile``.
    """
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    if "tensorflow" in modules:
        return False
    ours = set(filter(None, environ.get(_MARK, "").split(",")))
    wanted = {"TF_ENABLE_ONEDNN_OPTS": None if settings.onednn is None else str(settings.onednn),
              "TF_NUM_INTRAOP_THREADS": str(settings.intra_op_threads) if settings.intra_op_threads else None,
              "TF_NUM_INTEROP_THREADS": str(settings.inter_op_threads) if settings.inter_op_threads else None}
    for var, value in wanted.items():
        if var in environ and var not in ours and not (force_onednn and var == "TF_ENABLE_ONEDNN_OPTS"):
            continue  # the user's
        if value is None:
            environ.pop(var, None)
            ours.discard(var)
        else:
            environ[var] = value
            ours.add(var)
    if ours:
        environ[_MARK] = ",".join(sorted(ours))
    else:
        environ.pop(_MARK, None)
    return True


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))
