"""Split a day's active stations into GAMIT sub-networks: a backbone plus balanced clusters with ties.

GeoDE used a modified scikit-learn bisecting k-means (private sklearn APIs, random initialisation). Here the
same shape of result comes from a deterministic construction, so the same stations always give the same
sub-networks:

1. ``k = ceil(n / cluster_size)`` clusters by recursive bisection along the principal axis of the ECEF
   coordinates, each cut placed so the parts are balanced (every cluster has at most ``cluster_size``
   original members, sizes differ by about one station).
2. Ties: each cluster borrows its ``ties`` nearest outside stations (at most 2 from any one neighbouring
   cluster, none farther than 5,000 km), so neighbouring clusters share stations for the GLOBK combination.
3. The backbone (sub-network 0) holds, for every group of clusters linked by ties, the central station of
   its largest cluster, filled up with well-spread stations (farthest-point order) to ``cluster_size``: so
   backbone and clusters always form one connected network for the GLOBK combination.

A network of at most ``cluster_size`` stations is processed whole: one sub-network, no backbone, no ties.
Ties between equal distances are broken by station name, never by input order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MAX_TIE_DISTANCE = 5.0e6  # m: GeoDE's rejection threshold for tie candidates
MAX_TIES_PER_NEIGHBOUR = 2


@dataclass
class Subnet:
    index: int  # 0: backbone or the single network; 1..N: clusters
    stations: list[str]  # every member, original members first, then ties (GeoDE's gamit_subnets order)
    ties: list[str] = field(default_factory=list)
    centroid: list[float] = field(default_factory=list)  # ECEF of the central station; [] for backbone/single
    borrowed: list[str] = field(default_factory=list)  # ties taken from neighbouring clusters


def _principal_order(names: list[str], xyz: dict[str, tuple[float, float, float]]) -> list[str]:
    import numpy as np

    pts = np.array([xyz[n] for n in names], dtype=float)
    centred = pts - pts.mean(axis=0)
    # principal axis = eigenvector of the largest eigenvalue of the scatter matrix; sign fixed for determinism
    _, vectors = np.linalg.eigh(centred.T @ centred)
    axis = vectors[:, -1]
    if axis[np.argmax(np.abs(axis))] < 0:
        axis = -axis
    proj = centred @ axis
    return [n for _, n in sorted(zip((round(float(p), 3) for p in proj), names))]


def _bisect(names: list[str], parts: int, xyz) -> list[list[str]]:
    if parts <= 1 or len(names) <= 1:
        return [sorted(names)]
    ordered = _principal_order(names, xyz)
    left_parts = parts // 2
    cut = round(len(ordered) * left_parts / parts)
    return _bisect(ordered[:cut], left_parts, xyz) + _bisect(ordered[cut:], parts - left_parts, xyz)


def balanced_clusters(names: list[str], xyz, cluster_size: int) -> list[list[str]]:
    names = sorted(names)
    clusters = _bisect(names, math.ceil(len(names) / cluster_size), xyz)
    while any(len(c) > cluster_size for c in clusters):  # rounding guard: never exceed cluster_size
        big = max(range(len(clusters)), key=lambda i: len(clusters[i]))
        clusters[big:big + 1] = _bisect(clusters[big], 2, xyz)
    return [c for c in clusters if c]


def _central(members: list[str], xyz) -> str:
    n = len(members)
    c = [sum(xyz[m][k] for m in members) / n for k in range(3)]
    return min(members, key=lambda m: (math.dist(xyz[m], c), m))


def _add_ties(clusters: list[list[str]], xyz, ties: int) -> list[list[str]]:
    owner = {m: i for i, c in enumerate(clusters) for m in c}
    borrowed: list[list[str]] = [[] for _ in clusters]
    limit = min(ties, len(clusters) - 1) if len(clusters) > 1 else 0
    for i, members in enumerate(clusters):
        candidates = sorted(
            (min(math.dist(xyz[s], xyz[m]) for m in members), s)
            for s in owner if owner[s] != i)
        per_neighbour: dict[int, int] = {}
        for distance, s in candidates:
            if len(borrowed[i]) >= limit or distance > MAX_TIE_DISTANCE:
                break
            if per_neighbour.get(owner[s], 0) >= MAX_TIES_PER_NEIGHBOUR:
                continue
            per_neighbour[owner[s]] = per_neighbour.get(owner[s], 0) + 1
            borrowed[i].append(s)
    return borrowed


def _components(groups: list[list[str]]) -> list[list[int]]:
    """Clusters linked by shared (tie) stations, as lists of cluster indexes."""
    parent = list(range(len(groups)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_seen: dict[str, int] = {}
    for i, members in enumerate(groups):
        for s in members:
            if s in first_seen:
                parent[find(i)] = find(first_seen[s])
            else:
                first_seen[s] = i
    comps: dict[int, list[int]] = {}
    for i in range(len(groups)):
        comps.setdefault(find(i), []).append(i)
    return sorted(comps.values())


def _backbone(clusters: list[list[str]], borrowed: list[list[str]], xyz, size: int) -> list[str]:
    """One central station per group of tie-linked clusters (so the backbone connects them all), then
    well-spread stations (farthest-point order) up to ``size``."""
    groups = [c + b for c, b in zip(clusters, borrowed)]
    chosen = [_central(clusters[max(comp, key=lambda i: (len(clusters[i]), -i))], xyz)
              for comp in _components(groups)]
    rest = sorted({m for c in clusters for m in c} - set(chosen))
    while rest and len(chosen) < size:
        best = max(rest, key=lambda s: (min(math.dist(xyz[s], xyz[c]) for c in chosen), s))
        chosen.append(best)
        rest.remove(best)
    return sorted(chosen)


def split_network(xyz: dict[str, tuple[float, float, float]], cluster_size: int, ties: int) -> list[Subnet]:
    """``xyz``: station key ("net.stn") -> ECEF metres. Returns subnets in index order."""
    names = sorted(xyz)
    if len(names) <= cluster_size:
        return [Subnet(0, names)]
    clusters = balanced_clusters(names, xyz, cluster_size)
    borrowed = _add_ties(clusters, xyz, ties)
    in_clusters: dict[str, int] = {}
    for members, extra in zip(clusters, borrowed):
        for s in members + extra:
            in_clusters[s] = in_clusters.get(s, 0) + 1
    subnets = [Subnet(0, _backbone(clusters, borrowed, xyz, cluster_size))]
    for i, (members, extra) in enumerate(zip(clusters, borrowed), start=1):
        tie_members = [s for s in members if in_clusters[s] > 1] + extra
        own = [s for s in members if in_clusters[s] == 1]
        centre = xyz[_central(members, xyz)]
        subnets.append(Subnet(i, own + tie_members, tie_members, [round(v, 1) for v in centre], list(extra)))
    return subnets
