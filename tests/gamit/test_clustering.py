"""Sub-networks: coverage, size bound, ties between neighbouring clusters, determinism."""

from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from geode.gamit.clustering import split_network
from geode.geodesy.coordinates import lla2xyz


def network(n: int, seed: int, lat=(-55.0, -20.0), lon=(-75.0, -50.0)) -> dict:
    rng = random.Random(seed)
    return {f"arg.s{i:03d}": lla2xyz(rng.uniform(*lat), rng.uniform(*lon), rng.uniform(0, 3000)) for i in range(n)}


def _connected(subnets) -> bool:
    seen, todo = {0}, [0]
    while todo:
        i = todo.pop()
        for j, other in enumerate(subnets):
            if j not in seen and set(subnets[i].stations) & set(other.stations):
                seen.add(j)
                todo.append(j)
    return len(seen) == len(subnets)


def test_small_network_is_one_session():
    xyz = network(10, 1)
    (only,) = split_network(xyz, cluster_size=25, ties=4)
    assert only.index == 0 and only.stations == sorted(xyz) and only.ties == [] and only.centroid == []


@settings(max_examples=40, deadline=None)
@given(n=st.integers(6, 120), size=st.integers(3, 30), ties=st.integers(0, 5), seed=st.integers(0, 10**6))
def test_partition_properties(n, size, ties, seed):
    xyz = network(n, seed)
    subnets = split_network(xyz, size, ties)
    clusters = subnets[1:] if len(subnets) > 1 else subnets
    # every active station is processed
    assert set().union(*(set(s.stations) for s in subnets)) == set(xyz)
    if len(subnets) == 1:
        assert n <= size
        return
    backbone = subnets[0]
    assert len(backbone.stations) <= max(size, len(clusters))
    tie_count = min(ties, len(clusters) - 1)
    home = {s: c.index for c in clusters for s in c.stations if s not in c.borrowed}
    assert len(home) == n  # every station has exactly one home cluster
    for c in clusters:
        assert len(c.stations) == len(set(c.stations))
        # original members respect cluster_size; each cluster borrows at most `ties` stations
        assert len(c.stations) - len(c.borrowed) <= size
        assert len(c.borrowed) <= tie_count
        # at most 2 ties from any one neighbour
        per_home = [home[t] for t in c.borrowed]
        assert all(per_home.count(h) <= 2 for h in per_home)
        # a tie is in more than one cluster, and every station in more than one cluster is a tie
        for s in c.stations:
            assert (s in c.ties) == (sum(s in o.stations for o in clusters) > 1)
        assert len(c.centroid) == 3
        if tie_count:  # ties connect the cluster with a neighbour
            assert any(set(c.stations) & set(o.stations) for o in clusters if o is not c)
    # balanced: original cluster sizes differ by at most a few stations
    sizes = [len(c.stations) - len(c.borrowed) for c in clusters]
    assert max(sizes) - min(sizes) <= max(2, len(clusters))
    # the backbone holds a station of every cluster, so all sub-networks connect
    assert _connected(subnets)


def test_deterministic_whatever_the_input_order():
    xyz = network(80, 7)
    shuffled = dict(sorted(xyz.items(), key=lambda kv: random.Random(3).random()))
    a = split_network(xyz, 20, 3)
    b = split_network(shuffled, 20, 3)
    assert [(s.stations, s.ties, s.centroid) for s in a] == [(s.stations, s.ties, s.centroid) for s in b]
    assert len(a) == 1 + 4


def test_backbone_stays_within_cluster_size_when_ties_link_clusters():
    subnets = split_network(network(600, 4), 25, 4)
    assert len(subnets[0].stations) == 25 and len(subnets) == 1 + 24


def test_clusters_are_balanced():
    subnets = split_network(network(100, 11), 25, 0)
    sizes = sorted(len(s.stations) for s in subnets[1:])
    assert sizes == [25, 25, 25, 25]
    subnets = split_network(network(51, 12), 25, 0)
    assert sorted(len(s.stations) for s in subnets[1:]) == [17, 17, 17]
