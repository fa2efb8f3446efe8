"""Plain-Python reference of the text augmentation kernels (fr_text.h).

Every op works on a list of ints and draws from the same stream as the
compiled code (fastreg.reference.random), so results agree bit for bit.  The
batch functions take and return the same forms as fastreg.text; the synonym
table is a fastreg.text.SynonymTable (or a dict), read as Python lists.
"""

import re

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


def delete_tokens(tokens, threshold, stream, protected, mask=-1):
    """Random deletion of one sequence (a list of ints); see fastreg.text.random_deletion.
    Ids are ``token & mask`` (sentences carry each token's place above its id)."""
    free = [i for i, t in enumerate(tokens) if t & mask not in protected]
    if not free or threshold == 0:
        return list(tokens)
    keep = [t & mask in protected or u >= threshold for t, u in zip(tokens, stream.u32s(len(tokens)))]
    if not any(keep[i] for i in free):
        keep[free[stream.below(len(tokens), len(free))]] = True
    return [t for t, k in zip(tokens, keep) if k]


def swap_tokens(tokens, n, stream, protected, mask=-1):
    """n random swaps in one sequence; see fastreg.text.random_swap."""
    tokens = list(tokens)
    free = [i for i, t in enumerate(tokens) if t & mask not in protected]
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


def insert_tokens(tokens, n, stream, synonyms, protected, mask=-1):
    """n random insertions into one sequence; see fastreg.text.random_insertion."""
    tokens = list(tokens)
    sources = [t & mask for t in tokens if t & mask not in protected and t & mask in synonyms]
    if not sources:
        return tokens
    for i in range(n):
        cands = synonyms[sources[stream.below(3 * i, len(sources))]]
        new = cands[stream.below(3 * i + 1, len(cands))]
        gaps = [q for q in range(len(tokens) + 1)
                if (q > 0 and tokens[q - 1] & mask not in protected)
                or (q < len(tokens) and tokens[q] & mask not in protected)]
        tokens.insert(gaps[stream.below(3 * i + 2, len(gaps))], new)
        if new in synonyms:
            sources.append(new)
    return tokens


def replace_tokens(tokens, n, stream, synonyms, protected, mask=-1):
    """Synonym replacement of up to n tokens of one sequence; see fastreg.text.synonym_replacement."""
    tokens = list(tokens)
    places = [i for i, t in enumerate(tokens) if t & mask not in protected and t & mask in synonyms]
    m = len(places)
    for i in range(min(n, m)):
        r = i + stream.below(2 * i, m - i)
        places[i], places[r] = places[r], places[i]
        cands = synonyms[tokens[places[i]] & mask]
        tokens[places[i]] = cands[stream.below(2 * i + 1, len(cands))]
    return tokens


def run_sequence(tokens, stages, synonyms, protected, seed, epoch, index, mask=-1):
    """Run stages ((op, count, frac, threshold) tuples) on one list of ints
    whose ids are ``token & mask``."""
    L = sum(1 for t in tokens if t & mask not in protected)
    if L == 0:
        return list(tokens)
    for op, count, frac, threshold in stages:
        n = count_n(count, frac, L)
        draws = {DELETION: len(tokens) + 1, SWAP: 2 * n, INSERTION: 3 * n}.get(op, 2 * n)
        stream = Stream(seed, epoch, index, op, max(1, min(draws, 1 << 16)))
        if op == DELETION:
            tokens = delete_tokens(tokens, threshold, stream, protected, mask)
        elif op == SWAP:
            tokens = swap_tokens(tokens, n, stream, protected, mask)
        elif op == INSERTION:
            tokens = insert_tokens(tokens, n, stream, synonyms, protected, mask)
        else:
            tokens = replace_tokens(tokens, n, stream, synonyms, protected, mask)
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


# ---- sentences ------------------------------------------------------------------

WORD = "[0-9A-Za-z_\u0080-\U0010ffff]"
SPACE = " \t\n\v\f\r"
PLACE = 32  # a token's place in its sentence is held above bit 32 of its id
URL_TRIM = ".,;:!?)]}'\""


def _is_word(ch):
    return re.fullmatch(WORD, ch) is not None


def _is_letter(ch):
    return "a" <= ch.lower() <= "z" and len(ch.encode()) == 1


def word_mask(s):
    """Which characters of `s` belong to words, by the three joining rules of
    fastreg.text, applied one after the other to the whole sentence."""
    n = len(s)
    word = [_is_word(ch) for ch in s]
    digit = [ch in "0123456789" for ch in s] + [False]  # digit[n]: past the end
    joined = list(word)
    for q in range(1, n):  # rule 1: the neighbours' own classes decide
        between_words = word[q - 1] and q + 1 < n and word[q + 1]
        if ((s[q] in "'.@" and between_words) or (s[q] in ",:" and digit[q - 1] and digit[q + 1])
                or (s[q] == "%" and digit[q - 1])):
            joined[q] = True

    def start_of_word_before(q):
        a = q
        while a > 0 and joined[a - 1]:
            a -= 1
        return a

    url_end = 0
    for q in range(1, n):  # rule 2: URLs
        if q < url_end or not word[q - 1] or s[q] not in ".:":
            continue
        a = start_of_word_before(q)
        scheme = s[q:q + 3] == "://" and all(_is_letter(ch) for ch in s[a:q])
        www = s[q] == "." and q - a == 3 and lower(s[a:q]) == "www" and joined[q]
        if not (scheme or www):
            continue
        e = q
        while e < n and s[e] not in SPACE:
            e += 1
        while e > q and s[e - 1] in URL_TRIM:
            e -= 1
        joined[a:e] = [True] * (e - a)
        url_end = e
    for q in range(1, n):  # rule 3: the dot after an abbreviation of single letters
        if s[q] != "." or joined[q] or not word[q - 1]:
            continue
        a = start_of_word_before(q)
        if re.fullmatch(r"[A-Za-z](\.[A-Za-z])+", s[a:q], flags=re.ASCII):
            joined[q] = True
    return joined


def split_sentence(sentence):
    """(text, is_punctuation, space_before, space_after) per token, by the
    rule of fastreg.text: runs of word characters (word_mask); any other
    non-space character alone."""
    word = word_mask(sentence)
    spans, q, n = [], 0, len(sentence)
    while q < n:
        if word[q]:
            e = q
            while e < n and word[e]:
                e += 1
            spans.append((q, e, False))
            q = e
        else:
            if sentence[q] not in SPACE:
                spans.append((q, q + 1, True))
            q += 1
    return [(sentence[a:b], punct, a == 0 or sentence[a - 1] in SPACE, b == n or sentence[b] in SPACE)
            for a, b, punct in spans]


def takes_synonyms(word):
    """Single characters, and words holding a digit or one of .,:@%/, get no synonyms."""
    return len(word) > 1 and not any(ch in "0123456789.,:@%/" for ch in word)


def join_tokens(tokens):
    """Tokens (as split_sentence gives, or plain words) joined by fastreg's rule:
    one space between tokens, none where a punctuation token touched that side."""
    out, glue = [], True
    for text, punct, before, after in tokens:
        if not glue and not (punct and not before):
            out.append(" ")
        out.append(text)
        glue = punct and not after
    return "".join(out)


def lower(word):
    return word.translate({c: c + 32 for c in range(65, 91)})


def eda_sentences(texts, *, alpha_sr=0.1, alpha_ri=0.1, alpha_rs=0.1, p_rd=0.1, synonyms=None,
                  stop_words=None, protected=(), seed=0, epoch=0, indices=None):
    """fastreg.text.EDA on a list of str, in plain Python: split, look words
    up (ASCII lowercase) in `synonyms` (a SynonymTable with words, by default
    the shipped English one) without the stop and protected words, run the
    pipeline on ids that carry each token's place, and join."""
    from fastreg.text import STOP_WORDS, english_synonyms

    table = english_synonyms() if synonyms is None else synonyms
    stop = {lower(w) for w in (STOP_WORDS if stop_words is None else stop_words)}
    keep = {lower(w) for w in protected if isinstance(w, str)}
    number = {w: i for i, w in enumerate(table.words)}
    for w in sorted(keep - set(number)):
        number[w] = len(number)
    oov, punct = len(number), len(number) + 1
    lists = {}
    for w, i in number.items():
        if w not in stop and i < len(table.words) and takes_synonyms(w):
            cands = [number[c] for c in table.synonyms_of(w) if c not in stop and c not in keep
                     and takes_synonyms(c)]
            if cands:
                lists[i] = cands
    prot = {number[w] for w in keep} | {punct}
    stages = []
    if alpha_sr > 0:
        stages.append((REPLACEMENT, 0, alpha_sr, 0))
    if alpha_ri > 0:
        stages.append((INSERTION, 0, alpha_ri, 0))
    if alpha_rs > 0:
        stages.append((SWAP, 0, alpha_rs, 0))
    if p_rd > 0:
        stages.append((DELETION, 0, 0.0, threshold(p_rd)))
    if indices is None:
        indices = range(len(texts))
    words = list(number)
    out = []
    for sentence, index in zip(texts, indices):
        tokens = split_sentence(sentence)
        ids = [(punct if p else number.get(lower(t), oov) if len(t.encode("utf-8", "surrogatepass")) <= 64
                else oov) | (k + 1) << PLACE for k, (t, p, _, _) in enumerate(tokens)]
        ids = run_sequence(ids, stages, lists, prot, seed, epoch, int(index), mask=(1 << PLACE) - 1)
        out.append(join_tokens(tokens[(t >> PLACE) - 1] if t >> PLACE else (words[t], False, True, True)
                               for t in ids))
    return out
