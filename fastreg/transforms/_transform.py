"""The base of the random transforms.

A transform is data: :meth:`Transform.spec` encodes it by the fields its
kernel declares (fastreg.functional._spec, from the fr_op_def of its family
header), the kernel draws its parameters per image into a record with
fields named after the functional's arguments, and :meth:`Transform._describe`
decodes that record.  So ``transform(img, index=i)`` equals the functional op
called with ``transform.params(i, shape=img.shape)``.
"""

from fastreg._hints import positional_image
from fastreg.random import default_seed
from fastreg.functional._spec import decode, encode


def check_seed(seed):
    """`seed` checked, or the next of the process's seed sequence when None
    (fastreg.random.manual_seed)."""
    return default_seed(seed)


class Transform:
    """Base of the random transforms.

    A transform used alone behaves as ``Compose([transform], seed=seed)``.
    """

    op: str = ""  # the declaration's name (fastreg._image.OPS)
    colour = False  # needs 1 or 3 channels
    size_varies = False  # the output size depends on the drawn parameters
    shape_fields: tuple[str, ...] = ()  # record fields that depend on the input's shape (params needs it)

    def _spec_fields(self):
        """The op's spec fields by name (see its declaration)."""
        return {}

    def _encode(self):
        """This op's spec (float64 header and payload) for the kernels."""
        return encode(self.op, **self._spec_fields())

    def _check_size(self, h, w, params):
        """ValueError unless the op can run on an h x w input, given the
        parameters drawn for it."""

    def _check_channels(self, c, name):
        """ValueError unless the op can run on `c` channels of the image `name`."""

    def _describe(self, record, shape_known):
        """The drawn parameters of one image as a dict, from its record."""
        return decode(self.op, record)

    def _compose(self):
        pipeline = self.__dict__.get("_pipeline")
        if pipeline is None:
            from fastreg.transforms._compose import Compose

            pipeline = self.__dict__["_pipeline"] = Compose([self], seed=getattr(self, "seed", 0))
        return pipeline

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_pipeline", None)
        return state

    @positional_image
    def __call__(self, img, *, index=None, epoch=0, out=None):
        """Transform one image, as ``Compose([self], seed=self.seed)`` does.

        Parameters
        ----------
        img : numpy.ndarray or torch.Tensor
            uint8 image, (H, W) or (H, W, C) channels last, any strides.
        index : int, optional
            The image's id (e.g. its dataset index), in [0, 2**64).  Without
            it every call draws anew (see :meth:`Compose.__call__`).
        epoch : int, default 0
            In [0, 2**64).
        out : numpy.ndarray or torch.Tensor, optional
            uint8 array of the output shape, not overlapping `img`.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            `out`, or a new uint8 array (a tensor when `img` is one).

        See Also
        --------
        Compose.__call__ : The errors raised, in full.
        """
        return self._compose()(img, index=index, epoch=epoch, out=out)

    def batch(self, images, *, indices=None, epoch=0, out=None):
        """Transform a batch on all threads, as ``Compose([self], seed=self.seed)`` does.

        Parameters
        ----------
        images : numpy.ndarray or list of numpy.ndarray
            uint8 NHWC (or NHW) array, or a list of images.
        indices : sequence of int, optional
            One id per image; without them every call draws anew.
        epoch : int, default 0
            In [0, 2**64).
        out : numpy.ndarray or list of numpy.ndarray, optional
            Output array, or one array per image.

        Returns
        -------
        numpy.ndarray or list of numpy.ndarray
            `out`, or a new array.

        See Also
        --------
        Compose.batch : The details and errors.
        """
        return self._compose().batch(images, indices=indices, epoch=epoch, out=out)

    def params(self, index, epoch=0, shape=None):
        """Give the parameters drawn for one image.

        Parameters
        ----------
        index : int
            The image's id, in [0, 2**64).
        epoch : int, default 0
            In [0, 2**64).
        shape : tuple, optional
            The input image's shape (H, W[, C]); required when the parameters
            depend on the image size (crops, resizes, erasing, affine).

        Returns
        -------
        dict
            ``applied`` and the drawn parameters (see :meth:`Compose.params`).

        Raises
        ------
        ValueError
            If `shape` is missing but the parameters depend on it, or is not
            an image shape.
        """
        return self._compose().params(index, epoch=epoch, shape=shape)[0]

    def _args(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self._args() == other._args()

    __hash__ = None  # type: ignore[assignment]  # equal transforms compare equal; not hashable
