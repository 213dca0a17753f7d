"""Disclosure control for published counts: primary and complementary cell suppression.

A release is a set of *cells*, each a count identified by a key that is the same in every table of the
release (so "situations in Manitoba in 2025" is one cell wherever it appears), and a set of additive
*equations* ``parent = sum(children)`` (every exclusive breakdown, every year total, every region and the
national total).  Non-additive breakdowns (flags such as means of control, where one situation may count
under several) contribute no equation.

* **Primary suppression**: every count from 1 to ``MIN_PUBLISHED - 1`` (9) is withheld.  Zeros are published.
* **Complementary suppression**: while some equation has exactly one withheld member, the member that can
  be deduced by subtraction is protected by withholding one more: the smallest positive child still
  published, else the parent, else a zero child.  Repeated to a fixpoint over all equations of all tables,
  so no single subtraction - within a table, across its margins or across tables sharing a margin - gives a
  withheld cell back.
* **Audit against linear differencing**: an attacker may combine several equations.  For each connected
  group of withheld cells the equations restricted to them form a linear system; a cell is exactly
  recoverable if its unit vector lies in the system's row space (its null-space row is zero).  Any
  recoverable cell from 1 to 9 gets one more complement in one of its equations, and the whole procedure
  repeats until no such cell remains.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable

from harbour.stats.choices import MIN_PUBLISHED

VERSION = 1  # bump when the algorithm changes: kept protection files are then recomputed

Key = Hashable
Equation = tuple[Key, tuple[Key, ...]]  # parent, children


def sensitive(value: int) -> bool:
    return 0 < value < MIN_PUBLISHED


def _complement(eq: Equation, values: dict[Key, int], suppressed: set[Key]) -> Key | None:
    parent, children = eq
    open_children = [c for c in children if c not in suppressed]
    positive = [c for c in open_children if values.get(c, 0) > 0]
    if positive:
        return min(positive, key=lambda c: (values[c], str(c)))
    if parent not in suppressed:
        return parent
    return open_children[0] if open_children else None


def _fixpoint(values: dict[Key, int], equations: list[Equation], suppressed: set[Key],
              by_key: dict[Key, list[int]]) -> None:
    work = list(range(len(equations)))
    queued = set(work)
    while work:
        i = work.pop()
        queued.discard(i)
        parent, children = equations[i]
        members = (parent, *children)
        hidden = sum(1 for m in members if m in suppressed)
        if hidden != 1:
            continue
        extra = _complement(equations[i], values, suppressed)
        if extra is None:
            continue
        suppressed.add(extra)
        for j in by_key.get(extra, ()):
            if j not in queued:
                queued.add(j)
                work.append(j)


PRIME = 2_147_483_647  # exact elimination modulo a large prime (coefficients are 0 and +-1)


def _reduce(rows: list[dict[Key, int]]) -> dict[Key, dict[Key, int]]:
    """Reduced row-echelon form (sparse, mod PRIME): pivot column → its row (pivot 1, zero in other pivots)."""
    pivots: dict[Key, dict[Key, int]] = {}
    holders: dict[Key, set[Key]] = defaultdict(set)  # column → pivot rows with a non-zero there
    for raw in rows:
        row = {k: v % PRIME for k, v in raw.items() if v % PRIME}
        for col in [c for c in row if c in pivots]:
            factor = row.get(col)
            if not factor:
                continue
            for k, v in pivots[col].items():
                nv = (row.get(k, 0) - factor * v) % PRIME
                if nv:
                    row[k] = nv
                else:
                    row.pop(k, None)
        if not row:
            continue
        col = min(row, key=lambda c: len(holders.get(c, ())))
        inv = pow(row[col], PRIME - 2, PRIME)
        row = {k: v * inv % PRIME for k, v in row.items()}
        for pcol in list(holders.get(col, ())):
            prow = pivots[pcol]
            factor = prow.get(col)
            if not factor:
                continue
            for k, v in row.items():
                nv = (prow.get(k, 0) - factor * v) % PRIME
                if nv:
                    if k not in prow:
                        holders[k].add(pcol)
                    prow[k] = nv
                elif k in prow:
                    del prow[k]
                    holders[k].discard(pcol)
        pivots[col] = row
        for k in row:
            holders[k].add(col)
    return pivots


def recoverable(equations: list[Equation], suppressed: set[Key]) -> set[Key]:
    """Withheld cells whose exact value follows from the published cells by any linear combination of the
    equations: those whose unit vector lies in the row space of the equations restricted to withheld cells
    (in reduced row-echelon form: a pivot whose row has no other entry)."""
    rows: list[dict[Key, int]] = []
    for parent, children in equations:
        row = {c: 1 for c in children if c in suppressed}
        if parent in suppressed:
            row[parent] = row.get(parent, 0) - 1
        if row:
            rows.append(row)
    return {col for col, row in _reduce(rows).items() if len(row) == 1}


def _nearest_complement(start: Key, values: dict[Key, int], equations: list[Equation], suppressed: set[Key],
                        by_key: dict[Key, list[int]], depth_limit: int = 3) -> Key | None:
    """A published cell to withhold near ``start``: among the positive published members of the equations
    reached within ``depth_limit`` steps through withheld cells, the one whose withholding opens the fewest new
    "one withheld" equations (each would need yet another complement), then the smallest."""
    seen_keys, seen_eqs, frontier = {start}, set(), [start]
    candidates: set[Key] = set()
    depth = 0
    while frontier and (depth < depth_limit or not candidates):
        nxt: list[Key] = []
        for k in frontier:
            for i in by_key.get(k, ()):
                if i in seen_eqs:
                    continue
                seen_eqs.add(i)
                parent, children = equations[i]
                for m in (parent, *children):
                    if m in suppressed:
                        if m not in seen_keys:
                            seen_keys.add(m)
                            nxt.append(m)
                    elif values.get(m, 0) > 0:
                        candidates.add(m)
        depth += 1
        frontier = nxt
    if not candidates:
        return None

    def cost(c: Key) -> tuple:
        opened = 0
        for i in by_key.get(c, ()):
            parent, children = equations[i]
            if not any(m in suppressed for m in (parent, *children)):
                opened += 1
        return opened, values[c], str(c)

    return min(candidates, key=cost)


def protect(values: dict[Key, int], equations: Iterable[Equation], *, audit: bool = True,
            max_rounds: int = 50) -> set[Key]:
    """The set of keys to withhold so no count from 1 to 9 is published or recoverable."""
    equations = [(p, tuple(c)) for p, c in equations]
    by_key: dict[Key, list[int]] = defaultdict(list)
    for i, (parent, children) in enumerate(equations):
        by_key[parent].append(i)
        for c in children:
            by_key[c].append(i)
    suppressed = {k for k, v in values.items() if sensitive(v)}
    _fixpoint(values, equations, suppressed, by_key)
    if not audit:
        return suppressed
    strikes: dict[Key, int] = defaultdict(int)
    for _round in range(max_rounds):
        exposed = [k for k in recoverable(equations, suppressed) if sensitive(values.get(k, 0))]
        if not exposed:
            break
        for k in exposed:
            strikes[k] += 1
            if strikes[k] == 1:  # first time: the cheapest nearby complement
                extra = _nearest_complement(k, values, equations, suppressed, by_key)
                if extra is not None:
                    suppressed.add(extra)
                continue
            # still exposed: one more withheld cell in every equation it is part of (then their neighbours)
            seeds = [k] if strikes[k] == 2 else [m for i in by_key.get(k, ()) for m in
                                                 (equations[i][0], *equations[i][1]) if m in suppressed]
            for seed in seeds:
                for i in by_key.get(seed, ()):
                    extra = _complement(equations[i], values, suppressed)
                    parent, children = equations[i]
                    open_positive = [m for m in (parent, *children) if m not in suppressed and values.get(m, 0) > 0]
                    if open_positive:
                        suppressed.add(min(open_positive, key=lambda c: (values[c], str(c))))
                    elif extra is not None:
                        suppressed.add(extra)
        _fixpoint(values, equations, suppressed, by_key)
    else:  # not settled in max_rounds: never publish a recoverable small count; withhold whole equations
        while exposed := [k for k in recoverable(equations, suppressed) if sensitive(values.get(k, 0))]:
            before = len(suppressed)
            suppressed.update(m for k in exposed for i in by_key.get(k, ()) for m in (equations[i][0], *equations[i][1]))
            if len(suppressed) == before:
                raise RuntimeError("disclosure control could not protect every small count")
    return suppressed
