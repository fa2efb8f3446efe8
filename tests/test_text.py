"""Text augmentation: kernels against the plain-Python reference, protected
ids, lengths, determinism across threads and batch splits, and bad input."""


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastreg
from fastreg import text
from fastreg.reference import text as ref

VOCAB = 40
PROTECTED = (0, 1, 2)  # padding, [CLS], [SEP]


def make_table(seed=0, vocab=VOCAB, density=0.6):
    rng = np.random.default_rng(seed)
    mapping = {t: rng.integers(0, vocab, rng.integers(1, 5)).tolist()
               for t in range(vocab) if rng.random() < density}
    mapping[3] = [0, 1, 4]  # protected candidates are never used
    return text.SynonymTable.from_dict(mapping, vocab_size=vocab)


TABLE = make_table()


def make_batch(seed, n=60, max_len=40, dtype=np.int64, framed=True, empty_every=7):
    """A ragged batch; framed sequences look like [CLS] ... [SEP] pad pad."""
    rng = np.random.default_rng(seed)
    seqs = []
    for i in range(n):
        length = 0 if empty_every and i % empty_every == 0 else int(rng.integers(1, max_len))
        body = rng.integers(3, VOCAB + 5, length)  # some ids past the table
        if framed and i % 3:
            body = np.concatenate([[1], body, [2], np.zeros(int(rng.integers(0, 4)), np.int64)])
        seqs.append(body.astype(dtype))
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in seqs])
    values = np.concatenate(seqs).astype(dtype) if seqs else np.zeros(0, dtype)
    return values, offsets


def ops(table=TABLE):
    """(name, fastreg call, reference call) for every op, with an argument n/p."""
    return {
        "deletion": (lambda b, a, **k: text.random_deletion(b, a, **k),
                     lambda b, a, **k: ref.random_deletion(b, a, **k)),
        "swap": (lambda b, a, **k: text.random_swap(b, a, **k),
                 lambda b, a, **k: ref.random_swap(b, a, **k)),
        "insertion": (lambda b, a, **k: text.random_insertion(b, a, table, **k),
                      lambda b, a, **k: ref.random_insertion(b, a, table, **k)),
        "replacement": (lambda b, a, **k: text.synonym_replacement(b, a, table, **k),
                        lambda b, a, **k: ref.synonym_replacement(b, a, table, **k)),
    }


OP_ARGS = {"deletion": [0.0, 0.1, 0.5, 1.0], "swap": [0, 1, 3, 0.25],
           "insertion": [0, 1, 4, 0.3], "replacement": [0, 1, 5, 0.5]}


def assert_same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple)
        assert a[0].dtype == b[0].dtype
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    else:
        assert isinstance(a, list) and len(a) == len(b)
        for x, y in zip(a, b):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


def sequences(result):
    if isinstance(result, tuple):
        values, offsets = result
        return [values[offsets[i]:offsets[i + 1]].tolist() for i in range(len(offsets) - 1)]
    return [a.tolist() for a in result]


def positions(batch):
    """Indices 0 .. N-1 for the batch's N sequences: what the functions use
    without `indices` (an EDA object without them draws anew per call)."""
    return np.arange(len(sequences(batch)))


# ---- against the reference ------------------------------------------------------


@pytest.mark.parametrize("name", list(OP_ARGS))
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("seed", [0, 7, 2**64 - 1])
def test_ops_match_reference(name, dtype, seed):
    batch = make_batch(seed % 1000, dtype=dtype)
    fast, slow = ops()[name]
    for arg in OP_ARGS[name]:
        for protected in [(), PROTECTED]:
            kw = dict(seed=seed, epoch=3, protected=protected)
            assert_same(fast(batch, arg, **kw), slow(batch, arg, **kw))


@pytest.mark.parametrize("name", list(OP_ARGS))
def test_list_form_matches_reference(name):
    values, offsets = make_batch(5)
    seqs = [values[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
    seqs = [s.astype([np.int16, np.int32, np.int64, np.uint16][i % 4]) for i, s in enumerate(seqs)]
    fast, slow = ops()[name]
    arg = OP_ARGS[name][2]
    out = fast(seqs, arg, seed=4, protected=PROTECTED)
    assert isinstance(out, list)
    assert_same(out, slow(seqs, arg, seed=4, protected=PROTECTED))
    ragged = fast((values, offsets), arg, seed=4, protected=PROTECTED)
    assert sequences(out) == sequences(ragged)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint32])
@pytest.mark.parametrize("strided", [False, True])
def test_list_of_arrays_of_one_dtype(dtype, strided):
    # int32 and int64 arrays are read in place, others converted; results are
    # views of one new buffer in the input dtype, sequence by sequence
    values, offsets = make_batch(9, dtype=np.int64)
    seqs = [np.repeat(values[a:b], 2)[::2] if strided else values[a:b].copy()
            for a, b in zip(offsets[:-1], offsets[1:])]
    seqs = [s.astype(dtype, copy=False) for s in seqs]
    before = [s.copy() for s in seqs]
    eda = text.EDA(0.3, 0.3, 0.3, 0.3, synonyms=TABLE, protected=PROTECTED, seed=2)
    out = eda(seqs, epoch=1, indices=np.arange(len(seqs)))
    expected = ref.eda(before, alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.3, synonyms=TABLE,
                       protected=PROTECTED, seed=2, epoch=1)
    assert_same(out, expected)
    for x, y in zip(seqs, before):
        np.testing.assert_array_equal(x, y)
    assert all(o.flags.c_contiguous and o.flags.writeable for o in out)
    assert not any(np.shares_memory(o, s) for o, s in zip(out, seqs))
    k = next(i for i, o in enumerate(out) if o.size)
    assert out[k].base is not None and all(o.base is out[k].base for o in out if o.size)
    out[k][:] = 7  # the views do not overlap: the others keep their tokens
    assert_same(out[k + 1:], expected[k + 1:])


@pytest.mark.parametrize("alphas", [(0.1, 0.1, 0.1, 0.1), (0.5, 0.3, 0.2, 0.4), (1.0, 1.0, 1.0, 1.0),
                                    (0.0, 0.2, 0.0, 0.3), (0.0, 0.0, 0.0, 0.0)])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_eda_matches_reference(alphas, dtype):
    batch = make_batch(11, dtype=dtype)
    sr, ri, rs, rd = alphas
    eda = text.EDA(sr, ri, rs, rd, synonyms=TABLE, protected=PROTECTED, seed=13)
    expected = ref.eda(batch, alpha_sr=sr, alpha_ri=ri, alpha_rs=rs, p_rd=rd, synonyms=TABLE,
                       protected=PROTECTED, seed=13, epoch=2)
    assert_same(eda(batch, epoch=2, indices=positions(batch)), expected)


def block_batch(seed, n=80):
    """Sequences of 0 to 100 tokens, lengths around multiples of 16 (the
    AVX-512 passes' blocks), where 30% of the tokens are protected, so runs
    of protected tokens (invalid insertion gaps) also cross block edges."""
    rng = np.random.default_rng(seed)
    edges = [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100]
    seqs = []
    for i in range(n):
        length = edges[i] if i < len(edges) else int(rng.integers(0, 101))
        seq = rng.integers(3, VOCAB + 5, length)
        shielded = rng.random(length) < 0.3
        seq[shielded] = rng.choice(PROTECTED, int(shielded.sum()))
        if length > 20 and i % 2:
            seq[14:18] = 1  # a protected run over the edge of the first block
        seqs.append(seq)
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in seqs])
    return np.concatenate(seqs), offsets


@pytest.mark.parametrize("name", list(OP_ARGS) + ["eda"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("as_list", [False, True])
def test_every_simd_level_matches_reference(simd_level, name, dtype, as_list):
    # the passes over whole sequences have a portable and an AVX-512 form
    values, offsets = block_batch(41)
    values = values.astype(dtype)
    batch = [values[a:b] for a, b in zip(offsets[:-1], offsets[1:])] if as_list else (values, offsets)
    kw = dict(seed=9, epoch=4, protected=PROTECTED)
    if name == "eda":
        for sr, ri, rs, rd in [(0.1, 0.1, 0.1, 0.1), (0.5, 0.9, 0.3, 0.6), (0.2, 0.3, 0.2, 1.0)]:
            eda = text.EDA(sr, ri, rs, rd, synonyms=TABLE, protected=PROTECTED, seed=9)
            expected = ref.eda(batch, alpha_sr=sr, alpha_ri=ri, alpha_rs=rs, p_rd=rd, synonyms=TABLE,
                               protected=PROTECTED, seed=9, epoch=4)
            assert_same(eda(batch, epoch=4, indices=positions(batch)), expected)
        return
    fast, slow = ops()[name]
    args = OP_ARGS[name] + {"deletion": [0.9], "swap": [40], "insertion": [0.9, 60], "replacement": [0.9]}[name]
    for arg in args:
        assert_same(fast(batch, arg, **kw), slow(batch, arg, **kw))
        assert_same(fast(batch, arg, **dict(kw, protected=())), slow(batch, arg, **dict(kw, protected=())))


def test_eda_single_op_is_that_op():
    batch = make_batch(12)
    same = dict(protected=PROTECTED, seed=3)
    kw = dict(epoch=1, **same)
    pairs = [
        (text.EDA(0.3, 0, 0, 0, synonyms=TABLE, **same), text.synonym_replacement(batch, 0.3, TABLE, **kw)),
        (text.EDA(0, 0.3, 0, 0, synonyms=TABLE, **same), text.random_insertion(batch, 0.3, TABLE, **kw)),
        (text.EDA(0, 0, 0.3, 0, **same), text.random_swap(batch, 0.3, **kw)),
        (text.EDA(0, 0, 0, 0.3, **same), text.random_deletion(batch, 0.3, **kw)),
    ]
    for eda, alone in pairs:
        assert_same(eda(batch, epoch=1, indices=positions(batch)), alone)


def test_eda_without_synonyms_runs_swap_and_deletion():
    batch = make_batch(13)
    got = text.EDA(seed=2)(batch, indices=positions(batch))
    assert_same(got, ref.eda(batch, seed=2))
    assert_same(got, text.EDA(0, 0, 0.1, 0.1, seed=2)(batch, indices=positions(batch)))


def test_eda_paper_counts():
    # the paper's n = max(1, int(alpha * L)), L = 20 free tokens
    values = np.arange(3, 23, dtype=np.int64)
    table = text.SynonymTable.from_dict({t: [t + 100] for t in range(3, 23)})
    batch = (values, np.array([0, 20]))
    assert len(text.EDA(0, 0.1, 0, 0, synonyms=table)(batch)[0]) == 22
    assert len(text.EDA(0, 0.01, 0, 0, synonyms=table)(batch)[0]) == 21  # max(1, int(0.2)) = 1
    assert len(text.EDA(0, 0.125, 0, 0, synonyms=table)(batch)[0]) == 22  # int(2.5) = 2
    assert len(text.EDA(0, 0.149, 0, 0, synonyms=table)(batch)[0]) == 22  # int(2.98) = 2, not rounded up
    assert len(text.random_insertion(batch, 0.125, table, seed=0)[0]) == 22


# ---- properties --------------------------------------------------------------


def protected_subsequence(seq):
    return [t for t in seq if t in PROTECTED]


@pytest.mark.parametrize("name", list(OP_ARGS))
def test_protected_kept_in_order(name):
    batch = make_batch(21, n=120)
    fast, _ = ops()[name]
    before = sequences(batch)
    for arg in OP_ARGS[name]:
        after = sequences(fast(batch, arg, seed=1, protected=PROTECTED))
        for x, y in zip(before, after):
            assert protected_subsequence(x) == protected_subsequence(y)
            if name in ("swap", "replacement"):
                assert [i for i, t in enumerate(x) if t in PROTECTED] == \
                       [i for i, t in enumerate(y) if t in PROTECTED]
            if name == "insertion" and x and x[0] == 1:
                assert y[0] == 1  # nothing lands before a leading [CLS]
            if name == "insertion" and len(y) > len(x):
                pads = len(x) - len(list(_rstrip_pad(x)))
                assert y[len(y) - pads:] == [0] * pads  # nor among trailing padding


def _rstrip_pad(seq):
    seq = list(seq)
    while seq and seq[-1] == 0:
        seq.pop()
    return seq


def test_deletion_never_empties():
    batch = make_batch(22, n=200, framed=False)
    for p in (0.5, 0.9, 1.0):
        for protected in ((), PROTECTED):
            out = sequences(text.random_deletion(batch, p, seed=2, protected=protected))
            for x, y in zip(sequences(batch), out):
                if x:
                    assert y
                free_x = [t for t in x if t not in protected]
                free_y = [t for t in y if t not in protected]
                if free_x:
                    assert free_y
                if p == 1.0:
                    assert len(free_y) == min(1, len(free_x))
                assert set(free_y) <= set(free_x)


def test_deletion_of_framed_sequences_keeps_one_word():
    batch = (np.array([1, 5, 6, 7, 2, 0, 0], np.int32), np.array([0, 7]))
    out = sequences(text.random_deletion(batch, 1.0, seed=0, protected=PROTECTED))[0]
    assert protected_subsequence(out) == [1, 2, 0, 0] and len(out) == 5


def test_deletion_rate():
    batch = make_batch(23, n=400, max_len=200, framed=False, empty_every=0)
    n_in = len(batch[0])
    n_out = len(text.random_deletion(batch, 0.3, seed=9)[0])
    assert abs((n_in - n_out) / n_in - 0.3) < 0.02


def test_insertion_adds_exactly_n():
    batch = make_batch(24, n=200)
    table = ref.synonym_lists(TABLE, set(PROTECTED))
    for n in (1, 3, 0.2):
        out = sequences(text.random_insertion(batch, n, TABLE, seed=5, protected=PROTECTED))
        for x, y in zip(sequences(batch), out):
            free = [t for t in x if t not in PROTECTED]
            has_source = any(t in table for t in free)
            want = n if isinstance(n, int) else max(1, int(n * len(free)))
            assert len(y) == len(x) + (want if has_source else 0)
            inserted = list(y)
            for t in x:
                inserted.remove(t)
            assert all(t not in PROTECTED for t in inserted)


def test_growth_bounds_each_changing_stage():
    # insertion and replacement each change max(floor(frac * length), 1) tokens, or their count
    lengths = np.array([0, 1, 9, 10, 29, 1000, 12345], dtype=np.int64)
    stages = [(text.OPS["replacement"], 0, 0.1, 0), (text.OPS["insertion"], 0, 0.3, 0),
              (text.OPS["swap"], 0, 0.5, 0), (text.OPS["insertion"], 7, 0.0, 0)]
    inserted, replaced = text._growth(stages, lengths, lengths.shape[0])
    assert inserted.tolist() == [1 + 7, 1 + 7, 2 + 7, 3 + 7, 8 + 7, 300 + 7, 3703 + 7]
    assert replaced.tolist() == [1, 1, 1, 1, 2, 100, 1234]


@pytest.mark.parametrize("batch", [(np.arange(10), np.array([0, 5, 10])), "a b c"])
def test_insertion_beyond_addressable_memory_raises(batch):
    with pytest.raises(MemoryError, match="n = 4611686018427387904 tokens"):
        text.random_insertion(batch, 2**62, {0: [1]} if isinstance(batch, tuple) else None, seed=0)


@pytest.mark.parametrize("n,max_len", [(20, 120), (50, 120), (0.9, 120), (128, 150), (129, 150), (0.95, 300)])
def test_many_insertions_match_reference(n, max_len):
    # up to 128 insertions keep a sorted array of places, more a Fenwick tree
    batch = make_batch(28, n=12 if max_len > 120 else 40, max_len=max_len)
    kw = dict(seed=3, protected=PROTECTED)
    assert_same(text.random_insertion(batch, n, TABLE, **kw), ref.random_insertion(batch, n, TABLE, **kw))


def test_replacement_changes_at_most_n_distinct_positions():
    batch = make_batch(25, n=200)
    for n in (1, 2, 6):
        out = sequences(text.synonym_replacement(batch, n, TABLE, seed=6, protected=PROTECTED))
        for x, y in zip(sequences(batch), out):
            changed = [i for i, (a, b) in enumerate(zip(x, y)) if a != b]
            assert len(y) == len(x) and len(changed) <= n
            for i in changed:
                assert y[i] in TABLE.synonyms_of(x[i]).tolist()


def test_swap_is_a_permutation():
    batch = make_batch(26, n=200)
    out = sequences(text.random_swap(batch, 4, seed=6, protected=PROTECTED))
    for x, y in zip(sequences(batch), out):
        assert sorted(x) == sorted(y)


def test_synonym_table_forms():
    batch = make_batch(27)
    mapping = TABLE.to_dict()
    assert_same(text.random_insertion(batch, 2, mapping, seed=1),
                text.random_insertion(batch, 2, TABLE, seed=1))
    raw = {5: [5, 6, 6, 7], 6: [6], 8: [9, 1, 9]}  # self references and repeats are dropped
    for name in ("insertion", "replacement"):
        fast, slow = ops(raw)[name]
        assert_same(fast(batch, 3, seed=2, protected=PROTECTED), slow(batch, 3, seed=2, protected=PROTECTED))
    t = text.SynonymTable.from_dict({3: [3, 4, 4, 5]})
    assert t.synonyms_of(3).tolist() == [4, 5] and t.vocab_size == 6
    assert t.synonyms_of(99).tolist() == [] and t.synonyms_of(-1).tolist() == []
    csr = text.SynonymTable(t.offsets, t.values)
    assert csr.to_dict() == t.to_dict()
    assert t.without([4]).to_dict() == {3: [5]}
    assert t.without([4]) is t.without((4,))
    assert t.without([7]) is t


# ---- determinism ------------------------------------------------------------------


def all_ops(batch, **kw):
    eda = text.EDA(0.2, 0.2, 0.2, 0.2, synonyms=TABLE, protected=PROTECTED, seed=kw["seed"])
    return [text.random_deletion(batch, 0.3, protected=PROTECTED, **kw),
            text.random_swap(batch, 2, protected=PROTECTED, **kw),
            text.random_insertion(batch, 2, TABLE, protected=PROTECTED, **kw),
            text.synonym_replacement(batch, 2, TABLE, protected=PROTECTED, **kw),
            eda(batch, epoch=kw.get("epoch", 0), indices=kw.get("indices", positions(batch)))]


def test_identical_for_every_thread_count():
    batch = make_batch(31, n=1000, max_len=60)
    with fastreg.num_threads(1):
        expected = all_ops(batch, seed=8)
    for k in (2, 3, 4):
        with fastreg.num_threads(k):
            for a, b in zip(all_ops(batch, seed=8), expected):
                assert_same(a, b)
    with fastreg.simd("baseline"):
        for a, b in zip(all_ops(batch, seed=8), expected):
            assert_same(a, b)


def test_identical_for_every_batch_split():
    values, offsets = make_batch(32, n=300)
    seqs = [values[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
    full = [sequences(r) for r in all_ops(seqs, seed=4, epoch=6)]
    order = np.random.default_rng(0).permutation(len(seqs))
    for part in np.array_split(order, 4):
        got = [sequences(r) for r in all_ops([seqs[i] for i in part], seed=4, epoch=6, indices=part)]
        for per_op, whole in zip(got, full):
            assert per_op == [whole[i] for i in part]


def test_epoch_seed_and_index_change_results():
    batch = make_batch(33, n=100, empty_every=0, framed=False)
    base = sequences(text.random_swap(batch, 3, seed=1))
    assert base != sequences(text.random_swap(batch, 3, seed=2))
    assert base != sequences(text.random_swap(batch, 3, seed=1, epoch=1))
    shifted = np.arange(100, dtype=np.uint64) + 1
    assert base != sequences(text.random_swap(batch, 3, seed=1, indices=shifted))
    assert base == sequences(text.random_swap(batch, 3, seed=1, indices=list(range(100))))


def test_empty_batches():
    empty = (np.zeros(0, np.int32), np.zeros(1, np.int64))
    for name, (fast, _) in ops().items():
        out = fast(empty, OP_ARGS[name][1], seed=0)
        assert out[0].dtype == np.int32 and out[0].size == 0 and out[1].tolist() == [0]
        assert fast([], OP_ARGS[name][1], seed=0) == []
    assert text.EDA(synonyms=TABLE)([]) == []


def test_inputs_untouched_and_outputs_fresh():
    values, offsets = make_batch(34)
    v0, o0 = values.copy(), offsets.copy()
    for r in all_ops((values, offsets), seed=3):
        assert not np.shares_memory(r[0], values)
    np.testing.assert_array_equal(values, v0)
    np.testing.assert_array_equal(offsets, o0)


def test_noncontiguous_and_readonly_values():
    values, offsets = make_batch(35)
    wide = np.repeat(values, 2)[::2]
    wide.flags.writeable = False
    assert_same(text.random_swap((wide, offsets), 2, seed=1), text.random_swap((values, offsets), 2, seed=1))


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 12), min_size=0, max_size=12),
    data=st.data(),
    name=st.sampled_from(list(OP_ARGS) + ["eda"]),
    seed=st.integers(0, 2**64 - 1),
    epoch=st.integers(0, 2**64 - 1),
    as_list=st.booleans(),
)
def test_hypothesis_ragged(lengths, data, name, seed, epoch, as_list):
    tokens = data.draw(st.lists(st.integers(0, 12), min_size=sum(lengths), max_size=sum(lengths)))
    table = text.SynonymTable.from_dict(data.draw(st.dictionaries(
        st.integers(0, 12), st.lists(st.integers(0, 12), max_size=3), max_size=8)), vocab_size=13)
    protected = data.draw(st.sets(st.integers(0, 12), max_size=3))
    offsets = np.zeros(len(lengths) + 1, np.int64)
    offsets[1:] = np.cumsum(lengths)
    values = np.array(tokens, np.int32)
    batch = [values[offsets[i]:offsets[i + 1]] for i in range(len(lengths))] if as_list else (values, offsets)
    if name == "eda":
        alphas = data.draw(st.tuples(*[st.sampled_from([0.0, 0.1, 0.5, 1.0])] * 4))
        got = text.EDA(*alphas, synonyms=table, protected=protected, seed=seed)(batch, epoch=epoch,
                                                                               indices=positions(batch))
        want = ref.eda(batch, alpha_sr=alphas[0], alpha_ri=alphas[1], alpha_rs=alphas[2], p_rd=alphas[3],
                       synonyms=table, protected=protected, seed=seed, epoch=epoch)
    else:
        arg = data.draw(st.sampled_from(OP_ARGS[name]))
        fast, slow = ops(table)[name]
        got = fast(batch, arg, seed=seed, epoch=epoch, protected=protected)
        want = slow(batch, arg, seed=seed, epoch=epoch, protected=protected)
    assert_same(got, want)
    for x, y in zip(sequences(batch), sequences(got)):
        assert [t for t in x if t in protected] == [t for t in y if t in protected]
        assert bool(y) == bool(x) or name in ("insertion", "eda")


# ---- bad input ------------------------------------------------------------------------


def good():
    values = np.array([1, 5, 6, 2, 7, 8, 9], np.int64)
    offsets = np.array([0, 4, 7], np.int64)
    return values, offsets


def calls():
    """Every public entry point, as a function of (batch, **overrides)."""
    return [
        lambda b, **k: text.random_deletion(b, k.get("p", 0.3), seed=1, **_extra(k)),
        lambda b, **k: text.random_swap(b, k.get("n", 1), seed=1, **_extra(k)),
        lambda b, **k: text.random_insertion(b, k.get("n", 1), k.get("synonyms", TABLE), seed=1, **_extra(k)),
        lambda b, **k: text.synonym_replacement(b, k.get("n", 1), k.get("synonyms", TABLE), seed=1,
                                                **_extra(k)),
        lambda b, **k: text.EDA(synonyms=k.get("synonyms", TABLE), protected=k.get("protected", ()))(
            b, indices=k.get("indices")),
    ]


def _extra(k):
    return {name: k[name] for name in ("protected", "indices", "epoch") if name in k}


def assert_refused(error, match, batch, only=slice(None), **overrides):
    copies = [a.copy() for a in (batch if isinstance(batch, list) else batch)
              if isinstance(a, np.ndarray)]
    for call in calls()[only]:
        with pytest.raises(error, match=match):
            call(batch, **overrides)
        after = [a for a in (batch if isinstance(batch, list) else batch) if isinstance(a, np.ndarray)]
        for x, y in zip(copies, after):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.bool_, np.complex64])
def test_non_integer_values(dtype):
    values, offsets = good()
    assert_refused(TypeError, "values", (values.astype(dtype), offsets))
    assert_refused(TypeError, r"batch\[1\]", [values[:4], values[4:].astype(dtype)])


def test_values_of_other_integer_dtypes_in_ragged_form():
    values, offsets = good()
    assert_refused(TypeError, "values", (values.astype(np.int16), offsets))


def test_tuple_without_arrays_is_a_list():
    ids = ([1, 5, 6, 2], [7, 8, 9])
    for call in calls()[:-1]:  # the EDA object of calls() takes a new seed each time
        assert call(ids) == call(list(ids))
    sentences = ("the quick brown fox jumps", "over the lazy dog")  # as zip(*pairs) gives them
    eda = text.EDA(seed=3)
    assert eda(sentences, indices=[0, 1]) == eda(list(sentences), indices=[0, 1])
    got = text.random_swap(sentences, 2, seed=1)
    assert isinstance(got, list) and got == text.random_swap(list(sentences), 2, seed=1)
    assert got != list(sentences)  # the sentences were changed, not refused or passed through


def test_batch_of_wrong_form():
    values, offsets = good()
    assert_refused(TypeError, "batch", values.reshape(1, -1))  # one 1-D array is one sequence; 2-D is no form
    assert_refused(TypeError, r"batch is a tuple of \(ndarray, ndarray, ndarray\)", (values, offsets, offsets))
    assert_refused(TypeError, r"batch is a tuple of \(ndarray, list\)", (values, offsets.tolist()))
    assert_refused(TypeError, r"batch is a tuple of \(list, ndarray\)", (values.tolist(), offsets))
    assert_refused(TypeError, r"batch is a tuple of \(ndarray\)", (values,))
    assert_refused(TypeError, r"batch\[1\]", [values[:4], [1, 2, 3]])  # forms mixed
    assert_refused(TypeError, r"batch\[0\]", [{1, 2}])
    assert_refused(ValueError, r"batch\[0\]", [values.reshape(7, 1)])
    assert_refused(ValueError, "values", (values.reshape(7, 1), offsets))


@pytest.mark.parametrize("offsets,match", [
    ([0, 5, 4, 7], "non-decreasing"),
    ([1, 4, 7], "start at 0"),
    ([0, 4, 6], "end at"),
    ([0, 4, 8], "end at"),
    ([], "offsets"),
    ([[0, 7]], "offsets"),
])
def test_bad_offsets(offsets, match):
    values, _ = good()
    offsets = np.array(offsets, np.int64)
    assert_refused(ValueError, match, (values, offsets))


def test_non_integer_offsets():
    values, _ = good()
    assert_refused(TypeError, "offsets", (values, np.array([0.0, 4.0, 7.0])))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_p_out_of_range(p):
    values, offsets = good()
    v0 = values.copy()
    with pytest.raises(ValueError, match="p"):
        text.random_deletion((values, offsets), p, seed=0)
    with pytest.raises(TypeError, match="p"):
        text.random_deletion((values, offsets), "0.1", seed=0)
    for name in ("alpha_sr", "alpha_ri", "alpha_rs", "p_rd"):
        with pytest.raises(ValueError, match=name):
            text.EDA(**{name: p})
    np.testing.assert_array_equal(values, v0)


@pytest.mark.parametrize("n,error", [(-1, ValueError), (-0.5, ValueError), (1.5, ValueError), (0.0, ValueError),
                                     (1.0, ValueError), (True, TypeError), ("2", TypeError)])
def test_bad_n(n, error):
    assert_refused(error, "^n must", good(), only=slice(1, 4), n=n)


def test_synonym_ids_out_of_range():
    with pytest.raises(ValueError, match="synonyms.*vocabulary range"):
        text.SynonymTable.from_dict({3: [4, 12]}, vocab_size=10)
    with pytest.raises(ValueError, match="synonyms.*vocabulary range"):
        text.SynonymTable.from_dict({12: [4]}, vocab_size=10)
    with pytest.raises(ValueError, match="synonyms.*vocabulary range"):
        text.SynonymTable.from_dict({3: [-1]})
    with pytest.raises(ValueError, match="synonyms.*vocabulary range"):
        text.SynonymTable(np.array([0, 1, 2]), np.array([1, 2]))
    mapping = {3: [4, -2]}
    values, offsets = good()
    assert_refused(ValueError, "synonyms", (values, offsets), only=slice(2, None), synonyms=mapping)
    assert mapping == {3: [4, -2]}
    big = text.SynonymTable.from_dict({3: [40000]})
    assert_refused(ValueError, "synonyms", [values[:4].astype(np.int16), values[4:]], only=slice(2, None),
                   synonyms=big)
    with pytest.raises(ValueError, match="synonyms"):
        text.random_insertion([values.astype(np.int8)], 1, {3: [300]}, seed=0)


@pytest.mark.parametrize("synonyms", [[3, 4], "3:4", 3, np.array([[3, 4]]), None, {3: 4}, {"a": [1]},
                                      {3: [1.5]}])
def test_synonyms_of_wrong_form(synonyms):
    assert_refused(TypeError, "synonyms", good(), only=slice(2, 4), synonyms=synonyms)
    if synonyms is not None:
        with pytest.raises(TypeError, match="synonyms"):
            text.EDA(synonyms=synonyms)


def test_bad_table_arrays():
    with pytest.raises(TypeError, match="synonyms values"):
        text.SynonymTable(np.array([0, 1]), np.array([0.5]))
    with pytest.raises(ValueError, match="synonyms offsets"):
        text.SynonymTable(np.array([0, 2, 1]), np.array([0, 1]))
    offsets, values = np.array([0, 1, 1]), np.array([1])
    table = text.SynonymTable(offsets, values)
    assert offsets.flags.writeable and values.flags.writeable
    offsets[1] = 0
    assert table.synonyms_of(0).tolist() == [1]


@pytest.mark.parametrize("protected,error", [(3, TypeError), ("ab", TypeError), ([1.5], TypeError),
                                             ([2**64], ValueError)])
def test_bad_protected(protected, error):
    values, offsets = good()
    assert_refused(error, "protected", (values, offsets), protected=protected)


@pytest.mark.parametrize("indices,error", [([0], ValueError), ([-1, 0], ValueError), ([0.5, 1.5], TypeError),
                                           (np.zeros((2, 1), np.int64), ValueError)])
def test_bad_indices(indices, error):
    values, offsets = good()
    assert_refused(error, "indices", (values, offsets), indices=indices)


def test_bad_seed_and_epoch():
    values, offsets = good()
    with pytest.raises(ValueError, match="seed"):
        text.random_swap((values, offsets), 1, seed=-1)
    with pytest.raises(TypeError, match="epoch"):
        text.random_swap((values, offsets), 1, seed=0, epoch=1.0)
    with pytest.raises(ValueError, match="seed"):
        text.EDA(seed=2**64)
