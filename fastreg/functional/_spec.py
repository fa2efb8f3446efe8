"""Pipeline specs and records by the kernels' own op declarations.

Each random op is declared once in C (an fr_op_def in its family's header:
fastreg/fr_image_geometry.h, fr_image_colour.h, fr_image_normalize.h) with
the named fields of its spec payload and of its record; fastreg._image.OPS
exports them.  :func:`encode` writes a spec from field names and
:func:`decode` reads a record into a dict by the same names, so no offset is
written in Python.
"""

import math

import numpy as np

from fastreg import _image

OPS = _image.OPS


def encode(op, *, payload=(), record_extra=0, max_steps=None, **fields):
    """The spec of one op (header and payload, float64) from its fields:
    `op` is the transform's name, each field a number or a sequence of
    numbers; fields left out are 0.  An op of variable length (a policy of
    sub-ops) appends `payload` after its fields, `record_extra` record
    values after its declared ones and may draw `max_steps` steps instead of
    the declared number."""
    decl = OPS[op]
    payload = np.asarray(payload, dtype=np.float64).ravel()
    spec = np.zeros(_image.OP_HEAD + decl.spec_len + payload.size, dtype=np.float64)
    spec[:_image.OP_HEAD] = (decl.kind, decl.spec_len + payload.size, decl.record_len + record_extra,
                             decl.max_steps if max_steps is None else max_steps)
    body = spec[_image.OP_HEAD:]
    for name, value in fields.items():
        at, n, _ = decl.spec[name]
        values = np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
        if values.size != n:
            raise ValueError(f"{op}.{name} takes {n} values, got {values.size}")
        body[at:at + n] = values
    body[decl.spec_len:] = payload
    return spec


def decode(op, record):
    """The record of one op as {field: value}: bools, ints and floats (None
    for a float not drawn), tuples for fields of several values."""
    result = {}
    for name, (at, n, kind) in OPS[op].record.items():
        values = [_value(v, kind) for v in record[at:at + n]]
        result[name] = values[0] if n == 1 else tuple(values)
    return result


def _value(v, kind):
    if kind == "b":
        return bool(v)
    if kind == "i":
        return int(v)
    return None if math.isnan(v) else float(v)
