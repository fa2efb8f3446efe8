"""The base of the random transforms.

A transform is data: :meth:`Transform.spec` encodes it by the fields its
kernel declares (fastreg.functional._spec, from the fr_op_def of its family
header), the kernel draws its parameters per image into a record with
fields named after the functional's arguments, and :meth:`Transform.describe`
decodes that record.  So ``transform(img, index=i)`` equals the functional op
called with ``transform.params(i, shape=img.shape)``.
"""

from fastreg._validate import check_uint64
from fastreg.functional._spec import decode, encode


def check_seed(seed):
    return check_uint64("seed", seed)


class Transform:
    """Base of the random transforms.

    A transform used alone behaves as ``Compose([transform], seed=seed)``.
    Subclasses set ``op`` (the name of their kernel declaration) and define
    :meth:`spec_fields`; the rest is shared.
    """

    op: str = ""  # the declaration's name (fastreg._image.OPS)
    colour = False  # needs 1 or 3 channels
    size_varies = False  # the output size depends on the drawn parameters
    shape_fields: tuple[str, ...] = ()  # record fields that depend on the input's shape

    def spec_fields(self):
        """The op's spec fields by name (see its declaration)."""
        return {}

    def spec(self):
        """This op's spec (float64 header and payload) for the kernels."""
        return encode(self.op, **self.spec_fields())

    def check_size(self, h, w, params):
        """ValueError unless the op can run on an h x w input, given the
        parameters drawn for it."""

    def check_channels(self, c, name):
        """ValueError unless the op can run on `c` channels of the image `name`."""

    def describe(self, record, shape_known):
        """The drawn parameters of one image as a dict, from its record."""
        params = decode(self.op, record)
        if not shape_known:
            params.update(dict.fromkeys(self.shape_fields))
        return params

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

    def __call__(self, img, *, index=0, epoch=0, out=None):
        """Transform one image: see :meth:`Compose.__call__`."""
        return self._compose()(img, index=index, epoch=epoch, out=out)

    def batch(self, images, *, indices=None, epoch=0, out=None):
        """Transform a batch on all threads: see :meth:`Compose.batch`."""
        return self._compose().batch(images, indices=indices, epoch=epoch, out=out)

    def params(self, index, epoch=0, shape=None):
        """The parameters drawn for one image: see :meth:`Compose.params`."""
        return self._compose().params(index, epoch=epoch, shape=shape)[0]

    def _args(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self._args() == other._args()

    __hash__ = None  # type: ignore[assignment]  # equal transforms compare equal; not hashable
