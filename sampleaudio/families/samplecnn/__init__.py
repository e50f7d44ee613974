"""SampleCNN (Lee et al., SMC 2017) and its basic / SE / Res / ReSE block study with multi-level aggregation (Kim,
Lee, Nam, IEEE JSTSP 2019), with the baselines the study compares it with: SampleCNN + RNN (Table I), a mel
spectrogram or a strided first layer (Fig. 4) and the frame-level CNN (Dieleman and Schrauwen, ICASSP 2014).

Every architecture takes waveform segments; its input length on Kim 2019's datasets is the paper's
(:data:`~sampleaudio.families.samplecnn.params.KIM2019_SIZES`), on any other ``3 ** (num_blocks + 1)``. Clips
are scored on consecutive segments, averaged (Kim 2019 Sec. IV-C).
"""

from __future__ import annotations

from sampleaudio.families import Architecture, AudioInput, Family, Pretrained
from sampleaudio.families.samplecnn.params import (
    KIM2019_SIZES,
    FrameParams,
    FrontEndParams,
    Lee2017Params,
    RNNParams,
    SampleCNNParams,
)

__all__ = ["FAMILY"]

_KIM = "Kim, Lee, Nam, IEEE JSTSP 2019"
_BUILD = "sampleaudio.families.samplecnn.build"


def _from_blocks(params) -> int | None:
    return 3 ** (params.num_blocks + 1) if getattr(params, "num_blocks", None) else None


def _front_end_signature(p) -> str:  # mel, strided
    return f"{p.architecture}_w{p.window}_h{p.hop}_{p.block}"


#: Kim 2019's segments on its datasets; 3 ** (num_blocks + 1) elsewhere
_INPUT = AudioInput(segments={name: size[1] for name, size in KIM2019_SIZES.items()}, segment_rule=_from_blocks)
#: the clip embedding: the head's hidden layer; the multi-level features where the model aggregates them
_EMBEDDINGS = {"penultimate": "final_relu", "multi": "multi"}

FAMILY = Family(
    name="samplecnn",
    paper="Lee et al., SMC 2017; Kim, Lee, Nam, IEEE JSTSP 2019",
    docs="papers/kim2019.md",
    architectures=(
        Architecture("samplecnn", SampleCNNParams, f"{_BUILD}:samplecnn",
                     f"SampleCNN with basic/SE/Res/ReSE blocks ({_KIM}, Sec. III)", _INPUT, _EMBEDDINGS,
                     signature=lambda p: p.block + ("_multi" if p.multi else ""), cpu_bfloat16=True),
        Architecture("lee2017", Lee2017Params, f"{_BUILD}:lee2017",
                     "SampleCNN 3^9 with the SMC 2017 head (Lee et al., SMC 2017)", _INPUT,
                     {"penultimate": "final_relu"}, signature=lambda p: "lee2017", cpu_bfloat16=True),
        Architecture("samplecnn_rnn", RNNParams, f"{_BUILD}:samplecnn_rnn", f"SampleCNN + RNN ({_KIM}, Table I)",
                     _INPUT, {"penultimate": "final_relu"}, signature=lambda p: f"rnn_{p.block}"),
        Architecture("mel", FrontEndParams, f"{_BUILD}:mel", f"mel-spectrogram front end ({_KIM}, Fig. 4)", _INPUT,
                     _EMBEDDINGS, signature=_front_end_signature),
        Architecture("strided", FrontEndParams, f"{_BUILD}:strided", f"strided first layer ({_KIM}, Fig. 4)",
                     _INPUT, _EMBEDDINGS, signature=_front_end_signature),
        Architecture("frame", FrameParams, f"{_BUILD}:frame", "frame-level CNN (Dieleman and Schrauwen, ICASSP 2014)",
                     _INPUT, {"penultimate": "final_relu"}, signature=lambda p: f"frame_w{p.window}"),
    ),
    pretrained=tuple(
        Pretrained(f"samplecnn-mtat-{block}-multi", f"sampleaudio.families.samplecnn.pretrained:load_mtat_{block}_multi",
                   f"Kim, Lee, Nam, ICASSP 2018 ({title}+multi)",
                   f"--weights {block}-multi-auc_{auc}-tfrmodel.hdf5 (the authors' release, tae-jun/resemul README, MIT)",
                   22050, 59049, f"50 MagnaTagATune tags (ROC-AUC {auc} in the paper)")
        for block, title, auc in (("se", "SE", "0.9111"), ("rese", "ReSE", "0.9113"))),
)
