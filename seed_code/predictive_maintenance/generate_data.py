"""Generate the deterministic sample data set for the welding-gun predictive maintenance seed project.

Each row is one aggregated reading window of a resistance spot-welding gun on a body-shop robot.
A hidden degradation state per reading (electrode tip wear, clogged cooling, ageing transformer)
drives the sensor values and the probability that the gun faults within the next shift
(`fault` = 1). Sensor noise, a few missing readings and label noise keep the task realistic:
a model has to combine several weak signals, and predicting one class scores poorly.

Same seed and row count give a byte-identical CSV (numpy's PCG64 generator, fixed rounding).

    python generate_data.py --output data/welding_sensors.csv
"""

from __future__ import annotations

import argparse
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
DEFAULT_ROWS = 3000
DEFAULT_SEED = 20240607
# Intercept of the fault model, chosen so that about 7 % of the readings are faults.
_FAULT_INTERCEPT = -17.5


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return `rows` synthetic readings with the sensor columns, `robot_id` and the `fault` label."""
    if rows < 100:
        raise ValueError(f"rows must be at least 100, got {rows}")
    rng = np.random.default_rng(seed)

    robot_id = rng.integers(1, 25, size=rows)
    # Welds since the last tip dressing; wear grows with it, dressing resets both.
    cycle_count = rng.integers(50, 12_000, size=rows)
    tip_wear = 0.02 + cycle_count / 12_000 * 1.6 + rng.gamma(2.0, 0.08, size=rows)
    # Latent cooling problem (scale or a kinked hose) and transformer ageing, both hidden.
    cooling_blockage = rng.beta(1.2, 9.0, size=rows)
    transformer_age = rng.uniform(0.0, 1.0, size=rows)
    ambient = rng.normal(24.0, 4.0, size=rows)

    cooling_flow = 8.0 * (1.0 - cooling_blockage) + rng.normal(0.0, 0.45, size=rows)
    cooling_temp = 18.0 + 0.25 * (ambient - 24.0) + 6.0 * cooling_blockage + rng.normal(0, 0.8, size=rows)
    # A worn tip has a larger contact area: the controller raises current to keep current density.
    current = 10.5 + 1.1 * tip_wear + rng.normal(0.0, 0.45, size=rows)
    voltage = 6.8 - 0.35 * tip_wear + 0.6 * transformer_age + rng.normal(0.0, 0.25, size=rows)
    weld_time = rng.normal(240.0, 18.0, size=rows) + 12.0 * tip_wear
    force = rng.normal(3.2, 0.18, size=rows) - 0.08 * tip_wear
    electrode_temp = (
        55.0 + 9.0 * tip_wear + 38.0 * cooling_blockage + 0.4 * (ambient - 24.0) + rng.normal(0, 3.5, size=rows)
    )
    transformer_temp = (
        42.0 + 14.0 * transformer_age + 22.0 * cooling_blockage + 0.5 * (ambient - 24.0) + rng.normal(0, 2.5, size=rows)
    )

    risk = (
        _FAULT_INTERCEPT
        + 5.2 * tip_wear
        + 28.0 * cooling_blockage
        + 8.0 * transformer_age**4
        + rng.normal(0.0, 0.7, size=rows)
    )
    fault = rng.uniform(size=rows) < 1.0 / (1.0 + np.exp(-risk))
    # Label noise: maintenance logs miss some faults and record some false alarms.
    flip = rng.uniform(size=rows) < 0.004
    fault = np.where(flip, ~fault, fault)

    frame = pd.DataFrame(
        {
            "robot_id": [f"R{n:02d}" for n in robot_id],
            "cycle_count": cycle_count,
            "weld_current_ka": np.round(current, 2),
            "weld_voltage_v": np.round(voltage, 2),
            "weld_time_ms": np.round(weld_time, 1),
            "electrode_force_kn": np.round(force, 2),
            "electrode_tip_wear_mm": np.round(tip_wear, 3),
            "electrode_temp_c": np.round(electrode_temp, 1),
            "transformer_temp_c": np.round(transformer_temp, 1),
            "cooling_water_flow_lpm": np.round(cooling_flow, 2),
            "cooling_water_temp_c": np.round(cooling_temp, 1),
            "ambient_temp_c": np.round(ambient, 1),
            LABEL_COLUMN: fault.astype(int),
        }
    )
    # Dropped sensor readings (about 0.5 % per sensor), as a real historian export has.
    for column in ("electrode_temp_c", "cooling_water_flow_lpm", "transformer_temp_c"):
        missing = rng.uniform(size=rows) < 0.005
        frame.loc[missing, column] = np.nan
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write `frame` as CSV with a header, `\\n` line endings and empty fields for missing values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "data" / "welding_sensors.csv")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        frame = generate(args.rows, args.seed)
        write_csv(frame, args.output)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(frame)} rows ({int(frame[LABEL_COLUMN].sum())} faults) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
