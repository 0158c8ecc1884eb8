"""Served events join a dataset's histories: in time order where the dataset has timestamps, refused when they
name items of another catalogue."""

import pytest

from agenticrec.errors import DataError
from agenticrec.pipeline import load_config
from agenticrec.serve.events import Event, EventStore


def test_events_keep_a_timestamped_history_in_time_order(tmp_path):
    store = EventStore(tmp_path / "events.sqlite")
    store.append(Event("a", "196", "50", "like", "1990-01-01T00:00:00+00:00"))  # older than MovieLens itself
    store.append(Event("b", "196", "51", "purchase", "2030-01-01T00:00:00+00:00"))
    store.append(Event("c", "196", "52", "dislike", "2030-01-02T00:00:00+00:00"))
    store.close()
    plain = load_config(None, [], data="movielens-100k").data.load()
    joined = load_config(None, [f"data.events={tmp_path / 'events.sqlite'}"], data="movielens-100k").data.load()
    u = plain.user_ids.index("196")
    sequence, times = joined.sequences[u], joined.timestamps[u]
    assert len(sequence) == len(plain.sequences[u]) + 2 and list(times) == sorted(times)
    assert [joined.item_ids()[sequence[i] - 1] for i in (0, -1)] == ["50", "51"]
    assert joined.behaviours[u][-1] == "purchase"


def test_events_of_another_catalogue_are_refused(tmp_path):
    store = EventStore(tmp_path / "events.sqlite")
    store.append(Event("a", "196", "no-such-movie", "like", "2030-01-01T00:00:00+00:00"))
    store.close()
    with pytest.raises(DataError, match=r"1 event items are not in movielens-100k, e\.g\. no-such-movie"):
        load_config(None, [f"data.events={tmp_path / 'events.sqlite'}"], data="movielens-100k").data.load()
