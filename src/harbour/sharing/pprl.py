"""Privacy-preserving person linkage: keyed Bloom-filter encodings (CLKs) compared with anonlink.

Agencies that may not share identities encode their records on their own side with a secret shared only among
agencies; the server compares encodings and never sees a name.  The encoder follows the ideas of clkhash's
linkage schema v3 (it is not clkhash, which pins an old ``cryptography``):

* every field is normalised (as for plaintext linkage) and cut into tokens: padded character bigrams, plus
  whole-value tokens that absorb known variation (the canonical given name, so Bob and Robert share a token;
  the unordered day/month pair, so a transposed date of birth still shares most tokens);
* each token sets ``k`` bits (per field) of one 1024-bit filter, at positions from keyed double hashing:
  two 64-bit halves of HMAC-SHA256(field key, token), positions ``h1 + i*h2 mod l``.  Each field has its own key
  derived from the secret (HMAC(secret, field name)), so the same bigram in two fields sets unrelated bits;
* **hardening** against frequency (pattern-mining) attacks, recorded in the schema:
  - ``xor-fold``: the filter is built at 2l bits and its halves are XOR-ed together, so no output bit
    is the trace of one token, bit frequencies move towards 1/2 and single-token bits can't be aligned with
    frequent names (Schnell, Borgs & Encarnação 2016);
  - ``balanced`` (default): the filter is concatenated with its complement and the 2l bits are shuffled with a keyed
    permutation, so every encoding has exactly l ones: Hamming weight (which betrays name length and frequent
    long names) leaks nothing (Berger & Schnell);
  - ``blip``: bitwise randomised response; each bit is flipped with probability ``f/2`` using a keyed,
    per-record random stream (differential privacy for the filter, Schnell & Borgs 2016);
  - ``none``.
  The trade-off measured on FEBRL4 is written in the benchmark notes (``harbour bench linkage``).

Documents are JSON: ``{"format": "harbour-clk/1", "schema": {...}, "agency": "...", "records":
[{"record_id": "...", "clk": "<base64>"}]}``; the schema carries a *key fingerprint* (HMAC of a constant under
the secret, which reveals nothing about the secret) so documents encoded under different secrets are refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harbour.core.i18n import _
from harbour.sharing.normalise import prepare

FORMAT = "harbour-clk/1"
FILTER_BITS = 1024
MIN_SECRET_BYTES = 16
HARDENINGS = ("xor-fold", "balanced", "blip", "none")
DEFAULT_HARDENING = "balanced"
DEFAULT_BLIP_F = 0.04
#: default Dice threshold per hardening (balanced filters share their complement bits, so scores run higher)
THRESHOLDS = {"balanced": 0.65, "xor-fold": 0.55, "blip": 0.6, "none": 0.6}
DEFAULT_THRESHOLD = THRESHOLDS[DEFAULT_HARDENING]
MAX_RECORDS = 2_000_000

#: fields, their tokens and bits per token (k); comparison fields as prepared by ``normalise.prepare``
FIELDS: tuple[dict[str, Any], ...] = (
    {"name": "given_name", "column": "given", "k": 18, "tokens": "bigrams+canonical"},
    {"name": "surname", "column": "surname", "k": 18, "tokens": "bigrams"},
    {"name": "date_of_birth", "column": "dob", "k": 14, "tokens": "digit-bigrams+day-month-set"},
    {"name": "sex", "column": "sex", "k": 4, "tokens": "exact"},
    {"name": "street_address", "column": "street", "k": 6, "tokens": "bigrams"},
    {"name": "city", "column": "city", "k": 8, "tokens": "bigrams"},
    {"name": "postal_code", "column": "postal", "k": 10, "tokens": "bigrams"},
    {"name": "phone", "column": "phone", "k": 10, "tokens": "digit-bigrams"},
    {"name": "email", "column": "email", "k": 8, "tokens": "bigrams"},
)


class PprlError(ValueError):
    """Input or documents the PPRL encoder/matcher cannot use (messages never quote personal data)."""


@dataclass(frozen=True)
class PprlMatch:
    record_id_a: str
    record_id_b: str
    score: float  # Sørensen–Dice similarity


# ---------------------------------------------------------------------------------------------- secret
def read_secret(path: str | Path) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise PprlError(_("no such secret file: %(path)s", path=path))
    secret = path.read_bytes().strip()
    if len(secret) < MIN_SECRET_BYTES:
        raise PprlError(_("the secret in %(path)s is too short: at least %(n)s bytes are needed "
                          "(e.g. `openssl rand -hex 32 > KEY`)", path=path, n=MIN_SECRET_BYTES))
    return secret


def key_fingerprint(secret: bytes) -> str:
    return hmac.new(secret, f"{FORMAT} key fingerprint".encode(), hashlib.sha256).hexdigest()[:16]


def _field_key(secret: bytes, field: str) -> bytes:
    return hmac.new(secret, f"{FORMAT}|field|{field}".encode(), hashlib.sha256).digest()


# ---------------------------------------------------------------------------------------------- tokens
def _bigrams(value: str) -> list[str]:
    padded = f"_{value}_"
    return [padded[i:i + 2] for i in range(len(padded) - 1)]


def tokens(kind: str, value: str | None, *, canon: str | None = None) -> list[str]:
    if not value:
        return []
    if kind == "exact":
        return [f"={value}"]
    if kind == "digit-bigrams":
        return _bigrams("".join(ch for ch in value if ch.isdigit()))
    if kind == "digit-bigrams+day-month-set":  # YYYY-MM-DD
        digits = value.replace("-", "")
        out = _bigrams(digits)
        if len(digits) == 8:
            out.append("dm=" + "".join(sorted((digits[4:6], digits[6:8]))))
            out.append("y=" + digits[:4])
        return out
    out = _bigrams(value)
    if kind == "bigrams+canonical" and canon:
        out.append("canon=" + canon)
    return out


class _Hasher:
    """Keyed double hashing with a per-field cache (tokens repeat a lot)."""

    def __init__(self, secret: bytes, field: str, k: int, bits: int):
        self.key, self.k, self.bits = _field_key(secret, field), k, bits
        self.cache: dict[str, np.ndarray] = {}

    def positions(self, token: str) -> np.ndarray:
        pos = self.cache.get(token)
        if pos is None:
            digest = hmac.new(self.key, token.encode("utf-8"), hashlib.sha256).digest()
            h1 = int.from_bytes(digest[:8], "big")
            h2 = int.from_bytes(digest[8:16], "big") | 1
            pos = np.array([(h1 + i * h2) % self.bits for i in range(self.k)], dtype=np.int64)
            self.cache[token] = pos
        return pos


def _keyed_rng(secret: bytes, label: str) -> np.random.Generator:
    seed = int.from_bytes(hmac.new(secret, f"{FORMAT}|{label}".encode(), hashlib.sha256).digest()[:16], "big")
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------- encode
def schema(hardening: str = DEFAULT_HARDENING, *, secret: bytes, blip_f: float = DEFAULT_BLIP_F) -> dict:
    if hardening not in HARDENINGS:
        raise PprlError(_("unknown hardening %(name)s (one of: %(known)s)", name=repr(hardening),
                          known=", ".join(HARDENINGS)))
    hard: dict[str, Any] = {"method": hardening}
    if hardening == "blip":
        hard["f"] = blip_f
    return {"version": 1, "filter_bits": FILTER_BITS, "hash": "HMAC-SHA256 double hashing, per-field keys",
            "hardening": hard, "fields": [{k: f[k] for k in ("name", "k", "tokens")} for f in FIELDS],
            "key_fingerprint": key_fingerprint(secret), "threshold": THRESHOLDS[hardening]}


def encode_matrix(prepared: pd.DataFrame, secret: bytes, sch: dict) -> np.ndarray:
    """Bits (n x output bits, uint8 0/1) of prepared records under the schema."""
    method = sch["hardening"]["method"]
    raw_bits = FILTER_BITS * 2 if method == "xor-fold" else FILTER_BITS
    n = len(prepared)
    bits = np.zeros((n, raw_bits), dtype=np.uint8)
    canon = prepared["given_canon"].tolist()
    for spec in FIELDS:
        hasher = _Hasher(secret, spec["name"], spec["k"], raw_bits)
        values = prepared[spec["column"]].tolist()
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        for i, value in enumerate(values):
            toks = tokens(spec["tokens"], value, canon=canon[i] if spec["name"] == "given_name" else None)
            for tok in toks:
                p = hasher.positions(tok)
                cols.append(p)
                rows.append(np.full(len(p), i, dtype=np.int64))
        if cols:
            bits[np.concatenate(rows), np.concatenate(cols)] = 1
    if method == "xor-fold":
        bits = bits[:, :FILTER_BITS] ^ bits[:, FILTER_BITS:]
    elif method == "balanced":
        perm = _keyed_rng(secret, "balanced-permutation").permutation(2 * FILTER_BITS)
        bits = np.concatenate([bits, 1 - bits], axis=1)[:, perm]
    elif method == "blip":
        f = float(sch["hardening"]["f"])
        rng = _keyed_rng(secret + b"|" + prepared["uid"].str.cat(sep="\n").encode(), "blip")
        flip = rng.random(bits.shape) < f / 2
        bits = bits ^ flip.astype(np.uint8)
    return bits


def encode_rows(rows: Any, secret: bytes, *, agency: str, hardening: str = DEFAULT_HARDENING,
                blip_f: float = DEFAULT_BLIP_F) -> dict:
    """Encode canonical person rows as a JSON-serialisable document; it contains no names."""
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < MIN_SECRET_BYTES:
        raise PprlError(_("the secret must be at least %(n)s bytes", n=MIN_SECRET_BYTES))
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        raise PprlError(_("there are no records to encode"))
    if "record_id" not in frame.columns:
        raise PprlError(_("rows need a record_id column"))
    frame = frame.copy()
    frame["agency"] = agency
    prepared = prepare(frame)
    if prepared["record_id"].isna().any():
        raise PprlError(_("every row needs a record_id"))
    if prepared["record_id"].duplicated().any():
        raise PprlError(_("record_id must be unique within the agency's document"))
    sch = schema(hardening, secret=bytes(secret), blip_f=blip_f)
    packed = np.packbits(encode_matrix(prepared, bytes(secret), sch), axis=1)
    records = [{"record_id": rid, "clk": base64.b64encode(row.tobytes()).decode("ascii")}
               for rid, row in zip(prepared["record_id"], packed, strict=True)]
    return {"format": FORMAT, "schema": sch, "agency": agency, "records": records}


# ---------------------------------------------------------------------------------------------- validate
def _output_bytes(sch: dict) -> int:
    bits = sch.get("filter_bits", FILTER_BITS)
    method = (sch.get("hardening") or {}).get("method")
    return (2 * bits if method == "balanced" else bits) // 8


def validate_document(doc: Any) -> list[str]:
    """Human-readable problems with an encodings document; [] when it can be linked."""
    if not isinstance(doc, dict):
        return ["the document must be a JSON object"]
    problems: list[str] = []
    if doc.get("format") != FORMAT:
        problems.append(_("format must be %(format)s", format=repr(FORMAT)))
    sch = doc.get("schema")
    if not isinstance(sch, dict):
        problems.append(_("schema is missing"))
        sch = {}
    else:
        if sch.get("version") != 1 or sch.get("filter_bits") != FILTER_BITS:
            problems.append(_("schema version or filter size is not supported"))
        method = (sch.get("hardening") or {}).get("method") if isinstance(sch.get("hardening"), dict) else None
        if method not in HARDENINGS:
            problems.append(_("schema hardening is missing or unknown"))
        fp = sch.get("key_fingerprint")
        if not isinstance(fp, str) or len(fp) != 16:
            problems.append(_("schema key_fingerprint is missing: encodings must be made with a shared secret "
                              "(harbour pprl encode --secret-file)"))
    if not isinstance(doc.get("agency"), str) or not doc.get("agency"):
        problems.append(_("agency is missing"))
    records = doc.get("records")
    if not isinstance(records, list):
        problems.append(_("records must be a list"))
        return problems
    if len(records) > MAX_RECORDS:
        problems.append(_("too many records (at most %(n)s)", n=f"{MAX_RECORDS:,}"))
        return problems
    expected = _output_bytes(sch) if not problems else None
    seen: set[str] = set()
    for i, rec in enumerate(records):
        if len(problems) >= 50:
            problems.append(_("... further problems not shown"))
            break
        if not isinstance(rec, dict) or not isinstance(rec.get("record_id"), str) or not rec.get("record_id"):
            problems.append(_("record %(n)s: record_id must be non-empty text", n=i + 1))
            continue
        if rec["record_id"] in seen:
            problems.append(_("record %(n)s: duplicate record_id", n=i + 1))
        seen.add(rec["record_id"])
        clk = rec.get("clk")
        try:
            raw = base64.b64decode(clk, validate=True) if isinstance(clk, str) else None
        except (binascii.Error, ValueError):
            raw = None
        if raw is None:
            problems.append(_("record %(n)s: clk is not valid base64", n=i + 1))
        elif expected is not None and len(raw) != expected:
            problems.append(_("record %(n)s: clk has %(bits)s bits, the schema says %(expected)s", n=i + 1,
                                  bits=len(raw) * 8, expected=expected * 8))
    return problems


# ---------------------------------------------------------------------------------------------- match
def _bitarrays(doc: dict):
    from bitarray import bitarray

    out = []
    for rec in doc["records"]:
        ba = bitarray(endian="big")
        ba.frombytes(base64.b64decode(rec["clk"]))
        out.append(ba)
    return out


def match(doc_a: dict, doc_b: dict, *, threshold: float | None = None) -> list[PprlMatch]:
    """One-to-one matches between two agencies' encodings (anonlink: Dice candidates, greedy solver)."""
    import anonlink

    for name, doc in ((_("first"), doc_a), (_("second"), doc_b)):
        problems = validate_document(doc)
        if problems:
            raise PprlError(_("the %(which)s document is not valid: %(problem)s", which=name, problem=problems[0]))
    sa, sb = doc_a["schema"], doc_b["schema"]
    if sa["key_fingerprint"] != sb["key_fingerprint"]:
        raise PprlError(_("the documents were encoded with different secrets; they cannot be compared"))
    if {k: v for k, v in sa.items() if k != "threshold"} != {k: v for k, v in sb.items() if k != "threshold"}:
        raise PprlError(_("the documents were encoded with different schemas (fields, k or hardening)"))
    threshold = float(sa.get("threshold", DEFAULT_THRESHOLD) if threshold is None else threshold)
    if not 0.0 < threshold < 1.0:
        raise PprlError(_("threshold must be between 0 and 1"))
    if not doc_a["records"] or not doc_b["records"]:
        return []
    candidates = anonlink.candidate_generation.find_candidate_pairs(
        [_bitarrays(doc_a), _bitarrays(doc_b)], anonlink.similarities.dice_coefficient, threshold)
    sims, _datasets, (rec_a, rec_b) = candidates
    score = {(int(i), int(j)): float(s) for s, i, j in zip(sims, rec_a, rec_b, strict=True)}
    groups = anonlink.solving.greedy_solve(candidates)
    ids_a = [r["record_id"] for r in doc_a["records"]]
    ids_b = [r["record_id"] for r in doc_b["records"]]
    out = []
    for group in groups:
        (da, ia), (db, ib) = sorted(group)
        if da == db:
            continue
        out.append(PprlMatch(ids_a[ia], ids_b[ib], round(score[(ia, ib)], 6)))
    out.sort(key=lambda m: (-m.score, m.record_id_a, m.record_id_b))
    return out
