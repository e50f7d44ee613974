"""Layers shared by several model families (a family never imports another family: what two of them use lives
here): mel-spectrogram front ends (Slaney and HTK filterbanks, Park 2018's front end that Choi 2019 reuses), the
fused-kernel batch norm, the dropout that draws 16 random bits per element (any family's dropout can use it; the
SampleCNN two-conv blocks do), and the building blocks of ``minzwon/sota-music-tagging-models`` (Won 2020 and HarmonicCNN).
"""
