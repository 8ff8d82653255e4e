"""How long splitting a day's network into GAMIT sub-networks takes, as the network grows.

    python3 benchmarks/gamit_clustering.py [--sizes 50,200,800,2000] [--cluster-size 25] [--ties 4]

Prints, per network size: seconds (best of 3), sub-networks, the largest sub-network, and the time ratio to
the smallest size next to the n^2 ratio (the tie search compares every station with every cluster).
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


def main() -> None:
    from geode.gamit.clustering import split_network

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,800,2000")
    parser.add_argument("--cluster-size", type=int, default=25)
    parser.add_argument("--ties", type=int, default=4)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = None
    print(f"{'stations':>8} {'seconds':>9} {'subnets':>8} {'largest':>8} {'ratio':>8} {'n^2 ratio':>10}")
    for n in sizes:
        xyz = network(n)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            subnets = split_network(xyz, args.cluster_size, args.ties)
            best = min(best, time.perf_counter() - t0)
        base = base or (n, best)
        print(f"{n:8d} {best:9.4f} {len(subnets):8d} {max(len(s.stations) for s in subnets):8d} "
              f"{best / base[1]:8.1f} {(n / base[0]) ** 2:10.1f}")


if __name__ == "__main__":
    main()
