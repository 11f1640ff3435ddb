"""BM25-mined hard negatives for training pairs (DPR's recipe: a passage that shares the query's words
but is not its answer).

For a pair (q, d) of one source, the negative is the best BM25 match of q among that source's training
passages other than d, skipping passages whose own query is q (WordNet and GCIDE give one headword
several glosses: another sense of "bank" is not a negative for "bank"). Words are lowercase letter and
digit runs without English stop words; no stemming. Terms in more than 5% of the passages are skipped:
they rank little and would make every passage a candidate. Plain numpy, deterministic for a seed.
"""

from __future__ import annotations

import random
import re
from typing import Dict, List, Tuple

import numpy as np

STOP = set("""a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my
myself no nor not now of off on once only or other our ours ourselves out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your yours
yourself yourselves""".split())
WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> List[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP and len(w) > 1]


class Bm25:
    """BM25 (k1 1.2, b 0.75) over a list of passages, with postings as numpy arrays."""

    def __init__(self, passages: List[str], k1: float = 1.2, b: float = 0.75, max_df: float = 0.05):
        term_id: Dict[str, int] = {}
        rows: List[Tuple[int, int, int]] = []
        lengths = np.zeros(len(passages), dtype=np.float64)
        self.word_sets: List[set] = []  # each passage's words (may_answer compares them)
        for i, p in enumerate(passages):
            ws = words(p)
            self.word_sets.append(set(ws))
            lengths[i] = len(ws)
            counts: Dict[int, int] = {}
            for w in ws:
                t = term_id.setdefault(w, len(term_id))
                counts[t] = counts.get(t, 0) + 1
            rows.extend((t, i, c) for t, c in counts.items())
        arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
        order = np.lexsort((arr[:, 1], arr[:, 0]))
        arr = arr[order]
        self.term_id = term_id
        self.starts = np.searchsorted(arr[:, 0], np.arange(len(term_id) + 1))
        self.docs = arr[:, 1]
        n = len(passages)
        df = np.diff(self.starts)
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        self.usable = df <= max(1, int(max_df * n))
        avg = lengths.mean() if n else 1.0
        tf = arr[:, 2].astype(np.float64)
        # Each posting's BM25 contribution, precomputed: a query then only adds up rows.
        self.weight = self.idf[arr[:, 0]] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[arr[:, 1]] / avg))

    def top(self, query: str, k: int) -> List[int]:
        ids = {self.term_id[w] for w in words(query) if w in self.term_id}
        spans = [(self.starts[t], self.starts[t + 1]) for t in ids if self.usable[t]]
        if not spans:
            return []
        docs = np.concatenate([self.docs[a:b] for a, b in spans])
        weight = np.concatenate([self.weight[a:b] for a, b in spans])
        cand, inv = np.unique(docs, return_inverse=True)
        score = np.bincount(inv, weights=weight)
        k = min(k, len(cand))
        best = np.argpartition(-score, k - 1)[:k]
        best = best[np.argsort(-score[best], kind="stable")]
        return cand[best].tolist()


def lemmas(text: str) -> set:
    """The comma-separated names of a dictionary entry ("bank, depository financial institution")."""
    return {x.strip().lower() for x in text.split(",") if x.strip()}


def may_answer(q: str, pos: Dict, neg: Dict, pos_words: set, neg_words: set) -> bool:
    """Whether `neg` may be an answer to q after all (so not a negative): the same passage in another
    pair (a title pair and an inverse-cloze pair of one section), a passage holding the whole query (the
    sentence an inverse-cloze query was cut from, another passage under the same title, another use of
    a headword), or another sense of the query's word (its names, or the "names:" head of its gloss,
    share one). Single-word headwords thus rarely get a negative: most matches hold the word.
    pos_words / neg_words: the passages' word sets (Bm25.word_sets)."""
    if neg["d"] == pos["d"] or neg["q"] == q:
        return True
    nd = neg["d"].lower()
    if q.lower().strip() in nd:
        return True
    a, b = pos_words, neg_words
    if a and b and len(a & b) / len(a | b) > 0.5:
        return True
    head = nd.split(":", 1)[0] if ":" in nd[:100] else ""
    return bool(lemmas(q) & (lemmas(neg["q"]) | lemmas(head)))


def mine(pairs: Dict[str, List[Dict]], per_source: int, seed: int, depth: int = 10
         ) -> Dict[str, List[Tuple[int, int]]]:
    """For up to `per_source` random pairs of each source: (pair index, negative pair index)."""
    rng = random.Random(seed)
    out: Dict[str, List[Tuple[int, int]]] = {}
    for s, ps in pairs.items():
        index = Bm25([p["d"] for p in ps])
        chosen = rng.sample(range(len(ps)), min(per_source, len(ps)))
        found = []
        for i in chosen:
            q = ps[i]["q"]
            for j in index.top(q, depth):
                if j != i and not may_answer(q, ps[i], ps[j], index.word_sets[i], index.word_sets[j]):
                    found.append((i, j))
                    break
        out[s] = found
    return out


def coverage(mined: Dict[str, List[Tuple[int, int]]], per_source: int,
             pairs: Dict[str, List[Dict]]) -> Dict[str, str]:
    return {s: f"{len(v)}/{min(per_source, len(pairs[s]))}" for s, v in mined.items()}


if __name__ == "__main__":  # a quick look: python3 training/hard_negatives.py pairs.jsonl SOURCE N
    import json
    import sys
    src, n = sys.argv[2], int(sys.argv[3])
    ps = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
    ps = [{"q": p["q"], "d": p["d"]} for p in ps if p["src"] == src]
    m = mine({src: ps}, n, 1)[src]
    for i, j in m[:5]:
        print(json.dumps({"q": ps[i]["q"], "pos": ps[i]["d"][:120], "neg": ps[j]["d"][:120]}))
    print(f"{len(m)}/{min(n, len(ps))} mined", file=sys.stderr)
