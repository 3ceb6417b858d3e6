"""Compiled inner loops of the demand methods (numba, compiled on first use and cached on disk).

Each function repeats the arithmetic of the numpy reference it replaces operation for operation (no fast-math,
no reassociation, no fused multiply-add), so results agree bit for bit:

* :func:`golden_ses` - statsforecast's golden-section search of the SES sum of squared errors, run in lockstep
  over blocks of sequences of similar length (time-major block buffer, so the inner loop over sequences
  vectorises; four periods per visit of a sequence; the search steps as selects, without branches), then the SES
  forecast with the chosen constant; :func:`golden_ses_buckets` and :func:`golden_ses_demands` run the same
  search on bucket sums and on demand sizes / intervals read straight from the time grid (no intermediate
  arrays: on this scale, writing fresh memory costs as much as the search);
* :func:`ses_last` - the SES forecast with given constants; :func:`ses_rows` - SES levels with fitted values;
* :func:`croston_rows`, :func:`tsb_rows`, :func:`tsb_fitted_rows` - Croston's and TSB's recursions over each
  row of the time grid;
* :func:`row_demand_stats` - demand counts and last demand of each row.

Sequences laid end to end (CSR layout) keep the values of sequence ``k`` in ``values[offsets[k]:offsets[k + 1]]``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_GOLDEN_RATIO = (math.sqrt(5.0) + 1.0) / 2.0
_GOLDEN_TOL = 1e-12
#: Sequences per lockstep block of the golden-section search.
_B = 64


@numba.njit(cache=True)
def _sse_block(buf, lens, w, alpha, comp, lv, out):
    nb = lens.size
    for j in range(nb):
        comp[j] = 1.0 - alpha[j]
        lv[j] = buf[0, j]
        out[j] = 0.0
    w_min = w
    for j in range(nb):
        w_min = min(w_min, lens[j])
    # every sequence still running: no mask; four periods per visit of a sequence keep its level and sum in
    # registers (the same operations in the same order per sequence, so the same sums bit for bit)
    i = 1
    while i + 3 < w_min:
        r0 = buf[i - 1]
        r1 = buf[i]
        r2 = buf[i + 1]
        r3 = buf[i + 2]
        r4 = buf[i + 3]
        for j in range(nb):
            a = alpha[j]
            c = comp[j]
            level = lv[j]
            s = out[j]
            level = a * r0[j] + c * level
            e = r1[j] - level
            s += e * e
            level = a * r1[j] + c * level
            e = r2[j] - level
            s += e * e
            level = a * r2[j] + c * level
            e = r3[j] - level
            s += e * e
            level = a * r3[j] + c * level
            e = r4[j] - level
            s += e * e
            lv[j] = level
            out[j] = s
        i += 4
    while i < w_min:
        r0 = buf[i - 1]
        r1 = buf[i]
        for j in range(nb):
            f = alpha[j] * r0[j] + comp[j] * lv[j]
            lv[j] = f
            e = r1[j] - f
            out[j] += e * e
        i += 1
    for i in range(max(w_min, 1), w):
        r0 = buf[i - 1]
        r1 = buf[i]
        for j in range(nb):
            f = alpha[j] * r0[j] + comp[j] * lv[j]
            lv[j] = f
            e = r1[j] - f
            out[j] += e * e if i < lens[j] else 0.0


@numba.njit(cache=True)
def _golden_block(buf, lens, w, nbk, lower, upper, st, side, fc_blk, alpha_blk):
    """Golden-section search of the SES sum of squared errors on [lower, upper] for the ``nbk`` sequences loaded
    in ``buf`` (time-major, lanes ``nbk..`` padded with length 1); writes each lane's constant and forecast."""
    g = _GOLDEN_RATIO
    a = st[0]
    b = st[1]
    c = st[2]
    d = st[3]
    fc = st[4]
    fd = st[5]
    new = st[6]
    fnew = st[7]
    comp = st[8]
    lv = st[9]
    for j in range(_B):
        a[j] = lower
        b[j] = upper
        c[j] = b[j] - (b[j] - a[j]) / g
        d[j] = a[j] + (b[j] - a[j]) / g
    _sse_block(buf, lens, w, c, comp, lv, fc)
    _sse_block(buf, lens, w, d, comp, lv, fd)
    for j in range(_B):
        side[j] = 1 if j < nbk else 0
    while True:
        # one golden-section step per sequence, without branches (selects compute the same values): side 1
        # keeps [a, d] and probes left of c, side 2 keeps [c, b] and probes right of d, 0 has stopped
        going = 0
        for j in range(_B):
            aj = a[j]
            bj = b[j]
            cj = c[j]
            dj = d[j]
            run = (side[j] != 0) & (abs(bj - aj) >= _GOLDEN_TOL)
            left = run & (fc[j] < fd[j])
            right = run & (fd[j] < fc[j])
            sj = 1 if left else (2 if right else 0)
            side[j] = sj
            going |= sj
            b[j] = dj if left else bj
            a[j] = cj if right else aj
            probe_left = dj - (dj - aj) / g
            probe_right = cj + (bj - cj) / g
            new[j] = probe_left if left else (probe_right if right else cj)
        if going == 0:
            break
        _sse_block(buf, lens, w, new, comp, lv, fnew)
        for j in range(_B):
            left = side[j] == 1
            right = side[j] == 2
            cj = c[j]
            dj = d[j]
            fcj = fc[j]
            fdj = fd[j]
            nj = new[j]
            fn = fnew[j]
            d[j] = cj if left else (nj if right else dj)
            c[j] = nj if left else (dj if right else cj)
            fd[j] = fcj if left else (fn if right else fdj)
            fc[j] = fn if left else (fdj if right else fcj)
    for j in range(nbk):
        al = (b[j] + a[j]) / 2.0
        alpha_blk[j] = al
        cm = 1.0 - al
        level = buf[0, j]
        if lens[j] > 1:
            for i in range(lens[j]):
                level = al * buf[i, j] + cm * level
        fc_blk[j] = level


@numba.njit(cache=True)
def _pad_lanes(buf, lens, w, nbk):
    for j in range(nbk, _B):
        lens[j] = 1
        for i in range(w):
            buf[i, j] = 0.0


@numba.njit(cache=True)
def golden_ses(values, offsets, order, lower, upper, fc_out, alpha_out):
    """Optimised SES of sequences ``order`` (each of length >= 1, sorted by length, longest first).

    Writes the forecast after the last value and the golden-section constant on [lower, upper] of sequence
    ``k`` to ``fc_out[k]`` and ``alpha_out[k]``.
    """
    m = order.size
    if m == 0:
        return
    maxw = offsets[order[0] + 1] - offsets[order[0]]
    buf = np.zeros((max(maxw, 1), _B))
    lens = np.ones(_B, dtype=np.int64)
    st = np.empty((10, _B))
    side = np.zeros(_B, dtype=np.int64)
    fc_blk = np.empty(_B)
    alpha_blk = np.empty(_B)
    for lo in range(0, m, _B):
        nbk = min(_B, m - lo)
        w = offsets[order[lo] + 1] - offsets[order[lo]]
        for j in range(nbk):
            s = order[lo + j]
            o = offsets[s]
            n = offsets[s + 1] - o
            lens[j] = n
            for i in range(n):
                buf[i, j] = values[o + i]
            for i in range(n, w):
                buf[i, j] = 0.0
        _pad_lanes(buf, lens, w, nbk)
        _golden_block(buf, lens, w, nbk, lower, upper, st, side, fc_blk, alpha_blk)
        for j in range(nbk):
            k = order[lo + j]
            alpha_out[k] = alpha_blk[j]
            fc_out[k] = fc_blk[j]


@numba.njit(cache=True)
def golden_ses_buckets(x, rows, ends, levels, counts, order, lower, upper, fc_out, alpha_out):
    """:func:`golden_ses` of bucket sums read straight from the time grid (nothing laid out in between).

    Sequence ``k``: the ``counts[k]`` (>= 1) complete buckets of ``levels[k]`` periods of row ``rows[k]`` ending
    at ``ends[k]`` (exclusive), counted back from the end, each summed in period order;
    ``order`` sorts the sequences by ``counts``, longest first.
    """
    m = order.size
    if m == 0:
        return
    buf = np.zeros((max(counts[order[0]], 1), _B))
    lens = np.ones(_B, dtype=np.int64)
    st = np.empty((10, _B))
    side = np.zeros(_B, dtype=np.int64)
    fc_blk = np.empty(_B)
    alpha_blk = np.empty(_B)
    for lo in range(0, m, _B):
        nbk = min(_B, m - lo)
        w = counts[order[lo]]
        for j in range(nbk):
            s = order[lo + j]
            r = rows[s]
            lv = levels[s]
            n = counts[s]
            first = ends[s] - n * lv
            lens[j] = n
            for q in range(n):
                c0 = first + q * lv
                acc = 0.0
                for i in range(lv):
                    acc += x[r, c0 + i]
                buf[q, j] = acc
            for q in range(n, w):
                buf[q, j] = 0.0
        _pad_lanes(buf, lens, w, nbk)
        _golden_block(buf, lens, w, nbk, lower, upper, st, side, fc_blk, alpha_blk)
        for j in range(nbk):
            k = order[lo + j]
            alpha_out[k] = alpha_blk[j]
            fc_out[k] = fc_blk[j]


@numba.njit(cache=True)
def golden_ses_demands(x, start, counts, order, lower, upper, fc_out, alpha_out):
    """:func:`golden_ses` of each row's demand sizes (sequence ``r``) and intervals (sequence ``n_rows + r``),
    read straight from the time grid (the first interval counted from the row's start); ``order`` sorts them by
    ``counts`` of their row, longest first, and holds only sequences with at least one demand."""
    m = order.size
    if m == 0:
        return
    n_rows, t_end = x.shape
    s0 = order[0]
    buf = np.zeros((max(counts[s0 if s0 < n_rows else s0 - n_rows], 1), _B))
    lens = np.ones(_B, dtype=np.int64)
    st = np.empty((10, _B))
    side = np.zeros(_B, dtype=np.int64)
    fc_blk = np.empty(_B)
    alpha_blk = np.empty(_B)
    s0 = order[0]
    for lo in range(0, m, _B):
        nbk = min(_B, m - lo)
        s0 = order[lo]
        w = counts[s0 if s0 < n_rows else s0 - n_rows]
        for j in range(nbk):
            s = order[lo + j]
            sizes = s < n_rows
            r = s if sizes else s - n_rows
            n = counts[r]
            lens[j] = n
            q = 0
            prev = start[r] - 1
            for t in range(start[r], t_end):
                v = x[r, t]
                if v > 0:
                    buf[q, j] = v if sizes else float(t - prev)
                    prev = t
                    q += 1
            for q in range(n, w):
                buf[q, j] = 0.0
        _pad_lanes(buf, lens, w, nbk)
        _golden_block(buf, lens, w, nbk, lower, upper, st, side, fc_blk, alpha_blk)
        for j in range(nbk):
            k = order[lo + j]
            alpha_out[k] = alpha_blk[j]
            fc_out[k] = fc_blk[j]


@numba.njit(cache=True)
def ses_last(values, offsets, alpha, fc_out):
    """SES forecast after the last value of each sequence (length >= 1) with constants ``alpha``."""
    for k in range(offsets.size - 1):
        o = offsets[k]
        n = offsets[k + 1] - o
        if n == 0:
            continue
        al = alpha[k]
        cm = 1.0 - al
        level = values[o]
        if n > 1:
            for i in range(n):
                level = al * values[o + i] + cm * level
        fc_out[k] = level


@numba.njit(cache=True)
def croston_rows(x, start, alpha_d, alpha_p, exact_single, z_out, p_out):
    """Final size and interval levels of Croston's recursions on each row (as ``croston_paths``).

    ``exact_single``: a row with one demand keeps that demand and its interval unsmoothed (statsforecast).
    """
    n, t_end = x.shape
    for r in range(n):
        ad = alpha_d[r]
        ap = alpha_p[r]
        cd = 1.0 - ad
        cp = 1.0 - ap
        z = 0.0
        p = 1.0
        q = 0.0
        cnt = 0
        z0 = 0.0
        p0 = 1.0
        for t in range(start[r], t_end):
            q += 1.0
            v = x[r, t]
            if v > 0:
                if cnt == 0:
                    z = ad * v + cd * v
                    p = ap * q + cp * q
                    z0 = v
                    p0 = q
                else:
                    z = ad * v + cd * z
                    p = ap * q + cp * p
                cnt += 1
                q = 0.0
        if exact_single and cnt == 1:
            z = z0
            p = p0
        z_out[r] = z
        p_out[r] = p


@numba.njit(cache=True)
def tsb_rows(x, start, alpha_d, alpha_p, exact_single, z_out, prob_out):
    """Final size and probability levels of TSB on each row (as the time-grid kernel ``tsb``)."""
    n, t_end = x.shape
    cd = 1.0 - alpha_d
    cp = 1.0 - alpha_p
    for r in range(n):
        z = 0.0
        prob = 0.0
        cnt = 0
        z0 = 0.0
        s = start[r]
        for t in range(s, t_end):
            v = x[r, t]
            occ = 1.0 if v > 0 else 0.0
            if t == s:
                prob = alpha_p * occ + cp * occ
            else:
                prob = alpha_p * occ + cp * prob
            if v > 0:
                if cnt == 0:
                    z = alpha_d * v + cd * v
                    z0 = v
                else:
                    z = alpha_d * v + cd * z
                cnt += 1
        if s == t_end - 1:
            prob = 1.0 if x[r, t_end - 1] > 0 else 0.0
        if exact_single and cnt == 1:
            z = z0
        z_out[r] = z
        prob_out[r] = prob


@numba.njit(cache=True)
def ses_rows(x, start, alpha, want_fit, fit_out, level_out):
    """SES levels on each row of the time grid (as the numpy ``ses_paths``): the level before each period
    into ``fit_out`` (when ``want_fit``) and the level after the last period into ``level_out``."""
    n, t_end = x.shape
    for r in range(n):
        a = alpha[r]
        comp = 1.0 - a
        s = start[r]
        level = 0.0
        for t in range(t_end):
            if want_fit:
                fit_out[r, t] = level
            if s <= t:
                xt = x[r, t]
                prev = xt if s == t else level
                level = a * xt + comp * prev
        if s == t_end - 1:
            level = x[r, t_end - 1]
        level_out[r] = level


@numba.njit(cache=True)
def tsb_fitted_rows(x, start, alpha_d, alpha_p, fit_out, z_out, prob_out):
    """TSB on each row with the one-step fitted value ``prob * z`` before each period (as the numpy ``tsb``)."""
    n, t_end = x.shape
    cd = 1.0 - alpha_d
    cp = 1.0 - alpha_p
    for r in range(n):
        s = start[r]
        z = 0.0
        prob = 0.0
        seen = False
        for t in range(t_end):
            fit_out[r, t] = prob * z
            v = x[r, t]
            d = v > 0
            occ = 1.0 if d else 0.0
            if s <= t:
                prev = occ if s == t else prob
                prob = alpha_p * occ + cp * prev
            if d:
                z = alpha_d * v + cd * (z if seen else v)
                seen = True
        z_out[r] = z
        prob_out[r] = prob


@numba.njit(cache=True)
def row_demand_stats(x, start, counts_out, last_out):
    """Number of demands of each row and the index of its last demand (-1 without demand)."""
    n, t_end = x.shape
    for r in range(n):
        cnt = 0
        last = -1
        for t in range(start[r], t_end):
            if x[r, t] > 0:
                cnt += 1
                last = t
        counts_out[r] = cnt
        last_out[r] = last


@numba.njit(cache=True)
def week_numbers(v, day, out):
    """Week numbers of Monday midnights given as int64 counts of 1/``day`` days since 1970; False if a value
    is not one."""
    week = 7 * day
    monday = 4 * day  # 1970-01-05 was a Monday
    ok = True
    for i in range(v.size):
        s = v[i] - monday
        q = s // week
        out[i] = q
        if q * week != s:
            ok = False
    return ok


@numba.njit(cache=True)
def scan_runs(period, same, run_first):
    """Runs of equal ids (``same[i]``: row ``i + 1`` has the id of row ``i``) and the period order inside them.

    Writes the first row of each run to ``run_first`` and returns (number of runs, first row ``i`` whose next
    row of the same run does not have a later period or -1, whether any such pair has equal periods).
    """
    n_runs = 0
    first_bad = -1
    dup = False
    if period.size:
        run_first[0] = 0
        n_runs = 1
    for i in range(period.size - 1):
        if same[i]:
            if period[i + 1] <= period[i]:
                if first_bad < 0:
                    first_bad = i
                if period[i + 1] == period[i]:
                    dup = True
        else:
            run_first[n_runs] = i + 1
            n_runs += 1
    return n_runs, first_bad, dup
