"""Plain-Python reference of the text augmentation kernels (fr_text.h).

Every op works on a list of ints and draws from the same stream as the
compiled code (fastreg.reference.random), so results agree bit for bit.  The
batch functions take and return the same forms as fastreg.text; the synonym
table is a fastreg.text.SynonymTable (or a dict), read as Python lists.
"""

import numpy as np

from fastreg.reference.random import derive_stream, stream_key, words

TEXT_DOMAIN = 2
DELETION, SWAP, INSERTION, REPLACEMENT = 1, 2, 3, 4


class Stream:
    """The 64-bit words of stream (seed, derive(2, epoch, index, op)), fetched in blocks."""

    def __init__(self, seed, epoch, index, op, count=16):
        self.key, self.gamma = stream_key(seed, derive_stream(TEXT_DOMAIN, epoch, index, op))
        self.cache = words(self.key, self.gamma, 0, count).tolist()

    def word(self, j):
        if j >= len(self.cache):
            self.cache = words(self.key, self.gamma, 0, max(j + 1, 2 * len(self.cache))).tolist()
        return self.cache[j]

    def below(self, j, m):
        """An integer in [0, m) from word j: (w * m) >> 64."""
        return (self.word(j) * m) >> 64

    def u32s(self, count):
        """The 32-bit values at positions 0 .. count-1 (two per word, low half first)."""
        self.word((count + 1) // 2)
        return [(w >> s) & 0xFFFFFFFF for w in self.cache[:(count + 1) // 2] for s in (0, 32)][:count]


def count_n(count, frac, L):
    """Per-sequence n: `count`, or the EDA paper's max(1, int(frac * L)) when frac > 0."""
    if frac > 0:
        return max(1, int(frac * L))
    return count


def synonym_lists(table, protected):
    """{id: [candidates]} with the protected ids removed (ids without candidates left out)."""
    if table is None:
        return {}
    if isinstance(table, dict):  # as SynonymTable.from_dict: first occurrences, the key itself dropped
        table = {t: [c for i, c in enumerate(cands) if c != t and c not in cands[:i]]
                 for t, cands in ((t, list(cands)) for t, cands in table.items())}
    else:
        table = table.to_dict()
    out = {}
    for t, cands in table.items():
        kept = [c for c in cands if c not in protected]
        if kept:
            out[t] = kept
    return out


def delete_tokens(tokens, threshold, stream, protected):
    """Random deletion of one sequence (a list of ints); see fastreg.text.random_deletion."""
    free = [i for i, t in enumerate(tokens) if t not in protected]
    if not free or threshold == 0:
        return list(tokens)
    keep = [t in protected or u >= threshold for t, u in zip(tokens, stream.u32s(len(tokens)))]
    if not any(keep[i] for i in free):
        keep[free[stream.below(len(tokens), len(free))]] = True
    return [t for t, k in zip(tokens, keep) if k]


def swap_tokens(tokens, n, stream, protected):
    """n random swaps in one sequence; see fastreg.text.random_swap."""
    tokens = list(tokens)
    free = [i for i, t in enumerate(tokens) if t not in protected]
    m = len(free)
    if m < 2:
        return tokens
    for i in range(n):
        a = stream.below(2 * i, m)
        b = stream.below(2 * i + 1, m - 1)
        if b >= a:
            b += 1
        pa, pb = free[a], free[b]
        tokens[pa], tokens[pb] = tokens[pb], tokens[pa]
    return tokens


def insert_tokens(tokens, n, stream, synonyms, protected):
    """n random insertions into one sequence; see fastreg.text.random_insertion."""
    tokens = list(tokens)
    sources = [t for t in tokens if t not in protected and t in synonyms]
    if not sources:
        return tokens
    for i in range(n):
        cands = synonyms[sources[stream.below(3 * i, len(sources))]]
        new = cands[stream.below(3 * i + 1, len(cands))]
        gaps = [q for q in range(len(tokens) + 1)
                if (q > 0 and tokens[q - 1] not in protected)
                or (q < len(tokens) and tokens[q] not in protected)]
        tokens.insert(gaps[stream.below(3 * i + 2, len(gaps))], new)
        if new in synonyms:
            sources.append(new)
    return tokens


def replace_tokens(tokens, n, stream, synonyms, protected):
    """Synonym replacement of up to n tokens of one sequence; see fastreg.text.synonym_replacement."""
    tokens = list(tokens)
    places = [i for i, t in enumerate(tokens) if t not in protected and t in synonyms]
    m = len(places)
    for i in range(min(n, m)):
        r = i + stream.below(2 * i, m - i)
        places[i], places[r] = places[r], places[i]
        cands = synonyms[tokens[places[i]]]
        tokens[places[i]] = cands[stream.below(2 * i + 1, len(cands))]
    return tokens


def run_sequence(tokens, stages, synonyms, protected, seed, epoch, index):
    """Run stages ((op, count, frac, threshold) tuples) on one list of ints."""
    L = sum(1 for t in tokens if t not in protected)
    if L == 0:
        return list(tokens)
    for op, count, frac, threshold in stages:
        n = count_n(count, frac, L)
        draws = {DELETION: len(tokens) + 1, SWAP: 2 * n, INSERTION: 3 * n}.get(op, 2 * n)
        stream = Stream(seed, epoch, index, op, max(1, min(draws, 1 << 16)))
        if op == DELETION:
            tokens = delete_tokens(tokens, threshold, stream, protected)
        elif op == SWAP:
            tokens = swap_tokens(tokens, n, stream, protected)
        elif op == INSERTION:
            tokens = insert_tokens(tokens, n, stream, synonyms, protected)
        else:
            tokens = replace_tokens(tokens, n, stream, synonyms, protected)
    return tokens


def run_batch(batch, stages, table, protected, seed, epoch=0, indices=None):
    """The batch form of run_sequence: (values, offsets) or a list of arrays in, the same form out."""
    protected = {int(t) for t in protected}
    synonyms = synonym_lists(table, protected)
    if isinstance(batch, tuple):
        values, offsets = batch
        seqs = [values[offsets[i]:offsets[i + 1]].tolist() for i in range(len(offsets) - 1)]
    else:
        seqs = [a.tolist() for a in batch]
    if indices is None:
        indices = range(len(seqs))
    results = [run_sequence(s, stages, synonyms, protected, seed, epoch, int(ix))
               for s, ix in zip(seqs, indices)]
    if isinstance(batch, tuple):
        new_offsets = np.zeros(len(results) + 1, dtype=np.int64)
        new_offsets[1:] = np.cumsum([len(r) for r in results], dtype=np.int64)
        flat = [t for r in results for t in r]
        return np.array(flat, dtype=batch[0].dtype), new_offsets
    return [np.array(r, dtype=a.dtype) for r, a in zip(results, batch)]


def threshold(p):
    """Deletion threshold on 32-bit values for probability p."""
    return int(round(p * 2**32))


def _n_stage(op, n):
    if isinstance(n, float) and 0 < n < 1:
        return (op, 0, n, 0)
    return (op, int(n), 0.0, 0)


def random_deletion(batch, p, *, seed, epoch=0, indices=None, protected=()):
    """fastreg.text.random_deletion, in plain Python."""
    stages = [(DELETION, 0, 0.0, threshold(p))] if p > 0 else []
    return run_batch(batch, stages, None, protected, seed, epoch, indices)


def random_swap(batch, n, *, seed, epoch=0, indices=None, protected=()):
    """fastreg.text.random_swap, in plain Python."""
    return run_batch(batch, [_n_stage(SWAP, n)], None, protected, seed, epoch, indices)


def random_insertion(batch, n, synonyms, *, seed, epoch=0, indices=None, protected=()):
    """fastreg.text.random_insertion, in plain Python."""
    return run_batch(batch, [_n_stage(INSERTION, n)], synonyms, protected, seed, epoch, indices)


def synonym_replacement(batch, n, synonyms, *, seed, epoch=0, indices=None, protected=()):
    """fastreg.text.synonym_replacement, in plain Python."""
    return run_batch(batch, [_n_stage(REPLACEMENT, n)], synonyms, protected, seed, epoch, indices)


def eda(batch, *, alpha_sr=0.1, alpha_ri=0.1, alpha_rs=0.1, p_rd=0.1, synonyms=None, protected=(),
        seed=0, epoch=0, indices=None):
    """EDA as fastreg.text.EDA: sr, ri, rs, rd in turn, n from the input's unprotected length."""
    stages = []
    if synonyms is not None and alpha_sr > 0:
        stages.append((REPLACEMENT, 0, alpha_sr, 0))
    if synonyms is not None and alpha_ri > 0:
        stages.append((INSERTION, 0, alpha_ri, 0))
    if alpha_rs > 0:
        stages.append((SWAP, 0, alpha_rs, 0))
    if p_rd > 0:
        stages.append((DELETION, 0, 0.0, threshold(p_rd)))
    return run_batch(batch, stages, synonyms, protected, seed, epoch, indices)
