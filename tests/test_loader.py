"""fastreg.torch.Loader: the in-process loader gives, batch for batch, the
indices of torch's DistributedSampler + BatchSampler and the images
aug(image_i, index=i, epoch=e), for every dataset form, thread count,
prefetch depth and SIMD level; bad input is refused before any work; errors
reach the training loop and the loader's threads stop."""

import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import fastreg  # noqa: E402
from fastreg import transforms as T  # noqa: E402
from fastreg.torch import Loader  # noqa: E402
from torch.utils.data import BatchSampler, DistributedSampler, TensorDataset  # noqa: E402

N = 23
rng = np.random.default_rng(0)
IMAGES = rng.integers(0, 256, (N, 12, 10, 3), dtype=np.uint8)
LABELS = np.arange(100, 100 + N)


def pipeline(**normalize):
    steps = [T.RandomCrop(8, padding=2, padding_mode="reflect"), T.RandomHorizontalFlip(),
             T.ColorJitter(0.4, 0.4, 0.4, 0.1)]
    if normalize:
        steps.append(T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3), **normalize))
    return T.Compose(steps, seed=7)


class Pairs(torch.utils.data.Dataset):
    """A map-style dataset of (image tensor, label) tuples."""

    def __len__(self):
        return N

    def __getitem__(self, i):
        return torch.from_numpy(IMAGES[i]), int(LABELS[i])


def expected_batches(loader_kwargs, epoch):
    """The index batches torch's own samplers give for these arguments."""
    sampler = DistributedSampler(range(N), num_replicas=loader_kwargs.get("num_replicas", 1),
                                 rank=loader_kwargs.get("rank", 0), shuffle=loader_kwargs.get("shuffle", False),
                                 seed=loader_kwargs.get("seed", 0))
    sampler.set_epoch(epoch)
    return list(BatchSampler(sampler, loader_kwargs["batch_size"], loader_kwargs.get("drop_last", False)))


def check_epoch(loader, aug, kwargs, epoch, with_labels):
    loader.set_epoch(epoch)
    batches = list(loader)
    want = expected_batches(kwargs, epoch)
    assert len(batches) == len(want) == len(loader)
    for batch, indices in zip(batches, want):
        images = batch[0] if with_labels else batch
        assert isinstance(images, torch.Tensor) and images.shape[0] == len(indices)
        for img, i in zip(images.numpy(), indices):
            assert np.array_equal(img, aug(IMAGES[i], index=i, epoch=epoch)), (epoch, i)
        if with_labels:
            assert batch[1].tolist() == LABELS[indices].tolist()


DATASETS = {
    "array": lambda: (IMAGES, {}, False),
    "tensor": lambda: (torch.from_numpy(IMAGES), {}, False),
    "TensorDataset": lambda: (TensorDataset(torch.from_numpy(IMAGES), torch.from_numpy(LABELS)), {}, True),
    "map-style": lambda: (Pairs(), {}, True),
    "load": lambda: (list(range(N)), {"load": lambda i: (IMAGES[i], int(LABELS[i]))}, True),
}


@pytest.mark.parametrize("form", list(DATASETS))
@pytest.mark.parametrize("prefetch_factor,num_workers,threads", [(0, 1, 1), (1, 1, 2), (3, 3, 2), (2, 2, 1)])
def test_same_samples_as_single_calls(form, prefetch_factor, num_workers, threads):
    dataset, extra, with_labels = DATASETS[form]()
    aug = pipeline()
    kwargs = dict(batch_size=5, shuffle=True, seed=3)
    loader = Loader(dataset, aug, prefetch_factor=prefetch_factor, num_workers=num_workers, **kwargs, **extra)
    with fastreg.num_threads(threads):
        for epoch in (0, 4):
            check_epoch(loader, aug, kwargs, epoch, with_labels)


def test_same_samples_at_every_simd_level(simd_level):
    aug = pipeline(layout="CHW")
    kwargs = dict(batch_size=4, shuffle=True, drop_last=True)
    check_epoch(Loader(IMAGES, aug, **kwargs), aug, kwargs, 2, False)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("num_replicas", [1, 2, 3])
def test_distributed_split(num_replicas, shuffle, drop_last):
    aug = pipeline(layout="HWC", dtype="float16")
    seen = set()
    for rank in range(num_replicas):
        kwargs = dict(batch_size=3, shuffle=shuffle, drop_last=drop_last, num_replicas=num_replicas,
                      rank=rank, seed=9)
        check_epoch(Loader(IMAGES, aug, **kwargs), aug, kwargs, 1, False)
        seen.update(i for b in expected_batches(kwargs, 1) for i in b)
    if not drop_last:
        assert seen == set(range(N))


def test_epochs_draw_new_order_and_augmentations():
    loader = Loader(IMAGES, pipeline(), batch_size=N, shuffle=True)
    first = next(iter(loader)).numpy()
    loader.set_epoch(1)
    second = next(iter(loader)).numpy()
    assert not np.array_equal(first, second)
    loader.set_epoch(0)
    assert np.array_equal(next(iter(loader)).numpy(), first)
    assert loader.epoch == 1


def test_iterating_again_without_set_epoch_moves_to_the_next_epoch():
    aug, kwargs = pipeline(), dict(batch_size=5, shuffle=True, seed=3)
    loader = Loader(IMAGES, aug, **kwargs)
    passes = [[b.numpy() for b in loader] for _ in range(3)]
    assert loader.epoch == 3
    for epoch, batches in enumerate(passes):
        want = [np.stack([aug(IMAGES[i], index=i, epoch=epoch) for i in indices])
                for indices in expected_batches(kwargs, epoch)]
        assert all(np.array_equal(b, w) for b, w in zip(batches, want, strict=True)), epoch
    assert not np.array_equal(passes[0][0], passes[1][0])


def test_images_of_different_sizes_with_one_output_size():
    photos = [rng.integers(0, 256, (12 + k % 3, 10 + k % 2, 3), dtype=np.uint8) for k in range(N)]
    aug = pipeline()
    batch = next(iter(Loader(photos, aug, batch_size=6)))
    for k in range(6):
        assert np.array_equal(batch[k].numpy(), aug(photos[k], index=k, epoch=0))


def loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("fastreg-loader")]


class LoadFails(Exception):
    pass


def failing_load(i):
    if i == 13:
        raise LoadFails("unreadable file")
    return IMAGES[i]


@pytest.mark.parametrize("prefetch_factor,num_workers", [(0, 1), (2, 1), (2, 3)])
def test_load_error_reaches_the_loop_with_its_index_and_threads_stop(prefetch_factor, num_workers):
    loader = Loader(range(N), pipeline(), batch_size=4, load=failing_load,
                    prefetch_factor=prefetch_factor, num_workers=num_workers)
    got = []
    with pytest.raises(LoadFails, match="unreadable file") as info:
        for batch in loader:
            got.append(batch)
    assert len(got) == 3  # indices 0..11 in the first three batches
    assert any("sample 13" in note for note in info.value.__notes__)
    assert loader_threads() == []


@pytest.mark.parametrize("num_workers", [1, 2])
def test_leaving_the_loop_early_stops_the_threads(num_workers):
    loader = Loader(IMAGES, pipeline(), batch_size=2, prefetch_factor=3, num_workers=num_workers)
    for k, _ in enumerate(loader):
        if k == 1:
            break
    assert loader_threads() == []
    it = iter(loader)
    next(it)
    it.close()
    assert loader_threads() == []


def test_different_output_sizes_in_a_batch_are_refused():
    photos = [IMAGES[0], IMAGES[1][:, :9]]
    aug = T.Compose([T.RandomHorizontalFlip()], seed=0)
    with pytest.raises(ValueError, match=r"dataset: .*sample 0 \(shape \(12, 10, 3\)\) and sample 1 "
                                         r"\(shape \(12, 9, 3\)\)"):
        next(iter(Loader(photos, aug, batch_size=2)))
    assert loader_threads() == []


def test_transform_error_reaches_the_loop():
    small = [IMAGES[0], IMAGES[1][:3, :3]]
    with pytest.raises(ValueError, match=r"images\[1\]"):
        list(Loader(small, pipeline(), batch_size=2, prefetch_factor=1))
    assert loader_threads() == []


def test_pin_memory_without_accelerator_warns_and_is_off():
    if torch.accelerator.is_available():
        pytest.skip("an accelerator is available: pin_memory is honoured")
    with pytest.warns(UserWarning, match="pin_memory"):
        loader = Loader(IMAGES, pipeline(), batch_size=4, pin_memory=True)
    assert loader.pin_memory is False
    assert next(iter(loader)).shape == (4, 8, 8, 3)


def test_torch_training_loop():
    aug = pipeline(layout="CHW")
    loader = Loader(TensorDataset(torch.from_numpy(IMAGES), torch.from_numpy(LABELS % 10)), aug,
                    batch_size=8, shuffle=True, drop_last=True)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 10))
    opt = fastreg.torch.SGD(model.parameters(), lr=0.1)
    for epoch in range(2):
        loader.set_epoch(epoch)
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert torch.isfinite(loss)


class NoLen:
    def __getitem__(self, i):
        return IMAGES[i]


BAD = [
    ({"batch_size": 0}, ValueError, r"batch_size must be in \[1, "),
    ({"batch_size": 2.0}, TypeError, "batch_size"),
    ({"shuffle": 1}, TypeError, "shuffle must be a bool"),
    ({"drop_last": "yes"}, TypeError, "drop_last must be a bool"),
    ({"pin_memory": None}, TypeError, "pin_memory must be a bool"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 1 << 63}, ValueError, r"seed must be in \[0, 2\*\*63\)"),
    ({"num_replicas": 0}, ValueError, "num_replicas"),
    ({"num_replicas": 2, "rank": 2}, ValueError, r"rank must be in \[0, 2\), got 2"),
    ({"rank": -1}, ValueError, "rank"),
    ({"rank": True}, TypeError, "rank"),
    ({"prefetch_factor": -1}, ValueError, "prefetch_factor"),
    ({"num_workers": 0}, ValueError, "num_workers"),
    ({"load": 3}, TypeError, "load must be callable"),
    ({"transform": T.ColorJitter}, TypeError, "transform must be a fastreg transform"),
    ({"transform": lambda img: img}, TypeError, "transform must be a fastreg transform"),
    ({"dataset": IMAGES.astype(np.float32)}, TypeError, "dataset must have dtype uint8"),
    ({"dataset": IMAGES[0, 0]}, ValueError, r"dataset must be an \(N, H, W, C\)"),
    ({"dataset": TensorDataset(torch.zeros(4, 8, 8, 3))}, TypeError, r"dataset.tensors\[0\] must have dtype uint8"),
    ({"dataset": NoLen()}, TypeError, "dataset must be a uint8 image array"),
    ({"dataset": 5}, TypeError, "dataset must be"),
]


@pytest.mark.parametrize("change,error,message", BAD)
def test_bad_arguments(change, error, message):
    args = dict(dataset=IMAGES, transform=pipeline(), batch_size=4)
    args.update(change)
    before = IMAGES.copy()
    with pytest.raises(error, match=message):
        Loader(args.pop("dataset"), args.pop("transform"), **args)
    assert np.array_equal(IMAGES, before)


@pytest.mark.parametrize("epoch,error", [(-1, ValueError), (1.0, TypeError), ("2", TypeError),
                                         (1 << 63, ValueError)])
def test_bad_epoch(epoch, error):
    loader = Loader(IMAGES, pipeline(), batch_size=4)
    loader.set_epoch(3)
    with pytest.raises(error, match="epoch"):
        loader.set_epoch(epoch)
    assert loader.epoch == 3


@pytest.mark.parametrize("dataset", [IMAGES[:0], []], ids=["array", "list"])
def test_empty_dataset_gives_no_batches(dataset):
    loader = Loader(dataset, pipeline(), batch_size=4)
    assert len(loader) == 0 and list(loader) == []
