"""The memory governor: the memory tier gives way to what the process holds besides it, and takes
its room back once that is gone; a real process's resident set is what it measures."""

from __future__ import annotations

from edge.cache.budget import HEADROOM, Governor, resident_bytes
from edge.cache.memory import MemoryTier

MiB = 1024 * 1024


def _filled(slices: int) -> MemoryTier:
    tier = MemoryTier(slices * MiB)
    for index in range(slices):
        tier.put(("k", '"e"', index), bytes(MiB))
    return tier


def test_the_tier_shrinks_while_the_process_holds_more_and_grows_back():
    tier = _filled(8)
    outside = [HEADROOM]  # the process holds exactly its headroom besides the tier: nothing to give

    governor = Governor(tier, resident=lambda: tier.bytes_used + outside[0])
    governor.check()
    assert tier.limit == 8 * MiB and len(tier) == 8

    outside[0] = HEADROOM + 3 * MiB  # connections and responses in flight take 3 MiB more
    governor.check()
    assert tier.limit == 5 * MiB
    assert len(tier) == 5 and tier.bytes_used == 5 * MiB  # the least recently used went
    assert tier.get(("k", '"e"', 0)) is None and tier.get(("k", '"e"', 7)) is not None
    tier.put(("k", '"e"', 0), bytes(MiB))  # a fill still fits only within the lowered limit
    assert tier.bytes_used == 5 * MiB

    outside[0] = 0  # all gone: back to the configured budget, never above it
    governor.check()
    assert tier.limit == 8 * MiB
    for index in range(8):
        tier.put(("k", '"e"', index), bytes(MiB))
    assert tier.bytes_used == 8 * MiB


def test_without_a_measurement_the_tier_keeps_its_budget():
    tier = _filled(2)
    Governor(tier, resident=lambda: None).check()
    assert tier.limit == 2 * MiB and len(tier) == 2


def test_resident_bytes_measures_this_process():
    before = resident_bytes()
    assert before is not None and before > 0
    held = bytearray(64 * MiB)  # touched: resident
    held[::4096] = b"x" * len(held[::4096])
    after = resident_bytes()
    assert after is not None and after - before >= 60 * MiB
    del held
