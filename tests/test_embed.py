"""Sentence embeddings (the packaged MiniLM, offline) and K-medoids distillation."""

import numpy as np

from agenticrec.embed import embed_texts, kmedoids_indices


def test_packaged_minilm_embeds_offline_and_caches(tmp_path):
    texts = ["red nail polish, glossy finish", "crimson nail lacquer", "stainless steel camping stove"]
    first = embed_texts(texts, cache_dir=tmp_path, progress=False)
    assert first.shape == (3, 384) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    similarity = first @ first.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2  # the two nail products are far closer than the stove
    assert len(list(tmp_path.glob("embeddings-*.npy"))) == 1
    assert np.array_equal(embed_texts(texts, cache_dir=tmp_path, progress=False), first)


def test_kmedoids_picks_one_medoid_per_cluster():
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16) * 5
    points = np.concatenate([c + rng.normal(scale=0.3, size=(50, 16)) for c in centres])
    medoids = kmedoids_indices(points, 4, seed=1)
    assert len(set(medoids.tolist())) == 4
    assert sorted(m // 50 for m in medoids) == [0, 1, 2, 3]
    assert np.array_equal(medoids, kmedoids_indices(points, 4, seed=1))


def test_kmedoids_subsamples_large_inputs_and_handles_small_ones():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 8))
    medoids = kmedoids_indices(points, 5, max_points=100)
    assert len(medoids) == 5 and medoids.max() < 300
    assert kmedoids_indices(points[:3], 5).tolist() == [0, 1, 2]
