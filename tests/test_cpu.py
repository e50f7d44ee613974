"""The CPU-settings decision rule (sampleaudio.cpu): which settings a model of a given width gets on a CPU
class, and that the user's word wins. Speed itself is measured in benchmarks/throughput.py, not here."""

import pytest

from sampleaudio import cpu
from sampleaudio.errors import ParameterError

AVX2 = {"fma", "avx", "avx2"}
AVX512_NO_BF16 = AVX2 | {"avx512f", "avx512_vnni"}
AVX512 = AVX512_NO_BF16 | {"avx512_bf16"}
AMX = AVX512 | {"amx_tile", "amx_bf16", "amx_int8"}


def test_isa_class_from_flags():
    assert cpu.isa_class(AVX2) == "avx2"
    assert cpu.isa_class(AVX512) == "avx512_bf16"
    assert cpu.isa_class(AVX512_NO_BF16) == "avx512"
    assert cpu.isa_class(AMX) == "amx"
    assert cpu.isa_class({"sse4_2"}) == "other"
    assert "AVX-512 (F, VNNI, BF16)" in cpu.describe(AVX512) and "no AMX" in cpu.describe(AVX512)
    assert "AMX (BF16, INT8, TILE)" in cpu.describe(AMX)


def test_rule_follows_the_measured_table_per_width():
    for isa, rows in cpu.MEASURED.items():
        low = 1
        for top, settings in rows:  # every row's own width range gets that row, its edges included
            for width in {low, min(top, 4096)}:
                assert cpu.choose(width, isa=isa, env={}) == settings, (isa, width)
            low = top + 1
    assert cpu.choose(10**6, isa="avx2", env={}) == cpu.MEASURED["avx2"][-1][1]


def test_avx2_winner_differs_between_small_and_paper_width():
    assert cpu.choose(16, isa="avx2", env={}).onednn == 1
    assert cpu.choose(128, isa="avx2", env={}).onednn == 0


def test_unmeasured_cpu_gets_tensorflow_defaults():
    settings = cpu.choose(128, isa="other", env={})
    assert settings.onednn is None and not settings.jit_compile and settings.steps_per_execution == 1


def test_user_override_argument_then_environment():
    assert cpu.choose(128, isa="avx2", onednn="on", env={}).onednn == 1
    assert cpu.choose(16, isa="avx2", onednn="off", env={}).onednn == 0
    assert cpu.choose(16, isa="avx2", env={"SAMPLEAUDIO_ONEDNN": "0"}).onednn == 0
    assert cpu.choose(16, isa="avx2", onednn="on", env={"SAMPLEAUDIO_ONEDNN": "0"}).onednn == 1
    assert cpu.choose(128, isa="avx2", onednn="auto", env={}).onednn == 0
    with pytest.raises(ParameterError, match="onednn"):
        cpu.choose(128, onednn="maybe", env={})
    with pytest.raises(ParameterError, match="init_features"):
        cpu.choose(0, env={})


def test_apply_sets_environment_but_leaves_the_users_and_stops_after_tensorflow():
    env: dict = {}
    assert cpu.apply(cpu.CpuSettings(onednn=0, intra_op_threads=2), environ=env, modules={})
    assert {k: v for k, v in env.items() if k.startswith("TF_")} == {"TF_ENABLE_ONEDNN_OPTS": "0",
                                                                     "TF_NUM_INTRAOP_THREADS": "2"}
    assert cpu.apply(cpu.CpuSettings(onednn=1), environ=env, modules={})  # a better-informed second call redoes
    assert {k: v for k, v in env.items() if k.startswith("TF_")} == {"TF_ENABLE_ONEDNN_OPTS": "1"}
    user = {"TF_ENABLE_ONEDNN_OPTS": "0"}
    cpu.apply(cpu.CpuSettings(onednn=1), environ=user, modules={})
    assert user == {"TF_ENABLE_ONEDNN_OPTS": "0"}
    cpu.apply(cpu.CpuSettings(onednn=1), environ=user, modules={}, force_onednn=True)  # `train --onednn on`
    assert user["TF_ENABLE_ONEDNN_OPTS"] == "1"
    late: dict = {}
    assert not cpu.apply(cpu.CpuSettings(onednn=1), environ=late, modules={"tensorflow": object()})
    assert late == {}


def _import_sampleaudio(env_extra: dict) -> str:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", "SAMPLEAUDIO_ONEDNN",
                                                            "_SAMPLEAUDIO_CPU_SET")}
    code = ("import os, sys, sampleaudio; assert 'tensorflow' not in sys.modules; "
            "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'))")
    out = subprocess.run([sys.executable, "-c", code], env={**env, **env_extra}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_import_applies_the_rule_for_the_papers_width_without_importing_tensorflow():
    expected = cpu.choose(128, env={}).onednn
    assert _import_sampleaudio({}) == ("None" if expected is None else str(expected))
    assert _import_sampleaudio({"SAMPLEAUDIO_ONEDNN": "off"}) == "0"
    assert _import_sampleaudio({"TF_ENABLE_ONEDNN_OPTS": "1", "SAMPLEAUDIO_ONEDNN": "off"}) == "1"  # the user's


def test_train_cli_decides_before_tensorflow_is_imported(tmp_path):
    """`sampleaudio train` applies the rule for its --init-features (or --onednn) before importing TensorFlow:
    a stand-in for sampleaudio.train records what the environment held when the trainer was imported."""
    import os
    import subprocess
    import sys

    code = """
import json, os, sys, types
seen = {}
fake = types.ModuleType("sampleaudio.train")
def train(config, run_dir, verbose=1):
    seen.update(onednn=os.environ.get("TF_ENABLE_ONEDNN_OPTS"), tf="tensorflow" in sys.modules)
    return {}
fake.train = train
sys.modules["sampleaudio.train"] = fake
from sampleaudio import cli
cli.main(["train", "--data", sys.argv[1], "--run-dir", sys.argv[2], "--init-features", sys.argv[3], "--quiet",
          *sys.argv[4:]])
print(json.dumps(seen))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", "SAMPLEAUDIO_ONEDNN",
                                                            "_SAMPLEAUDIO_CPU_SET")}

    def run(width, *extra):
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(tmp_path / "run"), str(width), *extra],
                             env=env, capture_output=True, text=True, check=True)
        return out.stdout.strip().splitlines()[-1]

    for width in (16, 128):
        expected = cpu.choose(width, env={}).onednn
        assert run(width) == f'{{"onednn": {"null" if expected is None else chr(34) + str(expected) + chr(34)}, ' \
                             f'"tf": false}}'
    assert run(16, "--onednn", "off") == '{"onednn": "0", "tf": false}'


def test_auto_mixed_precision_per_device_cpu_and_architecture():
    assert cpu.auto_mixed_precision(128, gpu=True) == "float16"
    assert cpu.auto_mixed_precision(128, measured=False, gpu=True) == "float16"
    # bfloat16 only where the CPU has bfloat16 dot products, and only for the waveform SampleCNNs it was measured on
    for width in (16, 128):
        assert cpu.auto_mixed_precision(width, isa="avx512_bf16") == "bfloat16"
        assert cpu.auto_mixed_precision(width, measured=False, isa="avx512_bf16") == "off"
        for isa in ("avx512", "avx2", "amx", "other"):
            assert cpu.auto_mixed_precision(width, isa=isa) == "off", isa


def test_bfloat16_only_with_onednn():
    # without oneDNN TensorFlow emulates bfloat16 convolutions (measured 45.9 vs 6.5 CPU s a step at width 128)
    assert cpu.choose(128, isa="avx512_bf16", onednn="off", env={}).mixed_precision == "off"
    assert cpu.choose(128, isa="avx512_bf16", env={"SAMPLEAUDIO_ONEDNN": "0"}).mixed_precision == "off"
    assert cpu.auto_mixed_precision(128, isa="avx512_bf16", env={"TF_ENABLE_ONEDNN_OPTS": "0"}) == "off"
    assert cpu.auto_mixed_precision(128, isa="avx512_bf16", env={"TF_ENABLE_ONEDNN_OPTS": "1"}) == "bfloat16"
