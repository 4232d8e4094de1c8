"""Make the DATA account's raw sample: the seed sensor CSV plus the PII columns of the raw data set.

The seed project's sample (``seed_code/predictive_maintenance/data/welding_sensors.csv``) has no
personal data, but the raw data set in ``organization.yaml`` does: ``plant``, ``worker_id`` (the
shift's operator, pseudonymised by the ETL) and ``operator_name`` (dropped by the ETL). This script
adds those columns deterministically (same input, same output, byte for byte): the plant follows
the robot, the operator follows the robot and the cycle count's shift. Names are invented.

Usage: ``python etl/make_raw_sample.py [SOURCE] [TARGET]`` (defaults below). Exit 2 with one
line on a missing or malformed source.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "seed_code" / "predictive_maintenance" / "data" / "welding_sensors.csv"
TARGET = Path(__file__).resolve().parent / "sample" / "welding_sensors_raw.csv"
PII_COLUMNS = ("plant", "worker_id", "operator_name")
PLANTS = ("wolfsburg", "zwickau", "emden")
#: Fictional operators: worker ID -> name (small set, as real shift rosters are).
OPERATORS = {
    "W1001": "Anna Keller", "W1002": "Jonas Brandt", "W1003": "Lea Vogel", "W1004": "Emil Hartmann",
    "W1005": "Mila Schubert", "W1006": "Paul Lorenz", "W1007": "Nora Engel", "W1008": "Felix Winter",
    "W1009": "Ida Krause", "W1010": "Ben Albrecht", "W1011": "Clara Roth", "W1012": "Theo Franke",
}
CYCLES_PER_SHIFT = 500


def _stable_index(text: str, modulo: int) -> int:
    """A deterministic index from text (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % modulo


def pii_for(robot_id: str, cycle_count: int) -> dict[str, str]:
    """Plant, operator and name for one reading: a robot stays in its plant; operators rotate by shift."""
    plant = PLANTS[_stable_index(f"plant:{robot_id}", len(PLANTS))]
    workers = sorted(OPERATORS)
    shift = cycle_count // CYCLES_PER_SHIFT
    worker = workers[_stable_index(f"worker:{robot_id}:{shift}", len(workers))]
    return {"plant": plant, "worker_id": worker, "operator_name": OPERATORS[worker]}


def make_raw_sample(source_text: str) -> str:
    """The raw CSV text: every source column and row, then the PII columns."""
    reader = csv.DictReader(io.StringIO(source_text))
    if not reader.fieldnames or "robot_id" not in reader.fieldnames or "cycle_count" not in reader.fieldnames:
        raise ValueError("the source CSV needs a header with robot_id and cycle_count")
    clash = sorted(set(PII_COLUMNS) & set(reader.fieldnames))
    if clash:
        raise ValueError(f"the source CSV already has {', '.join(clash)}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*reader.fieldnames, *PII_COLUMNS], lineterminator="\n")
    writer.writeheader()
    for line, row in enumerate(reader, start=2):
        try:
            cycle_count = int(row["cycle_count"])
        except (TypeError, ValueError):
            raise ValueError(f"line {line}: cycle_count {row['cycle_count']!r} is not an integer") from None
        writer.writerow({**row, **pii_for(row["robot_id"], cycle_count)})
    return out.getvalue()


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    target = Path(argv[2]) if len(argv) > 2 else TARGET
    try:
        text = make_raw_sample(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"error: {source}: file not found", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {source}: {error}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
