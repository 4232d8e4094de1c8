"""Preprocessing step: validate the raw welding-gun readings and split them for training.

Runs as a SageMaker Processing job (scikit-learn image, network-isolated) or locally:

    python preprocess.py --input-dir data --output-dir /tmp/pm

Reads every data file under --input-dir: CSV with a header (the S3 sample data) or JSON lines
(an Athena `DatasetDefinition` with output format JSON), optionally gzip-compressed. Writes a
stratified train / validation / test split (label first, then the features, with a header) and
`baseline/baseline.csv` (training features only) for the data-quality baseline, each under
--output-dir in the directory the pipeline maps to an S3 output.

Only the standard library, numpy and pandas: the job cannot pip install.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

LABEL_COLUMN = "fault"
FEATURE_COLUMNS = (
    "cycle_count",
    "weld_current_ka",
    "weld_voltage_v",
    "weld_time_ms",
    "electrode_force_kn",
    "electrode_tip_wear_mm",
    "electrode_temp_c",
    "transformer_temp_c",
    "cooling_water_flow_lpm",
    "cooling_water_temp_c",
    "ambient_temp_c",
)
# Physically plausible ranges; readings outside are sensor glitches and become missing values.
PLAUSIBLE_RANGES = {
    "weld_current_ka": (0.0, 40.0),
    "weld_voltage_v": (0.0, 30.0),
    "weld_time_ms": (0.0, 2000.0),
    "electrode_force_kn": (0.0, 15.0),
    "electrode_tip_wear_mm": (0.0, 10.0),
    "electrode_temp_c": (-20.0, 400.0),
    "transformer_temp_c": (-20.0, 250.0),
    "cooling_water_flow_lpm": (0.0, 50.0),
    "cooling_water_temp_c": (-5.0, 100.0),
    "ambient_temp_c": (-30.0, 60.0),
}
SPLITS = {"train": 0.70, "validation": 0.15, "test": 0.15}
DEFAULT_SEED = 42


class InputError(Exception):
    """The input data cannot be used; the message names the file or column."""


def read_raw(input_dir: Path) -> pd.DataFrame:
    """Read every CSV or JSON-lines file (gzip or plain) under `input_dir` into one frame."""
    if not input_dir.is_dir():
        raise InputError(f"input directory {input_dir} does not exist")
    files = sorted(path for path in input_dir.rglob("*") if path.is_file() and not path.name.startswith("."))
    frames = [_read_file(path) for path in files]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        raise InputError(f"no data rows in {input_dir}")
    return pd.concat(frames, ignore_index=True)


def _read_file(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8").lstrip()
    if not text:
        return pd.DataFrame()
    try:
        if text.startswith("{"):
            return pd.read_json(io.StringIO(text), lines=True)
        return pd.read_csv(io.StringIO(text))
    except ValueError as error:
        raise InputError(f"{path}: not CSV with a header or JSON lines ({error})") from None


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the label and feature columns, coerce them to numbers and blank implausible readings."""
    frame = frame.rename(columns=str.lower)
    missing = [column for column in (LABEL_COLUMN, *FEATURE_COLUMNS) if column not in frame.columns]
    if missing:
        raise InputError(f"input data lacks column(s): {', '.join(missing)}")
    frame = frame[[LABEL_COLUMN, *FEATURE_COLUMNS]].apply(pd.to_numeric, errors="coerce")
    frame = frame.dropna(subset=[LABEL_COLUMN])
    frame = frame[frame[LABEL_COLUMN].isin([0, 1])].astype({LABEL_COLUMN: int})
    for column, (low, high) in PLAUSIBLE_RANGES.items():
        frame.loc[(frame[column] < low) | (frame[column] > high), column] = np.nan
    frame = frame.drop_duplicates().reset_index(drop=True)
    counts = frame[LABEL_COLUMN].value_counts()
    if len(counts) < 2 or counts.min() < 10:
        raise InputError(f"need at least 10 rows of each class in '{LABEL_COLUMN}', got {counts.to_dict()}")
    return frame


def split(frame: pd.DataFrame, seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Stratified split by `SPLITS`, so every part keeps the fault rate of the whole."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in SPLITS}
    for _, group in frame.groupby(LABEL_COLUMN, sort=True):
        order = rng.permutation(len(group))
        start = 0
        for index, (name, share) in enumerate(SPLITS.items()):
            end = len(group) if index == len(SPLITS) - 1 else start + int(round(share * len(group)))
            parts[name].append(group.iloc[order[start:end]])
            start = end
    return {name: pd.concat(chunks).sort_index().reset_index(drop=True) for name, chunks in parts.items()}


def write_outputs(parts: dict[str, pd.DataFrame], output_dir: Path) -> None:
    for name, part in parts.items():
        target = output_dir / name
        target.mkdir(parents=True, exist_ok=True)
        part.to_csv(target / f"{name}.csv", index=False, lineterminator="\n")
    baseline_dir = output_dir / "baseline"
    baseline_dir.mkdir(parents=True, exist_ok=True)
    parts["train"][list(FEATURE_COLUMNS)].to_csv(baseline_dir / "baseline.csv", index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate and split the welding-gun sensor data.")
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        parts = split(clean(read_raw(args.input_dir)), args.seed)
        write_outputs(parts, args.output_dir)
    except (InputError, OSError, UnicodeDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{name} {len(part)} rows ({int(part[LABEL_COLUMN].sum())} faults)" for name, part in parts.items())
    print(f"preprocess: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
