"""Disclosure control: no published count from 1 to 9, and none recoverable by differencing (pure, no DB)."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from harbour.stats import disclosure


def grid(rows: list[list[int]], name: str = "t"):
    """A two-way table with row, column and grand totals; keys shared with a one-way table of row totals."""
    values, eqs = {}, []
    n_cols = len(rows[0])
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            values[(name, i, j)] = v
        values[("rowtotal", i)] = sum(row)  # the same cell a one-way table publishes
        eqs.append((("rowtotal", i), tuple((name, i, j) for j in range(n_cols))))
    for j in range(n_cols):
        values[(name, "*", j)] = sum(r[j] for r in rows)
        eqs.append(((name, "*", j), tuple((name, i, j) for i in range(len(rows)))))
    values["grand"] = sum(map(sum, rows))
    eqs.append(("grand", tuple(("rowtotal", i) for i in range(len(rows)))))
    eqs.append(("grand", tuple((name, "*", j) for j in range(n_cols))))
    return values, eqs


def subtraction_attack(values, eqs, hidden) -> dict:
    """Solve every equation left with one unknown, again and again (what a person with a spreadsheet does)."""
    known = {k: v for k, v in values.items() if k not in hidden}
    found = {}
    progress = True
    while progress:
        progress = False
        for parent, children in eqs:
            members = (parent, *children)
            unknown = [m for m in members if m not in known]
            if len(unknown) != 1:
                continue
            u = unknown[0]
            if u == parent:
                known[u] = sum(known[c] for c in children)
            else:
                known[u] = known[parent] - sum(known[c] for c in children if c != u)
            found[u] = known[u]
            progress = True
    return found


def elimination_attack(values, eqs, hidden) -> set:
    """Exact Gaussian elimination over the rationals (independent of the module's modular arithmetic)."""
    cols = sorted(hidden, key=str)
    index = {k: i for i, k in enumerate(cols)}
    rows = []
    for parent, children in eqs:
        row = [Fraction(0)] * len(cols)
        touched = False
        for c in children:
            if c in index:
                row[index[c]] += 1
                touched = True
        if parent in index:
            row[index[parent]] -= 1
            touched = True
        if touched:
            rows.append(row)
    pivots = []
    r = 0
    for c in range(len(cols)):
        p = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        piv = rows[r][c]
        rows[r] = [x / piv for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != 0:
                f = rows[i][c]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append((r, c))
        r += 1
    return {cols[c] for rr, c in pivots if sum(1 for x in rows[rr] if x != 0) == 1}


def check(values, eqs):
    hidden = disclosure.protect(values, eqs)
    published = {k: v for k, v in values.items() if k not in hidden}
    assert not [k for k, v in published.items() if 1 <= v <= 9], "a count from 1 to 9 was published"
    recovered = subtraction_attack(values, eqs, hidden)
    assert not [k for k, v in recovered.items() if 1 <= v <= 9], "a withheld small count was recovered by subtraction"
    exact = elimination_attack(values, eqs, hidden)
    assert not [k for k in exact if 1 <= values[k] <= 9], "a withheld small count was recovered by elimination"
    return hidden


def test_single_small_cell_gets_a_complement():
    values = {"a": 4, "b": 30, "c": 50, "T": 84}
    hidden = check(values, [("T", ("a", "b", "c"))])
    assert hidden == {"a", "b"}  # the smallest other cell protects it


def test_row_with_one_small_cell_and_shared_margin():
    values, eqs = grid([[3, 40, 25], [20, 18, 60], [15, 12, 31]])
    hidden = check(values, eqs)
    assert (("t", 0, 0)) in hidden and len(hidden) >= 4


def test_whole_small_table_is_withheld_including_total():
    values = {"a": 2, "b": 3, "T": 5}
    assert check(values, [("T", ("a", "b"))]) == {"a", "b", "T"}


def test_when_the_rounds_run_out_whole_equations_are_withheld_not_a_leak():
    values, eqs = grid([[3, 40, 25], [20, 18, 60], [15, 12, 31]])
    hidden = disclosure.protect(values, eqs, max_rounds=0)  # no round at all: only the fallback protects
    assert not [k for k, v in values.items() if k not in hidden and 1 <= v <= 9]
    assert not [k for k in elimination_attack(values, eqs, hidden) if 1 <= values[k] <= 9]
    assert not [k for k, v in subtraction_attack(values, eqs, hidden).items() if 1 <= v <= 9]


def test_zeros_are_published_and_nothing_is_hidden_without_small_counts():
    values, eqs = grid([[0, 40], [25, 18]])
    assert check(values, eqs) == set()


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(2, 6), st.integers(2, 6))
def test_random_tables_never_leak(seed, n_rows, n_cols):
    rng = random.Random(seed)
    rows = [[rng.choice([0, 1, 2, 5, 9, 10, 12, 30, 80]) for _ in range(n_cols)] for _ in range(n_rows)]
    values, eqs = grid(rows)
    check(values, eqs)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_two_tables_sharing_margins_never_leak(seed):
    rng = random.Random(seed)
    a = [[rng.choice([0, 3, 8, 11, 40]) for _ in range(3)] for _ in range(4)]
    b = [[rng.choice([0, 2, 9, 14, 25]) for _ in range(2)] for _ in range(4)]
    b = [[x for x in row] for row in b]
    # make table b's rows add up to the same row totals as table a (a second breakdown of the same rows)
    for i in range(4):
        diff = sum(a[i]) - sum(b[i])
        b[i][1] += diff if b[i][1] + diff >= 0 else 0
        if sum(b[i]) != sum(a[i]):
            b[i][0] += sum(a[i]) - sum(b[i])
            if b[i][0] < 0:
                b[i] = [sum(a[i]), 0]
    va, ea = grid(a, "a")
    vb, eb = grid(b, "b")
    values = {**va, **vb}
    check(values, ea + eb)
