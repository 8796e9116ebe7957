#!/usr/bin/env python3
"""Summarises bench/learning/run.sh's runs: a table per world and policy, and
an SVG chart of cumulative expected follows per policy (mean over seeds)."""
import argparse
import glob
import json
import os
import statistics

parser = argparse.ArgumentParser()
parser.add_argument('dir', help="run.sh's output directory (-o)")
parser.add_argument('--against', metavar='BASE',
                    help='another run of the same seeds (the build before a change), '
                         'compared seed by seed')
parser.add_argument('--min-ess', type=float, default=0,
                    help="count validate's estimates only where the weights' effective "
                         'sample is at least this (runs made with a lower '
                         'validate.min_effective_posts, judged at another floor)')
args = parser.parse_args()
out = args.dir
base_dir = args.against


def load(d):
    rs = {}
    for f in sorted(glob.glob(os.path.join(d, 'runs', '*.json'))):
        r = json.load(open(f))
        rs.setdefault((r['world'], r['policy']), []).append(r)
    return rs


runs = load(out)
# the world column fits the longest name (the held-out worlds' are long)
W = max([8] + [len(w) for w, _ in runs])


def ms(xs):
    m = statistics.mean(xs)
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return m, sd


def per100(x):
    # a share that rounds to zero from below reads 0 %, not -0 %
    return round(100 * x) + 0.0


def pct(xs):
    m, sd = ms(xs)
    return '%4.0f%% ±%3.0f' % (per100(m), 100 * sd)


dims = ['content_slot', 'generator_name', 'topic', 'tone', 'hook_type', 'cta_type',
        'decision_type', 'post_hour']
print('%-*s %-9s %5s  %-11s %-11s %-11s  %s' % (W, 'world', 'policy', 'seeds', 'capture',
                                               'last 14 d', 'replies',
                                               'dimensions with an effect learned right'))
worlds = sorted({w for w, _ in runs})
summary = {}
for w in worlds:
    for p in ('xloop', 'original'):
        rs = runs.get((w, p), [])
        if not rs:
            continue
        cap = [r['capture']['capture'] for r in rs]
        last = [r['capture_last_14_days']['capture'] for r in rs]
        rep = [r['replies_capture']['capture'] for r in rs]
        right = total = 0
        for r in rs:
            for k in dims:
                if r[k]['has_effect']:
                    total += 1
                    right += r[k]['learned_best'] == r[k]['true_best']
        summary[(w, p)] = (ms(cap)[0], ms(last)[0], ms(rep)[0])
        print('%-*s %-9s %5d  %s %s %s  %d/%d' % (W, w, p, len(rs), pct(cap), pct(last),
                                                   pct(rep), right, total))
print()
print('targets: capture >= 40 %, last 14 days >= 55 %, >= 5x the original\'s capture')
for w in worlds:
    if (w, 'xloop') in summary and (w, 'original') in summary:
        x, o = summary[(w, 'xloop')], summary[(w, 'original')]
        ok = x[0] >= 0.40 and x[1] >= 0.55 and (o[0] <= 0 or x[0] >= 5 * o[0])
        print('  %-*s %s  (xloop %.0f %% / %.0f %%, original %.0f %%)' % (
            W, w, 'met' if ok else 'NOT met', per100(x[0]), per100(x[1]), per100(o[0])))

# build-weights' change test: how many of the maps learned a dimension from
# its recent posts only. In a world whose effects never change every one is a
# false alarm (a dimension's older evidence thrown away).
print('\nmaps learning a dimension from its recent days only (xloop; mean over seeds):')
for w in worlds:
    rs = [r for r in runs.get((w, 'xloop'), []) if r.get('maps')]
    if not rs:
        continue
    share = {k: statistics.mean(r[k].get('maps_changed', 0) / r['maps'] for r in rs)
             for k in dims}
    print('  %-*s %s' % (W, w, ', '.join('%s %.0f %%' % (k, 100 * v)
                                     for k, v in sorted(share.items(), key=lambda kv: -kv[1])
                                     if v >= 0.005) or 'none'))

# A change judged seed by seed: each seed's capture minus the same seed's in
# BASE, mean ± its standard error (seeds spread ± 10-15 points on their own).
if base_dir:
    base = load(base_dir)
    print('\nagainst %s, seed by seed (mean difference ± standard error):' % base_dir)
    for (w, p), rs in sorted(runs.items()):
        by_seed = {r['seed']: r for r in base.get((w, p), [])}
        pairs = [(r, by_seed[r['seed']]) for r in rs if r['seed'] in by_seed]
        if len(pairs) < 2:
            continue
        line = '  %-*s %-9s %2d seeds' % (W, w, p, len(pairs))
        for key in ('capture', 'capture_last_14_days'):
            d = [a[key]['capture'] - b[key]['capture'] for a, b in pairs]
            label = '%d d' % pairs[0][0].get('days', 60) if key == 'capture' else 'last 14 d'
            line += '  %s %+5.1f ± %4.1f' % (label,
                                            100 * statistics.mean(d),
                                            100 * statistics.stdev(d) / len(d) ** 0.5)
        print(line)

# validate's off-policy estimates against the truth (issue 15): the lift of
# the map's policy over uniform in follows a post, and each policy's value.
def estimates(rs):
    # Only where the source counts follows per post (-m file): from the fake X
    # API validate's follows are attributed ones, another quantity.
    for r in rs:
        if r.get('metrics') != 'file':
            continue
        pv = r.get('policy_value') or {}
        est, truth = pv.get('estimate') or {}, pv.get('truth') or {}
        if truth:
            yield floored(est), truth


def floored(est):
    """The estimate as validate would give it with min_effective_posts at
    --min-ess: rows below it and the lifts that need them left out."""
    if not args.min_ess:
        return est
    est = dict(est)
    rows = []
    for row in est.get('policies', []):
        snips = row.get('score_snips')
        if snips and snips.get('ess', 0) < args.min_ess:
            row = {'policy': row['policy']}
        rows.append(row)
    est['policies'] = rows
    ok = {r['policy'] for r in rows if r.get('score_snips')}
    if not {'uniform', 'map'} <= ok:
        for k in ('lift_map_over_uniform', 'lift_map_over_uniform_follows',
                  'lift_map_over_uniform_follows_dr'):
            est.pop(k, None)
    return est


pv_rows = []
for w in worlds:
    rs = list(estimates(runs.get((w, 'xloop'), [])))
    lifts = [(e['lift_map_over_uniform_follows'], t) for e, t in rs
             if e.get('lift_map_over_uniform_follows')]
    if not rs:
        continue
    covered = sum(l['lo'] <= t['lift'] <= l['hi'] for l, t in lifts)
    err = [l['value'] - t['lift'] for l, t in lifts] or [float('nan')]
    half = [(l['hi'] - l['lo']) / 2 for l, t in lifts] or [float('nan')]
    clear = [(l, t) for (l, t), h in zip(lifts, half) if abs(t['lift']) > h]
    signs = sum((l['value'] > 0) == (t['lift'] > 0) for l, t in clear)
    values = {}
    map_bias = []  # the map's value against its truth, and against the active map's
    for e, t in rs:
        for row in e.get('policies', []):
            f = row.get('follows_snips')
            if f and row['policy'] in t:
                c = values.setdefault(row['policy'], [0, 0])
                c[0] += f['lo'] <= t[row['policy']] <= f['hi']
                c[1] += 1
                if row['policy'] == 'map' and 'map_active' in t:
                    map_bias.append((f['value'] - t['map'], f['value'] - t['map_active']))
    # replies: the learned priorities over opportunity score alone
    rl = [(e['replies']['lift_learned_over_opportunity_follows'], t['replies'])
          for e, t in rs if 'replies' in t and e.get('replies', {}).get(
              'lift_learned_over_opportunity_follows')]
    values['replies lift'] = [sum(l['lo'] <= t['lift'] <= l['hi'] for l, t in rl), len(rl)]
    # the same lift, doubly robust (the reward model carries what the weights cannot)
    dr = [(e['lift_map_over_uniform_follows_dr'], t) for e, t in rs
          if e.get('lift_map_over_uniform_follows_dr')]
    values['DR lift'] = [sum(l['lo'] <= t['lift'] <= l['hi'] for l, t in dr), len(dr)]
    # the seeded what-if (one dimension drawn as one value) over the map's
    # policy, SNIPS and DR; and its sign wherever the truth is clear of the
    # interval
    for key, label in (('lift_what_if_over_map_follows', 'what-if lift'),
                       ('lift_what_if_over_map_follows_dr', 'DR what-if lift')):
        wl = [(e['what_if'][key], t['what_if']) for e, t in rs
              if 'what_if' in t and (e.get('what_if') or {}).get(key)]
        values[label] = [sum(l['lo'] <= t['lift'] <= l['hi'] for l, t in wl), len(wl)]
        if label == 'what-if lift':
            wc = [(l, t) for l, t in wl if abs(t['lift']) > (l['hi'] - l['lo']) / 2]
            values['what-if sign'] = [
                sum((l['value'] > 0) == (t['lift'] > 0) for l, t in wc), len(wc)]
    for e, t in rs:
        for row in e.get('policies', []):
            f = row.get('follows_dr')
            if f and row['policy'] in t:
                c = values.setdefault('DR ' + row['policy'], [0, 0])
                c[0] += f['lo'] <= t[row['policy']] <= f['hi']
                c[1] += 1
    pv_rows.append((w, len(rs), len(lifts), covered, statistics.mean(err),
                    statistics.mean([t['lift'] for _, t in lifts] or [float('nan')]),
                    statistics.mean(half),
                    signs, len(clear), values, map_bias))
if pv_rows:
    print('\nvalidate\'s estimates against the truth (follows a post; the lift of the map\'s '
          'policy over uniform, SNIPS, 90 % interval):')
    print('%-*s %5s %9s %9s %11s %10s %11s %9s  %s' % (
        W, 'world', 'runs', 'estimated', 'coverage', 'bias', 'true lift', 'half-width',
        'sign', 'coverage of each policy\'s value, and of the replies\' lift'))
    for w, n, k, cov, bias, truth, half, signs, clear, values, _ in pv_rows:
        print('%-*s %5d %9d %8.0f%% %+11.3f %+10.3f %11.3f %4d/%-4d  %s' % (
            W, w, n, k, 100 * cov / max(k, 1), bias, truth, half, signs, clear,
            ', '.join('%s %d/%d' % (p, c[0], c[1]) for p, c in sorted(values.items()))))
    print('the map\'s value, mean bias against the policy validate values (each half '
          'under the map learned from the other) and against the active map:')
    for w, *_, map_bias in pv_rows:
        if map_bias:
            print('  %-*s %+.3f, %+.3f (%d runs)' % (
                W, w, statistics.mean(b[0] for b in map_bias),
                statistics.mean(b[1] for b in map_bias), len(map_bias)))
    print('target: the interval covers the true lift in >= 80 % of runs; the sign is right '
          'wherever the true lift is larger than the half-width')
    for w, n, k, cov, bias, truth, half, signs, clear, values, _ in pv_rows:
        ok = k > 0 and cov >= 0.8 * k and signs == clear
        dc, dn = values['DR lift']
        ok_dr = dn > 0 and dc >= 0.8 * dn
        rc, rn = values['replies lift']
        ok_r = rn > 0 and rc >= 0.8 * rn
        wc, wn = values['what-if lift']
        sc, sn = values['what-if sign']
        ok_w = wn > 0 and wc >= 0.8 * wn and sc == sn
        print('  %-*s posts %s (DR %s), replies %s, what-if %s' % (
            W, w, 'met' if ok else 'NOT met', 'met' if ok_dr else 'NOT met',
            'met' if ok_r else 'NOT met', 'met' if ok_w else 'NOT met'))

# The chart: one panel per world, cumulative expected follows (posts and
# replies) per policy; uniform and oracle from the xloop runs' own days.
W, H, PAD = 320, 220, 40
panels = len(worlds)
svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
       'font-family="sans-serif" font-size="11">' % (W * panels, H + 40)]
colours = {'oracle': '#2a9d8f', 'xloop': '#e76f51', 'original': '#8d99ae',
           'uniform': '#264653'}
for i, w in enumerate(worlds):
    x0 = i * W
    series = {}
    for p in ('xloop', 'original'):
        rs = runs.get((w, p), [])
        if not rs:
            continue
        n = min(len(r['daily_follows']) for r in rs)
        mean_day = [statistics.mean(r['daily_follows'][d][0] + r['daily_follows'][d][3]
                                    for r in rs) for d in range(n)]
        series[p] = mean_day
        if p == 'xloop':
            series['uniform'] = [statistics.mean(
                r['daily_follows'][d][1] + r['daily_follows'][d][4] for r in rs)
                for d in range(n)]
            series['oracle'] = [statistics.mean(
                r['daily_follows'][d][2] + r['daily_follows'][d][5] for r in rs)
                for d in range(n)]
    cum = {}
    for k, v in series.items():
        c, acc = [], 0.0
        for x in v:
            acc += x
            c.append(acc)
        cum[k] = c
    top = max((c[-1] for c in cum.values() if c), default=1) or 1
    days = max((len(c) for c in cum.values()), default=1)
    svg.append('<text x="%d" y="14" font-weight="bold">%s</text>' % (x0 + PAD, w))
    svg.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>' % (
        x0 + PAD, H, x0 + W - 10, H))
    svg.append('<line x1="%d" y1="20" x2="%d" y2="%d" stroke="#999"/>' % (
        x0 + PAD, x0 + PAD, H))
    svg.append('<text x="%d" y="%d">%.0f</text>' % (x0 + 4, 28, top))
    svg.append('<text x="%d" y="%d">day %d</text>' % (x0 + W - 50, H + 14, days - 1))
    for k, c in cum.items():
        pts = ' '.join('%.1f,%.1f' % (x0 + PAD + (W - PAD - 10) * d / max(1, days - 1),
                                      H - (H - 20) * v / top) for d, v in enumerate(c))
        svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (
            colours[k], pts))
for j, k in enumerate(('oracle', 'xloop', 'original', 'uniform')):
    svg.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'
               '<text x="%d" y="%d">%s</text>' % (PAD + 90 * j, H + 22, colours[k],
                                                 PAD + 90 * j + 14, H + 31, k))
svg.append('<text x="%d" y="%d">cumulative expected follows from posts and replies, '
           'mean over seeds</text>' % (PAD + 380, H + 31))
svg.append('</svg>')
open(os.path.join(out, 'learning.svg'), 'w').write('\n'.join(svg) + '\n')
print('\nchart: %s' % os.path.join(out, 'learning.svg'))
