"""Unit tests for course_utils.federated: partitions, aggregators, masks, the loop, attacks, DP."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from course_utils import federated as fl


@pytest.fixture(scope="module")
def digits():
    from course_utils.data import digits_split

    return digits_split()


def _covers_once(parts, n):
    allidx = np.concatenate(parts)
    return len(allidx) == n and np.array_equal(np.sort(allidx), np.arange(n))


# ---------------------------------------------------------------- partitions
@pytest.mark.parametrize("n,k", [(10, 3), (100, 10), (7, 7), (1347, 10)])
def test_iid_partition_covers_every_index_once(n, k):
    parts = fl.iid_partition(n, k, rng=np.random.default_rng(0))
    assert len(parts) == k and _covers_once(parts, n)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert all(p.dtype == np.int64 for p in parts)


def test_iid_partition_is_seeded():
    a = fl.iid_partition(50, 5, rng=np.random.default_rng(3))
    b = fl.iid_partition(50, 5, rng=np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("alpha", [0.05, 0.1, 1.0, 100.0])
@pytest.mark.parametrize("min_size", [0, 1, 10])
def test_dirichlet_partition_covers_every_index_once(alpha, min_size):
    labels = np.random.default_rng(1).integers(0, 10, size=600)
    parts = fl.dirichlet_partition(
        labels, 10, alpha=alpha, rng=np.random.default_rng(0), min_size=min_size
    )
    assert len(parts) == 10 and _covers_once(parts, 600)
    assert min(len(p) for p in parts) >= min_size


def test_dirichlet_min_size_repair_path():
    # alpha tiny + min_size large: random draws essentially never satisfy it, the repair must
    labels = np.repeat(np.arange(2), 50)
    parts = fl.dirichlet_partition(
        labels, 10, alpha=0.001, rng=np.random.default_rng(0), min_size=9
    )
    assert _covers_once(parts, 100) and min(len(p) for p in parts) >= 9


def test_dirichlet_alpha_controls_skew():
    labels = np.repeat(np.arange(10), 100)

    def mean_classes(alpha):
        parts = fl.dirichlet_partition(labels, 10, alpha=alpha, rng=np.random.default_rng(0))
        hist = fl.label_histogram(labels, parts, n_classes=10)
        return ((hist / np.maximum(hist.sum(1, keepdims=True), 1)) > 0.05).sum(1).mean()

    assert mean_classes(0.05) < 4 < 9 < mean_classes(100.0)


def test_shard_partition_two_classes_and_cover():
    labels = np.repeat(np.arange(10), 30)
    parts = fl.shard_partition(labels, 10, shards_per_client=2, rng=np.random.default_rng(0))
    assert _covers_once(parts, 300)
    assert all(len(np.unique(labels[p])) <= 2 for p in parts)


def test_shard_partition_straddles_class_boundaries_unless_by_class():
    """Uneven classes: sorted shards straddle boundaries; by_class keeps <= 2 classes per client."""
    labels = np.repeat(np.arange(10), [131, 140, 128, 137, 135, 129, 141, 133, 136, 137])
    sorted_parts = fl.shard_partition(labels, 10, rng=np.random.default_rng(0))
    assert max(len(np.unique(labels[p])) for p in sorted_parts) > 2
    for seed in range(5):
        parts = fl.shard_partition(labels, 10, rng=np.random.default_rng(seed), by_class=True)
        assert _covers_once(parts, labels.size)
        assert all(len(np.unique(labels[p])) <= 2 for p in parts)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 15  # shards are about equal in size


def test_shard_partition_by_class_gives_big_classes_more_shards():
    labels = np.repeat([0, 1, 2], [60, 20, 20])
    parts = fl.shard_partition(labels, 5, rng=np.random.default_rng(0), by_class=True)
    assert _covers_once(parts, 100)
    # 10 shards of 10: six for the class holding 60 % of the data, two for each other class
    assert all(len(p) == 20 for p in parts)
    assert all(len(np.unique(labels[p])) <= 2 for p in parts)


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: fl.shard_partition(
                np.repeat(np.arange(5), 4), 2, rng=np.random.default_rng(0), by_class=True
            ),
            "shard per class",
        ),
        (
            lambda: fl.shard_partition(
                np.zeros(8, int), 2, rng=np.random.default_rng(0), by_class="yes"
            ),
            "by_class",
        ),
        (lambda: fl.iid_partition(5, 6, rng=np.random.default_rng(0)), "n_clients"),
        (lambda: fl.iid_partition(5, 0, rng=np.random.default_rng(0)), "n_clients"),
        (lambda: fl.iid_partition(5, 2, rng=1.5), "rng"),
        (
            lambda: fl.dirichlet_partition(
                np.zeros(10, int), 2, alpha=0.0, rng=np.random.default_rng(0)
            ),
            "alpha",
        ),
        (
            lambda: fl.dirichlet_partition(
                np.zeros(10, int), 2, alpha=-1, rng=np.random.default_rng(0)
            ),
            "alpha",
        ),
        (
            lambda: fl.dirichlet_partition(
                np.zeros(10, int), 4, alpha=1, rng=np.random.default_rng(0), min_size=3
            ),
            "min_size",
        ),
        (
            lambda: fl.dirichlet_partition(
                np.zeros((2, 2), int), 2, alpha=1, rng=np.random.default_rng(0)
            ),
            "labels",
        ),
        (
            lambda: fl.shard_partition(
                np.zeros(5, int), 3, shards_per_client=2, rng=np.random.default_rng(0)
            ),
            "shards_per_client",
        ),
    ],
)
def test_partition_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_client_datasets_slices_each_part(digits):
    X, _, y, _ = digits
    parts = fl.dirichlet_partition(y, 5, alpha=0.5, rng=np.random.default_rng(1))
    clients = fl.client_datasets(X, y, parts)
    assert len(clients) == 5 and sum(len(yc) for _, yc in clients) == len(y)
    for (Xc, yc), p in zip(clients, parts, strict=True):
        assert np.array_equal(Xc, X[p]) and np.array_equal(yc, y[p])


@pytest.mark.parametrize(
    "args,match",
    [
        ((np.zeros(4), np.zeros(4, int), [np.arange(4)]), "X must be 2-d"),
        ((np.zeros((4, 2)), np.zeros(3, int), [np.arange(3)]), "same length"),
        ((np.zeros((4, 2)), np.zeros(4, int), []), "parts"),
        ((np.zeros((4, 2)), np.zeros(4, int), [np.array([0.5])]), r"parts\[0\]"),
        (
            (np.zeros((4, 2)), np.zeros(4, int), [np.arange(2), np.array([4])]),
            r"parts\[1\].*range\(4\)",
        ),
    ],
)
def test_client_datasets_bad_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        fl.client_datasets(*args)


# ---------------------------------------------------------------- aggregators
@pytest.fixture
def U():
    return np.random.default_rng(0).normal(size=(9, 5))


def test_fedavg_is_weighted_mean(U):
    w = np.arange(1, 10, dtype=float)
    assert np.allclose(fl.fedavg(U, w), (w[:, None] * U).sum(0) / w.sum())
    assert np.allclose(fl.fedavg(U, np.ones(9)), U.mean(0))
    assert fl.fedavg(U, w).shape == (5,)
    # weights need not be normalised: scaling them changes nothing
    assert np.allclose(fl.fedavg(U, 7 * w), fl.fedavg(U, w))


def test_median_and_trimmed_mean_match_textbook(U):
    assert np.allclose(fl.coordinate_median(U), np.median(U, axis=0))
    for ratio in (0.0, 0.1, 0.2, 0.3, 0.45):
        assert np.allclose(fl.trimmed_mean(U, trim_ratio=ratio), stats.trim_mean(U, ratio, axis=0))
    assert np.allclose(fl.trimmed_mean(U, trim_ratio=0.0), U.mean(0))


def test_trimmed_mean_breaks_when_attackers_exceed_trim():
    honest = np.zeros((8, 3))
    one = np.vstack([honest, np.full((2, 3), 1e6)])
    assert np.allclose(fl.trimmed_mean(one, trim_ratio=0.2), 0.0)  # trims 2 per side
    assert np.all(fl.trimmed_mean(one, trim_ratio=0.1) > 1e4)  # trims 1 per side


def _krum_reference(U, f, multi=1):
    n = len(U)
    scores = []
    for i in range(n):
        d = sorted(np.sum((U[i] - U[j]) ** 2) for j in range(n) if j != i)
        scores.append(sum(d[: n - f - 2]))
    order = np.argsort(scores, kind="stable")[:multi]
    return U[order].mean(0), np.array(scores)


@pytest.mark.parametrize("f,multi", [(0, 1), (1, 1), (2, 1), (3, 1), (3, 4), (2, 7)])
def test_krum_equals_textbook(f, multi):
    U = np.random.default_rng(f + multi).normal(size=(10, 6))
    want, scores = _krum_reference(U, f, multi)
    assert np.allclose(fl.krum_scores(U, n_byzantine=f), scores)
    assert np.allclose(fl.krum(U, n_byzantine=f, multi=multi), want)
    assert fl.krum(U, n_byzantine=f, multi=multi).shape == (6,)


def test_krum_picks_the_honest_cluster():
    rng = np.random.default_rng(0)
    honest = rng.normal(0.0, 0.1, size=(7, 4))
    attackers = rng.normal(0.0, 0.1, size=(3, 4)) + 50.0
    U = np.vstack([attackers, honest])
    chosen = fl.krum(U, n_byzantine=3)
    assert any(np.allclose(chosen, h) for h in honest)
    assert np.linalg.norm(fl.krum(U, n_byzantine=3, multi=5)) < 1.0


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: fl.krum(np.zeros((8, 2)), n_byzantine=3), r"n_clients > 2 \* n_byzantine \+ 2"),
        (lambda: fl.krum(np.zeros((10, 2)), n_byzantine=-1), "n_byzantine"),
        (lambda: fl.krum(np.zeros((10, 2)), n_byzantine=1, multi=0), "multi"),
        (lambda: fl.krum(np.zeros((10, 2)), n_byzantine=1, multi=11), "multi"),
        (lambda: fl.trimmed_mean(np.zeros((4, 2)), trim_ratio=0.5), "trim_ratio"),
        (lambda: fl.trimmed_mean(np.zeros((4, 2)), trim_ratio=-0.1), "trim_ratio"),
        (lambda: fl.fedavg(np.zeros((3, 2)), [1, 1]), "weights"),
        (lambda: fl.fedavg(np.zeros((3, 2)), [0, 0, 0]), "weights"),
        (lambda: fl.fedavg(np.zeros((3, 2)), [1, -1, 1]), "weights"),
        (lambda: fl.coordinate_median(np.zeros(3)), "updates"),
        (lambda: fl.coordinate_median(np.array([[np.nan, 1.0]])), "NaN"),
        (lambda: fl.clip_update(np.ones(3), max_grad_norm=0), "max_grad_norm"),
        (lambda: fl.clip_update(np.ones((2, 2, 2)), max_grad_norm=1), "update"),
    ],
)
def test_aggregator_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_aggregators_table_returns_dim_vectors(U):
    U = np.random.default_rng(0).normal(size=(10, 5))
    for name, agg in fl.AGGREGATORS.items():
        assert agg(U, np.ones(10)).shape == (5,), name


def test_clip_update():
    u = np.array([3.0, 4.0])
    assert np.isclose(np.linalg.norm(fl.clip_update(u, max_grad_norm=1.0)), 1.0)
    assert np.allclose(fl.clip_update(u, max_grad_norm=10.0), u)
    assert np.allclose(fl.clip_update(np.zeros(3), max_grad_norm=1.0), 0.0)
    rows = fl.clip_update(np.array([[3.0, 4.0], [0.3, 0.4]]), max_grad_norm=1.0)
    assert np.allclose(np.linalg.norm(rows, axis=1), [1.0, 0.5])
    assert np.allclose(rows[0] / np.linalg.norm(rows[0]), [0.6, 0.8])  # direction kept


# ---------------------------------------------------------------- secure aggregation
@pytest.mark.parametrize("n,dim", [(2, 1), (5, 7), (20, 3)])
def test_masks_sum_to_zero(n, dim):
    M = fl.secure_aggregation_masks(n, dim, rng=np.random.default_rng(0))
    assert M.shape == (n, dim) and M.dtype == float
    assert np.allclose(M.sum(0), 0.0, atol=1e-9)
    assert np.all(np.abs(M).mean(axis=1) > 1.0)  # every mask actually hides something
    P = fl.pairwise_masks(n, dim, rng=np.random.default_rng(0))
    assert np.allclose(P, -P.transpose(1, 0, 2)) and np.allclose(P.sum(1), M)


def test_masks_mod_sum_to_zero_mod_m():
    M = fl.secure_aggregation_masks_mod(6, 5, rng=np.random.default_rng(0), modulus=2**32)
    assert M.dtype == np.int64 and M.min() >= 0 and M.max() < 2**32
    assert np.all(M.sum(0) % 2**32 == 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: fl.secure_aggregation_masks(1, 3, rng=np.random.default_rng(0)),
        lambda: fl.secure_aggregation_masks(3, 0, rng=np.random.default_rng(0)),
        lambda: fl.pairwise_masks(3, 2, rng=np.random.default_rng(0), scale=0),
        lambda: fl.secure_aggregation_masks_mod(3, 2, rng=np.random.default_rng(0), modulus=1),
    ],
)
def test_mask_bad_inputs(call):
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------- model and loop
@pytest.mark.parametrize("n_hidden", [0, 4])
def test_numpy_net_gradient_matches_finite_differences(n_hidden):
    net = fl.NumpyNet(n_in=5, n_hidden=n_hidden, n_out=3)
    rng = np.random.default_rng(1)
    p = net.init(rng=rng)
    X, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    _, g = net.loss_grad(p, X, y)
    eps = 1e-6
    num = np.array(
        [
            (net.loss_grad(p + eps * e, X, y)[0] - net.loss_grad(p - eps * e, X, y)[0]) / (2 * eps)
            for e in np.eye(net.dim)
        ]
    )
    assert np.allclose(num, g, atol=1e-7)


def test_numpy_net_bad_inputs():
    with pytest.raises(ValueError, match="n_in"):
        fl.NumpyNet(n_in=0)
    with pytest.raises(ValueError, match="params"):
        fl.NumpyNet(n_hidden=0).unpack(np.zeros(3))


def test_local_sgd_fedsgd_update_is_minus_lr_gradient(digits):
    X, _, y, _ = digits
    net = fl.NumpyNet(n_hidden=8)
    p = net.init(rng=np.random.default_rng(0))
    new = fl.local_sgd(
        net, p, X[:50], y[:50], epochs=1, batch_size=None, lr=0.3, rng=np.random.default_rng(0)
    )
    assert np.allclose(new - p, -0.3 * net.loss_grad(p, X[:50], y[:50])[1])


def test_fedsgd_is_invariant_to_the_split(digits):
    X, Xt, y, yt = digits
    net = fl.NumpyNet(n_hidden=8)
    iid = fl.iid_partition(len(y), 5, rng=np.random.default_rng(0))
    skew = fl.shard_partition(y, 5, rng=np.random.default_rng(0))
    kw = dict(rounds=3, X_test=Xt, y_test=yt, batch_size=None, lr=0.5)
    a = fl.run_federated(net, [(X[p], y[p]) for p in iid], **kw)
    b = fl.run_federated(net, [(X[p], y[p]) for p in skew], **kw)
    assert np.allclose(a.params, b.params)


def test_run_federated_learns_and_counts_bytes(digits):
    X, Xt, y, yt = digits
    net = fl.NumpyNet(n_hidden=16)
    parts = fl.iid_partition(len(y), 10, rng=np.random.default_rng(0))
    clients = [(X[p], y[p]) for p in parts]
    res = fl.run_federated(net, clients, rounds=5, X_test=Xt, y_test=yt)
    assert len(res.accuracy) == 6 and res.accuracy[-1] > 0.6 > 0.2 > res.accuracy[0]
    assert res.upload_bytes == 5 * 10 * net.dim * 4
    sampled = fl.run_federated(net, clients, rounds=4, X_test=Xt, y_test=yt, clients_per_round=3)
    assert [len(p) for p in sampled.participants] == [3, 3, 3, 3]
    assert sampled.upload_bytes == 4 * 3 * net.dim * 4


def test_sign_flip_breaks_mean_but_not_median(digits):
    X, Xt, y, yt = digits
    net = fl.NumpyNet(n_hidden=16)
    parts = fl.iid_partition(len(y), 10, rng=np.random.default_rng(0))
    clients = [(X[p], y[p]) for p in parts]
    kw = dict(rounds=6, X_test=Xt, y_test=yt, malicious={0, 1}, update_attack=fl.sign_flip)
    assert fl.run_federated(net, clients, aggregator="mean", **kw).accuracy[-1] < 0.2
    assert fl.run_federated(net, clients, aggregator="median", **kw).accuracy[-1] > 0.6


def test_dp_fedavg_noise_and_clipping(digits):
    X, Xt, y, yt = digits
    net = fl.NumpyNet(n_hidden=0)
    parts = fl.iid_partition(len(y), 20, rng=np.random.default_rng(0))
    clients = [(X[p], y[p]) for p in parts]
    base = dict(
        rounds=1, X_test=Xt, y_test=yt, sample_rate=0.5, max_grad_norm=0.1, params=np.zeros(net.dim)
    )
    quiet = fl.run_federated(net, clients, noise_multiplier=1e-12, **base)
    # clipped sum over <= 20 clients, divided by 0.5 * 20 = 10: the step is at most 0.2 long
    assert np.linalg.norm(quiet.params) <= 0.1 * len(quiet.participants[0]) / 10 + 1e-9
    noisy = fl.run_federated(net, clients, noise_multiplier=5.0, **base)
    spread = np.std(noisy.params - quiet.params)
    assert 0.5 * 5 * 0.1 / 10 < spread < 2 * 5 * 0.1 / 10  # std = z * max_grad_norm / (q n)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(rounds=0), "rounds"),
        (dict(rounds=1, clients_per_round=3, sample_rate=0.5), "not both"),
        (dict(rounds=1, clients_per_round=0), "clients_per_round"),
        (dict(rounds=1, sample_rate=1.5), "sample_rate"),
        (dict(rounds=1, noise_multiplier=1.0), "max_grad_norm and sample_rate"),
        (dict(rounds=1, noise_multiplier=-1.0), "noise_multiplier"),
        (dict(rounds=1, aggregator="average"), "aggregator"),
        (dict(rounds=1, malicious={5}), "malicious"),
    ],
)
def test_run_federated_bad_inputs(kw, match):
    net = fl.NumpyNet(n_in=2, n_hidden=0, n_out=2)
    clients = [(np.zeros((2, 2)), np.array([0, 1]))] * 2
    with pytest.raises(ValueError, match=match):
        fl.run_federated(net, clients, X_test=np.zeros((1, 2)), y_test=np.array([0]), **kw)


def test_rounds_to_target_and_bytes():
    assert fl.rounds_to_target([0.1, 0.95], 0.9) == 1
    assert fl.rounds_to_target([0.1, 0.2], 0.9) is None
    assert fl.bytes_per_round(2410, 10) == 96400
    with pytest.raises(ValueError, match="dim"):
        fl.bytes_per_round(-1, 2)


# ---------------------------------------------------------------- attacks and helpers
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_deprecated_client_attacks_keep_their_old_behaviour():
    assert fl.flip_labels(np.arange(10)).tolist() == list(range(9, -1, -1))
    with pytest.raises(ValueError, match="labels"):
        fl.flip_labels(np.array([10]))
    X = np.zeros((2, 64))
    T = fl.add_trigger(X)
    assert np.all(X == 0) and T[:, list(fl.TRIGGER_PIXELS)].min() == 1.0 and T.sum() == 8
    with pytest.raises(ValueError, match="pixels"):
        fl.add_trigger(np.zeros((2, 10)))
    Xb, yb = fl.backdoor_data(
        np.ones((10, 64)), np.arange(10), target=3, fraction=0.3, rng=np.random.default_rng(0)
    )
    assert Xb.shape == (13, 64) and np.all(yb[10:] == 3)
    with pytest.raises(ValueError, match="fraction"):
        fl.backdoor_data(
            np.ones((10, 64)), np.arange(10), target=3, fraction=0, rng=np.random.default_rng(0)
        )
    with pytest.raises(ValueError, match="class 1"):
        fl.backdoor_success(
            fl.NumpyNet(n_hidden=0), np.zeros(650), np.zeros((2, 64)), np.array([1, 1]), target=1
        )
    net = fl.NumpyNet(n_hidden=0)
    assert (
        fl.backdoor_success(
            net, np.zeros(net.dim), np.zeros((4, 64)), np.array([1, 2, 3, 0]), target=0
        )
        == 1.0
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: fl.flip_labels(np.arange(3)),
        lambda: fl.add_trigger(np.zeros((1, 64))),
        lambda: fl.backdoor_data(np.zeros((4, 64)), np.arange(4), target=0, rng=0),
        lambda: fl.backdoor_success(
            fl.NumpyNet(n_hidden=0), np.zeros(650), np.zeros((1, 64)), [1], target=0
        ),
    ],
)
def test_the_old_client_attack_names_warn(call):
    with pytest.warns(DeprecationWarning, match="course_utils.attacks.poisoning"):
        call()


def test_quadratic_drift():
    C = np.array([[0.0, 0.0], [4.0, 3.0]])
    A = np.stack([np.diag([1.0, 5.0]), np.diag([5.0, 1.0])])
    p1, opt = fl.quadratic_fedavg_path(C, A, local_steps=1, lr=0.1, rounds=300)
    p50, _ = fl.quadratic_fedavg_path(C, A, local_steps=50, lr=0.1, rounds=300)
    assert np.allclose(p1[-1], opt) and np.linalg.norm(p50[-1] - opt) > 1.0
    assert p1.shape == (301, 2)
    with pytest.raises(ValueError, match="curvatures"):
        fl.quadratic_fedavg_path(C, A[:1], local_steps=1, lr=0.1, rounds=1)


def test_quadratic_server_lr_does_not_move_the_fixed_point():
    C = np.array([[0.0, 0.0], [4.0, 3.0]])
    A = np.stack([np.diag([1.0, 5.0]), np.diag([5.0, 1.0])])
    p50, opt = fl.quadratic_fedavg_path(C, A, local_steps=50, lr=0.1, rounds=400)
    for server_lr in (0.3, 0.5, 1.5):
        p, _ = fl.quadratic_fedavg_path(
            C, A, local_steps=50, lr=0.1, rounds=400, server_lr=server_lr
        )
        assert np.allclose(p[-1], p50[-1], atol=1e-8)  # the same biased point
    slow, _ = fl.quadratic_fedavg_path(C, A, local_steps=50, lr=0.1, rounds=3, server_lr=0.5)
    assert not np.allclose(slow[1], p50[1])  # ... reached along a different path
    p5, _ = fl.quadratic_fedavg_path(C, A, local_steps=5, lr=0.1, rounds=400)
    assert np.linalg.norm(p5[-1] - opt) < np.linalg.norm(p50[-1] - opt)  # fewer local steps help
    for bad in (0.0, -1.0, 2.5):
        with pytest.raises(ValueError, match="server_lr"):
            fl.quadratic_fedavg_path(C, A, local_steps=1, lr=0.1, rounds=1, server_lr=bad)


def test_plot_label_mix():
    import matplotlib.pyplot as plt

    ax = fl.plot_label_mix(np.ones((3, 10)), title="t")
    assert ax.get_title() == "t"
    plt.close("all")
    with pytest.raises(ValueError, match="hist"):
        fl.plot_label_mix(np.ones(3))


def test_dp_epsilon_accounting():
    e1 = fl.dp_fedavg_epsilon(noise_multiplier=1.0, sample_rate=0.2, rounds=50, delta=1e-3)
    e2 = fl.dp_fedavg_epsilon(noise_multiplier=2.0, sample_rate=0.2, rounds=50, delta=1e-3)
    e3 = fl.dp_fedavg_epsilon(noise_multiplier=1.0, sample_rate=0.2, rounds=100, delta=1e-3)
    assert e2 < e1 < e3
    # agrees with Opacus's RDPAccountant used the usual way
    from opacus.accountants import RDPAccountant

    acc = RDPAccountant()
    acc.history = [(1.0, 0.2, 50)]
    assert abs(acc.get_epsilon(delta=1e-3) - e1) < 0.05 * e1
    with pytest.raises(ValueError, match="noise_multiplier"):
        fl.dp_fedavg_epsilon(noise_multiplier=0, sample_rate=0.2, rounds=1, delta=1e-3)
