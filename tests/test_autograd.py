"""Tensors that require grad: out-of-place dropout keeps the graph, every
other op that accepts tensors refuses them rather than return a result cut
from the graph."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import fastreg  # noqa: E402
import fastreg.torch  # noqa: E402
from fastreg import functional as F, text, transforms as T  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_out_of_place_dropout_keeps_the_graph(dtype):
    x = torch.randn(6, 7, dtype=dtype, requires_grad=True)
    y = fastreg.dropout(x, 0.3, seed=4, step=9)
    assert y.requires_grad and y.grad_fn is not None
    keep = fastreg.dropout_mask((6, 7), 0.3, seed=4, step=9)
    want = fastreg.dropout(x.detach().numpy(), 0.3, seed=4, step=9)
    assert np.array_equal(y.detach().numpy(), want)
    (y * 3).sum().backward()
    scale = fastreg.dropout(np.ones((6, 7), x.detach().numpy().dtype), 0.3, seed=4, step=9)
    assert np.array_equal(x.grad.numpy(), 3 * scale) and np.array_equal(x.grad.numpy() != 0, keep)


def test_dropout_matches_the_module():
    x = torch.randn(5, 5, requires_grad=True)
    layer = fastreg.torch.Dropout(0.5, seed=2)
    step = int(layer.step)
    assert torch.equal(fastreg.dropout(x, 0.5, seed=2, step=step), layer(x))


def test_dropout_under_no_grad_gives_a_plain_tensor():
    x = torch.randn(4, requires_grad=True)
    with torch.no_grad():
        y = fastreg.dropout(x, 0.5, seed=1)
    assert not y.requires_grad


def refused(fn, *args, **kwargs):
    with pytest.raises(ValueError, match="requires grad"):
        fn(*args, **kwargs)


def test_dropout_into_out_and_the_in_place_ops_refuse():
    x = torch.randn(4, 4, requires_grad=True)
    out = torch.zeros(4, 4)
    refused(fastreg.dropout, x, 0.5, seed=1, out=out)
    assert torch.count_nonzero(out) == 0
    refused(fastreg.dropout_, x, 0.5, seed=1)
    refused(fastreg.drop_path_, x, 0.5, seed=1)
    refused(fastreg.channel_dropout_, torch.randn(2, 3, 4, requires_grad=True), 0.5, seed=1)


def test_other_ops_refuse_tensors_that_require_grad():
    x = torch.randn(4, 4, requires_grad=True)
    before = x.detach().clone()
    refused(fastreg.dropout_backward, x, 0.5, seed=1)
    refused(fastreg.l2_penalty, [x], 1e-4)
    images = torch.rand(4, 8, 8, 3, requires_grad=True)
    refused(F.mixup, images, 0.3, None)
    refused(F.cutmix, images, (1, 1, 3, 3), None)
    refused(T.MixUp(alpha=1.0, num_classes=3), images, torch.tensor([0, 1, 2, 0]), index=0)
    assert torch.equal(x.detach(), before)


def test_detached_or_no_grad_inputs_still_run():
    x = torch.randn(4, 4, requires_grad=True)
    assert isinstance(fastreg.dropout_backward(x.detach(), 0.5, seed=1), torch.Tensor)
    with torch.no_grad():
        assert fastreg.l2_penalty([x], 1e-4) > 0
    ids = torch.arange(6, dtype=torch.int64)
    assert isinstance(text.random_swap([ids], 1, seed=0)[0], torch.Tensor)
