"""Streaming a generated Stack Exchange Posts.xml with the study's rules: time and peak memory.

    .venv/bin/python bench/mine.py [--mb 1024] [--keep FILE]

Writes a Posts.xml of about --mb megabytes (questions and answers, tags in both dump
formats, HTML bodies with entities) to a temporary file, then scans it in a child process
(so the peak resident memory is the scan's alone). Goals: under 200 MB peak, over 50 MB/s.
"""

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = [
    "tensor",
    "shape",
    "loss",
    "model",
    "layer",
    "gradient",
    "keras",
    "batch",
    "epoch",
    "error",
    "value",
    "python",
    "how",
    "install",
    "build",
    "nan",
]
TAGS = ["tensorflow", "keras", "python", "pytorch", "numpy", "pandas"]


def generate(path: Path, megabytes: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    target = megabytes * 1024 * 1024
    written = 0
    post_id = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<posts>\n')
        while written < target:
            post_id += 1
            tags = rng.sample(TAGS, 2)
            tag_text = "".join(f"<{t}>" for t in tags) if post_id % 2 else "|" + "|".join(tags) + "|"
            body = "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 250))) + " &amp; x &lt; 0.5</p>"
            title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10)))
            accepted = f' AcceptedAnswerId="{post_id + 1}"' if rng.random() < 0.6 else ""
            line = (
                f'  <row Id="{post_id}" PostTypeId="1"{accepted} CreationDate="2020-01-01T00:00:00.000" '
                f'Score="{rng.randint(-3, 500)}" ViewCount="{rng.randint(0, 10**6)}" Body={quoteattr(body)} '
                f'Title={quoteattr(title)} Tags={quoteattr(tag_text)} AnswerCount="1" />\n'
            )
            post_id += 1
            answer = "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 150))) + "</p>"
            line += f'  <row Id="{post_id}" PostTypeId="2" ParentId="{post_id - 1}" Score="1" '
            line += f"Body={quoteattr(answer)} />\n"
            out.write(line)
            written += len(line)
        out.write("</posts>\n")
    return path.stat().st_size


def scan(path: str) -> None:
    from collection.mining.posts import PostRules, select_posts

    start = time.perf_counter()
    questions, stats = select_posts(path, PostRules(tag="tensorflow", top=1000))
    elapsed = time.perf_counter() - start
    size = Path(path).stat().st_size / 1024 / 1024
    print(f"scanned {size:.0f} MB, {stats.rows} rows, {stats.matched} matched, kept {len(questions)}")
    print(f"time {elapsed:.1f} s, {size / elapsed:.1f} MB/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--keep", help="write the generated file here and keep it")
    parser.add_argument("--scan", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scan:
        scan(args.scan)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "Posts.xml"
        started = time.perf_counter()
        size = generate(path, args.mb)
        print(f"generated {size / 1024 / 1024:.0f} MB in {time.perf_counter() - started:.1f} s")
        subprocess.run([sys.executable, __file__, "--scan", str(path)], check=True)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory {peak:.0f} MB (goal < 200 MB)")


if __name__ == "__main__":
    main()
