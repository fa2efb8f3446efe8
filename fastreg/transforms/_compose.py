"""Compose: a pipeline of random transforms run in compiled code, one
image or a batch on all threads without the GIL.

Randomness.  Op ``k`` (its place in the flattened pipeline) drawing for
image ``index`` in ``epoch`` reads the stream
``fastreg.random.derive_stream(DOMAINS["image"], epoch, index, k)`` of the
pipeline's seed, word by word; each op's draw is its kernel's
(fastreg/fr_image_geometry.h, fr_image_colour.h say which words).  So image
i's parameters depend only on (seed, epoch, index, place): the same for
every thread count, batch split, worker count and call order.
``Compose.params`` shows them, named as the functional ops' arguments;
``fastreg.reference.image`` recomputes them in NumPy.

Calls without ``index`` (``batch`` without ``indices``) draw anew on every
call, as torchvision's transforms do: call n of an object uses the index
``derive_stream(DOMAINS["call"], worker, worker_seed, n)`` (image i of a
batch call that index + i, modulo 2**64), with ``(worker, worker_seed)``
the ``(id + 1, seed)`` of ``torch.utils.data.get_worker_info()`` inside a
DataLoader worker and ``(0, 0)`` elsewhere (fastreg._calls).  The draws
repeat from the seed in one process and differ in every worker; pass
``index=`` (the dataset index) to get the same pixels whatever the worker
count.

Execution.  The spec (every op's encoded fields) goes to the executor
(fastreg._image, fastreg/fr_image.h), which draws each image's steps and
runs them: crops, pads and flips as index arithmetic (one gather pass),
consecutive colour steps fused in one pass, a final Normalize as that
pass's output.
"""

import numpy as np

from fastreg import _image
from fastreg._hints import positional_image
from fastreg._interop import accepts_tensors
from fastreg._calls import CallCounter
from fastreg._validate import (
    check_apart,
    check_image,
    check_out,
    check_outs_apart,
    check_uint64,
    not_an_array,
    wrong_image_dtype,
)
from fastreg.functional._misc import normalized_shape
from fastreg.functional._spec import decode
from fastreg.transforms._augment import RandomErasing
from fastreg.transforms._misc import Normalize
from fastreg.transforms._transform import Transform, check_seed


def _flatten(transforms):
    for t in transforms:
        if isinstance(t, Compose):
            yield from t.transforms
        elif isinstance(t, Transform):
            yield t
        else:
            raise TypeError(f"transforms must hold fastreg transforms, got {type(t).__name__}; a Compose "
                            "runs in compiled code, so call your own function before or after it, "
                            "on its input or its output")


class Compose(Transform):
    """A pipeline of transforms run in compiled code.

    Crops, pads and flips become index arithmetic (one gather pass);
    consecutive colour steps run fused in one pass, plus one read pass per
    contrast step for the mean at its place.  A nested Compose is flattened
    (its seed is not used).

    Parameters
    ----------
    transforms : sequence of Transform
        The steps, in order; a :class:`Normalize` comes last but for a
        :class:`RandomErasing` of its output, which is always last.
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        In [0, 2**64): every draw of the pipeline derives from it.

    Raises
    ------
    TypeError
        If `transforms` holds anything but fastreg transforms.
    ValueError
        If a Normalize or a RandomErasing is out of place, or a
        RandomErasing's value cannot be written to a uint8 output.

    See Also
    --------
    fastreg.functional : The same steps with explicit parameters.

    Notes
    -----
    torchvision.transforms.v2.Compose's role; each step has its
    torchvision.transforms.v2 namesake's semantics on uint8 images.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import ColorJitter, Compose, RandomCrop, RandomHorizontalFlip
    >>> img = np.zeros((256, 256, 3), np.uint8)
    >>> imgs = np.zeros((4, 256, 256, 3), np.uint8)
    >>> ids = [10, 11, 12, 13]
    >>> aug = Compose([RandomCrop(224), RandomHorizontalFlip(),
    ...                ColorJitter(0.4, 0.4, 0.4, 0.1)], seed=1)
    >>> y = aug(img, index=7, epoch=2)
    >>> ys = aug.batch(imgs, indices=ids, epoch=2)   # ys[i] == aug(imgs[i], index=ids[i], epoch=2)
    """

    def __init__(self, transforms, *, seed=None):
        if isinstance(transforms, Transform) or not hasattr(transforms, "__iter__"):
            raise TypeError("transforms must be a sequence of transforms")
        self.transforms = list(_flatten(transforms))
        self.seed = check_seed(seed)
        self._build()

    def _build(self):
        erasing = [k for k, t in enumerate(self.transforms) if isinstance(t, RandomErasing)]
        if erasing and erasing != [len(self.transforms) - 1]:
            raise ValueError("RandomErasing must be the last transform of a Compose, and only once")
        last = len(self.transforms) - 1 - len(erasing)  # the place of the output stage
        norms = [k for k, t in enumerate(self.transforms) if isinstance(t, Normalize)]
        if norms and norms != [last]:
            raise ValueError("Normalize must be the last transform of a Compose (but for a "
                             "RandomErasing of its output), and only once")
        self._norm = self.transforms[last] if norms else None
        if erasing and self._norm is None:
            self.transforms[-1]._check_uint8()
        self._dtype = self._norm.dtype if norms else np.dtype(np.uint8)
        self._spec = np.concatenate([t._encode() for t in self.transforms] + [np.zeros(0)])
        self._channels = (1, 3) if any(t.colour for t in self.transforms) else (1, 2, 3, 4)
        # (h, w, c, ndim) -> output shape, for inputs already checked (also read
        # by run_image's fast path)
        self._seen = {}
        self._channel_bits = sum(1 << c for c in self._channels)
        # with expand=True rotations the output size depends on (index, epoch): never cached
        self._size_varies = any(t.size_varies for t in self.transforms)
        self._calls = CallCounter()

    def __getstate__(self):
        return {"transforms": self.transforms, "seed": self.seed}

    def __setstate__(self, state):
        self.transforms = state["transforms"]
        self.seed = state["seed"]
        self._build()

    def _compose(self):
        return self

    def output_size(self, h, w, *, index=None, epoch=0):
        """Output (height, width) for an h x w input.

        Parameters
        ----------
        h, w : int
            Input height and width.
        index, epoch : int, optional
            The image's id and epoch.  Needed only when the size depends on
            the drawn parameters (``RandomRotation(expand=True)``).

        Returns
        -------
        (int, int)
            Output height and width in pixels.

        Raises
        ------
        ValueError
            If the pipeline cannot run on an h x w image, or `index` is
            missing when the size depends on it.
        """
        return self._draw(h, w, index, epoch)[1]

    def _draw(self, h, w, index, epoch, name=None):
        """The records of each op and the output size of an h x w image;
        ValueError (naming the image `name`, if given) if an op cannot run
        on it."""
        if self._size_varies and index is None:
            raise ValueError("the output size of RandomRotation(expand=True) depends on the "
                             "drawn angle: pass index (and epoch)")
        records, sizes = _image.draw(self._spec, self.seed, check_uint64("epoch", epoch),
                                     check_uint64("index", 0 if index is None else index), h, w)
        for t, r, (hk, wk) in zip(self.transforms, records, sizes.tolist()):
            try:
                t._check_size(hk, wk, decode(t.op, r))
            except ValueError as e:
                if name is None:
                    raise
                raise ValueError(f"{name}: {e}") from None
        return records, tuple(sizes[-1].tolist())

    def _out_shape(self, hwc, ndim, name, index=0, epoch=0):
        key = hwc.shape + (ndim,)
        shape = self._seen.get(key)
        if shape is not None:
            return shape
        h, w, c = hwc.shape
        for t in self.transforms:
            t._check_channels(c, name)
        size = self._draw(h, w, int(index), epoch, name)[1]
        if self._norm is not None:
            shape = normalized_shape(size[0], size[1], c, ndim, self._norm.layout)
        else:
            shape = (size[0], size[1], c) if ndim == 3 else size
        if len(self._seen) < 64 and not self._size_varies:  # a drawn size is never kept
            self._seen[key] = shape
        return shape

    @positional_image
    def __call__(self, img, *, index=None, epoch=0, out=None):
        """Transform one image.

        Parameters
        ----------
        img : numpy.ndarray
            uint8, (H, W) or (H, W, C), any strides; C in 1..4, or 1 or 3
            when the pipeline has colour ops.
        index : int, optional
            The image's id (e.g. its dataset index), in [0, 2**64): the
            draws are a pure function of (seed, epoch, index), the same in
            every worker.  Without it every call draws anew (call n of this
            object in this process and DataLoader worker; see the module
            notes), as torchvision's transforms do.
        epoch : int, default 0
            In [0, 2**64).
        out : numpy.ndarray or torch.Tensor, optional
            Array of the output shape, not overlapping `img`: uint8, or the
            dtype and layout of a final :class:`Normalize`.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            `out`, or a new array: uint8 of the output size, or the final
            Normalize's dtype and layout; a tensor when `img` is one.

        Raises
        ------
        TypeError
            If `img` is not a uint8 array or CPU tensor (a PIL image needs
            ``np.asarray``), `out` has another dtype, or `index` or `epoch`
            is not an integer.
        ValueError
            If `img` has another layout or channel count (a CHW tensor needs
            ``img.permute(1, 2, 0)``) or is too small for a step, `out` has
            another shape or overlaps `img`, or `index` or `epoch` is
            outside [0, 2**64).
        """
        if index is None:
            index = self._calls.next_index()
        # The common case (a NumPy image of a size seen before, plain ints, out
        # of the right form) is checked and run in C; anything else, tensors
        # included, takes the full path.
        done = _image.run_image(img, out, self._spec, self.seed, index, epoch, self._seen,
                                self._channel_bits, self._dtype.num)
        return self._call(img, index, epoch, out) if done is None else done

    @accepts_tensors
    def _call(self, img, index, epoch, out):
        hwc = check_image("img", img, self._channels, has_batch=True)
        index = check_uint64("index", index)
        epoch = check_uint64("epoch", epoch)
        shape = self._out_shape(hwc, img.ndim, "img", index, epoch)
        if out is None:
            out = np.empty(shape, dtype=self._dtype)
            shared = False
        else:
            shared = check_out(out, shape, self._dtype, [img])
        if not shared and out.flags.c_contiguous:
            _image.run_pipeline([hwc], [out], self._spec, self.seed, epoch,
                                np.array([index], dtype=np.uint64))
            return out
        return self._run([hwc], [shape], np.array([index], dtype=np.uint64), epoch, [out])[0]

    def _run(self, hwcs, shapes, indices, epoch, outs):
        """Run the pipeline on validated images into `outs` (or new arrays)."""
        if outs is None:
            outs = [np.empty(s, dtype=self._dtype) for s in shapes]
        dsts, copies = [], []
        for k, (o, s) in enumerate(zip(outs, shapes)):
            if o.flags.c_contiguous and not np.may_share_memory(o, hwcs[k]):
                dsts.append(o)  # the kernels take C-contiguous outputs by their data
            else:
                tmp = np.empty(s, dtype=self._dtype)
                dsts.append(tmp)
                copies.append((o, tmp))
        _image.run_pipeline(hwcs, dsts, self._spec, self.seed, epoch, indices)
        for o, tmp in copies:
            np.copyto(o, tmp)
        return outs

    @accepts_tensors
    def batch(self, images, *, indices=None, epoch=0, out=None):
        """Transform a batch on all threads, in one call without the GIL.

        ``aug.batch(images, indices=ix)[i]`` equals
        ``aug(images[i], index=ix[i])`` bit for bit, for every thread count
        and batch split.

        Parameters
        ----------
        images : numpy.ndarray or list of numpy.ndarray
            uint8 NHWC (or NHW) array of any strides, or a list of images,
            possibly of different sizes.
        indices : sequence of int, optional
            One id per image (e.g. dataset indices), each in [0, 2**64): the
            same pixels as ``aug(images[i], index=indices[i])`` in every
            worker.  Without them every call draws anew, as
            :meth:`__call__` without `index`.
        epoch : int, default 0
            In [0, 2**64).
        out : numpy.ndarray or list of numpy.ndarray, optional
            An array (N, h, w[, C]) when every output has the same shape, or
            a list of per-image arrays; none may overlap the inputs.  After
            a final :class:`Normalize`, its dtype and layout: (N, C, h, w)
            for CHW.

        Returns
        -------
        numpy.ndarray or list of numpy.ndarray
            `out`, or a new array (tensors when the inputs are tensors).

        Raises
        ------
        TypeError
            As :meth:`__call__`, for any image or output.
        ValueError
            As :meth:`__call__`, or if `indices` or a list `out` does not
            have one entry per image, or the outputs differ in size and `out`
            is not a list.
        """
        if _image.list_fits(images, out, self._seen, self._channel_bits, self._dtype.num):
            # the common list case (NumPy images of sizes seen before, one C-contiguous
            # out apart from them) is checked and run in C, without a view per image
            indices = self._batch_indices(indices, len(images))
            epoch = check_uint64("epoch", epoch)
            _image.run_list(images, out, self._seen, self._channel_bits, self._dtype.num, self._spec,
                            self.seed, epoch, indices)
            return out
        if isinstance(images, np.ndarray):
            if images.dtype != np.uint8:
                raise wrong_image_dtype("images", images.dtype)
            if images.ndim not in (3, 4):
                raise ValueError(f"images must be an (N, H, W, C) or (N, H, W) array, got {images.ndim} dimensions")
            # the images of one array share dtype and shape: the first one's checks hold
            # for all, and its output size too unless the size is drawn per image
            n = images.shape[0]
            hwcs = [check_image("images", images[i], self._channels, batch=True)
                    for i in range(n if self._size_varies else min(n, 1))]
            ndims = [images.ndim - 1] * n
            inputs = [images]
        elif isinstance(images, (list, tuple)):
            hwcs = [check_image(f"images[{i}]", img, self._channels) for i, img in enumerate(images)]
            ndims = [img.ndim for img in images]
            inputs = list(images)
            n = len(hwcs)
        else:
            raise not_an_array("images", images, "numpy.ndarray or a list of arrays")
        indices = self._batch_indices(indices, n)
        epoch = check_uint64("epoch", epoch)
        shapes = [self._out_shape(h, d, f"images[{i}]", indices[i], epoch)
                  for i, (h, d) in enumerate(zip(hwcs, ndims))]
        if len(shapes) < n:  # one array of images, one output size
            shapes *= n
        if out is None or isinstance(out, np.ndarray):
            if len(set(shapes)) > 1:
                raise ValueError("images give outputs of different sizes "
                                 f"({sorted(set(shapes))[:3]}...); pass out= as a list of arrays")
            if shapes:
                full = (n,) + shapes[0]
            elif isinstance(images, np.ndarray):
                empty = np.empty(images.shape[1:] + (1,) * (4 - images.ndim), np.uint8)
                full = (0,) + self._out_shape(check_image("images", empty, self._channels),
                                              images.ndim - 1, "images")
            else:
                full = (0, 0, 0, 0)
            if out is None:
                out = np.empty(full, dtype=self._dtype)
                shared = False
            else:
                check_out(out, full, self._dtype)
                shared = check_outs_apart([out], inputs, ["out"])
            if n and isinstance(images, np.ndarray) and not shared and out.flags.c_contiguous:
                # one array in, one array out: the views are made in C, not one per image here
                stack = images if images.ndim == 4 else images[..., None]
                _image.run_stack(stack, out, self._spec, self.seed, epoch, indices)
                return out
            outs = [out[i] for i in range(n)]
        elif isinstance(out, list):
            if len(out) != n:
                raise ValueError(f"out must have one array per image ({n}), got {len(out)}")
            for i, (o, s) in enumerate(zip(out, shapes)):
                check_out(o, s, self._dtype, name=f"out[{i}]")
            names = [f"out[{i}]" for i in range(n)]
            check_apart(out, names)
            shared = check_outs_apart(out, inputs, names)
            outs = out
        else:
            raise TypeError(f"out must be a numpy.ndarray or a list of arrays, got {type(out).__name__}")
        if len(hwcs) < n:
            hwcs = [check_image("images", images[i], self._channels, batch=True) for i in range(n)]
        if n:
            if shared:
                tmps = self._run(hwcs, shapes, indices, epoch, None)
                for o, t in zip(outs, tmps):
                    np.copyto(o, t)
            else:
                self._run(hwcs, shapes, indices, epoch, outs)
        return out

    def _batch_indices(self, indices, n):
        """`indices` checked as uint64 ids of n images, or the next call's."""
        if indices is None:
            return self._calls.next_indices(n)
        if isinstance(indices, (str, bytes)) or not hasattr(indices, "__len__"):
            raise TypeError("indices must be a sequence of integers")
        if len(indices) != n:
            raise ValueError(f"indices must have one entry per image ({n}), got {len(indices)}")
        return np.array([check_uint64(f"indices[{i}]", v) for i, v in enumerate(indices)], dtype=np.uint64)

    def params(self, index, epoch=0, shape=None):
        """The parameters drawn for image `index` in `epoch`.

        Parameters
        ----------
        index : int
            The image's id, in [0, 2**64).
        epoch : int, default 0
            In [0, 2**64).
        shape : tuple, optional
            The input image's shape (H, W[, C]).  Required when a step's
            parameters depend on the image size (crops, resizes, erasing,
            affine translations); a policy's translation magnitudes are None
            without it.

        Returns
        -------
        list of dict
            One dict per op, in pipeline order: ``op`` (its name), ``applied``
            (whether it fired), and its parameters, named as the functional
            op's arguments: crop and resized-crop boxes ``top``, ``left``,
            ``height``, ``width`` (and ``padding``), output ``size``, the
            erased box ``i``, ``j``, ``h``, ``w`` and value ``v``; jitter
            factors and ``order``; rotation ``angle``; affine ``angle``,
            ``translate``, ``scale``, ``shear``; blur ``sigma``; a policy's
            ``ops``, (name, magnitude) pairs as torchvision's
            ``_apply_image_or_video_transform`` receives them (AugMix: one
            list per chain, and its mixing ``weights``).

        Raises
        ------
        ValueError
            If `shape` is missing but a step's parameters depend on it, is
            not an image shape, or is too small for a step.
        """
        index = check_uint64("index", index)
        epoch = check_uint64("epoch", epoch)
        known = shape is not None
        if known:
            if not isinstance(shape, tuple) or len(shape) not in (2, 3):
                raise ValueError(f"shape must be an image shape (H, W[, C]), got {shape!r}")
            records = self._draw(int(shape[0]), int(shape[1]), index, epoch, "shape")[0]
        else:
            sized = [type(t).__name__ for t in self.transforms if t.shape_fields]
            if sized:
                raise ValueError(f"shape must be given: the parameters of {sized[0]} depend on the "
                                 "image size (pass shape=img.shape)")
            records, _ = _image.draw(self._spec, self.seed, epoch, index, 1 << 20, 1 << 20)
        return [dict(op=type(t).__name__, **t._describe(r, known))
                for t, r in zip(self.transforms, records)]

    def _args(self):
        return {"transforms": self.transforms, "seed": self.seed}

    def __repr__(self):
        body = "".join(f"    {t!r},\n" for t in self.transforms)
        return f"Compose([\n{body}], seed={self.seed})"
