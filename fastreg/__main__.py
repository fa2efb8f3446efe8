"""Command line: ``python -m fastreg {demo,bench,info}`` (also the ``fastreg`` script)."""

import argparse
import json
import os
import platform
import sys


def _bench(args):
    import fastreg
    from fastreg import bench

    names = args.only or list(bench.ALL_CASES)
    cases = [case for name in names for case in bench.ALL_CASES[name](quick=args.quick)]
    repeat = 5 if args.quick else 15
    if args.threads:
        for case in cases:
            case.threads = args.threads
    print(f"fastreg {fastreg.__version__} on {platform.machine()}, SIMD {fastreg.get_simd()}, "
          f"{fastreg.threads.available_cores()} cores; median of {repeat} runs per contender",
          flush=True)
    busy = bench.busy_note()
    if busy:
        print(busy, flush=True)
    note = bench.missing_peers_note()
    if note:
        print(note, flush=True)
    rows, summaries = [], []
    for i, case in enumerate(cases, 1):
        def progress(done, total, i=i, case=case):
            print(f"\r[{i}/{len(cases)}] {case.title}: round {done}/{total}", end="", file=sys.stderr,
                  flush=True)
        medians = bench.run_case(case, repeat=repeat, progress=progress)
        print(file=sys.stderr)
        rows += bench.rows_for(case, medians)
        if case.summary:
            summaries.append(case.summary(medians))
    print(bench.format_table(rows))
    for line in summaries:
        print(line)
    print(bench.TABLE_FOOTER)
    if note:
        print(note)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
        print(f"wrote {args.json}")
    return 0


def _demo(args):
    from fastreg import demo

    demo.run(out_dir=args.out, images_dir=args.images, seed=args.seed, epochs=args.epochs,
             train_size=args.train_size)
    return 0


def _info(args):
    import fastreg

    fastreg.show_config()
    return 0


def _int_in(low, high):
    """An argparse type: an integer in [low, high]."""
    def parse(text):
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer in [{low}, {high}], got {value}")
        return value
    return parse


def _folder(text):
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder")
    return text


def main(argv=None):
    from fastreg.bench import ALL_CASES  # the groups --only offers (NumPy only, quick to import)

    parser = argparse.ArgumentParser(
        prog="fastreg", description="fastreg: fast, reproducible regularizers for deep learning.")
    sub = parser.add_subparsers(dest="command", metavar="{demo,bench,info}")
    d = sub.add_parser("demo", help="show the regularizers at work: pictures and a small training run")
    d.add_argument("--out", default=".", help="folder for the pictures (default: current folder)")
    d.add_argument("--images", metavar="DIR", type=_folder, help="use the PNG/JPEG images of DIR instead of the samples (the first is shown, the second is its mixing partner, centre-cropped and resized to the first's size)")
    d.add_argument("--seed", type=int, default=0,
                   help="seed of every random draw (augmentation, dropout, weights, data split); "
                        "the same seed gives the same pictures and accuracies (default: 0)")
    d.add_argument("--epochs", type=_int_in(1, 10_000), default=60,
                   help="training epochs of each of the two runs (default: 60)")
    # scikit-learn's digits hold 1,797 images; at least 100 are kept for testing
    d.add_argument("--train-size", type=_int_in(10, 1697), default=300,
                   help="digits used for training, the rest for testing (default: 300 of 1797)")
    d.set_defaults(func=_demo)
    b = sub.add_parser("bench", help="time fastreg against its floors and peers; print a table")
    b.add_argument("--quick", action="store_true", help="smaller sizes and fewer runs")
    b.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    b.add_argument("--threads", type=int, help="threads for the multithreaded cases")
    b.add_argument("--only", action="append", choices=list(ALL_CASES), metavar="GROUP",
                   help="run only this group of cases (repeatable); GROUP is one of "
                        + ", ".join(ALL_CASES))
    b.set_defaults(func=_bench)
    for name in ("info", "show_config"):
        i = sub.add_parser(name, help="version, SIMD path, threads, thread pool, optional packages found")
        i.set_defaults(func=_info)
    args = parser.parse_args(argv)
    if args.command is None:  # no command: the commands and what they do, as a usage error
        parser.print_help(sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
