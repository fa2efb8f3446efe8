"""fastreg inside torch DataLoader workers: identical samples for every worker
count, start method and DistributedSampler world size; set_epoch reaching
persistent and prefetching workers; whole batches from one transform call;
and one fastreg thread per worker by default."""

import multiprocessing

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import fastreg  # noqa: E402
from fastreg import _runtime  # noqa: E402
from fastreg import samples, transforms as T  # noqa: E402
from fastreg.torch import AugmentedDataset  # noqa: E402
from torch.utils.data import DataLoader, DistributedSampler  # noqa: E402

N_IMAGES = 24
EPOCH = 3


def raw_dataset():
    """(image, index) pairs: 80x72 windows of the sample photographs."""
    photos = [samples.load(name) for name in samples.NAMES]
    items = []
    for i in range(N_IMAGES):
        photo = photos[i % len(photos)]
        top, left = (i * 37) % 170, (i * 53) % 180
        items.append((np.ascontiguousarray(photo[top:top + 80, left:left + 72]), i))
    return items


def pipeline():
    return T.Compose([T.RandomCrop(64, padding=4, padding_mode="reflect"), T.RandomHorizontalFlip(),
                      T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomGrayscale(0.2)], seed=11)


@pytest.fixture(scope="module")
def expected():
    aug = pipeline()
    return {i: aug(img, index=i, epoch=EPOCH) for img, i in raw_dataset()}


def collect(loader):
    got = {}
    for images, indices in loader:
        for img, i in zip(images, indices.tolist()):
            got[i] = img.numpy()
    return got


@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # 4 workers on 2 cores, on purpose
@pytest.mark.parametrize("context", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])
@pytest.mark.parametrize("workers", [0, 1, 2, 4])
def test_same_samples_for_every_worker_count_and_start_method(expected, workers, context):
    dataset = AugmentedDataset(raw_dataset(), pipeline(), epoch=EPOCH)
    loader = DataLoader(dataset, batch_size=5, shuffle=True, num_workers=workers,
                        generator=torch.Generator().manual_seed(workers),
                        multiprocessing_context=context if workers else None)
    got = collect(loader)
    assert sorted(got) == list(range(N_IMAGES))
    for i in range(N_IMAGES):
        assert np.array_equal(got[i], expected[i]), i


@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
def test_same_samples_for_every_distributed_world_size(expected, world_size):
    seen = {}
    for rank in range(world_size):
        dataset = AugmentedDataset(raw_dataset(), pipeline())
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=5)
        sampler.set_epoch(EPOCH)
        dataset.set_epoch(EPOCH)
        for i, img in collect(DataLoader(dataset, batch_size=4, sampler=sampler)).items():
            assert np.array_equal(img, expected[i]), (rank, i)
            seen[i] = True
    assert sorted(seen) == list(range(N_IMAGES))


def test_epochs_differ():
    dataset = AugmentedDataset(raw_dataset(), pipeline())
    a = dataset[0][0].numpy()
    dataset.set_epoch(1)
    assert not np.array_equal(a, dataset[0][0].numpy())


class ThreadReport(torch.utils.data.Dataset):
    """Reports the fastreg thread count seen after augmenting a sample."""

    def __init__(self):
        self.inner = AugmentedDataset(raw_dataset(), pipeline())

    def __len__(self):
        return 8

    def __getitem__(self, i):
        self.inner[i]
        return fastreg.get_num_threads()


def _worker_init_two_threads(worker_id):
    fastreg.set_num_threads(2)


@pytest.mark.parametrize("context", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])
def test_workers_use_one_thread_unless_told(monkeypatch, context):
    monkeypatch.delenv("FASTREG_NUM_THREADS", raising=False)
    with fastreg.num_threads(2):
        counts = [int(c) for c in DataLoader(ThreadReport(), batch_size=None, num_workers=2,
                                             multiprocessing_context=context)]
        assert counts == [1] * 8
        counts = [int(c) for c in DataLoader(ThreadReport(), batch_size=None, num_workers=2,
                                             multiprocessing_context=context,
                                             worker_init_fn=_worker_init_two_threads)]
        assert counts == [2] * 8
        assert [int(c) for c in DataLoader(ThreadReport(), batch_size=None)] == [2] * 8
    monkeypatch.setenv("FASTREG_NUM_THREADS", "2")
    counts = [int(c) for c in DataLoader(ThreadReport(), batch_size=None, num_workers=2,
                                         multiprocessing_context=context)]
    assert counts == [2] * 8


def _run_entry_point(kind, i):
    """One call of a public entry point, on inputs big enough to split over 2 threads."""
    import fastreg.functional as F
    import fastreg.torch as frt

    big = np.full((1024, 1024, 3), i, np.uint8)
    if kind == "compose_per_image":
        T.Compose([T.Resize(300), T.ColorJitter(0.4, 0.4, 0.4)])(big, index=i)
    elif kind == "functional":
        F.resize(big, 300)
    elif kind == "dropout":
        fastreg.dropout(np.ones(1 << 21, np.float32), 0.5, seed=i)
    elif kind == "optimizer":  # tensors from NumPy: no torch op, which could hang in a forked child
        w = torch.nn.Parameter(torch.from_numpy(np.ones(1 << 21, np.float32)))
        w.grad = torch.from_numpy(np.ones(1 << 21, np.float32))
        frt.SGD([w], lr=0.1, momentum=0.9).step()


class PoolReport(torch.utils.data.Dataset):
    """Runs one entry point per sample and reports the pool threads this
    process has started and its thread count."""

    def __init__(self, kind):
        self.kind = kind

    def __len__(self):
        return 4

    def __getitem__(self, i):
        _run_entry_point(self.kind, i)
        return torch.tensor([_runtime.pool_workers(), fastreg.get_num_threads()])


def _pool_workers_after(kind):
    with fastreg.num_threads(2):
        _run_entry_point(kind, 0)
    return _runtime.pool_workers()


ENTRY_POINTS = ["compose_per_image", "functional", "dropout", "optimizer"]


@pytest.mark.parametrize("kind", ENTRY_POINTS)
def test_every_entry_point_runs_one_thread_in_a_worker(monkeypatch, kind):
    monkeypatch.delenv("FASTREG_NUM_THREADS", raising=False)
    with fastreg.num_threads(2):
        reports = [r.tolist() for r in DataLoader(PoolReport(kind), batch_size=None, num_workers=2,
                                                  multiprocessing_context="fork")]
    assert reports == [[0, 1]] * 4  # no pool thread started in either worker


@pytest.mark.parametrize("kind", ENTRY_POINTS[1:])  # a single image runs on the calling thread alone
def test_the_same_calls_use_the_pool_outside_a_worker(monkeypatch, kind):
    # a forked process that is not a DataLoader worker keeps the thread count
    monkeypatch.delenv("FASTREG_NUM_THREADS", raising=False)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_pool_workers_after, (kind,)).get(timeout=120) >= 1


def collect_batches(loader):
    """{index: image} from whole batches (images, indices)."""
    got = {}
    for images, indices in loader:
        assert isinstance(images, torch.Tensor) and images.shape[0] == len(indices)
        got.update(zip(indices.tolist(), images.numpy()))
    return got


def batch_loader(dataset, batch_size, **kwargs):
    """Whole batches: a BatchSampler as the sampler, no automatic batching."""
    sampler = torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(dataset), batch_size, drop_last=False)
    return DataLoader(dataset, batch_size=None, sampler=sampler, **kwargs)


@pytest.fixture(scope="module")
def expected_epochs():
    aug = pipeline()
    return {e: {i: aug(img, index=i, epoch=e) for img, i in raw_dataset()} for e in (0, 1, 2)}


# Each configuration starts its workers once per DataLoader (persistent) or per epoch; a spawned
# worker costs seconds on 2 cores, so spawn runs the fewest.
@pytest.mark.parametrize("context,persistent,workers,prefetch_factor,batches", [
    ("fork", True, 2, 1, False), ("fork", True, 2, 4, True), ("fork", False, 2, 2, False),
    ("fork", False, 2, 2, True), ("spawn", True, 2, 2, False), ("spawn", True, 2, 1, True),
    ("spawn", False, 1, 2, True)])
def test_set_epoch_reaches_the_workers(expected_epochs, context, persistent, workers, prefetch_factor,
                                       batches):
    dataset = AugmentedDataset(raw_dataset(), pipeline())
    options = dict(num_workers=workers, persistent_workers=persistent, prefetch_factor=prefetch_factor,
                   multiprocessing_context=context)
    loader = batch_loader(dataset, 5, **options) if batches else DataLoader(dataset, batch_size=5, **options)
    for epoch in (0, 2, 1) if persistent else (0, 1):
        dataset.set_epoch(epoch)
        got = collect_batches(loader)
        assert sorted(got) == list(range(N_IMAGES))
        for i in range(N_IMAGES):
            assert np.array_equal(got[i], expected_epochs[epoch][i]), (epoch, i)


def test_whole_batch_is_one_transform_call_with_labels_beside(expected):
    dataset = AugmentedDataset(raw_dataset(), pipeline(), epoch=EPOCH)
    images, labels = dataset[[7, 2, 19]]
    assert images.shape == (3, 64, 64, 3) and images.is_contiguous()
    assert labels.tolist() == [7, 2, 19]
    for img, i in zip(images.numpy(), [7, 2, 19]):
        assert np.array_equal(img, expected[i])
    photos = AugmentedDataset([img for img, _ in raw_dataset()], pipeline(), epoch=EPOCH)
    only = photos[[3, 4]]
    assert isinstance(only, torch.Tensor) and np.array_equal(only[1].numpy(), expected[4])


def test_whole_batches_of_images_of_different_sizes():
    sizes = [(80, 72), (70, 66), (64, 64)]
    items = [(np.ascontiguousarray(img[:sizes[i % 3][0], :sizes[i % 3][1]]), i) for img, i in raw_dataset()]
    aug = pipeline()
    got = collect_batches(batch_loader(AugmentedDataset(items, aug), 4))
    for img, i in items:
        assert np.array_equal(got[i], aug(img, index=i, epoch=0))
    flips = AugmentedDataset(items, T.Compose([T.RandomHorizontalFlip()], seed=0))
    with pytest.raises(ValueError, match=r"dataset: .*sample 0 \(shape \(80, 72, 3\)\) and sample 1 "
                                         r"\(shape \(70, 66, 3\)\)"):
        flips[[0, 1, 2]]
    with pytest.raises(ValueError, match="index must not be an empty list"):
        flips[[]]


@pytest.mark.parametrize("epoch,error", [(-1, ValueError), (1.5, TypeError), ("1", TypeError),
                                         (1 << 63, ValueError)])
def test_bad_epoch(epoch, error):
    dataset = AugmentedDataset(raw_dataset(), pipeline(), epoch=2)
    with pytest.raises(error, match="epoch"):
        dataset.set_epoch(epoch)
    assert dataset.epoch == 2
    with pytest.raises(error, match="epoch"):
        AugmentedDataset(raw_dataset(), pipeline(), epoch=epoch)


def test_bad_transform():
    with pytest.raises(TypeError, match="transform must be a fastreg transform"):
        AugmentedDataset(raw_dataset(), lambda img: img)
