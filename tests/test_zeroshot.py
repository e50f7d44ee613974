"""Choi et al. (ISMIR 2019) zero-shot pieces: the tag / track split, the eval.py metrics on hand-computed cases and
the co-embedding model on tiny shapes."""

import numpy as np
import pytest

from sampleaudio.errors import ParameterError
from sampleaudio.families.zeroshot.metrics import apk, zero_shot_metrics
from sampleaudio.families.zeroshot.split import split_tags, split_tracks

# --- splits ---------------------------------------------------------------------------------------------------


def test_tag_split_is_seeded_80_20():
    tags = [f"t{i}" for i in range(10)]
    a, b = split_tags(tags, seed=3), split_tags(tags, seed=3)
    assert a == b and len(a.seen) == 8 and len(a.unseen) == 2
    assert sorted(a.seen + a.unseen) == list(range(10))
    assert split_tags(tags, seed=4) != a
    assert a.unseen_tags == [tags[i] for i in a.unseen]
    with pytest.raises(ParameterError):
        split_tags(tags, unseen_fraction=1.0)


def test_seen_tags_are_the_authors_floor_of_80_percent():
    """``data_split_tag.py``: ``num_train = int(num_whole_set * 0.8)``: the paper's 1,126 tags give 900 seen and
    226 unseen (rounding would give 901 / 225); mini-mtat's 37 give 29 / 8."""
    for count, seen in ((1126, 900), (37, 29), (10, 8), (6, 4)):
        split = split_tags([f"t{i}" for i in range(count)], seed=0)
        assert (len(split.seen), len(split.unseen)) == (seen, count - seen) == (int(count * 0.8), count - seen)


def test_track_sets_follow_the_definition():
    # tags 0, 1 seen; 2 unseen (a hand-made split)
    from sampleaudio.families.zeroshot.split import TagSplit

    split = TagSplit((0, 1), (2,), ("a", "b", "c"))
    y = np.array([[1, 0, 0],   # A
                  [0, 1, 1],   # B
                  [1, 1, 0],   # positive on every seen tag: dropped
                  [0, 0, 1],   # C (no seen tag)
                  [0, 0, 0],   # C (no tag at all)
                  ] + [[1, 0, 1]] * 10 + [[0, 1, 0]] * 10)  # 10 more B, 10 more A
    sets = split_tracks(y, split, seed=0)
    assert sets.dropped == (2,)
    assert sets.C == (3, 4)
    assert sets.B == [1] + list(range(5, 15))
    assert sets.A == [0] + list(range(15, 25))
    assert sets.AB == sorted(sets.A + sets.B)
    assert len(sets.AB_train) == int(0.9 * 22) and len(sets.B_train) == int(0.9 * 11)
    assert not set(sets.AB_train) & set(sets.AB_valid)
    assert sets.tracks("BC") == sorted(sets.B + [3, 4])
    assert split_tracks(y, split, seed=0) == sets and split_tracks(y, split, seed=1) != sets
    with pytest.raises(ParameterError):
        sets.tracks("BD")


# --- metrics (eval.py definitions) ----------------------------------------------------------------------------


def test_apk_by_hand():
    assert apk([0, 2], [0, 1, 2], k=3) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert apk([2], [0, 1, 2], k=2) == 0.0
    assert apk([5, 6, 7], [5, 0, 6], k=1) == 1.0  # divided by min(3, 1)
    assert apk([], [0, 1], k=2) == 0.0


def test_zero_shot_metrics_by_hand():
    # 2 tags x 4 tracks
    truth = np.array([[1, 0, 1, 0],
                      [0, 0, 0, 1]])
    scores = np.array([[0.9, 0.8, 0.1, 0.2],   # tag 0 ranks tracks 0, 1, 3, 2
                       [0.1, 0.2, 0.3, 0.4]])  # tag 1 ranks tracks 3, 2, 1, 0
    m = zero_shot_metrics(truth, scores, ks=(1, 2))
    # retrieval AUC: tag 0 pairs (pos 0.9, 0.1 vs neg 0.8, 0.2): 2 of 4 ordered -> 0.5; tag 1: 1.0
    assert m["retrieval_roc_auc"] == pytest.approx(0.75)
    # retrieval AP: tag 0 relevant at ranks 1 and 4 -> (1 + 2/4) / 2 = 0.75; tag 1: 1.0
    assert m["retrieval_map"] == pytest.approx(0.875)
    assert m["retrieval_hit@1"] == 1.0 and m["retrieval_ap@2"] == pytest.approx((0.5 + 1.0) / 2)
    # annotation: tracks 0 (tag 0 first: right), 2 (tag 1 first: wrong), 3 (tag 1 first: right); track 1 has no
    # tag: no AUC, no AP, but hit/AP@k count it as 0
    assert m["annotation_roc_auc"] == pytest.approx((1 + 0 + 1) / 3)
    assert m["annotation_scored"] == 3
    assert m["annotation_map"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert m["annotation_hit@1"] == pytest.approx(2 / 4)
    assert m["annotation_hit@2"] == pytest.approx(3 / 4)
    assert m["tags"] == 2 and m["tracks"] == 4


def test_metrics_refuse_mismatched_tables():
    with pytest.raises(ParameterError):
        zero_shot_metrics(np.zeros((2, 3)), np.zeros((3, 2)))


# --- model -----------------------------------------------------------------------------------------------------


def test_audio_branch_matches_the_original_layout():
    from sampleaudio.families.zeroshot.model import ZeroShotAudioBranch

    branch = ZeroShotAudioBranch(130, waveform_input=False)
    convs = [la for la in branch.layers if la.name.startswith("am_conv_")]
    assert [c.filters for c in convs] == [128, 128, 128, 128, 100]
    assert [c.kernel_size[0] for c in convs] == [4, 4, 4, 2, 1]
    assert [c.activation.__name__ for c in convs] == ["relu"] * 4 + ["linear"]
    assert not any("batch_norm" in la.name for la in branch.layers)
    assert branch.output.shape[-1] == 100
    # 130 frames -> 32 -> 8 -> 2 -> 1
    assert branch.get_layer("am_pool_4").output.shape[1] == 1


def test_coembedding_scores_train_and_round_trip(tmp_path):
    from model_checks import run_model_checks

    from sampleaudio.families.zeroshot.model import CoEmbeddingModel, ZeroShotAudioBranch, word_branch_of
    from sampleaudio.losses import SiameseLoss

    rng = np.random.default_rng(0)
    x = [rng.normal(size=(4, 130, 8)).astype("float32"), rng.normal(size=(4, 5)).astype("float32"),
         rng.normal(size=(4, 2, 5)).astype("float32")]
    # the standard checks (tests/model_checks.py), the max-margin hinge of Choi 2019 as the loss
    model = run_model_checks(
        lambda: CoEmbeddingModel(ZeroShotAudioBranch(None, n_mels=8, waveform_input=False), word_dim=5, num_negatives=2),
        x, np.zeros((4, 3), np.float32), tmp_path, loss=SiameseLoss("max_margin", 0.4), atol=1e-6)
    scores = np.asarray(model(x))
    assert scores.shape == (4, 3) and np.all(np.abs(scores) <= 1 + 1e-5)
    # column 0 is the positive's cosine, computed by hand
    audio = np.asarray(model.get_layer("audio_branch")(x[0]))
    word = np.asarray(word_branch_of(model)(x[1]))
    cos = np.sum(audio * word, 1) / np.linalg.norm(audio, axis=1) / np.linalg.norm(word, axis=1)
    np.testing.assert_allclose(scores[:, 0], cos, atol=1e-5)


def test_coembedding_refuses_bad_arguments():
    from sampleaudio.families.zeroshot.model import CoEmbeddingModel, WordBranch, ZeroShotAudioBranch

    with pytest.raises(ValueError, match="num_negatives"):
        CoEmbeddingModel(ZeroShotAudioBranch(130, n_mels=8, waveform_input=False), word_dim=5, num_negatives=0)
    with pytest.raises(ValueError, match="word_dim"):
        WordBranch(0)
