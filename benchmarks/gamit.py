"""Speed of the geode gamit pieces that grow with the network: sub-network splitting and SINEX parsing.

    python3 benchmarks/gamit.py [--sizes 50,200,800,2000] [--cluster-size 25] [--ties 4]

For each network size it prints the best of 3 timings of
* ``split_network`` (backbone + clusters + ties): seconds, sub-networks, largest sub-network;
* ``parse_sinex`` on a daily combined SINEX with a full lower-triangular covariance block of that many sites;
and the ratio of each to the smallest size, next to the n and n^2 ratios for reference.
"""

from __future__ import annotations

import argparse
import random
import time


def network(n: int, seed: int = 1) -> dict:
    from geode.geodesy.coordinates import lla2xyz

    rng = random.Random(seed)
    return {f"net.{i:04d}": lla2xyz(rng.uniform(-55, 15), rng.uniform(-80, -35), rng.uniform(0, 4000))
            for i in range(n)}


def sinex_text(xyz: dict) -> str:
    """A SINEX like glbtosnx writes: SITE/ID, statistics, estimates and a lower-triangular COVA matrix."""
    codes = [f"S{i:03d}" if i < 1000 else f"{chr(65 + i // 1000)}{i % 1000:03d}" for i in range(len(xyz))]
    lines = ["%=SNX 2.01 IGN 24:100:00000 IGN 24:100:00000 24:100:86370 P 00006 2 S", "+SITE/ID"]
    lines += [f" {c}  A 00000M000 P bench" for c in codes]
    lines += ["-SITE/ID", "+SOLUTION/STATISTICS", " VARIANCE FACTOR                    0.900000000000000",
              "-SOLUTION/STATISTICS", "+SOLUTION/ESTIMATE"]
    index = 0
    for c, (x, y, z) in zip(codes, xyz.values()):
        for comp, v in zip("XYZ", (x, y, z)):
            index += 1
            lines.append(f" {index:5d} STA{comp}   {c}  A    1 24:100:43200 m    2 {v:.15E} 2.00000E-03")
    lines += ["-SOLUTION/ESTIMATE", "+SOLUTION/MATRIX_ESTIMATE L COVA"]
    n = 3 * len(codes)
    for row in range(1, n + 1):
        for col in range(1, row + 1, 3):
            values = "".join(f"{1e-6 if row != c else 4e-6:21.13E}" for c in range(col, min(col + 3, row + 1)))
            lines.append(f"{row:6d}{col:6d}{values}")
    lines += ["-SOLUTION/MATRIX_ESTIMATE L COVA", "%ENDSNX"]
    return "\n".join(lines) + "\n"


def best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    from geode.gamit.clustering import split_network
    from geode.gamit.parsers import parse_sinex

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,800,2000")
    parser.add_argument("--cluster-size", type=int, default=25)
    parser.add_argument("--ties", type=int, default=4)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = None
    print(f"{'stations':>8} {'split s':>9} {'subnets':>8} {'largest':>8} {'ratio':>7} "
          f"{'sinex s':>9} {'ratio':>7} {'n ratio':>8} {'n^2 ratio':>10}")
    for n in sizes:
        xyz = network(n)
        subnets = split_network(xyz, args.cluster_size, args.ties)
        t_split = best_of(lambda: split_network(xyz, args.cluster_size, args.ties))
        text = sinex_text(xyz)
        t_sinex = best_of(lambda: parse_sinex(text))
        base = base or (n, t_split, t_sinex)
        print(f"{n:8d} {t_split:9.4f} {len(subnets):8d} {max(len(s.stations) for s in subnets):8d} "
              f"{t_split / base[1]:7.1f} {t_sinex:9.4f} {t_sinex / base[2]:7.1f} {n / base[0]:8.1f} "
              f"{(n / base[0]) ** 2:10.1f}")


if __name__ == "__main__":
    main()
