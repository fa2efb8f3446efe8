"""Batch-mixing regularizers: MixUp and CutMix.

Semantics.  As torchvision.transforms.v2.MixUp / CutMix by default: one
lambda ~ Beta(alpha, alpha) per batch, and image i is mixed with image i - 1
(the batch rolled by one, ``np.roll(images, 1, axis=0)``).  MixUp gives
``lam * x[i] + (1 - lam) * x[i - 1]``; CutMix pastes a box of x[i - 1] into
x[i], the box centred on a uniform pixel with half-sides
``int(0.5 * sqrt(1 - lam) * W)`` and ``int(0.5 * sqrt(1 - lam) * H)``,
clipped to the image, and weights the labels by
``1 - box_area / (H * W)``.  With ``per_sample=True`` every image draws its
own lambda, partner (uniform among the other images) and box.

Layouts.  uint8 batches are NHWC (N, H, W, C).  float32 batches are NHWC
too, or NCHW (N, C, H, W) -- torchvision's layout for MixUp and CutMix and
the output of fastreg's Normalize -- when axis 1 has 1 to 4 entries and
axis 3 does not.  H and W are the image's height and width in either
layout, and CutMix pastes the box in every channel.

Arithmetic.  ``lam`` is a float64; the pixels are mixed with the float32
values ``l = float32(lam)`` and ``m = float32(1 - lam)`` as ``l * a + m * b``
in float32 (two products, then one sum; never fused).  float32 batches keep
that result; uint8 batches round it to the nearest integer, ties to even
(like ``np.rint``; the result always lies in [0, 255]).  Labels are mixed
the same way in float32.  An image whose partner is itself is copied
unchanged, and so is its label row.

Randomness.  Every draw is a pure function of (seed, epoch, index,
position): the words of stream ``derive_stream(DOMAINS["mix"], op, epoch,
index, position)`` of seed `seed`, where op is 1 for MixUp and 2 for
CutMix, `index` is the batch's index and position is 0 for a per-batch draw
or the image's place i in the batch for a per-sample draw.  Word 0 picks
the partner (per sample), words 1 and 2 the box centre x and y (CutMix):
an integer in [0, n) is ``(low 32 bits of the word * n) >> 32``.  Words
4, 5, ... give uniforms ``u = ((word >> 12) + 0.5) * 2**-52`` in (0, 1),
consumed in order by two Gamma(alpha) draws, X then Y, and
``lam = X / (X + Y)`` (computed as ``1 / (1 + exp(log Y - log X))``).
Gamma(a) uses Marsaglia and Tsang's method: with a' = a (a >= 1) or a + 1
(a < 1), d = a' - 1/3 and c = 1 / sqrt(9 d), each attempt takes u1, u2, u3,
z = sqrt(-2 log u1) cos(2 pi u2), v = (1 + c z)**3, and accepts
``d v`` when v > 0 and ``log u3 < z**2 / 2 + d - d v + d log v``; for
a < 1 the next uniform u gives ``log X = log(d v) + log(u) / a``.
fastreg.reference.mixing computes the same numbers with NumPy.
"""

import math
import numbers

import numpy as np

from fastreg import _mix, _random
from fastreg._calls import CallCounter
from fastreg._interop import accepts_tensors
from fastreg._validate import (
    channels_first_hint,
    check_count,
    check_out,
    check_real,
    check_uint64,
    not_an_array,
)
from fastreg.random import DOMAINS, default_seed

_OPS = {"mixup": 1, "cutmix": 2}


def _mixed_out(out, images):
    """A new array for the mixed batch, or the validated `out`: every image is
    read after others are written, so `out` may share no memory with them."""
    if out is None:
        return np.empty(images.shape, images.dtype)
    check_out(out, images.shape, images.dtype, [images], in_place=False, contiguous=True,
              source="images")
    return out
_GAMMA_WORD0 = 4
_MAX_ATTEMPTS = 1 << 16


# ---- random draws ------------------------------------------------------------------------


class _Words:
    """The words of one stream, fetched in blocks."""

    def __init__(self, seed, stream):
        self._key, self._gamma = _random.stream_key(seed, stream)
        self._block = [int(w) for w in _random.words(self._key, self._gamma, 0, 16)]

    def __getitem__(self, j):
        while j >= len(self._block):
            more = _random.words(self._key, self._gamma, len(self._block), len(self._block))
            self._block.extend(int(w) for w in more)
        return self._block[j]


def _below(word, n):
    """An integer in [0, n) from the low 32 bits of a word."""
    return ((word & 0xFFFFFFFF) * n) >> 32


def _log_gamma_draw(alpha, words, pos):
    """log of a Gamma(alpha) draw from uniforms at word positions pos, pos + 1, ...;
    returns (log value, next position, log of the uniform that shrinks a draw
    for alpha < 1, else 0)."""
    a = alpha if alpha >= 1.0 else alpha + 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)

    def uniform():
        nonlocal pos
        u = ((words[pos] >> 12) + 0.5) * 2.0**-52
        pos += 1
        return u

    for _ in range(_MAX_ATTEMPTS):
        u1, u2, u3 = uniform(), uniform(), uniform()
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(u3) < 0.5 * z * z + d - d * v + d * math.log(v):
            break
    log_x = math.log(d * v)
    log_u = 0.0
    if alpha < 1.0:
        log_u = math.log(uniform())
        log_x += log_u / alpha
    return log_x, pos, log_u


def _beta_draw(alpha, words):
    log_x, pos, log_ux = _log_gamma_draw(alpha, words, _GAMMA_WORD0)
    log_y, _, log_uy = _log_gamma_draw(alpha, words, pos)
    t = log_y - log_x
    if math.isnan(t):  # alpha below ~2e-307: both logs overflowed to -inf; the shrink decides
        t = (log_uy - log_ux) / alpha
    return 0.0 if t > 700.0 else 1.0 / (1.0 + math.exp(t))


def _box(lam, rx, ry, H, W):
    """torchvision v2 CutMix's box (x1, y1, x2, y2) and its label weight."""
    r = 0.5 * math.sqrt(1.0 - lam)
    rw, rh = int(r * W), int(r * H)
    x1, y1 = max(rx - rw, 0), max(ry - rh, 0)
    x2, y2 = min(rx + rw, W), min(ry + rh, H)
    weight = 1.0 - (x2 - x1) * (y2 - y1) / (W * H) if W * H else 1.0
    return (x1, y1, x2, y2), weight


def draw_params(op, alpha, n, height, width, *, per_sample=False, seed=0, epoch=0, index=0):
    """The random parameters of one MixUp or CutMix call.

    Parameters
    ----------
    op : {"mixup", "cutmix"}
    alpha : float
        Beta(alpha, alpha) parameter, > 0.
    n, height, width : int
        Batch size and image size.
    per_sample : bool
        One draw per image instead of one per batch.
    seed, epoch, index : int
        In [0, 2**64); `index` is the batch's index.

    Returns
    -------
    dict
        ``lam`` (float64 array (n,)), ``partner`` (int64 array (n,)) and, for
        CutMix, ``box`` (int64 array (n, 4) of x1, y1, x2, y2) and ``weight``
        (float64 array (n,), the label weight of image i itself).
    """
    if op not in _OPS:
        raise ValueError(f"op must be 'mixup' or 'cutmix', got {op!r}")
    alpha = _check_alpha(alpha)
    n, height, width = (check_count(k, v) for k, v in (("n", n), ("height", height), ("width", width)))
    seed, epoch, index = (check_uint64(k, v) for k, v in (("seed", seed), ("epoch", epoch), ("index", index)))
    return _draw(_OPS[op], alpha, n, height, width, bool(per_sample), seed, epoch, index)


def _draw(op, alpha, n, H, W, per_sample, seed, epoch, index):
    base = _random.derive_stream(DOMAINS["mix"], op, epoch, index)
    cut = op == _OPS["cutmix"]
    lam, partner, box, weight = [], [], [], []
    for i in range(n if per_sample else min(n, 1)):
        words = _Words(seed, _random.derive_stream(base, i))
        value = _beta_draw(alpha, words)
        lam.append(value)
        partner.append((i + 1 + _below(words[0], n - 1)) % n if n > 1 else i)
        if cut:
            b, w = _box(value, _below(words[1], W), _below(words[2], H), H, W)
            box.append(b)
            weight.append(w)
    if not per_sample:  # one draw for the whole batch, partner i - 1
        lam, box, weight = lam * n, box * n, weight * n
        partner = ((np.arange(n, dtype=np.int64) - 1) % max(n, 1)).tolist()
    params = {"lam": np.array(lam, np.float64), "partner": np.array(partner, np.int64)}
    if cut:
        params["box"] = np.array(box, np.int64).reshape(n, 4)
        params["weight"] = np.array(weight, np.float64)
    return params


# ---- validation ---------------------------------------------------------------------------


def _check_alpha(alpha):
    alpha = check_real("alpha", alpha)
    if not alpha > 0.0 or math.isinf(alpha):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha}")
    return alpha


_CHANNELS = (1, 2, 3, 4)


def _check_images(images):
    """(images, channels_first, height, width) of a batch MixUp and CutMix take."""
    if not isinstance(images, np.ndarray):
        raise not_an_array("images", images)
    if images.dtype not in (np.uint8, np.float32):
        raise TypeError(f"images must have dtype uint8 or float32, got {images.dtype}")
    if images.ndim != 4:
        raise ValueError(f"images must be an NHWC or NCHW batch (4 dimensions), got shape {images.shape}")
    channels_first = _is_channels_first(images)
    if images.dtype == np.uint8 and images.shape[1] in (1, 3) and images.shape[3] not in _CHANNELS:
        raise ValueError(f"uint8 images must be an NHWC batch, got shape {images.shape}"
                         + channels_first_hint("images", images.shape[1:], (1, 3), batch=True))
    height, width = images.shape[2:] if channels_first else images.shape[1:3]
    return images, channels_first, height, width


def _is_channels_first(images):
    """The layout rule: a float32 batch with 1..4 entries on axis 1 and not
    on axis 3 is NCHW (fastreg's Normalize output, torch's layout); any other
    batch is NHWC."""
    return images.dtype == np.float32 and images.shape[1] in _CHANNELS and images.shape[3] not in _CHANNELS


def _check_partner(partner, n):
    if partner is None:
        return (np.arange(n, dtype=np.int64) - 1) % max(n, 1)
    p = np.asarray(partner)
    if (p.dtype.kind not in "iu" or p.dtype == np.bool_) and p.size:  # [] is float64
        raise TypeError(f"partner must hold integers, got dtype {p.dtype}")
    if p.shape != (n,):
        raise ValueError(f"partner must have shape ({n},), got {p.shape}")
    if n and (p.min() < 0 or p.max() >= n):
        raise ValueError(f"partner must hold indices in [0, {n}), got {p.min()} .. {p.max()}")
    return np.ascontiguousarray(p, dtype=np.int64)


def _check_lam(lam, n):
    if isinstance(lam, numbers.Real) and not isinstance(lam, (bool, np.bool_)):
        lam = np.full(n, check_real("lam", lam, 0.0, 1.0))
        return lam
    a = np.asarray(lam)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"lam must be a real number or an array of them, got dtype {a.dtype}")
    if a.shape != (n,):
        raise ValueError(f"lam must be a number or have shape ({n},), got {a.shape}")
    a = a.astype(np.float64)
    if np.isnan(a).any() or (a < 0).any() or (a > 1).any():
        raise ValueError("lam must lie in [0, 1] (NaN refused)")
    return a


def _check_box(box, n, H, W):
    b = np.asarray(box)
    if b.dtype.kind not in "iu" or b.dtype == np.bool_:
        raise TypeError(f"box must hold integers (x1, y1, x2, y2), got dtype {b.dtype}")
    if b.shape == (4,):
        b = np.broadcast_to(b, (n, 4))
    if b.shape != (n, 4):
        raise ValueError(f"box must have shape (4,) or ({n}, 4), got {b.shape}")
    b = np.ascontiguousarray(b, dtype=np.int64)
    x1, y1, x2, y2 = b.T
    if ((x1 < 0) | (x1 > x2) | (x2 > W) | (y1 < 0) | (y1 > y2) | (y2 > H)).any():
        raise ValueError(f"box must satisfy 0 <= x1 <= x2 <= {W} and 0 <= y1 <= y2 <= {H}")
    return b


def _check_labels(labels, n, num_classes):
    """Labels as float32 (n, classes) rows (a new array): integer labels
    (n,) become one-hot rows (num_classes needed), float soft labels
    (n, classes) are taken as they are (with num_classes columns if given)."""
    if not isinstance(labels, np.ndarray):
        labels = np.asarray(labels)
    if labels.dtype.kind == "f":
        if labels.ndim == 1:
            raise TypeError(f"labels must be integer class ids (N,) or float soft labels "
                            f"(N, num_classes), got a 1-D array of dtype {labels.dtype}")
        if labels.ndim != 2 or labels.shape[0] != n:
            raise ValueError(f"soft labels must have shape ({n}, num_classes), got {labels.shape}")
        if num_classes is not None and labels.shape[1] != num_classes:
            raise ValueError(f"soft labels must have num_classes={num_classes} columns, got {labels.shape[1]}")
        return labels.astype(np.float32)
    if labels.dtype.kind not in "iu" or labels.dtype == np.bool_:
        raise TypeError(f"labels must be integers or float soft labels, got dtype {labels.dtype}")
    if num_classes is None:
        raise ValueError("num_classes is required for integer labels (they are turned into one-hot rows)")
    num_classes = check_count("num_classes", num_classes)
    if num_classes == 0:
        raise ValueError("num_classes must be > 0")
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) (one per image), got {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {labels.min()} .. {labels.max()}")
    rows = np.zeros((n, num_classes), np.float32)
    rows[np.arange(n), labels] = 1.0
    return rows


def _float32_pair(lam):
    return lam.astype(np.float32), (1.0 - lam).astype(np.float32)


# ---- functional forms ---------------------------------------------------------------------


@accepts_tensors
def mixup(images, lam, partner, out=None):
    """MixUp with explicit parameters: ``out[i] = lam[i] * images[i] + (1 - lam[i]) * images[partner[i]]``.

    Parameters
    ----------
    images : numpy.ndarray
        Batch, uint8 NHWC (N, H, W, C), or float32 NHWC or NCHW (N, C, H, W)
        (see :class:`fastreg.transforms.MixUp` for the layout rule); not
        modified.
    lam : float or array_like
        Weight of image i itself, in [0, 1]: one number or one per image.
    partner : array_like of int or None
        Index of the image each image is mixed with, shape (N,); None is the
        batch rolled by one (image i with image i - 1), as torchvision.
    out : numpy.ndarray, optional
        C-contiguous array of the same shape and dtype, not overlapping `images`.

    Returns
    -------
    numpy.ndarray
        The mixed batch (`out` if given).  Arithmetic and rounding as in the
        module docstring; an image whose partner is itself is copied.
    """
    images = _check_images(images)[0]
    n = images.shape[0]
    lam = _check_lam(lam, n)
    partner = _check_partner(partner, n)
    out = _mixed_out(out, images)
    l, m = _float32_pair(lam)
    _mix.mixup_into(np.ascontiguousarray(images), out, l, m, partner)
    return out


@accepts_tensors
def cutmix(images, box, partner, out=None):
    """CutMix with explicit parameters: image i with the box of image partner[i] pasted in.

    Parameters
    ----------
    images : numpy.ndarray
        Batch, uint8 NHWC (N, H, W, C), or float32 NHWC or NCHW (N, C, H, W)
        (see :class:`fastreg.transforms.MixUp` for the layout rule); not
        modified.
    box : array_like of int
        (x1, y1, x2, y2) pixels, x in [x1, x2) and y in [y1, y2): one box or one per image.
    partner : array_like of int or None
        As in `mixup`.
    out : numpy.ndarray, optional
        As in `mixup`.

    Returns
    -------
    numpy.ndarray
        The mixed batch (`out` if given); every channel of the box is pasted.
    """
    images, channels_first, H, W = _check_images(images)
    n = images.shape[0]
    box = _check_box(box, n, H, W)
    partner = _check_partner(partner, n)
    out = _mixed_out(out, images)
    _mix.cutmix_into(np.ascontiguousarray(images), out, box, partner, channels_first)
    return out


@accepts_tensors
def mix_labels(labels, lam, partner, num_classes=None):
    """Mixed label rows: ``lam[i] * y[i] + (1 - lam[i]) * y[partner[i]]`` in float32.

    Parameters
    ----------
    labels : array_like
        Integer class ids (N,) with `num_classes`, or float soft labels (N, K).
    lam : float or array_like
        Weight of row i itself, in [0, 1] (for CutMix: its label weight).
    partner : array_like of int or None
        As in `mixup`.
    num_classes : int, optional
        Needed for integer labels, refused with float ones.

    Returns
    -------
    numpy.ndarray
        float32 (N, K); row i is unchanged (one-hot) when partner[i] == i.
    """
    n = len(labels) if hasattr(labels, "__len__") else -1
    rows = _check_labels(labels, n, num_classes)
    lam = _check_lam(lam, n)
    partner = _check_partner(partner, n)
    return _mix_rows(rows, lam, partner)


def _mix_rows(rows, lam, partner):
    l, m = _float32_pair(lam)
    mixed = l[:, None] * rows + m[:, None] * rows[partner]
    same = partner == np.arange(len(partner))
    mixed[same] = rows[same]
    return mixed


# ---- transforms ---------------------------------------------------------------------------


class _Mixer:
    _op = ""

    def __init__(self, alpha=1.0, num_classes=None, per_sample=False, seed=None):
        self.alpha = _check_alpha(alpha)
        if num_classes is not None:
            num_classes = check_count("num_classes", num_classes)
            if num_classes == 0:
                raise ValueError("num_classes must be > 0")
        self.num_classes = num_classes
        if not isinstance(per_sample, (bool, np.bool_)):
            raise TypeError(f"per_sample must be a bool, got {type(per_sample).__name__}")
        self.per_sample = bool(per_sample)
        self.seed = default_seed(seed)
        self._calls = CallCounter()

    def __repr__(self):
        return (f"{type(self).__name__}(alpha={self.alpha}, num_classes={self.num_classes}, "
                f"per_sample={self.per_sample}, seed={self.seed})")

    def params(self, images, *, index=0, epoch=0):
        """The random parameters this transform uses for a batch.

        Parameters
        ----------
        images : numpy.ndarray
            The batch, NHWC or NCHW as in :meth:`__call__` (only its shape is
            used).
        index, epoch : int
            The batch's index and the epoch, in [0, 2**64).

        Returns
        -------
        dict
            As `draw_params`.
        """
        _, _, H, W = _check_images(images)
        n = images.shape[0]
        index = check_uint64("index", index)
        epoch = check_uint64("epoch", epoch)
        return _draw(_OPS[self._op], self.alpha, n, H, W, self.per_sample, self.seed, epoch, index)

    @accepts_tensors
    def __call__(self, images, labels, *, index=None, epoch=0):
        """Mix a batch and its labels.

        Parameters
        ----------
        images : numpy.ndarray or torch.Tensor
            uint8 NHWC batch (N, H, W, C), or float32 NHWC or NCHW batch
            (N, C, H, W), such as :class:`fastreg.transforms.Normalize`
            gives, with the layout rule of the class; not modified.
        labels : numpy.ndarray or torch.Tensor
            Integer class ids (N,), with `num_classes` set, or float soft
            labels (N, num_classes) such as a previous MixUp, CutMix or
            label smoothing gives; not modified.
        index : int, optional
            The batch's index (e.g. its place in the epoch), in [0, 2**64):
            the draws are a pure function of (seed, epoch, index).  Without
            it every call draws anew (call n of this object in this process
            and DataLoader worker; see :mod:`fastreg.transforms`).
        epoch : int, default 0
            In [0, 2**64).

        Returns
        -------
        images : numpy.ndarray or torch.Tensor
            The mixed batch, a new array of the dtype and shape of `images`.
        labels : numpy.ndarray or torch.Tensor
            float32 (N, num_classes) label rows mixed in the same proportions.
            Tensors when the inputs were tensors.

        Raises
        ------
        TypeError
            If `images` is not uint8 or float32, or `labels` neither integer
            nor float.
        ValueError
            If a shape does not match, an integer label is outside
            [0, num_classes), `num_classes` is missing for integer labels, or
            `index` or `epoch` is outside [0, 2**64).
        """
        images = _check_images(images)[0]
        rows = _check_labels(labels, images.shape[0], self.num_classes)
        if index is None:
            index = self._calls.next_index()
        p = self.params(images, index=index, epoch=epoch)
        return self._apply(images, p), _mix_rows(rows, p.get("weight", p["lam"]), p["partner"])


_CALL_DOC = """

    Parameters
    ----------
    alpha : float
        Beta(alpha, alpha) parameter, finite and > 0.
    num_classes : int, optional
        Number of classes; needed for integer labels (turned into one-hot rows).
    per_sample : bool
        Draw lambda, partner{box} for each image instead of once per batch.
    seed : int, optional
        In [0, 2**64).  Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).

    See Also
    --------
    fastreg.functional.{func} : The mix with explicit parameters.

    Notes
    -----
    Semantics of torchvision.transforms.v2.{name} ({paper}).
    ``t(images, labels, *, index=None, epoch=0)`` takes a uint8 or float32
    batch and integer labels (N,) or float soft labels (N, num_classes) and
    returns new arrays (mixed images, float32 labels); the inputs are not
    modified.  Layout: uint8 batches are NHWC (N, H, W, C); a float32 batch
    is NCHW (N, C, H, W), as torchvision's tensors and the output of
    :class:`fastreg.transforms.Normalize`, when axis 1 has 1 to 4 entries
    and axis 3 does not, else NHWC.  The draws depend on (N, H, W) only, so
    an NCHW batch is mixed exactly as its NHWC transpose.  `index` is the
    batch's index: the draws are a pure function of (seed, epoch, index)
    (see fastreg.mixing); without it every call draws anew.  A batch of one is mixed with itself: images and
    labels come back unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import {name}
    >>> t = {name}(alpha=1.0, num_classes=10, seed=7)
    >>> images = np.zeros((8, 32, 32, 3), np.uint8); labels = np.arange(8)
    >>> mixed, soft = t(images, labels, index=0, epoch=0)
    >>> soft.shape
    (8, 10)
"""


class MixUp(_Mixer):
    __doc__ = ("MixUp: each image blended with its partner, labels in the same proportion."
               + _CALL_DOC.format(box="", name="MixUp", func="mixup",
                                  paper="Zhang et al. 2018, mixup: Beyond Empirical Risk Minimization"))
    _op = "mixup"

    def _apply(self, images, p):
        return mixup(images, p["lam"], p["partner"])


class CutMix(_Mixer):
    __doc__ = ("CutMix: a box of the partner pasted into each image, labels weighted by area."
               + _CALL_DOC.format(box=" and box", name="CutMix", func="cutmix",
                                  paper="Yun et al. 2019, CutMix: Regularization Strategy to Train "
                                        "Strong Classifiers with Localizable Features"))
    _op = "cutmix"

    def _apply(self, images, p):
        return cutmix(images, p["box"], p["partner"])


__all__ = ["MixUp", "CutMix", "mixup", "cutmix", "mix_labels", "draw_params"]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)
