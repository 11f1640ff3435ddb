"""Builds the weakly supervised (query, passage) pairs the default model is trained on.

Every source is English text from a Debian package (see training/DATA.md for licenses and versions).
Cranfield (../shared/data/cranfield) is never read here: it is for evaluation only.

Pair kinds (the `kind` field), each a short text that should find a longer one:
  headword  a dictionary headword / WordNet lemmas / man page NAME line / docs section title → its body
  ict       inverse cloze: one sentence of a passage → the passage (the sentence removed half the time,
            so the model learns both topical and exact-term matching)

Usage (rebuilds training/data/pairs.jsonl deterministically; the second stage's file is in
training/README.md and needs calculix-ccx-doc python-scipy-doc python-sympy-doc too):
  sudo apt-get install -y wordnet-base dict-gcide dict-foldoc manpages manpages-dev python3.11-doc
  /usr/bin/python3 training/build_dataset.py --out training/data/pairs.jsonl

--limit N keeps the first N passages of each source (the smoke test uses a tiny slice).
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import random
import re
import subprocess
import sys
from html.parser import HTMLParser
from typing import Dict, Iterator, List, Optional, Tuple

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_CORPUS = os.path.join(REPO_ROOT, "data", "demo", "python-docs.jsonl")

SOURCES = {
    "wordnet": {"package": "wordnet-base", "path": "/usr/share/wordnet"},
    "gcide": {"package": "dict-gcide", "path": "/usr/share/dictd/gcide.dict.dz"},
    "foldoc": {"package": "dict-foldoc", "path": "/usr/share/dictd/foldoc.dict.dz"},
    "manpages": {"package": "manpages manpages-dev", "path": "/usr/share/man"},
    "python-docs": {"package": "python3.11-doc (via data/demo/python-docs.jsonl)", "path": DEMO_CORPUS},
    # Technical and scientific manuals (engineering mechanics, heat transfer and fluid flow; numerical
    # methods; physics), for the vocabulary of science and engineering the sources above lack.
    "calculix": {"package": "calculix-ccx-doc", "path": "/usr/share/doc/calculix-ccx-doc/ccx",
                 "include": [r"^node\d+\.html$"], "exclude": []},
    "scipy-docs": {"package": "python-scipy-doc", "path": "/usr/share/doc/python-scipy-doc/html",
                   "include": [r"^(tutorial|reference)/.*\.html$"], "exclude": [r"genindex|search\.html"]},
    "sympy-docs": {"package": "python-sympy-doc", "path": "/usr/share/doc/python-sympy-doc/html",
                   "include": [r"\.html$"], "exclude": [r"^_|genindex|search\.html|py-modindex"]},
}

WORD = re.compile(r"\S+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")


class SourceMissing(Exception):
    pass


def words(text: str) -> int:
    return len(WORD.findall(text))


def clip_words(text: str, n: int) -> str:
    w = text.split()
    return " ".join(w[:n])


def clean_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# Sources: each yields (title, body) passages


def wordnet_passages() -> Iterator[Tuple[str, str]]:
    root = SOURCES["wordnet"]["path"]
    for pos in ("noun", "verb", "adj", "adv"):
        path = os.path.join(root, f"data.{pos}")
        if not os.path.exists(path):
            raise SourceMissing(f"{path} (apt-get install wordnet-base)")
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):  # license header
                    continue
                head, _, gloss = line.partition(" | ")
                parts = head.split()
                n = int(parts[3], 16)
                lemmas = [parts[4 + 2 * i].replace("_", " ") for i in range(n)]
                lemmas = [re.sub(r"\(.*\)$", "", l) for l in lemmas]
                gloss = clean_space(gloss)
                if words(gloss) < 4:
                    continue
                yield ", ".join(dict.fromkeys(lemmas)), gloss.replace('"', "")


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(s: str) -> int:
    v = 0
    for c in s:
        v = v * 64 + _B64.index(c)
    return v


def dictd_passages(name: str) -> Iterator[Tuple[str, str]]:
    dz = SOURCES[name]["path"]
    index = dz.replace(".dict.dz", ".index")
    if not os.path.exists(dz):
        raise SourceMissing(f"{dz} (apt-get install dict-{name})")
    raw = gzip.open(dz).read()
    seen = set()
    with open(index, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database"):
                continue
            head, off, ln = parts[0], _b64(parts[1]), _b64(parts[2])
            if (off, ln) in seen:
                continue
            seen.add((off, ln))
            body = raw[off:off + ln].decode("utf-8", "replace")
            text = _clean_dict_entry(name, body)
            if words(text) >= 6:
                yield head, text


def _clean_dict_entry(name: str, body: str) -> str:
    lines = body.split("\n")[1:]  # the first line repeats the headword (with pronunciation)
    text = "\n".join(lines)
    text = re.sub(r"\[(1913 Webster|WordNet [0-9.]+|PJC|Century Dict\.|Webster 1913 Suppl\.)[^\]]*\]", " ", text)
    text = re.sub(r"\(\d{4}-\d{2}-\d{2}\)", " ", text)  # FOLDOC dates
    text = re.sub(r"\{([^}]*)\}", r"\1", text)  # FOLDOC cross-reference braces
    text = re.sub(r"<([a-z ,]+)>", r"(\1)", text)  # FOLDOC subject tags
    text = re.sub(r"--[A-Z][A-Za-z. ]+\.", " ", text)  # GCIDE quotation authors
    text = re.sub(r"\\[^\\\n]*\\", " ", text)  # GCIDE pronunciation \\E`nig*mat"ic\\
    text = re.sub(r"\[[^\]]*\]", " ", text)  # GCIDE etymology [Cf. F. ...]
    text = re.sub(r"^\s*,?\s*(n|a|v|adv|v\. [ti]|pl|prep|conj|interj|p\. p|imp)\.(\s*;?\s*(n|a|v|pl|p\. p|imp)\.)*[,;]?", " ", text)
    return clean_space(text)


def man_pages() -> Iterator[Tuple[str, str]]:
    files: List[str] = []
    for pkg in ("manpages", "manpages-dev"):
        try:
            out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=True).stdout
        except (subprocess.CalledProcessError, FileNotFoundError):
            raise SourceMissing(f"the Debian package {pkg} (apt-get install {pkg})")
        files += [p for p in out.splitlines() if re.search(r"/usr/share/man/man\d/[^/]+\.gz$", p)]
    for path in sorted(set(files)):
        try:
            src = gzip.open(path).read().decode("utf-8", "replace")
        except OSError:
            continue
        if src.startswith(".so "):
            continue
        name, desc = _man_sections(src)
        if name and words(desc) >= 10:
            yield name, desc


def _man_text(line: str) -> str:
    line = re.sub(r"\\f[BIRP5]|\\f\(..|\\f\[[^\]]*\]", "", line)
    line = line.replace("\\-", "-").replace("\\(em", "-").replace("\\(en", "-").replace("\\e", "\\")
    line = re.sub(r"\\\(..|\\\[[^\]]*\]|\\[&|^%~ ]", " ", line)
    if line.startswith("."):
        m = re.match(r"\.(B|I|BR|IR|RB|BI|IB|RI|SM|SB)\s+(.*)", line)
        if not m:
            return ""
        line = m.group(2).replace('"', "")
    return line


def _man_sections(src: str) -> Tuple[str, str]:
    sections: Dict[str, List[str]] = {}
    cur = None
    for line in src.split("\n"):
        m = re.match(r'\.SH\s+"?([^"]*)"?', line)
        if m:
            cur = m.group(1).strip().upper()
            sections.setdefault(cur, [])
            continue
        if cur is not None:
            t = _man_text(line)
            if t.strip():
                sections[cur].append(t)
    name = clean_space(" ".join(sections.get("NAME", [])))
    desc = clean_space(" ".join(sections.get("DESCRIPTION", [])))
    return name, desc


def python_doc_passages() -> Iterator[Tuple[str, str]]:
    if not os.path.exists(DEMO_CORPUS):
        raise SourceMissing(f"{DEMO_CORPUS} (npx tsx scripts/build-demo-corpus.ts)")
    with open(DEMO_CORPUS, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            title = rec.get("title", "").split("›")[-1].strip()
            if words(rec.get("text", "")) >= 10:
                yield title, clean_space(rec["text"])


class _HtmlBlocks(HTMLParser):
    """Headings and prose blocks (paragraphs, list items, definitions) of one HTML page, in order.
    Code, math markup, navigation and sidebars are dropped: the passages are what a reader reads."""

    PROSE = {"p", "li", "dd"}
    DROP = {"script", "style", "pre", "nav", "aside", "header", "footer", "address", "table", "math", "svg"}
    DROP_CLASS = re.compile(r"\b(navigation|highlight|sphinxsidebar|related|headerlink|bd-sidebar|"
                            r"sig|math|doctest|toctree|toc-tree|sidebar|bd-header|prev-next)")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: List[Tuple[str, str]] = []  # ("h", text) or ("p", text)
        self.stack: List[Tuple[str, bool]] = []  # (tag, drops its content)
        self.buf: List[str] = []
        self.kind: Optional[str] = None

    def _dropping(self) -> bool:
        return any(d for _, d in self.stack)

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "hr", "img", "meta", "link", "input", "wbr"):
            return
        cls = dict(attrs).get("class") or ""
        drop = tag in self.DROP or bool(self.DROP_CLASS.search(cls))
        self.stack.append((tag, drop))
        if not self._dropping() and self.kind is None:
            if re.fullmatch(r"h[1-4]", tag):
                self.kind, self.buf = "h", []
            elif tag in self.PROSE:
                self.kind, self.buf = "p", []

    def handle_endtag(self, tag):
        if not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if self.kind and ((self.kind == "h" and re.fullmatch(r"h[1-4]", tag)) or (self.kind == "p" and tag in self.PROSE)):
            text = clean_space("".join(self.buf)).replace("¶", "").strip()
            if text:
                self.blocks.append((self.kind, text))
            self.kind, self.buf = None, []

    def handle_data(self, data):
        if self.kind and not self._dropping():
            self.buf.append(data)


def html_doc_passages(name: str, min_words: int = 40, max_words: int = 160) -> Iterator[Tuple[str, str]]:
    """(section heading, prose) passages of an HTML manual: the prose blocks under one heading packed
    in order into passages of up to max_words (blocks are kept whole, except that a block longer than
    max_words is cut to its first max_words words; passages under min_words are dropped). Inline math
    between \\( \\), \\[ \\] or $ signs is removed, which can take prose between two dollar signs with it."""
    src = SOURCES[name]
    root = src["path"]
    if not os.path.isdir(root):
        raise SourceMissing(f"{root} (apt-get install {src['package']})")
    files = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), root)
            if any(re.search(p, rel) for p in src["include"]) and not any(re.search(p, rel) for p in src["exclude"]):
                files.append(rel)
    for rel in sorted(files):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            parser = _HtmlBlocks()
            parser.feed(f.read())
        heading, cur = "", []

        def flush():
            body = " ".join(cur)
            if words(body) >= min_words:
                return (heading, body)
            return None

        for kind, text in parser.blocks:
            if kind == "h":
                out = flush()
                if out:
                    yield out
                heading, cur = re.sub(r"^[\d.]+\s+", "", text), []
                continue
            text = re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]|\$[^$]*\$", " ", text)  # inline LaTeX
            if words(text) < 4:
                continue
            if cur and words(" ".join(cur)) + words(text) > max_words:
                out = flush()
                if out:
                    yield out
                cur = []
            cur.append(clip_words(text, max_words))
        out = flush()
        if out:
            yield out


READERS = {
    "wordnet": wordnet_passages,
    "gcide": lambda: dictd_passages("gcide"),
    "foldoc": lambda: dictd_passages("foldoc"),
    "manpages": man_pages,
    "python-docs": python_doc_passages,
    "calculix": lambda: html_doc_passages("calculix"),
    "scipy-docs": lambda: html_doc_passages("scipy-docs"),
    "sympy-docs": lambda: html_doc_passages("sympy-docs"),
}

# The default model's first stage; the manuals come after them (a second stage's pairs file appends
# them, so that load_pairs draws the same dev pairs for the first five).
STAGE_ONE_SOURCES = ["wordnet", "gcide", "foldoc", "manpages", "python-docs"]

# ---------------------------------------------------------------------------------------------
# Pairs


def sentences(text: str) -> List[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def make_pairs(source: str, passages: List[Tuple[str, str]], rng: random.Random,
               max_doc_words: int) -> Iterator[Dict]:
    for title, body in passages:
        doc = clip_words(body, max_doc_words)
        if title and words(title) <= 16:
            # The passage keeps its title half the time, as a page would show it.
            d = f"{title}: {doc}" if rng.random() < 0.5 else doc
            yield {"src": source, "kind": "headword", "q": title, "d": d}
        sents = [s for s in sentences(body) if 5 <= words(s) <= 40]
        if len(sents) >= 2 or (len(sents) == 1 and words(body) > words(sents[0]) + 12):
            s = rng.choice(sents)
            rest = body.replace(s, " ") if rng.random() < 0.5 else body
            yield {"src": source, "kind": "ict", "q": s, "d": clip_words(clean_space(rest), max_doc_words)}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sources", default=",".join(STAGE_ONE_SOURCES),
                    help="comma-separated, in this order in the output (default: the first stage's "
                         f"{', '.join(STAGE_ONE_SOURCES)}); known: " + ", ".join(READERS))
    ap.add_argument("--limit", type=int, default=0, help="passages per source (0 = all)")
    ap.add_argument("--max-doc-words", type=int, default=120)
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    counts: Dict[str, Dict[str, int]] = {}
    tmp = a.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as out:
        for name in a.sources.split(","):
            if name not in READERS:
                print(f"build_dataset: unknown source {name!r} (known: {', '.join(READERS)})", file=sys.stderr)
                return 2
            try:
                passages = []
                for p in READERS[name]():
                    passages.append(p)
                    if a.limit and len(passages) >= a.limit:
                        break
            except SourceMissing as e:
                print(f"build_dataset: source {name}: missing {e}", file=sys.stderr)
                os.remove(tmp)
                return 3
            c = counts.setdefault(name, {"passages": len(passages), "headword": 0, "ict": 0})
            for pair in make_pairs(name, passages, rng, a.max_doc_words):
                c[pair["kind"]] += 1
                out.write(json.dumps(pair, ensure_ascii=False) + "\n")
            print(f"{name}: {c}", file=sys.stderr)
    os.replace(tmp, a.out)
    with open(a.out + ".counts.json", "w") as f:
        json.dump(counts, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
