"""``mini-artists-genres``: the genre-labelled target set of the ``mini-artists`` proxy (see
:mod:`sampleaudio.data_prep.synthetic.mini_artists`): other synthetic artists, other pieces, five genres."""

from sampleaudio.data_prep.synthetic.mini_artists import TARGET_INFO as INFO
from sampleaudio.data_prep.synthetic.mini_artists import TARGET_NAME as NAME
from sampleaudio.data_prep.synthetic.mini_artists import VERSION
from sampleaudio.data_prep.synthetic.mini_artists import convert_target as convert

__all__ = ["NAME", "VERSION", "INFO", "convert"]
