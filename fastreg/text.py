"""Text augmentation on token ids: random deletion, random swap, random
insertion and synonym replacement (EDA, Wei and Zou 2019), batched.

Batches.  A batch is either a ragged pair ``(values, offsets)`` -- a tuple of
a 1-D int32 or int64 array of token ids and an int64-convertible array of
N + 1 offsets (CSR style: sequence i is ``values[offsets[i]:offsets[i+1]]``)
-- or a list of 1-D integer arrays.  Every op returns the form it was given:
a new ``(values, offsets)`` tuple (values of the input dtype, int64 offsets)
or a new list of arrays of the input arrays' dtypes.  Inputs are never
modified.

Protected ids.  Tokens whose id is in `protected` (padding, [CLS], [SEP],
...) are never deleted, replaced or swapped and keep their order; no op
inserts them (they are removed from the synonym candidates), and insertions
go only into gaps next to an unprotected token, so nothing lands before a
leading [CLS] or among trailing padding.  A sequence without unprotected
tokens is returned unchanged by every op.

Counts.  `n` is an integer >= 0, or a float in (0, 1): a fraction of the
sequence's length L, counted in unprotected tokens, giving
``n = max(1, round(n * L))`` (round half to even) per sequence.

Randomness.  Op ``op`` (deletion 1, swap 2, insertion 3, replacement 4) on
the sequence with dataset index ``index`` draws from stream
``fastreg.random.derive_stream(DOMAINS["text"], epoch, index, op)`` of
`seed`, so results depend only on (seed, epoch, index, op) and the
sequence: identical for every thread count and batch split.  An integer in
[0, m) is drawn from one 64-bit word w as ``(w * m) >> 64`` (Lemire's
multiply-shift without rejection; bias at most m / 2**64).  The exact
draws of every op are written out in plain Python in
:mod:`fastreg.reference.text`, which reproduces every result bit for bit.
"""

import collections.abc
import numbers
import operator

import numpy as np

from fastreg import _text
from fastreg._calls import CallCounter
from fastreg._interop import arrays_from, like_input
from fastreg._validate import check_probability, check_uint64
from fastreg.threads import limit_in_loader_worker

__all__ = ["EDA", "SynonymTable", "random_deletion", "random_insertion", "random_swap",
           "synonym_replacement"]


def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)


OPS = {"deletion": 1, "swap": 2, "insertion": 3, "replacement": 4}
_TWO32 = 1 << 32
_INT64_MAX = (1 << 63) - 1


# ---- argument checks --------------------------------------------------------


def _is_int_dtype(dtype):
    return dtype.kind in "iu"


def _int_array(name, a, what="an integer array"):
    """A NumPy array of an integer dtype (bool refused), as given."""
    if not isinstance(a, np.ndarray):
        try:
            a = np.asarray(a)
        except Exception:
            raise TypeError(f"{name} must be {what}, got {type(a).__name__}") from None
        if a.size == 0 and a.dtype.kind == "f":  # np.asarray([]) is float64
            a = a.astype(np.int64)
    if not _is_int_dtype(a.dtype):
        raise TypeError(f"{name} must be {what}, got dtype {a.dtype}")
    return a


def _as_int64(name, a):
    """An integer array as int64, refusing values past 2**63 - 1."""
    if a.dtype == np.uint64 and a.size and int(a.max()) > _INT64_MAX:
        raise ValueError(f"{name} holds values past 2**63 - 1")
    return np.ascontiguousarray(a, dtype=np.int64)


def _check_offsets(offsets, n_values, name="offsets"):
    offsets = _int_array(name, offsets)
    if offsets.ndim != 1 or offsets.shape[0] < 1:
        raise ValueError(f"{name} must be a 1-D array of N + 1 >= 1 entries, got shape {offsets.shape}")
    offsets = _as_int64(name, offsets)
    if offsets[0] != 0:
        raise ValueError(f"{name} must start at 0, got {offsets[0]}")
    if offsets.shape[0] > 1 and np.any(offsets[1:] < offsets[:-1]):
        raise ValueError(f"{name} must be non-decreasing")
    if offsets[-1] != n_values:
        raise ValueError(f"{name} must end at len(values) = {n_values}, got {offsets[-1]}")
    return offsets


class _Batch:
    """A validated batch: contiguous values (int32 or int64), int64 offsets,
    and how to give results back in the caller's form."""

    def __init__(self, batch):
        self.tensors = False  # give results back as torch tensors
        if isinstance(batch, tuple):
            if len(batch) != 2:
                raise TypeError(f"batch must be a (values, offsets) tuple or a list of 1-D integer "
                                f"arrays, got a tuple of {len(batch)} items")
            (values, offsets), self.tensors = arrays_from("batch", list(batch))
            if not isinstance(values, np.ndarray):
                raise TypeError(f"values must be a numpy.ndarray, got {type(values).__name__}")
            if values.dtype not in (np.int32, np.int64):
                raise TypeError(f"values must have dtype int32 or int64, got {values.dtype}")
            if values.ndim != 1:
                raise ValueError(f"values must be 1-D, got shape {values.shape}")
            self.offsets = _check_offsets(offsets, values.shape[0])
            self.values = np.ascontiguousarray(values)
            self.dtypes = None
        elif isinstance(batch, list):
            batch, self.tensors = arrays_from("batch", batch)
            dtypes = []
            for i, a in enumerate(batch):
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"batch[{i}] must be a numpy.ndarray, got {type(a).__name__}")
                if not _is_int_dtype(a.dtype):
                    raise TypeError(f"batch[{i}] must have an integer dtype, got {a.dtype}")
                if a.ndim != 1:
                    raise ValueError(f"batch[{i}] must be 1-D, got shape {a.shape}")
                if a.dtype == np.uint64 and a.size and int(a.max()) > _INT64_MAX:
                    raise ValueError(f"batch[{i}] holds values past 2**63 - 1")
                dtypes.append(a.dtype)
            kind = np.int32 if all(d == np.int32 for d in dtypes) else np.int64
            lengths = np.array([a.shape[0] for a in batch], dtype=np.int64)
            self.offsets = np.zeros(len(batch) + 1, dtype=np.int64)
            np.cumsum(lengths, out=self.offsets[1:])
            self.values = (np.concatenate([a.astype(kind, copy=False) for a in batch]) if batch
                           else np.empty(0, dtype=kind))
            self.dtypes = dtypes
        else:
            raise TypeError(f"batch must be a (values, offsets) tuple or a list of 1-D integer arrays, "
                            f"got {type(batch).__name__}")
        self.n = self.offsets.shape[0] - 1

    def check_ids_fit(self, table):
        """Every synonym id must fit the dtypes results are given back in."""
        top = table._max_id
        for d in set(self.dtypes or [self.values.dtype]):
            if top > np.iinfo(d).max:
                raise ValueError(f"synonyms holds ids up to {top}, which do not fit the batch dtype {d}")

    def give_back(self, values, offsets):
        if self.dtypes is None:
            return like_input(values, self.tensors), like_input(offsets, self.tensors)
        parts = np.split(values, offsets[1:-1]) if self.n else []
        return [like_input(np.ascontiguousarray(p.astype(d, copy=False)), self.tensors)
                for p, d in zip(parts, self.dtypes)]


def _check_n(n, name="n"):
    """(count, frac): an integer >= 0 or a float in (0, 1)."""
    if isinstance(n, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer >= 0 or a float in (0, 1), got bool {n!r}")
    if isinstance(n, numbers.Integral):
        n = operator.index(n)
        if n < 0:
            raise ValueError(f"{name} must be an integer >= 0 or a float in (0, 1), got {n}")
        if n > _INT64_MAX:
            raise ValueError(f"{name} must be below 2**63, got {n}")
        return n, 0.0
    if isinstance(n, numbers.Real):
        frac = float(n)
        if not 0.0 < frac < 1.0:
            raise ValueError(f"{name} must be an integer >= 0 or a float in (0, 1), got {n!r}")
        return 0, frac
    raise TypeError(f"{name} must be an integer >= 0 or a float in (0, 1), got {type(n).__name__}")


def _check_protected(protected):
    """Sorted unique int64 ids from a collection of integers."""
    message = f"protected must be a collection of integer ids, got {type(protected).__name__}"
    if isinstance(protected, (numbers.Number, str, bytes)) or (
            isinstance(protected, np.ndarray) and protected.ndim != 1):
        raise TypeError(message)
    try:
        items = list(protected)
    except TypeError:
        raise TypeError(message) from None
    ids = []
    for x in items:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
            raise TypeError(f"protected must hold integer ids, got {type(x).__name__} {x!r}")
        x = operator.index(x)
        if not -(1 << 63) <= x <= _INT64_MAX:
            raise ValueError(f"protected ids must fit in int64, got {x}")
        ids.append(x)
    return np.unique(np.array(ids, dtype=np.int64))


def _check_indices(indices, n):
    if indices is None:
        return None
    a = _int_array("indices", indices, "a 1-D integer array")
    if a.shape != (n,):
        raise ValueError(f"indices must have shape ({n},), one per sequence, got {a.shape}")
    if a.dtype.kind == "i" and n and int(a.min()) < 0:
        raise ValueError("indices must be non-negative")
    return np.ascontiguousarray(a, dtype=np.uint64)


# ---- synonym tables -----------------------------------------------------------


class SynonymTable:
    """Candidate replacements per token id, stored CSR.

    The candidates of token ``t`` are ``values[offsets[t]:offsets[t + 1]]``
    for ``0 <= t < vocab_size``; ids past the table, and negative ids, have
    none.  fastreg ships no vocabulary: build a table from your tokenizer's
    ids, e.g. from WordNet synonyms mapped through the vocabulary.

    Parameters
    ----------
    offsets : array_like of int
        ``vocab_size + 1`` non-decreasing entries, starting at 0 and ending at
        ``len(values)``.
    values : array_like of int
        Candidate ids, each in ``[0, vocab_size)``.  Duplicates weigh a
        candidate up; use :meth:`from_dict` to have them removed.

    Raises
    ------
    TypeError
        Non-integer offsets or values.
    ValueError
        Malformed offsets; a candidate id outside ``[0, vocab_size)``.

    Examples
    --------
    >>> table = SynonymTable.from_dict({5: [7, 9], 7: [5]}, vocab_size=10)
    >>> table.synonyms_of(5)
    array([7, 9])
    """

    def __init__(self, offsets, values):
        values = _int_array("synonyms values", values)
        if values.ndim != 1:
            raise ValueError(f"synonyms values must be 1-D, got shape {values.shape}")
        values = _as_int64("synonyms values", values)
        offsets = _check_offsets(offsets, values.shape[0], "synonyms offsets")
        vocab = offsets.shape[0] - 1
        if values.size and (int(values.min()) < 0 or int(values.max()) >= vocab):
            bad = values[(values < 0) | (values >= vocab)][0]
            raise ValueError(f"synonyms holds id {bad} outside the vocabulary range [0, {vocab})")
        self._offsets = offsets.copy()  # private, read-only copies: the caller's arrays stay as they are
        self._values = values.copy()
        self._offsets.flags.writeable = False
        self._values.flags.writeable = False
        self._filtered = {}
        self._flags = {}
        self._max_id = int(values.max()) if values.size else -1
        self._compact = None

    @classmethod
    def from_dict(cls, mapping, vocab_size=None):
        """A table from ``{id: [candidate ids]}``.

        Each candidate list keeps its first occurrence of every id, in order,
        and drops the key itself (replacing a token by itself is no change).

        Parameters
        ----------
        mapping : Mapping[int, Iterable[int]]
            Token id -> its candidate replacement ids, all >= 0.
        vocab_size : int, optional
            Ids must lie in ``[0, vocab_size)``; by default one past the
            largest id in `mapping`.

        Returns
        -------
        SynonymTable
            The table.

        Raises
        ------
        TypeError
            `mapping` is not a mapping of integer ids to iterables of ids.
        ValueError
            An id outside ``[0, vocab_size)``.
        """
        if not isinstance(mapping, collections.abc.Mapping):
            raise TypeError(f"synonyms must be a mapping of ids to candidate ids, got {type(mapping).__name__}")
        rows = {}
        for key, cands in mapping.items():
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, numbers.Integral):
                raise TypeError(f"synonyms keys must be integer ids, got {type(key).__name__} {key!r}")
            if isinstance(cands, (numbers.Number, str, bytes)):
                raise TypeError(f"synonyms[{key}] must be an iterable of integer ids, got {type(cands).__name__}")
            try:
                cands = list(cands)
            except TypeError:
                raise TypeError(f"synonyms[{key}] must be an iterable of integer ids, "
                                f"got {type(cands).__name__}") from None
            row = []
            for c in cands:
                if isinstance(c, (bool, np.bool_)) or not isinstance(c, numbers.Integral):
                    raise TypeError(f"synonyms[{key}] must hold integer ids, got {type(c).__name__} {c!r}")
                c = operator.index(c)
                if c != key and c not in row:
                    row.append(c)
            rows[operator.index(key)] = row
        ids = list(rows) + [c for row in rows.values() for c in row]
        if vocab_size is None:
            vocab = max(ids) + 1 if ids else 0
        else:
            if isinstance(vocab_size, (bool, np.bool_)) or not isinstance(vocab_size, numbers.Integral):
                raise TypeError(f"vocab_size must be an integer, got {type(vocab_size).__name__}")
            vocab = operator.index(vocab_size)
            if vocab < 0:
                raise ValueError(f"vocab_size must be non-negative, got {vocab}")
        for i in ids:
            if not 0 <= i < vocab:
                raise ValueError(f"synonyms holds id {i} outside the vocabulary range [0, {vocab})")
        counts = np.zeros(vocab, dtype=np.int64)
        for key, row in rows.items():
            counts[key] = len(row)
        offsets = np.zeros(vocab + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        values = np.empty(int(offsets[-1]), dtype=np.int64)
        for key, row in rows.items():
            values[offsets[key]:offsets[key + 1]] = row
        return cls(offsets, values)

    @property
    def vocab_size(self):
        """Ids of the table lie in ``[0, vocab_size)``."""
        return self._offsets.shape[0] - 1

    @property
    def offsets(self):
        """Read-only int64 array of ``vocab_size + 1`` offsets."""
        return self._offsets

    @property
    def values(self):
        """Read-only int64 array of candidate ids."""
        return self._values

    def synonyms_of(self, token):
        """Give the candidates of `token`.

        Parameters
        ----------
        token : int
            A token id.

        Returns
        -------
        numpy.ndarray
            Read-only int64 view of its candidates (empty when it has none).
        """
        token = operator.index(token)
        if not 0 <= token < self.vocab_size:
            return self._values[:0]
        return self._values[self._offsets[token]:self._offsets[token + 1]]

    def to_dict(self):
        """Convert back to a mapping.

        Returns
        -------
        dict
            ``{id: [candidates]}`` for the ids that have candidates.
        """
        counts = np.diff(self._offsets)
        return {int(t): self.synonyms_of(t).tolist() for t in np.flatnonzero(counts)}

    def without(self, protected):
        """Remove the ids in `protected` from every candidate list.

        Parameters
        ----------
        protected : collection of int
            Ids never to propose as replacements.

        Returns
        -------
        SynonymTable
            The filtered table (this one when nothing changes; cached per set
            of ids).
        """
        protected = _check_protected(protected)
        key = protected.tobytes()
        table = self._filtered.get(key)
        if table is None:
            if protected.size == 0 or not np.isin(self._values, protected).any():
                table = self
            else:
                keep = ~np.isin(self._values, protected)
                counts = _row_sums(keep, self._offsets)
                offsets = np.zeros_like(self._offsets)
                np.cumsum(counts, out=offsets[1:])
                table = SynonymTable(offsets, self._values[keep])
            if len(self._filtered) >= 8:
                self._filtered.clear()
            self._filtered[key] = table
        return table

    def _kernel_arrays(self):
        """(offsets, values) for the kernels: int32 copies when every entry fits
        (half the cache footprint of the lookups), else the int64 arrays."""
        if self._compact is None:
            if self._values.shape[0] < 2**31 and self.vocab_size < 2**31:
                self._compact = (self._offsets.astype(np.int32), self._values.astype(np.int32))
            else:
                self._compact = (self._offsets, self._values)
        return self._compact

    def __len__(self):
        return self.vocab_size

    def __repr__(self):
        return f"SynonymTable(vocab_size={self.vocab_size}, candidates={self._values.shape[0]})"


def _row_sums(flags, offsets):
    """Per-row sums of a boolean array split by CSR offsets."""
    c = np.zeros(flags.shape[0] + 1, dtype=np.int64)
    np.cumsum(flags, out=c[1:])
    return c[offsets[1:]] - c[offsets[:-1]]


def _check_synonyms(synonyms):
    if isinstance(synonyms, SynonymTable):
        return synonyms
    if isinstance(synonyms, collections.abc.Mapping):
        return SynonymTable.from_dict(synonyms)
    raise TypeError("synonyms must be a fastreg.text.SynonymTable or a dict {id: [candidate ids]}, "
                    f"got {type(synonyms).__name__}")


_NO_SYNONYMS = SynonymTable(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))


# ---- running a pipeline ------------------------------------------------------


def _run(batch, stages, table, protected, seed, epoch, indices):
    """Run validated `stages` ((op, count, frac, threshold) tuples) on `batch`."""
    limit_in_loader_worker()
    if table is None:
        table = _NO_SYNONYMS
    else:
        batch.check_ids_fit(table)
        table = table.without(protected)
    values, offsets = batch.values, batch.offsets
    if not stages or batch.n == 0:
        return batch.give_back(values.copy(), offsets.copy())
    lengths = np.diff(offsets)
    bound_lengths = lengths
    for op, count, frac, _ in stages:
        if op == OPS["insertion"]:
            if int(offsets[-1]) + count * batch.n > _INT64_MAX // 16:
                raise MemoryError(f"inserting n = {count} tokens into each of {batch.n} sequences "
                                  "needs more memory than can be addressed")
            extra = np.maximum(np.rint(frac * lengths), 1).astype(np.int64) if frac > 0 else count
            bound_lengths = bound_lengths + extra
    bound = np.zeros(batch.n + 1, dtype=np.int64)
    np.cumsum(bound_lengths, out=bound[1:])
    work = np.empty(int(bound[-1]), dtype=values.dtype)
    out_len = np.empty(batch.n, dtype=np.int64)
    syn_offsets, syn_values = table._kernel_arrays()
    if not _text.run_pipeline(values, offsets, indices, work, bound, out_len, stages, syn_offsets,
                              syn_values, protected, _flag_table(table, protected), seed, epoch):
        raise MemoryError("not enough memory for the text augmentation scratch buffers")
    new_offsets = np.zeros(batch.n + 1, dtype=np.int64)
    np.cumsum(out_len, out=new_offsets[1:])
    if new_offsets[-1] == bound[-1]:
        out = work
    else:
        out = np.empty(int(new_offsets[-1]), dtype=values.dtype)
        _text.pack(work, bound, out, new_offsets)
    return batch.give_back(out, new_offsets)


_LUT_LIMIT = 1 << 22


def _flag_table(table, protected):
    """Per-id flags for the ids below min(vocabulary + protected range, 2**22):
    1 protected, 2 unprotected with synonyms (larger ids are looked up).
    Cached on the table for the last few sets of protected ids."""
    key = protected.tobytes()
    lut = table._flags.get(key)
    if lut is None:
        if len(table._flags) >= 8:
            table._flags.clear()
        lut = table._flags[key] = _make_flag_table(table, protected)
    return lut


def _make_flag_table(table, protected):
    top = int(protected[-1]) + 1 if protected.size else 0
    size = min(max(table.vocab_size, top), _LUT_LIMIT)
    lut = np.zeros(size, dtype=np.uint8)
    has = np.diff(table.offsets[:size + 1]) > 0
    lut[:has.shape[0]][has] = 2
    small = protected[(protected >= 0) & (protected < size)]
    lut[small] = 1
    return lut


def _prepare(batch, seed, epoch, indices, protected):
    batch = _Batch(batch)
    seed = check_uint64("seed", seed)
    epoch = check_uint64("epoch", epoch)
    indices = _check_indices(indices, batch.n)
    protected = _check_protected(protected)
    return batch, seed, epoch, indices, protected


def _counted_op(name, batch, n, table, seed, epoch, indices, protected):
    """One op that takes a count `n`, alone (table validated by the caller)."""
    batch, seed, epoch, indices, protected = _prepare(batch, seed, epoch, indices, protected)
    count, frac = _check_n(n)
    stages = [(OPS[name], count, frac, 0)] if count or frac else []
    return _run(batch, stages, table, protected, seed, epoch, indices)


def _threshold(p):
    """Deletion threshold on 32-bit values: round(p * 2**32), in [0, 2**32]."""
    return int(round(p * _TWO32))


_COMMON_DOC = """seed : int
        In [0, 2**64).
    epoch : int, default 0
        In [0, 2**64); use a new epoch for every pass over the data.
    indices : array_like of int, optional
        Each sequence's dataset index (N values in [0, 2**64)); by default
        0 .. N-1.  A sequence's result depends only on (seed, epoch, index).
    protected : collection of int, default ()
        Ids that are never deleted, replaced or swapped and keep their order."""


def random_deletion(batch, p, *, seed, epoch=0, indices=None, protected=()):
    """Delete each unprotected token with probability `p`.

    Token i of a sequence is deleted iff it is unprotected and the 32-bit
    value at position i of its stream is below ``round(p * 2**32)``.  A
    sequence never loses all its unprotected tokens: if every one would be
    deleted, one of them, chosen uniformly, is kept (as EDA keeps one word),
    so a non-empty sequence never becomes empty.

    Parameters
    ----------
    batch : tuple (values, offsets) or list of numpy.ndarray
        Token ids: a ragged pair (1-D int32/int64 values, N + 1 offsets) or
        a list of 1-D integer arrays (tensors too); not modified.
    p : float
        Deletion probability in [0, 1].
    {common}

    Returns
    -------
    tuple or list
        The augmented batch, in the form of `batch`.

    Raises
    ------
    TypeError
        If the batch is malformed or not integers, `p` is not a number, or
        `seed`, `epoch` or `indices` are not integers.
    ValueError
        If the offsets are malformed, `p` is outside [0, 1], `indices` does
        not have one entry per sequence, or `seed`, `epoch` or an index is
        outside [0, 2**64).

    See Also
    --------
    EDA : The four ops in the paper's pipeline.

    Notes
    -----
    Random deletion of EDA (Wei and Zou 2019, "EDA: Easy Data Augmentation
    Techniques for Boosting Performance on Text Classification Tasks").

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> batch = [np.array([101, 7, 8, 9, 102])]
    >>> out = fastreg.text.random_deletion(batch, 0.5, seed=0, protected=(101, 102))
    >>> int(out[0][0]), int(out[0][-1])
    (101, 102)
    """
    batch, seed, epoch, indices, protected = _prepare(batch, seed, epoch, indices, protected)
    p = check_probability("p", p)
    stages = [(OPS["deletion"], 0, 0.0, _threshold(p))] if p > 0 else []
    return _run(batch, stages, None, protected, seed, epoch, indices)


def random_swap(batch, n, *, seed, epoch=0, indices=None, protected=()):
    """Swap two distinct random unprotected tokens, `n` times per sequence.

    Protected tokens keep their positions; a sequence with fewer than two
    unprotected tokens is unchanged.

    Parameters
    ----------
    batch : tuple (values, offsets) or list of numpy.ndarray
        Token ids: a ragged pair (1-D int32/int64 values, N + 1 offsets) or
        a list of 1-D integer arrays (tensors too); not modified.
    n : int or float
        Swaps per sequence: an integer >= 0, or a float in (0, 1) meaning
        ``max(1, round(n * L))`` with L the unprotected tokens of the sequence.
    {common}

    Returns
    -------
    tuple or list
        The augmented batch, in the form of `batch` (lengths unchanged).

    Raises
    ------
    TypeError
        If the batch is malformed or not integers, `n` is not a number,
        `synonyms` is not a table or mapping of ids, or `seed`, `epoch` or
        `indices` are not integers.
    ValueError
        If the offsets are malformed, `n` is negative or a fraction outside
        (0, 1), `indices` does not have one entry per sequence, or `seed`,
        `epoch` or an index is outside [0, 2**64).

    See Also
    --------
    EDA : The four ops in the paper's pipeline.

    Notes
    -----
    Random swap of EDA (Wei and Zou 2019).

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> out = fastreg.text.random_swap([np.array([1, 2, 3, 4])], 1, seed=0)
    >>> sorted(out[0].tolist())
    [1, 2, 3, 4]
    """
    return _counted_op("swap", batch, n, None, seed, epoch, indices, protected)


def random_insertion(batch, n, synonyms, *, seed, epoch=0, indices=None, protected=()):
    """Insert a synonym of a random token at a random place, `n` times per sequence.

    Each time, the source is a uniformly chosen unprotected token of the
    current sequence that has synonyms (earlier insertions included), the new
    token a uniformly chosen synonym of it, and the place a uniformly chosen
    gap next to an unprotected token.  A sequence with no such source is
    unchanged; any other grows by exactly `n` tokens.

    Parameters
    ----------
    batch : tuple (values, offsets) or list of numpy.ndarray
        Token ids: a ragged pair (1-D int32/int64 values, N + 1 offsets) or
        a list of 1-D integer arrays (tensors too); not modified.
    n : int or float
        Insertions per sequence, as `n` of :func:`random_swap`.
    synonyms : SynonymTable or dict
        ``{id: [candidate ids]}`` dicts go through :meth:`SynonymTable.from_dict`.
    {common}

    Returns
    -------
    tuple or list
        The augmented batch, in the form of `batch`.

    Raises
    ------
    TypeError
        If the batch is malformed or not integers, `n` is not a number,
        `synonyms` is not a table or mapping of ids, or `seed`, `epoch` or
        `indices` are not integers.
    ValueError
        If the offsets are malformed, `n` is negative or a fraction outside
        (0, 1), `indices` does not have one entry per sequence, or `seed`,
        `epoch` or an index is outside [0, 2**64).

    See Also
    --------
    EDA : The four ops in the paper's pipeline.

    Notes
    -----
    Random insertion of EDA (Wei and Zou 2019).

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> out = fastreg.text.random_insertion([np.array([1, 2, 3])], 2, {2: [20]}, seed=0)
    >>> len(out[0])
    5
    """
    return _counted_op("insertion", batch, n, _check_synonyms(synonyms), seed, epoch, indices, protected)


def synonym_replacement(batch, n, synonyms, *, seed, epoch=0, indices=None, protected=()):
    """Replace up to `n` distinct unprotected tokens that have synonyms with a random synonym each.

    The positions are a uniform sample without replacement of the positions
    holding an unprotected token with synonyms (all of them when there are
    at most `n`); each gets a uniformly chosen synonym of its token.

    Parameters
    ----------
    batch : tuple (values, offsets) or list of numpy.ndarray
        Token ids: a ragged pair (1-D int32/int64 values, N + 1 offsets) or
        a list of 1-D integer arrays (tensors too); not modified.
    n : int or float
        Replacements per sequence, as `n` of :func:`random_swap`.
    synonyms : SynonymTable or dict
        As in :func:`random_insertion`.
    {common}

    Returns
    -------
    tuple or list
        The augmented batch, in the form of `batch` (lengths unchanged).

    Raises
    ------
    TypeError
        If the batch is malformed or not integers, `n` is not a number,
        `synonyms` is not a table or mapping of ids, or `seed`, `epoch` or
        `indices` are not integers.
    ValueError
        If the offsets are malformed, `n` is negative or a fraction outside
        (0, 1), `indices` does not have one entry per sequence, or `seed`,
        `epoch` or an index is outside [0, 2**64).

    See Also
    --------
    EDA : The four ops in the paper's pipeline.

    Notes
    -----
    Synonym replacement of EDA (Wei and Zou 2019), on token ids with the
    caller's synonym table in place of WordNet.

    Examples
    --------
    >>> import numpy as np
    >>> import fastreg
    >>> out = fastreg.text.synonym_replacement([np.array([1, 2, 3])], 1, {2: [20]}, seed=0)
    >>> out[0].tolist()
    [1, 20, 3]
    """
    return _counted_op("replacement", batch, n, _check_synonyms(synonyms), seed, epoch, indices, protected)


for _fn in (random_deletion, random_swap, random_insertion, synonym_replacement):
    _fn.__doc__ = (_fn.__doc__ or "").replace("{common}", _COMMON_DOC)


class EDA:
    """Easy Data Augmentation (Wei and Zou 2019) on batches of token ids.

    Each sequence goes through a pipeline of the four ops, in the paper's
    order: synonym replacement, random insertion, random swap, random
    deletion, each op working on the output of the one before.  With L the
    unprotected tokens of the *input* sequence, the first three use
    ``n = max(1, round(alpha * L))`` (the paper's n = alpha * l, computed
    once per sentence), deletion uses probability `p_rd`.  An alpha (or
    `p_rd`) of 0 disables its op, as does ``synonyms=None`` for replacement
    and insertion.  Every op uses the stream it would use alone (same seed,
    epoch, index, op), so an EDA with a single op enabled gives what that op
    gives with the same n.

    The paper produces one sentence per op; the pipeline gives one augmented
    sequence per input, which is what a training loop over batches wants.

    Parameters
    ----------
    alpha_sr, alpha_ri, alpha_rs : float, default 0.1
        Fractions in [0, 1] of the sequence changed by synonym replacement,
        random insertion and random swap.
    p_rd : float, default 0.1
        Deletion probability in [0, 1].
    synonyms : SynonymTable or dict, optional
        Candidate replacements per id, for replacement and insertion
        (without it only swap and deletion run).
    protected : collection of int, default ()
        Ids that are never deleted, replaced or swapped (padding, [CLS],
        [SEP], ...).
    seed : int, default 0
        In [0, 2**64).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an alpha or `p_rd` is outside [0, 1], or `seed` outside
        [0, 2**64).

    See Also
    --------
    random_deletion, random_swap, random_insertion, synonym_replacement

    Notes
    -----
    Wei and Zou 2019, "EDA: Easy Data Augmentation Techniques for Boosting
    Performance on Text Classification Tasks", on token ids.

    Examples
    --------
    >>> import numpy as np
    >>> from fastreg.text import EDA
    >>> values = np.array([101, 5, 6, 7, 102, 101, 8, 5, 102], np.int32)
    >>> offsets = np.array([0, 5, 9])
    >>> eda = EDA(synonyms={5: [7, 9]}, protected=(0, 101, 102), seed=3)
    >>> values2, offsets2 = eda((values, offsets), epoch=1, indices=[17, 4])
    >>> len(offsets2)
    3
    """

    def __init__(self, alpha_sr=0.1, alpha_ri=0.1, alpha_rs=0.1, p_rd=0.1, synonyms=None,
                 protected=(), seed=0):
        self.alpha_sr = check_probability("alpha_sr", alpha_sr)
        self.alpha_ri = check_probability("alpha_ri", alpha_ri)
        self.alpha_rs = check_probability("alpha_rs", alpha_rs)
        self.p_rd = check_probability("p_rd", p_rd)
        self.synonyms = None if synonyms is None else _check_synonyms(synonyms)
        self.protected = _check_protected(protected)
        self.seed = check_uint64("seed", seed)
        self._calls = CallCounter()

    def stages(self):
        """List the enabled ops in the order they run.

        Returns
        -------
        list of tuple
            One (op, count, frac, threshold) per enabled op: its number in
            ``OPS``, and the count, fraction or deletion threshold it uses.
        """
        stages = []
        if self.synonyms is not None and self.alpha_sr > 0:
            stages.append((OPS["replacement"], 0, self.alpha_sr, 0))
        if self.synonyms is not None and self.alpha_ri > 0:
            stages.append((OPS["insertion"], 0, self.alpha_ri, 0))
        if self.alpha_rs > 0:
            stages.append((OPS["swap"], 0, self.alpha_rs, 0))
        if self.p_rd > 0:
            stages.append((OPS["deletion"], 0, 0.0, _threshold(self.p_rd)))
        return stages

    def __call__(self, batch, *, epoch=0, indices=None):
        """Augment `batch` (a (values, offsets) tuple or a list of arrays).

        Parameters
        ----------
        batch : tuple (values, offsets) or list of numpy.ndarray
            Token ids: a ragged pair (1-D int32/int64 values, N + 1 offsets) or
            a list of 1-D integer arrays (tensors too); not modified.
        epoch : int, default 0
            In [0, 2**64); use a new epoch for every pass over the data.
        indices : array_like of int, optional
            Dataset indices of the sequences, in [0, 2**64): a sequence's
            result then depends only on (seed, epoch, index).  Without them
            every call draws anew: call n of this object in this process and
            DataLoader worker takes indices derived from n (see
            :mod:`fastreg.transforms`), reproducible from the seed in one
            process.

        Returns
        -------
        tuple or list
            The augmented batch, in the form of `batch`.

        Raises
        ------
        TypeError
            If the batch is malformed or not integers, or `epoch` or
            `indices` are not integers.
        ValueError
            If the offsets are malformed, `indices` does not have one entry
            per sequence, or `epoch` or an index is outside [0, 2**64).
        """
        auto = indices is None
        batch, seed, epoch, indices, protected = _prepare(batch, self.seed, epoch, indices,
                                                          self.protected)
        if auto:
            indices = self._calls.next_indices(batch.n)
        return _run(batch, self.stages(), self.synonyms, protected, seed, epoch, indices)

    def __repr__(self):
        return (f"EDA(alpha_sr={self.alpha_sr}, alpha_ri={self.alpha_ri}, alpha_rs={self.alpha_rs}, "
                f"p_rd={self.p_rd}, synonyms={self.synonyms!r}, protected={self.protected.tolist()}, "
                f"seed={self.seed})")
