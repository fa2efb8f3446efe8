"""Text augmentation on sentences and token ids: random deletion, random
swap, random insertion and synonym replacement (EDA, Wei and Zou 2019),
batched.

Batches.  A batch is one of
- a list of ``str`` (sentences), returned as a list of ``str``;
- a list of lists of ints (``tokenizer(texts)["input_ids"]``), returned as a
  list of lists of ints;
- a list of 1-D integer arrays, returned as a list of arrays of the input
  arrays' dtypes (views into one new buffer);
- a ragged pair ``(values, offsets)``: a 1-D int32 or int64 array of token
  ids and an integer array of N + 1 offsets (CSR style: sequence i is
  ``values[offsets[i]:offsets[i+1]]``), returned as a new pair.
A tuple holding arrays (numpy or torch) must be such a pair of two integer
arrays; a tuple without arrays, such as the sentences ``zip(*pairs)``
gives, is read as a list (and given back as one).
One sample -- a ``str``, or a 1-D integer array or tensor of token ids -- is
given back as one sample of its form (as a torchvision transform called on
one image returns one image); a list is always a batch, so one list of ids
goes as ``[ids]``.
Inputs are never modified.

Sentences.  A sentence is split into words and punctuation: a word is a run
of ASCII letters, digits, ``_`` and non-ASCII characters, and of the
characters these rules join to them, in order:

1. between two word characters an apostrophe, ``.`` or ``@`` (``don't``,
   ``3.5``, ``example.com``, ``ann@example.com``); between two digits ``,``
   or ``:`` (``1,000``, ``10:30``); ``%`` right after a digit (``3.5%``);
2. URLs: from the start of a word of ASCII letters right before ``://``, or
   of a word that starts ``www.`` (any case), everything up to the next
   whitespace, except trailing ``.,;:!?)]}'"`` (``(see https://a.org/x).``);
3. a ``.`` right after a word of single ASCII letters and dots (``U.S.``,
   ``e.g.``).

Any other character that is not ASCII whitespace is a punctuation token of
its own.  These are the usual rules of word tokenizers (numbers, URLs,
emails and dotted abbreviations stay whole).  Words are looked up in the
synonym table after lowering ASCII letters; punctuation is protected.  A word
of one character, or holding a digit or one of ``.,:@%/`` (numbers, URLs,
emails, abbreviations), is never replaced by a synonym nor inserted as one.
The result is joined with one space between tokens, except that a
punctuation token that touched its neighbour in the input still touches
whatever is next to it on that side ("(a, b)", "well-known", "x!" keep
their spacing); leading, trailing and repeated whitespace is not kept.
Unchanged tokens are written exactly as they were, synonyms as the table
spells them (lowercase for the shipped English table).  With a `tokenizer`
(a callable str -> list of str), its tokens are used instead and joined with
single spaces; a token without a word character is punctuation.  By default
the shipped English synonyms (:func:`english_synonyms`) are used, and the
EDA paper's stop words (:data:`STOP_WORDS`) are neither replaced nor used as
a source or a candidate of insertion (they may still be swapped or deleted,
as in the paper); pass ``stop_words=()`` to change every word.

Protected ids.  Tokens whose id is in `protected` (padding, [CLS], [SEP],
...) are never deleted, replaced or swapped and keep their order; no op
inserts them (they are removed from the synonym candidates), and insertions
go only into gaps next to an unprotected token, so nothing lands before a
leading [CLS] or among trailing padding.  A sequence without unprotected
tokens is returned unchanged by every op.

Counts.  `n` is an integer >= 0, or a float in (0, 1): a fraction of the
sequence's length L, counted in unprotected tokens, giving
``n = max(1, floor(n * L))`` per sequence (the EDA paper's ``max(1, int(alpha * L))``).

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
import itertools
import numbers
import operator
import re

import numpy as np

from fastreg import _text
from fastreg._calls import CallCounter
from fastreg._interop import arrays_from, is_tensor, like_input
from fastreg._validate import check_probability, check_uint64
from fastreg.random import DOMAINS, derive_stream, default_seed
from fastreg.random import bits as _random_bits
from fastreg.synonyms import (
    _INT64_MAX,
    STOP_WORDS,
    SynonymTable,
    _ascii_lower,
    _check_offsets,
    _check_protected,
    _check_word_table,
    _check_words,
    _int_array,
    _Protected,
    english_synonyms,
)

__all__ = ["EDA", "STOP_WORDS", "BackTranslation", "SynonymTable", "english_synonyms", "random_deletion",
           "random_insertion", "random_swap", "synonym_replacement"]



def __dir__():  # dir() and tab completion list the public names only
    return list(__all__)


OPS = {"deletion": 1, "swap": 2, "insertion": 3, "replacement": 4}
_TWO32 = 1 << 32


# ---- argument checks --------------------------------------------------------


_BATCH_FORMS = ("batch must be a list of str, of lists of int ids or of 1-D integer arrays, "
                "a (values, offsets) tuple of two integer arrays, or one str or 1-D integer array")
_INT_DTYPES = frozenset(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                              np.uint32, np.uint64))


def _kind_of(x):
    if isinstance(x, str):
        return "text"
    if isinstance(x, (list, tuple)):
        return "lists"
    if isinstance(x, np.ndarray):
        return "arrays"
    return None


class _Batch:
    """A validated batch and how to give results back in the caller's form.

    ``kind`` is "text" (``texts``: the list of str), or one of "pair",
    "arrays", "lists" with int64 ``offsets`` and ``values``: one contiguous
    int32 or int64 array, or the caller's list of contiguous arrays of one
    of those dtypes, which the kernels read in place."""

    def __init__(self, batch):
        self.tensors = False  # give results back as torch tensors
        self.dtypes = None
        self.single = isinstance(batch, str) or (
            (isinstance(batch, np.ndarray) or is_tensor(batch)) and batch.ndim == 1)
        if self.single:  # one sample, given back as one
            batch = [batch]
        if isinstance(batch, tuple):
            arrays = [isinstance(x, np.ndarray) or is_tensor(x) for x in batch]
            if not any(arrays):
                batch = list(batch)  # sentences or id lists, as zip(*pairs) gives them
            elif len(batch) != 2 or not all(arrays):
                kinds = ", ".join(type(x).__name__ for x in batch)
                raise TypeError(f"batch is a tuple of ({kinds}): a tuple holding arrays must be a "
                                "(values, offsets) pair of two integer arrays (numpy or torch); pass "
                                "offsets as an array, or a batch of sequences as a list")
        if isinstance(batch, tuple):
            (values, offsets), self.tensors = arrays_from("batch", list(batch))
            if not isinstance(values, np.ndarray):
                raise TypeError(f"values must be a numpy.ndarray, got {type(values).__name__}")
            if values.dtype not in (np.int32, np.int64):
                raise TypeError(f"values must have dtype int32 or int64, got {values.dtype}")
            if values.ndim != 1:
                raise ValueError(f"values must be 1-D, got shape {values.shape}")
            self.kind = "pair"
            self.offsets = _check_offsets(offsets, values.shape[0])
            self.values = np.ascontiguousarray(values)
        elif isinstance(batch, list):
            batch, self.tensors = arrays_from("batch", batch)
            self.kind = _kind_of(batch[0]) if batch else "arrays"
            if self.kind is None:
                hint = "; pass one sequence of ids as [ids]" if isinstance(batch[0], numbers.Integral) else ""
                raise TypeError(f"{_BATCH_FORMS}; batch[0] is a {type(batch[0]).__name__}{hint}")
            # one pass in C (for arrays, the one that scans them); the loop only to name the culprit
            if self.kind != "arrays" and len(set(map(type, batch))) > 1:
                self._one_form(batch)
            getattr(self, "_take_" + self.kind)(batch)
        else:
            raise TypeError(f"{_BATCH_FORMS}, got {type(batch).__name__}")
        self.n = len(self.texts) if self.kind == "text" else self.offsets.shape[0] - 1

    def _one_form(self, batch):
        for i, x in enumerate(batch):
            if _kind_of(x) != self.kind:
                raise TypeError(f"batch[{i}] must be a {type(batch[0]).__name__} like batch[0] "
                                f"(one form per batch), got {type(x).__name__}")

    def _take_text(self, texts):
        self.texts = texts

    def _take_arrays(self, arrays):
        scan = _text.scan_arrays(arrays)  # one pass in C
        if scan is None:
            self._one_form(arrays)
        self.offsets, dtype, contiguous = scan
        if dtype is None or dtype not in _INT_DTYPES or dtype == np.uint64:
            for i, a in enumerate(arrays):  # name the culprit
                if a.dtype not in _INT_DTYPES:
                    raise TypeError(f"batch[{i}] must have an integer dtype, got {a.dtype}")
                if a.ndim != 1:
                    raise ValueError(f"batch[{i}] must be 1-D, got shape {a.shape}")
                if a.dtype == np.uint64 and a.size and int(a.max()) > _INT64_MAX:
                    raise ValueError(f"batch[{i}] holds values past 2**63 - 1")
        self.dtypes = [dtype] if dtype is not None else [a.dtype for a in arrays]
        kind = np.int32 if set(self.dtypes) == {np.dtype(np.int32)} else np.int64
        if arrays and dtype == kind and contiguous:
            self.values = arrays  # the kernels read each array in place
        else:
            self.values = np.concatenate(arrays, dtype=kind, casting="unsafe") if arrays else np.empty(0, kind)

    def _take_lists(self, lists):
        self._set_lengths([len(x) for x in lists])
        flat = list(itertools.chain.from_iterable(lists))
        try:
            values = np.array(flat) if flat else np.empty(0, np.int64)
        except (ValueError, OverflowError):
            values = np.array(flat, dtype=object)
        if values.dtype not in _INT_DTYPES or values.dtype == np.uint64:
            bad = next((x for x in flat if isinstance(x, bool) or not isinstance(x, numbers.Integral)
                        or not -(1 << 63) <= x <= _INT64_MAX), None)
            raise TypeError(f"batch must hold int ids in int64 range, got {type(bad).__name__} {bad!r}")
        self.values = values.astype(np.int64, copy=False)

    def _set_lengths(self, lengths):
        self.offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.offsets[1:])

    def check_ids_fit(self, table):
        """Every synonym id must fit the dtypes results are given back in."""
        top = table._max_id
        for d in set(self.dtypes or [self.values.dtype]):
            if top > np.iinfo(d).max:
                raise ValueError(f"synonyms holds ids up to {top}, which do not fit the batch dtype {d}")

    def give_back(self, values, offsets, stops=None):
        """Results in the caller's form: sequence i is values[offsets[i]:offsets[i + 1]],
        or values[offsets[i]:stops[i]] when `stops` is given (not for pairs)."""
        if self.kind == "pair":
            return like_input(values, self.tensors), like_input(offsets, self.tensors)
        if stops is None:
            offsets, stops = offsets[:-1], offsets[1:]
        if self.kind == "lists":
            flat = values.tolist()
            return [flat[a:b] for a, b in zip(offsets.tolist(), stops.tolist())]
        if len(self.dtypes) == 1:  # views of one buffer
            parts = _text.views(values.astype(self.dtypes[0], copy=False), offsets, stops)
        else:
            parts = [values[a:b].astype(d) for a, b, d in zip(offsets.tolist(), stops.tolist(), self.dtypes)]
        if self.tensors:
            return [like_input(p, True) for p in parts]
        return parts


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


def _check_indices(indices, n):
    if indices is None:
        return None
    a = _int_array("indices", indices, "a 1-D integer array")
    if a.shape != (n,):
        raise ValueError(f"indices must have shape ({n},), one per sequence, got {a.shape}")
    if a.dtype.kind == "i" and n and int(a.min()) < 0:
        raise ValueError("indices must be non-negative")
    return np.ascontiguousarray(a, dtype=np.uint64)


_NO_SYNONYMS = SynonymTable(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))


# ---- running a pipeline ------------------------------------------------------


def _run(batch, stages, table, protected, seed, epoch, indices, stop_words=None, tokenizer=None):
    """Run validated `stages` ((op, count, frac, threshold) tuples) on `batch`;
    `protected` is (ids, words); sentences use `stop_words` and `tokenizer`.
    A single sample comes back as one."""
    out = _run_batch(batch, stages, table, protected, seed, epoch, indices, stop_words, tokenizer)
    return out[0] if batch.single else out


def _run_batch(batch, stages, table, protected, seed, epoch, indices, stop_words, tokenizer):
    if batch.kind == "text":
        context = _word_context(table, STOP_WORDS if stop_words is None else stop_words, protected[1])
        if tokenizer is not None:
            return _run_tokenized(batch.texts, tokenizer, stages, context, seed, epoch, indices)
        return _run_text(batch.texts, stages, context, seed, epoch, indices)
    protected = protected[0]
    if table is None:
        table = _NO_SYNONYMS
    else:
        batch.check_ids_fit(table)
        table = table.without(protected)
    values, offsets = batch.values, batch.offsets
    if not stages or batch.n == 0:
        flat = np.concatenate(values) if isinstance(values, list) else values.copy()
        return batch.give_back(flat, offsets.copy())
    if batch.kind == "pair":
        return batch.give_back(*_run_ids(values, offsets, stages, table, protected, seed, epoch, indices))
    # other forms are views (or copies) of each sequence: no packing into one buffer
    return batch.give_back(*_run_ids(values, offsets, stages, table, protected, seed, epoch, indices,
                                     packed=False))


def _run_ids(values, offsets, stages, table, protected, seed, epoch, indices, text_ids=False, packed=True):
    """(values, offsets) after `stages`, on a non-empty batch, or unpacked
    (work, starts, stops) with sequence i at work[starts[i]:stops[i]];
    `values` is one array or a list of contiguous arrays of one dtype."""
    n = offsets.shape[0] - 1
    dtype = values[0].dtype if isinstance(values, list) else values.dtype
    lengths = np.diff(offsets)
    inserted, _ = _growth(stages, lengths, n)
    bound = _cumulative(lengths + inserted)
    work = np.empty(int(bound[-1]), dtype=dtype)
    out_len = np.empty(n, dtype=np.int64)
    syn_offsets, syn_values = table._kernel_arrays()
    if not _text.run_pipeline(values, offsets, indices, work, bound, out_len, stages, syn_offsets,
                              syn_values, protected, _flag_table(table, protected), seed, epoch, text_ids):
        raise MemoryError("not enough memory for the text augmentation scratch buffers")
    if not packed:
        return work, bound[:-1], bound[:-1] + out_len
    new_offsets = _cumulative(out_len)
    if new_offsets[-1] == bound[-1]:
        return work, new_offsets
    out = np.empty(int(new_offsets[-1]), dtype=dtype)
    _text.pack(work, bound, out, new_offsets)
    return out, new_offsets


def _cumulative(lengths):
    out = np.zeros(lengths.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _growth(stages, lengths, n):
    """Upper bounds of the tokens inserted and of those replaced per sequence
    of `lengths` (int64, an upper bound of its unprotected tokens)."""
    counts = [count for op, count, _, _ in stages if op in (OPS["insertion"], OPS["replacement"])]
    total = int(lengths.sum()) if counts else 0
    for count in counts:
        if total + count * n > _INT64_MAX // 64:
            raise MemoryError(f"changing n = {count} tokens in each of {n} sequences "
                              "needs more memory than can be addressed")
    return _text.growth(lengths, stages)


def _run_text(texts, stages, context, seed, epoch, indices):
    """Sentences through the kernels' own splitting and joining (fr_text.h)."""
    held, addresses, sizes, nul = _text.utf8_bytes(texts)  # read in place where they are ASCII
    if nul >= 0:
        raise ValueError(f"batch[{nul}] holds a NUL character, which sentences may not contain")
    if not texts:
        return []
    inserted, replaced = _growth(stages, sizes, len(texts))  # a sentence has no more tokens than bytes
    bound = _cumulative(sizes + inserted)
    # every token with a space, plus the words that insertion and replacement may write
    out_bound = _cumulative(2 * sizes + 1 + (inserted + replaced) * (context.longest + 1))
    syn_offsets, syn_values = context.table._kernel_arrays()
    out = _text.run_text(addresses, sizes, out_bound, indices, bound, stages, syn_offsets, syn_values,
                         context.protected, context.flags, seed, epoch, context.blob,
                         context.word_offsets, context.slots, context.oov_id, context.punct_id)
    del held  # the kernel has read the bytes
    if out is None:
        raise MemoryError("not enough memory for the text augmentation buffers")
    return out


_WORD_CHAR = re.compile(r"[0-9A-Za-z_\u0080-\U0010ffff]")


def _run_tokenized(texts, tokenizer, stages, context, seed, epoch, indices):
    """Sentences split by a user tokenizer, run as ids that carry each token's
    place (as the kernels' own splitting does) and joined with spaces."""
    token_lists = []
    for i, t in enumerate(texts):
        tokens = tokenizer(t)
        if not isinstance(tokens, (list, tuple)) or not all(isinstance(x, str) for x in tokens):
            bad = tokens if not isinstance(tokens, (list, tuple)) else next(x for x in tokens if not isinstance(x, str))
            raise TypeError(f"tokenizer must return a list of str, got {type(bad).__name__} {bad!r} "
                            f"for batch[{i}]")
        token_lists.append(tokens)
    if not texts:
        return []
    number = context.number
    values = np.array([(number.get(_ascii_lower(x), context.oov_id) if _WORD_CHAR.search(x) else
                        context.punct_id) | (k + 1) << 32
                       for tokens in token_lists for k, x in enumerate(tokens)], dtype=np.int64)
    offsets = _cumulative(np.array([len(t) for t in token_lists], dtype=np.int64))
    if stages and values.size:
        values, offsets = _run_ids(values, offsets, stages, context.table, context.protected, seed, epoch,
                                   indices, text_ids=True)
    words, out, flat, bounds = context.words, [], values.tolist(), offsets.tolist()
    for tokens, a, b in zip(token_lists, bounds, bounds[1:]):
        out.append(" ".join(tokens[(v >> 32) - 1] if v >> 32 else words[v] for v in flat[a:b]))
    return out


class _WordContext:
    """What the kernels read to run sentences with one table, set of stop
    words and set of protected words: the word list (the table's words, then
    the protected words it lacks) as bytes with a hash, the candidates with
    the stop words' rows emptied and the stop and protected words removed,
    and the flags (protected words and punctuation protected)."""

    def __init__(self, table, stop_words, protected_words):
        number = table._word_numbers()
        self.words = table.words + tuple(sorted(w for w in protected_words if w not in number))
        n_words = len(self.words)
        self.oov_id, self.punct_id = n_words, n_words + 1
        self.number = {w: i for i, w in enumerate(self.words)} if n_words > len(number) else number
        rows = np.repeat(np.arange(table.vocab_size), np.diff(table.offsets))
        stop = np.array([number[w] for w in stop_words if w in number]
                        + [i for w, i in number.items() if not _takes_synonyms(w)], dtype=np.int64)
        dropped = np.concatenate([stop, [number[w] for w in protected_words if w in number]])
        keep = ~np.isin(table.values, dropped) & ~np.isin(rows, stop)
        counts = np.bincount(rows[keep], minlength=n_words)
        self.table = SynonymTable(_cumulative(counts), table.values[keep])
        self.protected = np.array(sorted([self.number[w] for w in protected_words] + [self.punct_id]),
                                  dtype=np.int64)
        self.flags = _make_flag_table(self.table, self.protected)
        encoded = [w.encode("utf-8", "surrogatepass") for w in self.words]
        self.blob = np.frombuffer(b"".join(encoded) + bytes(16), dtype=np.uint8)  # the kernel copies 16 bytes at a time
        self.word_offsets = _cumulative(np.array([len(w) for w in encoded], dtype=np.int64))
        self.slots = _text.hash_words(self.blob, self.word_offsets)
        self.longest = max(map(len, encoded), default=0)


_NOT_A_PLAIN_WORD = re.compile(r"[0-9.,:@%/]")


def _takes_synonyms(word):
    """Whether a word may be replaced by, or stand in for, a synonym: not a
    single character (U, s, a), nor a number, URL, email or abbreviation."""
    return len(word) > 1 and _NOT_A_PLAIN_WORD.search(word) is None


def _word_context(table, stop_words, protected_words):
    table = english_synonyms() if table is None else _check_word_table(table)
    key = (stop_words, protected_words)
    context = table._contexts.get(key)
    if context is None:
        if len(table._contexts) >= 8:
            table._contexts.clear()
        context = table._contexts[key] = _WordContext(table, stop_words, protected_words)
    return context


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
    """The checked arguments every op takes; `protected` is checked unless
    it is already an (ids, words) pair."""
    batch = _Batch(batch)
    seed = check_uint64("seed", seed)
    epoch = check_uint64("epoch", epoch)
    if batch.single and indices is not None and np.ndim(indices) == 0:
        indices = [indices]  # the index of the one sample
    indices = _check_indices(indices, batch.n)
    if not (isinstance(protected, _Protected)):
        protected = _check_protected(protected)
    return batch, seed, epoch, indices, protected


def _check_options(stop_words, tokenizer):
    """(stop words or None for the default, tokenizer or None)."""
    if stop_words is not None:
        stop_words = _check_words("stop_words", stop_words)
    if tokenizer is not None and not callable(tokenizer):
        raise TypeError(f"tokenizer must be a callable str -> list of str, got {type(tokenizer).__name__}")
    return stop_words, tokenizer


def _check_synonyms(synonyms):
    if synonyms is None or isinstance(synonyms, SynonymTable):
        return synonyms
    if isinstance(synonyms, collections.abc.Mapping):
        if any(isinstance(k, str) for k in synonyms):
            return SynonymTable.from_words(synonyms)
        return SynonymTable.from_dict(synonyms)
    raise TypeError("synonyms must be a fastreg.text.SynonymTable, a dict {id: [candidate ids]} or "
                    f"{{word: [words]}}, got {type(synonyms).__name__}")


def _counted_op(name, batch, n, table, seed, epoch, indices, protected, stop_words=None, tokenizer=None):
    """One op that takes a count `n`, alone."""
    batch, seed, epoch, indices, protected = _prepare(batch, seed, epoch, indices, protected)
    count, frac = _check_n(n)
    stop_words, tokenizer = _check_options(stop_words, tokenizer)
    table = _check_synonyms(table)
    if name in ("insertion", "replacement") and table is None and batch.kind != "text":
        raise TypeError(f"synonyms must be given for token ids (e.g. SynonymTable.from_vocab(vocab)); "
                        "only sentences default to english_synonyms()")
    stages = [(OPS[name], count, frac, 0)] if count or frac else []
    return _run(batch, stages, table, protected, seed, epoch, indices, stop_words, tokenizer)


def _threshold(p):
    """Deletion threshold on 32-bit values: round(p * 2**32), in [0, 2**32]."""
    return int(round(p * _TWO32))


_BATCH_DOC = """batch : list of str, list of lists of int, list of numpy.ndarray, tuple (values, offsets), str or numpy.ndarray
        See the module documentation; the result has the same form (a
        tuple of str or of lists is read, and given back, as a list).  One
        str, or one 1-D integer array, is one sample and gives one back."""

_COMMON_DOC = """seed : int
        In [0, 2**64).
    epoch : int, default 0
        In [0, 2**64); use a new epoch for every pass over the data.
    indices : array_like of int, optional
        Each sequence's dataset index (N values in [0, 2**64), or one int
        for one sample); by default 0 .. N-1.  A sequence's result depends
        only on (seed, epoch, index).
    protected : collection of int or str, default ()
        Ids (for token ids) and words (for sentences, matched in ASCII
        lowercase) that are never deleted, replaced or swapped and keep
        their order."""

_TOKENIZER_DOC = """tokenizer : callable, optional
        For sentences: str -> list of str, instead of the built-in split
        into words and punctuation; the tokens are joined with spaces."""

_SYNONYMS_DOC = """synonyms : SynonymTable or dict, optional
        ``{id: [ids]}`` or ``{word: [words]}`` dicts go through
        :meth:`SynonymTable.from_dict` or :meth:`SynonymTable.from_words`.
        Sentences need a table with words and default to
        :func:`english_synonyms`; token ids need a table."""

_STOP_DOC = """stop_words : collection of str, optional
        For sentences: words never replaced nor used in insertions; by
        default :data:`STOP_WORDS` (the EDA paper's)."""

_RAISES_DOC = """Raises
    ------
    TypeError
        A malformed batch or one mixing forms, non-integer ids, a tokenizer
        returning other than a list of str, arguments of the wrong type.
    ValueError
        Malformed offsets, arguments out of range, a NUL character in a sentence."""


def random_deletion(batch, p, *, seed, epoch=0, indices=None, protected=(), tokenizer=None):
    """Delete each unprotected token with probability `p` (EDA's random deletion).

    Token i of a sequence is deleted iff it is unprotected and the 32-bit
    value at position i of its stream is below ``round(p * 2**32)``.  A
    sequence never loses all its unprotected tokens: if every one would be
    deleted, one of them, chosen uniformly, is kept (as EDA keeps one word),
    so a non-empty sequence never becomes empty.

    Parameters
    ----------
    {batch}
    p : float
        Deletion probability in [0, 1].
    {common}
    {tokenizer}

    Returns
    -------
    list, tuple, str or numpy.ndarray
        The augmented batch, in the form of `batch`.

    {raises}

    See Also
    --------
    EDA : The four ops in a pipeline.

    Examples
    --------
    >>> from fastreg.text import random_deletion
    >>> out = random_deletion(["a cat sat on the mat ."], 0.3, seed=0)
    """
    batch, seed, epoch, indices, protected = _prepare(batch, seed, epoch, indices, protected)
    p = check_probability("p", p)
    _, tokenizer = _check_options(None, tokenizer)
    stages = [(OPS["deletion"], 0, 0.0, _threshold(p))] if p > 0 else []
    return _run(batch, stages, None, protected, seed, epoch, indices, None, tokenizer)


def random_swap(batch, n, *, seed, epoch=0, indices=None, protected=(), tokenizer=None):
    """Swap two distinct random unprotected tokens, `n` times per sequence (EDA's random swap).

    Protected tokens (and punctuation in sentences) keep their positions; a
    sequence with fewer than two unprotected tokens is unchanged.

    Parameters
    ----------
    {batch}
    n : int or float
        Swaps per sequence: an integer >= 0, or a float in (0, 1) meaning
        ``max(1, floor(n * L))`` with L the unprotected tokens of the sequence
        (the EDA paper's ``max(1, int(alpha * len))``).
    {common}
    {tokenizer}

    Returns
    -------
    list, tuple, str or numpy.ndarray
        The augmented batch, in the form of `batch` (lengths unchanged).

    {raises}

    See Also
    --------
    EDA : The four ops in a pipeline.

    Examples
    --------
    >>> from fastreg.text import random_swap
    >>> out = random_swap([[101, 7, 8, 9, 102]], 1, seed=0, protected=(101, 102))
    """
    return _counted_op("swap", batch, n, None, seed, epoch, indices, protected, None, tokenizer)


def random_insertion(batch, n, synonyms=None, *, seed, epoch=0, indices=None, protected=(),
                     stop_words=None, tokenizer=None):
    """Insert a synonym of a random token at a random place, `n` times per sequence (EDA's random insertion).

    Each time, the source is a uniformly chosen unprotected token of the
    current sequence that has synonyms (earlier insertions included), the new
    token a uniformly chosen synonym of it, and the place a uniformly chosen
    gap next to an unprotected token.  A sequence with no such source is
    unchanged; any other grows by exactly `n` tokens.  The paper's eda.py
    also inserts a synonym of a random word of the sentence, but tries up to
    10 random words (stop words included) for one with synonyms, inserts the
    first synonym of its list, and never after the last word.

    Parameters
    ----------
    {synonym_op_parameters}

    Returns
    -------
    list, tuple, str or numpy.ndarray
        The augmented batch, in the form of `batch`.

    {raises}

    See Also
    --------
    EDA : The four ops in a pipeline.

    Examples
    --------
    >>> from fastreg.text import random_insertion
    >>> out = random_insertion(["the quick brown fox"], 1, seed=0)
    """
    return _counted_op("insertion", batch, n, synonyms, seed, epoch, indices, protected, stop_words,
                       tokenizer)


def synonym_replacement(batch, n, synonyms=None, *, seed, epoch=0, indices=None, protected=(),
                        stop_words=None, tokenizer=None):
    """Replace up to `n` distinct tokens that have synonyms with a random synonym each (EDA's synonym replacement).

    The positions are a uniform sample without replacement of the positions
    holding an unprotected token with synonyms (all of them when there are
    at most `n`); each gets a uniformly chosen synonym of its token.

    Parameters
    ----------
    {synonym_op_parameters}

    Returns
    -------
    list, tuple, str or numpy.ndarray
        The augmented batch, in the form of `batch` (lengths unchanged).

    {raises}

    See Also
    --------
    EDA : The four ops in a pipeline.

    Examples
    --------
    >>> from fastreg.text import synonym_replacement
    >>> out = synonym_replacement(["the quick brown fox"], 1, seed=0)
    """
    return _counted_op("replacement", batch, n, synonyms, seed, epoch, indices, protected, stop_words,
                       tokenizer)


_SYNONYM_OP_DOC = """{batch}
    n : int or float
        As in :func:`random_swap`.
    {synonyms}
    {common}
    {stop}
    {tokenizer}"""

for _fn in (random_deletion, random_swap, random_insertion, synonym_replacement):
    _fn.__doc__ = (_fn.__doc__ or "").replace("{synonym_op_parameters}", _SYNONYM_OP_DOC) \
        .replace("{common}", _COMMON_DOC).replace("{batch}", _BATCH_DOC) \
        .replace("{synonyms}", _SYNONYMS_DOC).replace("{stop}", _STOP_DOC).replace("{raises}", _RAISES_DOC) \
        .replace("{tokenizer}", _TOKENIZER_DOC)


class EDA:
    """Easy Data Augmentation (Wei and Zou 2019) on sentences or token ids.

    Each sequence goes through a pipeline of the four ops, in the paper's
    order: synonym replacement, random insertion, random swap, random
    deletion, each op working on the output of the one before.  With L the
    unprotected tokens of the *input* (for sentences: its words), the first
    three use the paper's ``n = max(1, int(alpha * L))``, computed once per
    sentence; deletion uses probability `p_rd`.  An alpha (or `p_rd`) of 0
    disables its op, as does a batch of token ids without `synonyms` for
    replacement and insertion.  Every op uses the stream it would use alone
    (same seed, epoch, index, op), so an EDA with a single op enabled gives
    what that op gives with the same n.

    The paper's eda.py makes ``num_aug`` sentences per input, each changed by
    one op only; the pipeline gives one augmented sequence per input, changed
    by all four, which is what a training loop over batches wants.  For the
    paper's behaviour use one EDA per op with only that op's alpha (or
    `p_rd`) above zero, or the functions of the four ops.

    Parameters
    ----------
    alpha_sr, alpha_ri, alpha_rs : float, default 0.1
        Fractions in [0, 1] of the sequence changed by synonym replacement,
        random insertion and random swap.
    p_rd : float, default 0.1
        Deletion probability in [0, 1].
    synonyms : SynonymTable or dict, optional
        For sentences a table with words, by default :func:`english_synonyms`;
        for token ids a table over the ids (:meth:`SynonymTable.from_vocab`),
        by default none.
    protected : collection of int or str, default ()
        Ids (token ids) and words (sentences) never deleted, replaced or swapped.
    stop_words : collection of str, optional
        For sentences: words never replaced nor used in insertions; by
        default :data:`STOP_WORDS` (the EDA paper's).
    tokenizer : callable, optional
        For sentences: str -> list of str instead of the built-in split; the
        tokens are joined with spaces.
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        In [0, 2**64).

    Raises
    ------
    TypeError
        Arguments of the wrong type.
    ValueError
        An alpha or `p_rd` outside [0, 1].

    See Also
    --------
    random_deletion : EDA's random deletion alone.
    random_swap : EDA's random swap alone.
    random_insertion : EDA's random insertion alone.
    synonym_replacement : EDA's synonym replacement alone.
    BackTranslation : Paraphrases from translation models.

    Examples
    --------
    >>> import fastreg
    >>> eda = fastreg.EDA(seed=3)
    >>> out = eda(["The quick brown fox jumps over the lazy dog."], epoch=1)
    >>> len(out)
    1
    >>> type(eda("One sentence gives one sentence back.")).__name__
    'str'
    """

    def __init__(self, alpha_sr=0.1, alpha_ri=0.1, alpha_rs=0.1, p_rd=0.1, synonyms=None,
                 protected=(), stop_words=None, tokenizer=None, seed=None):
        self.alpha_sr = check_probability("alpha_sr", alpha_sr)
        self.alpha_ri = check_probability("alpha_ri", alpha_ri)
        self.alpha_rs = check_probability("alpha_rs", alpha_rs)
        self.p_rd = check_probability("p_rd", p_rd)
        self.synonyms = _check_synonyms(synonyms)
        self.protected = _check_protected(protected)
        self.stop_words, self.tokenizer = _check_options(stop_words, tokenizer)
        self.seed = default_seed(seed)
        self._calls = CallCounter()

    def stages(self, with_synonyms=True):
        """The pipeline as (op, count, frac, threshold) tuples, in order.

        Parameters
        ----------
        with_synonyms : bool, default True
            Whether replacement and insertion have a table to draw from.

        Returns
        -------
        list of tuple
            (op, count, frac, threshold) per stage, as the kernels read them.
        """
        stages = []
        if with_synonyms and self.alpha_sr > 0:
            stages.append((OPS["replacement"], 0, self.alpha_sr, 0))
        if with_synonyms and self.alpha_ri > 0:
            stages.append((OPS["insertion"], 0, self.alpha_ri, 0))
        if self.alpha_rs > 0:
            stages.append((OPS["swap"], 0, self.alpha_rs, 0))
        if self.p_rd > 0:
            stages.append((OPS["deletion"], 0, 0.0, _threshold(self.p_rd)))
        return stages

    def __call__(self, batch, *, epoch=0, indices=None):
        """Augment `batch`.

        Parameters
        ----------
        batch : list of str, list of lists of int, list of numpy.ndarray, tuple (values, offsets), str or numpy.ndarray
            See :mod:`fastreg.text`.  One sentence (str) or one 1-D integer
            array of ids is one sample, and one augmented sample is
            returned: ``EDA()("a sentence")`` gives a str.
        epoch : int, default 0
            In [0, 2**64); use a new epoch for every pass over the data.
        indices : array_like of int, optional
            Dataset indices of the sequences, in [0, 2**64) (one int for one
            sample): a sequence's result then depends only on (seed, epoch,
            index).  Without them every call draws anew: call n of this
            object in this process and DataLoader worker takes indices
            derived from n (see :mod:`fastreg.transforms`), reproducible from
            the seed in one process.

        Returns
        -------
        list, tuple, str or numpy.ndarray
            The augmented batch, in the form of `batch`.

        Raises
        ------
        TypeError
            If the batch is malformed, or `epoch` or `indices` are not
            integers.
        ValueError
            If the offsets are malformed, `indices` does not have one entry
            per sequence, or `epoch` or an index is outside [0, 2**64).
        """
        auto = indices is None
        batch, seed, epoch, indices, protected = _prepare(batch, self.seed, epoch, indices,
                                                          self.protected)
        if auto:
            indices = self._calls.next_indices(batch.n)
        stages = self.stages(batch.kind == "text" or self.synonyms is not None)
        return _run(batch, stages, self.synonyms, protected, seed, epoch, indices, self.stop_words,
                    self.tokenizer)

    def __repr__(self):
        protected = self.protected[0].tolist() + sorted(self.protected[1])
        return (f"EDA(alpha_sr={self.alpha_sr}, alpha_ri={self.alpha_ri}, alpha_rs={self.alpha_rs}, "
                f"p_rd={self.p_rd}, synonyms={self.synonyms!r}, protected={protected}, seed={self.seed})")


class BackTranslation:
    """Paraphrases by translating to a pivot language and back (Sennrich et
    al. 2016; Xie et al. 2020, UDA), with the choice among candidates drawn
    from fastreg's stream.

    fastreg runs no model and downloads nothing: `forward` and `backward`
    are the translators you already have (a ``transformers`` pipeline, an
    API client, ...).  Each takes a list of str and returns, per input, one
    str or a list of candidate str (beam or sampled outputs).  The
    candidates of a sentence are the back-translations of all its pivots,
    in order; the one kept is number ``floor(w * m / 2**64)`` of the m, w
    being word 0 of stream ``derive_stream(DOMAINS["text"], epoch, index,
    5)`` of `seed`, so the choice depends only on (seed, epoch, index) and
    the candidates.

    Parameters
    ----------
    forward, backward : callable
        Translators: list of str -> list of (str or list of str), one entry
        per input.
    batch_size : int, default 32
        Sentences per call of a translator.
    seed : int, optional
        Default: the next seed of the process's sequence
        (:func:`fastreg.random.manual_seed`).
        In [0, 2**64).

    Raises
    ------
    TypeError
        A translator that is not callable; `batch_size` not an integer.
    ValueError
        `batch_size` below 1.

    See Also
    --------
    EDA : Word-level augmentation without a model.

    Examples
    --------
    >>> from fastreg.text import BackTranslation
    >>> swap_case = lambda texts: [[t.swapcase(), t.upper()] for t in texts]
    >>> bt = BackTranslation(swap_case, lambda texts: [t.lower() for t in texts], seed=1)
    >>> bt(["Hello World"])
    ['hello world']
    """

    OP = 5  # stream op id, after the four EDA ops

    def __init__(self, forward, backward, *, batch_size=32, seed=None):
        for name, fn in (("forward", forward), ("backward", backward)):
            if not callable(fn):
                raise TypeError(f"{name} must be a callable list of str -> list of str, got {type(fn).__name__}")
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"batch_size must be an integer, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.forward, self.backward = forward, backward
        self.batch_size = operator.index(batch_size)
        self.seed = default_seed(seed)
        self._calls = CallCounter()

    def _translate(self, name, fn, texts):
        """Candidates (a list of str) per text, calling `fn` on batches."""
        out = []
        for a in range(0, len(texts), self.batch_size):
            part = texts[a:a + self.batch_size]
            got = fn(part)
            if not isinstance(got, (list, tuple)) or len(got) != len(part):
                size = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
                raise ValueError(f"{name} must return one result per input: got {size} for {len(part)} inputs")
            for r in got:
                cands = [r] if isinstance(r, str) else r
                if not isinstance(cands, (list, tuple)) or not cands or not all(isinstance(c, str) for c in cands):
                    raise TypeError(f"{name} must return a str or a non-empty list of str per input, got {r!r}")
                out.append(list(cands))
        return out

    def __call__(self, texts, *, epoch=0, indices=None):
        """Back-translate `texts`.

        Parameters
        ----------
        texts : list of str
            The sentences.
        epoch : int, default 0
            In [0, 2**64).
        indices : array_like of int, optional
            Dataset indices of the sentences, in [0, 2**64).  Without them
            every call draws anew, as :meth:`EDA.__call__` does.

        Returns
        -------
        list of str
            One paraphrase per sentence.

        Raises
        ------
        TypeError
            `texts` is not a list of str; a translator returns other than
            str or lists of str.
        ValueError
            A translator returns the wrong number of results.
        """
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            bad = texts if not isinstance(texts, list) else next(t for t in texts if not isinstance(t, str))
            raise TypeError(f"texts must be a list of str, got {type(bad).__name__}")
        epoch = check_uint64("epoch", epoch)
        indices = _check_indices(indices, len(texts))
        indices = (self._calls.next_indices(len(texts)) if indices is None else indices).tolist()
        pivots = self._translate("forward", self.forward, texts)
        flat = [p for ps in pivots for p in ps]
        backs = iter(self._translate("backward", self.backward, flat))
        out = []
        for ps, index in zip(pivots, indices):
            cands = [c for _ in ps for c in next(backs)]
            low, high = _random_bits(self.seed, derive_stream(DOMAINS["text"], epoch, index, self.OP), 0, 2)
            out.append(cands[((int(low) | int(high) << 32) * len(cands)) >> 64])
        return out
