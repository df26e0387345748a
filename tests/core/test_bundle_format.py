"""The audit bundle's line formats and which checkpoints a bundle keeps."""

import itertools

from consent.core import bundle


def test_record_lines_hold_the_position_the_hash_and_the_record_or_why_it_is_gone():
    assert bundle.record_line(7, "ab" * 32, '{"a":1}') == f'7 {"ab" * 32} {{"a":1}}\n'
    assert bundle.record_line(7, "ab" * 32, None, purged=True).endswith(" purged\n")
    assert bundle.record_line(7, "ab" * 32, None).endswith(" missing\n")
    assert bundle.personal_line(7, "11" * 16, '{"ip":null}') == f'7 {"11" * 16} {{"ip":null}}\n'
    assert bundle.personal_line(7, None, None) == "7 erased\n"


def test_a_bundle_keeps_every_checkpoint_inside_its_run_up_to_a_limit_spread_evenly():
    assert bundle.checkpoints_inside([3, 5, 5, 9, 12, 20], start=4, end=12) == [5, 9, 12]
    kept = bundle.checkpoints_inside(range(1, 100_001), start=0, end=100_000, limit=1000)
    assert len(kept) == 1000 and kept[0] == 1 and kept[-1] == 100_000
    gaps = {b - a for a, b in itertools.pairwise(kept[:-1])}
    assert gaps == {100}
