"""What the Kim 2019 figure scripts (Figs. 7 and 8) share: their options and the trained models they analyse.

With ``--runs DIR...`` any finished run folders are analysed. Otherwise each task's SE SampleCNN of the profile is
used: the one ``kim2019_table.py`` trained under the same ``--out`` (its run folders are reused), or trained now
if missing (``smoke``: a minute or two per task, mostly generating the small synthetic sets).
"""

from __future__ import annotations

import os

from sampleaudio.cli_types import positive_int
from sampleaudio.experiments.kim2019 import PROFILES, data_dir_for, figure_configs
from sampleaudio.reporting import profile_arguments, run_experiments

__all__ = ["TASKS", "SETTINGS", "figure_arguments", "analysed_runs"]

TASKS = ["mtat", "speech-commands", "dcase2017"]

#: analysis sizes per profile: gradient-ascent steps, filters per block (None: all), test clips (None: all)
SETTINGS = {"smoke": {"steps": 5, "max_filters": 8, "max_clips": 12},
            "demo": {"steps": 20, "max_filters": None, "max_clips": 200},
            "paper": {"steps": 50, "max_filters": None, "max_clips": None}}


def figure_arguments(parser) -> None:
    profile_arguments(parser)
    parser.add_argument("--runs", nargs="+", default=None, metavar="DIR",
                        help="finished run folders to analyse (default: each task's SE model of the profile, "
                             "reused from kim2019_table's runs under --out or trained)")
    parser.add_argument("--tasks", nargs="+", default=TASKS, choices=TASKS, help="tasks when --runs is not given")
    parser.add_argument("--workers", type=positive_int, default=2, help="processes generating the synthetic proxies")


def analysed_runs(args) -> list[str]:
    """The run folders to analyse: ``--runs``, or the profile's SE model per task (trained if missing)."""
    if args.runs:
        return [os.path.abspath(r) for r in args.runs]
    stores = {task: data_dir_for(task, args.profile, args.data_root, workers=args.workers) for task in args.tasks}
    configs = figure_configs(stores, args.profile, seed=args.seed)
    runs = run_experiments(configs, os.path.join(args.out, "kim2019_table", args.profile, "runs"))
    return list(runs.run_dir)


def synthetic_note(profile: str) -> str:
    return (" (SYNTHETIC proxies: NOT comparable to the paper's figure)" if PROFILES[profile].synthetic else "")
