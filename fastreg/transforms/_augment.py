"""RandomErasing (torchvision.transforms.v2 name and semantics): erase a
random box of the pipeline's output.

Its draw is the kernel's (fastreg/fr_image_erase.h), which documents the
words of the stream it reads.  ``params(index, shape=...)`` gives the box
as the ``i``, ``j``, ``h``, ``w`` of :func:`fastreg.functional.erase` and
its value ``v`` (None when nothing is erased).
"""

import numbers

import numpy as np

from fastreg._validate import check_flag, check_probability
from fastreg.functional import _args
from fastreg.transforms._transform import Transform, check_seed


class RandomErasing(Transform):
    """Erase a random box with probability `p`, as
    torchvision.transforms.v2.RandomErasing.

    The box covers a share of the image area uniform in `scale`, with an
    aspect ratio log-uniform in `ratio`; up to 10 boxes are drawn and the
    first that fits is erased (none, if none fits).  It must be the last
    transform of a :class:`Compose`: after a :class:`Normalize` it erases
    the float output as it is written (values in the normalized units),
    otherwise the uint8 output.

    Parameters
    ----------
    p : float, default 0.5
        In [0, 1].
    scale : (float, float), default (0.02, 0.33)
        Range of the box's share of the image area, within [0, 1].
    ratio : (float, float), default (0.3, 3.3)
        Range of the box's aspect ratio (height / width), > 0.
    value : float, sequence of float or "random", default 0
        One value, one per channel, or "random" for standard normal values
        drawn from the image's stream (only after a Normalize).  In
        [0, 255] on uint8 pipelines.
    inplace : bool, default False
        Accepted for torchvision's signature: a pipeline writes its output
        array and never modifies its input.
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        Seed when the transform is used alone (a Compose uses its own).

    Raises
    ------
    TypeError, ValueError
        For an argument of the wrong type or value; at call time,
        ValueError when `value` does not suit the image's channels.

    See Also
    --------
    fastreg.functional.erase : Erase a given box.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.transforms import Compose, Normalize
    >>> aug = Compose([Normalize(0.5, 0.25), RandomErasing(1.0, value="random")], seed=2)
    >>> aug(np.zeros((32, 32, 3), np.uint8), index=4).shape
    (3, 32, 32)
    >>> sorted(aug.params(4, shape=(32, 32, 3))[1])
    ['applied', 'h', 'i', 'j', 'op', 'v', 'w']
    """

    op = "RandomErasing"
    shape_fields = ("i", "j", "h", "w")

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False,
                 *, seed=None):
        self.p = check_probability("p", p)
        self.scale = _args.check_range("scale", scale, 0.0, 1.0)
        self.ratio = _args.check_ratio(ratio)
        if isinstance(value, str):
            if value != "random":
                raise ValueError(f"value must be a number, a sequence of numbers or 'random', got {value!r}")
            self._values = None
        else:
            self._values = _args.channel_values("value", value)
        self.value = value if value is None or isinstance(value, (str, numbers.Real)) else tuple(value)
        self.inplace = check_flag("inplace", inplace)
        self.seed = check_seed(seed)

    def _spec_fields(self):
        values = self._values or (0.0,)
        return {"p": self.p, "scale": self.scale, "ratio": self.ratio,
                "value": np.resize(values, 4) if len(values) == 1 else values + (0.0,) * (4 - len(values)),
                "random": self._values is None}

    def _check_uint8(self):
        """ValueError unless the values can be written to a uint8 output."""
        if self._values is None:
            raise ValueError("RandomErasing(value='random') erases with normal values: it needs a "
                             "float output (put a Normalize before it)")
        if not all(0 <= v <= 255 for v in self._values):
            raise ValueError(f"value of RandomErasing must be in [0, 255] on a uint8 pipeline, got {self.value}")

    def _check_channels(self, c, name):
        if self._values is not None and len(self._values) not in (1, c):
            raise ValueError(f"value of RandomErasing has {len(self._values)} values (one per "
                             f"channel) but {name} has {c} channels")

    def _describe(self, record, shape_known):
        params = super()._describe(record, shape_known)
        params["v"] = self.value if params["applied"] else None
        return params

    def _args(self):
        return {"p": self.p, "scale": self.scale, "ratio": self.ratio, "value": self.value,
                "inplace": self.inplace}
