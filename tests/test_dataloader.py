"""fastreg inside torch DataLoader workers: identical samples for every worker
count, start method and DistributedSampler world size, and one fastreg thread
per worker by default."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import fastreg  # noqa: E402
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
