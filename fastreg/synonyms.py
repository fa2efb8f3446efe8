"""Synonym tables for fastreg.text: candidate replacements per token id,
optionally with the word each id stands for, the English table shipped with
fastreg (derived from WordNet 3.0 by tools/build_synonyms.py) and the EDA
paper's stop words.  The public names are re-exported by fastreg.text."""

import collections
import collections.abc
import functools
import importlib.resources
import numbers
import operator

import numpy as np

__all__ = ["STOP_WORDS", "SynonymTable", "english_synonyms"]

_INT64_MAX = (1 << 63) - 1
_MAX_WORD = 64  # bytes: longer words are never looked up (fr_text.h)

#: The stop words of the EDA paper's code (eda.py), kept from synonym
#: replacement and insertion by default for sentences.
STOP_WORDS = frozenset("""
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
    hers herself it its itself they them their theirs themselves what which who whom this that these
    those am is are was were be been being have has had having do does did doing a an the and but if
    or because as until while of at by for with about against between into through during before
    after above below to from up down in out on off over under again further then once here there
    when where why how all any both each few more most other some such no nor not only own same so
    than too very s t can will just don should now""".split())


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


def _check_protected(protected):
    """(sorted unique int64 ids, frozenset of words) from a collection of
    integer ids and words (str)."""
    message = f"protected must be a collection of integer ids or words, got {type(protected).__name__}"
    if isinstance(protected, (numbers.Number, str, bytes)) or (
            isinstance(protected, np.ndarray) and protected.ndim != 1):
        raise TypeError(message)
    try:
        items = list(protected)
    except TypeError:
        raise TypeError(message) from None
    ids, words = [], set()
    for x in items:
        if isinstance(x, str):
            words.add(_ascii_lower(x))
            continue
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
            raise TypeError(f"protected must hold integer ids or words, got {type(x).__name__} {x!r}")
        x = operator.index(x)
        if not -(1 << 63) <= x <= _INT64_MAX:
            raise ValueError(f"protected ids must fit in int64, got {x}")
        ids.append(x)
    return _Protected(np.unique(np.array(ids, dtype=np.int64)), frozenset(words))


_Protected = collections.namedtuple("_Protected", "ids words")


def _check_words(name, words):
    """A frozenset of lowercased words from a collection of str."""
    if isinstance(words, (str, bytes)) or not isinstance(words, collections.abc.Iterable):
        raise TypeError(f"{name} must be a collection of words (str), got {type(words).__name__}")
    words = list(words)
    for w in words:
        if not isinstance(w, str):
            raise TypeError(f"{name} must hold words (str), got {type(w).__name__} {w!r}")
    return frozenset(_ascii_lower(w) for w in words)


_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _ascii_lower(word):
    """`word` with its ASCII letters lowered (the kernels' matching rule)."""
    return word.translate(_LOWER)


# ---- synonym tables -----------------------------------------------------------


class SynonymTable:
    """Candidate replacements per token id, stored CSR, optionally with the
    word each id stands for.

    The candidates of token ``t`` are ``values[offsets[t]:offsets[t + 1]]``
    for ``0 <= t < vocab_size``; ids past the table, and negative ids, have
    none.  A table with `words` also serves sentences: word ``words[t]`` has
    the candidates ``words[c]``.  fastreg ships English synonyms from WordNet
    (:func:`english_synonyms`); :meth:`from_vocab` maps them onto a
    tokenizer's vocabulary.

    Parameters
    ----------
    offsets : array_like of int
        ``vocab_size + 1`` non-decreasing entries, starting at 0 and ending at
        ``len(values)``.
    values : array_like of int
        Candidate ids, each in ``[0, vocab_size)``.  Duplicates weigh a
        candidate up; use :meth:`from_dict` to have them removed.
    words : sequence of str, optional
        ``vocab_size`` distinct words, lowercase in ASCII (sentences are
        matched after lowering their ASCII letters), none longer than 64
        UTF-8 bytes.

    Raises
    ------
    TypeError
        Non-integer offsets or values; words that are not str.
    ValueError
        Malformed offsets; a candidate id outside ``[0, vocab_size)``; words
        of the wrong count, repeated, not lowercase, too long or empty.

    Examples
    --------
    >>> table = SynonymTable.from_dict({5: [7, 9], 7: [5]}, vocab_size=10)
    >>> table.synonyms_of(5)
    array([7, 9])
    """

    def __init__(self, offsets, values, words=None):
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
        self._words = None if words is None else _check_table_words(words, vocab)
        self._contexts = {}

    @classmethod
    def from_dict(cls, mapping, vocab_size=None):
        """A table from ``{id: [candidate ids]}``.

        Each candidate list keeps its first occurrence of every id, in order,
        and drops the key itself (replacing a token by itself is no change).

        Parameters
        ----------
        mapping : Mapping[int, Iterable[int]]
            Each id and its candidate ids.
        vocab_size : int, optional
            Ids must lie in ``[0, vocab_size)``; by default one past the
            largest id in `mapping`.

        Returns
        -------
        SynonymTable

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
        """The candidates of a token id, or the synonyms of a word.

        Parameters
        ----------
        token : int or str
            An id, or a word (for a table with words; matched in ASCII
            lowercase).

        Returns
        -------
        numpy.ndarray or list of str
            The candidate ids (empty when it has none), or the words.
        """
        if isinstance(token, str):
            table = _check_word_table(self)
            t = table._word_numbers().get(_ascii_lower(token))
            return [] if t is None else [self._words[c] for c in self.synonyms_of(t).tolist()]
        token = operator.index(token)
        if not 0 <= token < self.vocab_size:
            return self._values[:0]
        return self._values[self._offsets[token]:self._offsets[token + 1]]

    def to_dict(self):
        """The table as a dict.

        Returns
        -------
        dict
            ``{id: [candidates]}`` for the ids that have candidates.
        """
        counts = np.diff(self._offsets)
        return {int(t): self.synonyms_of(t).tolist() for t in np.flatnonzero(counts)}

    def without(self, protected):
        """The same table with the ids in `protected` removed from every
        candidate list (cached per set of ids).

        Parameters
        ----------
        protected : collection of int
            Ids never offered as candidates.

        Returns
        -------
        SynonymTable
            The filtered table (this one when nothing changes).
        """
        protected = _check_protected(protected)[0]
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

    @property
    def words(self):
        """The word of each id (a tuple of str), or None for a table of ids only."""
        return self._words

    @classmethod
    def from_words(cls, mapping):
        """A table with words from ``{word: [synonyms]}``.

        Words are lowered in ASCII and sorted; each candidate list keeps its
        first occurrence of every word and drops the word itself.

        Parameters
        ----------
        mapping : Mapping[str, Iterable[str]]
            Each word and its synonyms.

        Returns
        -------
        SynonymTable
            With :attr:`words`, the sorted words of `mapping` (keys and
            candidates).

        Raises
        ------
        TypeError
            `mapping` is not a mapping of words to iterables of words.
        """
        if not isinstance(mapping, collections.abc.Mapping):
            raise TypeError(f"synonyms must be a mapping of words to synonyms, got {type(mapping).__name__}")
        rows = {}
        for key, cands in mapping.items():
            if not isinstance(key, str):
                raise TypeError(f"synonyms keys must be words (str), got {type(key).__name__} {key!r}")
            row = rows.setdefault(_ascii_lower(key), [])
            for c in _check_words(f"synonyms[{key!r}]", list(cands) if not isinstance(cands, str) else cands):
                if c != _ascii_lower(key) and c not in row:
                    row.append(c)
        words = sorted(set(rows).union(*rows.values()))
        number = {w: i for i, w in enumerate(words)}
        return cls.from_dict({number[k]: [number[c] for c in sorted(row)] for k, row in rows.items()},
                             vocab_size=len(words))._with_words(words)

    @classmethod
    def from_vocab(cls, vocab, synonyms=None):
        """A table over a tokenizer's ids from word synonyms.

        Token ``vocab[w]`` gets as candidates the ids ``vocab[s]`` of the
        synonyms ``s`` of ``w`` (matched in lowercase) that the vocabulary
        holds, so the token-id path replaces and inserts real synonyms.

        Parameters
        ----------
        vocab : Mapping[str, int]
            Word -> id, ids distinct and non-negative (``tokenizer.get_vocab()``).
        synonyms : SynonymTable, optional
            A table with words; by default :func:`english_synonyms`.

        Returns
        -------
        SynonymTable
            Of ``vocab_size = max(id) + 1``, without words.

        Raises
        ------
        TypeError
            `vocab` is not a mapping of str to int; `synonyms` has no words.
        ValueError
            Two words of `vocab` with the same id; a negative id.

        Examples
        --------
        >>> from fastreg.text import SynonymTable
        >>> table = SynonymTable.from_vocab({"[PAD]": 0, "quick": 1, "fast": 2, "fox": 3})
        >>> table.synonyms_of(1).tolist()
        [2]
        """
        if not isinstance(vocab, collections.abc.Mapping):
            raise TypeError(f"vocab must be a mapping of words to ids, got {type(vocab).__name__}")
        table = english_synonyms() if synonyms is None else _check_word_table(synonyms)
        by_id = {}
        for word, i in vocab.items():
            if not isinstance(word, str) or isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral):
                raise TypeError(f"vocab must map words (str) to integer ids, got {word!r}: {i!r}")
            i = operator.index(i)
            if i < 0:
                raise ValueError(f"vocab ids must be non-negative, got {word!r}: {i}")
            if i in by_id:
                raise ValueError(f"vocab has duplicate id {i}: {by_id[i]!r} and {word!r}")
            by_id[i] = word
        lowered = {}
        for i, word in by_id.items():
            lowered.setdefault(_ascii_lower(word), i)
        number = table._word_numbers()
        mapping = {}
        for i, word in by_id.items():
            w = number.get(_ascii_lower(word))
            if w is not None:
                cands = [lowered[c] for c in table.synonyms_of(table.words[w]) if c in lowered]
                if cands:
                    mapping[i] = cands
        return cls.from_dict(mapping, vocab_size=max(by_id) + 1 if by_id else 0)

    @classmethod
    def load(cls, path):
        """A table from a NumPy ``.npz`` file written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            The ``.npz`` file.

        Returns
        -------
        SynonymTable

        Raises
        ------
        ValueError
            The file is not a synonym table (not an ``.npz``, missing or
            malformed ``offsets``, ``values`` or ``words``).
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                offsets, values = data["offsets"], data["values"]
                blob = data["words"] if "words" in data.files else None
                words = None if blob is None else bytes(blob).decode("utf-8").split("\n") if blob.size else []
        except (OSError, ValueError, KeyError, UnicodeDecodeError, AttributeError) as err:
            raise ValueError(f"synonyms file {str(path)!r} is not a synonym table: {err}") from None
        try:
            return cls(offsets, values, words)
        except (TypeError, ValueError) as err:
            raise ValueError(f"synonyms file {str(path)!r} is not a synonym table: {err}") from None

    def save(self, path):
        """Write the table to `path` as a compressed NumPy ``.npz`` (int32
        offsets and values when they fit; words as newline-separated UTF-8).

        Parameters
        ----------
        path : str or os.PathLike
            Where to write; NumPy adds ``.npz`` if missing.
        """
        offsets, values = self._kernel_arrays()
        arrays = {"offsets": offsets, "values": values}
        if self._words is not None:
            arrays["words"] = np.frombuffer("\n".join(self._words).encode("utf-8"), dtype=np.uint8)
        np.savez_compressed(path, **arrays)

    def _with_words(self, words):
        self._words = _check_table_words(words, self.vocab_size)
        return self

    @functools.cached_property
    def _number_of(self):
        return {w: i for i, w in enumerate(self._words)}

    def _word_numbers(self):
        """{word: id} of a table with words."""
        return self._number_of

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
        words = "" if self._words is None else ", with words"
        return f"SynonymTable(vocab_size={self.vocab_size}, candidates={self._values.shape[0]}{words})"


def _check_table_words(words, vocab):
    if isinstance(words, (str, bytes)) or not isinstance(words, collections.abc.Iterable):
        raise TypeError(f"synonyms words must be a sequence of str, got {type(words).__name__}")
    words = tuple(words)
    if len(words) != vocab:
        raise ValueError(f"synonyms words must hold vocab_size = {vocab} words, got {len(words)}")
    if not all(isinstance(w, str) for w in words):
        w = next(w for w in words if not isinstance(w, str))
        raise TypeError(f"synonyms words must be str, got {type(w).__name__} {w!r}")
    joined = "\n".join(words)
    # One pass over the whole text for plain ASCII words (the shipped table's
    # 221,000 words); the loop checks words one by one, and names the culprit.
    if not (joined.isascii() and joined.split() == list(words) and _ascii_lower(joined) == joined
            and max(map(len, words), default=0) <= _MAX_WORD):
        for w in words:
            if not w or _ascii_lower(w) != w or len(w.encode("utf-8", "surrogatepass")) > _MAX_WORD or \
                    any(c.isspace() for c in w):
                raise ValueError(f"synonyms words must be non-empty, lowercase, without spaces and at most "
                                 f"{_MAX_WORD} bytes long, got {w!r}")
    if len(set(words)) != len(words):
        raise ValueError("synonyms words must be distinct")
    return words


def _check_word_table(synonyms, name="synonyms"):
    if not isinstance(synonyms, SynonymTable) or synonyms.words is None:
        raise TypeError(f"{name} must be a fastreg.text.SynonymTable with words (english_synonyms(), "
                        f"SynonymTable.from_words) for sentences, got {synonyms!r}")
    return synonyms


@functools.lru_cache(maxsize=1)
def english_synonyms():
    """The English synonym table shipped with fastreg, loaded on first use.

    Derived from WordNet 3.0 by ``tools/build_synonyms.py`` as the EDA
    paper's eda.py reads it through nltk: the synonyms of a word are the
    single-word lemma names (letters a-z, lowercased) of ``synsets(word)``,
    the word itself excluded.  ``synsets`` reduces a word to its base forms
    with WordNet's morphy, so inflected words have the synonyms of their base
    forms ("jumps" -> "leap", "went" -> "go", "geese" -> "goose"); the table
    is therefore not symmetric ("leap" does not list "jumps").  Words are
    matched whole, in ASCII lowercase; nothing is fetched at run time.
    WordNet 3.0 Copyright 2006 by Princeton University; its license is in
    ``fastreg/data/WORDNET_LICENSE``.

    Returns
    -------
    SynonymTable
        About 221,000 words with :attr:`SynonymTable.words`, 191,000 of them
        with synonyms.

    Examples
    --------
    >>> from fastreg.text import english_synonyms
    >>> "glad" in english_synonyms().synonyms_of("happy")
    True
    >>> "leap" in english_synonyms().synonyms_of("jumps")
    True
    """
    with importlib.resources.as_file(importlib.resources.files("fastreg") / "data" / "synonyms_en.npz") as p:
        return SynonymTable.load(p)


def _row_sums(flags, offsets):
    """Per-row sums of a boolean array split by CSR offsets."""
    c = np.zeros(flags.shape[0] + 1, dtype=np.int64)
    np.cumsum(flags, out=c[1:])
    return c[offsets[1:]] - c[offsets[:-1]]
