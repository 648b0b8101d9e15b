#!/usr/bin/env python3
"""Measures `mapd geocode` on address cases written by others, and checks that
no address of another town verifies as a home here. Standard library only.

  geocode_suite.py accuracy MAPD DB CASES.csv [--min-pass 0.97] [--misses]
      CASES: source,query,limit,expected_housenumber,expected_street,
      expected_postcode,expected_city (tests/fixtures/geocoder-tester/paris.csv).
      A case passes when one of its first `limit` results matches every
      expected field (geocoder-tester's loose comparison; a result marked
      approximate, with the number asked and another suffix, matches: the
      base does not hold the suffix asked). Prints the pass rate
      per source file and overall; exit 1 below --min-pass.

  geocode_suite.py cross MAPD DB CASES [--misses]
      CASES (.csv or .csv.gz) has a query column and a kind or source column.
      Counts the queries whose first result has "verified": true; exit 1 if
      any does (they are listed).

  geocode_suite.py generate STORE_DB OTHER_STORE_DB communes.csv OUT.csv
      Writes kind,query: addresses of other towns, built from the data with a
      fixed seed, that must not verify against STORE_DB (see generate()).

Exit 2 on bad usage or when mapd fails.
"""
import collections
import csv
import gzip
import io
import json
import os
import pathlib
import random
import re
import sqlite3
import subprocess
import sys
import unicodedata

SEED = 20200317
# Results a registration weighs (mapd/address_check.c, mapd user add): the
# rule's margin looks at the results after the first.
REGISTRATION_LIMIT = 5


def loose(s):
    """geocoder-tester's loose form: lower case, accents removed, every
    character that is not a letter or digit a space, spaces collapsed."""
    s = unicodedata.normalize("NFKD", "" if s is None else str(s))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in s).split())


SUFFIXES = {"bis": "b", "ter": "t", "quater": "q"}


def housenumber_key(s):
    """"19B", "19 b", "19 bis" -> (19, "b"); "7T" == "7 ter"."""
    s = loose(s).replace(" ", "")
    m = re.fullmatch(r"(\d+)([a-z]*)", s)
    if not m:
        return s
    return int(m.group(1)), SUFFIXES.get(m.group(2), m.group(2))


def read_cases(path):
    raw = open(path, "rb").read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


def fail(msg):
    print("geocode_suite: " + msg, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- running mapd

def run_batch(mapd, db, queries, limit):
    """Geocodes queries with one `mapd geocode --batch`; returns, for each
    query, the list of its JSON lines. Each distinct query is sent once, so
    that the lines of consecutive queries never share a "query" value and the
    output splits back by runs of equal "query" (an "error" line stands
    alone)."""
    distinct = list(dict.fromkeys(q.replace("\r", " ").replace("\n", " ") for q in queries))
    p = subprocess.run([mapd, "geocode", "--batch", "--db", db, "--limit", str(limit)],
                       input="".join(q + "\n" for q in distinct).encode("utf-8"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        fail("mapd geocode --batch exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace").strip()))
    groups, prev = [], object()
    for n, line in enumerate(p.stdout.decode("utf-8").splitlines(), 1):
        try:
            o = json.loads(line)
        except ValueError:
            fail("line %d of mapd's output is not JSON: %r" % (n, line[:200]))
        if "error" in o or not groups or o.get("query") != prev or len(groups[-1]) >= limit:
            groups.append([])
        groups[-1].append(o)
        prev = o.get("query") if "error" not in o else object()
    if len(groups) != len(distinct):
        fail("%d queries sent, %d answers read back" % (len(distinct), len(groups)))
    echo = sum(1 for q, g in zip(distinct, groups) if "error" not in g[0] and g[0].get("query") != q)
    if echo:
        print("note: %d answers do not echo their query exactly" % echo)
    answers = dict(zip(distinct, groups))
    return [answers[q.replace("\r", " ").replace("\n", " ")] for q in queries]


FIELDS = ("housenumber", "street", "postcode", "city")


def fields(o):
    """The address fields of one JSON line ("12 bis", "Rue X", "75011",
    "Paris 11e Arrondissement"; null for a "none" line)."""
    if "error" in o:
        return dict.fromkeys(FIELDS)
    missing = [k for k in FIELDS + ("verified", "reason") if k not in o]
    if missing:
        fail("mapd's JSON lines have no %s field" % "/".join(missing))
    got = {k: o[k] for k in FIELDS}
    got["approximate"] = o.get("approximate") is True
    return got


def verified(lines):
    """Whether the query verifies a home: "verified" of its first line."""
    fields(lines[0])
    return lines[0].get("verified") is True


def describe(o):
    if "error" in o:
        return "error: " + o["error"]
    if o.get("type") in (None, "none"):
        return "none" + (" (%s)" % o["reason"] if o.get("reason") else "")
    extra = []
    if "verified" in o:
        extra.append("verified" if o["verified"] else "not verified: %s" % o.get("reason"))
    if o.get("approximate") and o.get("reason") != "approximate":
        extra.append("approximate")
    return "%s [%s %.3f%s]" % (o.get("label"), o.get("type"), o.get("score") or 0,
                               "".join(", " + e for e in extra))


# ---------------------------------------------------------------- accuracy

def matches(expected, got):
    """Which expected fields `got` misses (empty: it matches)."""
    bad = []
    want = housenumber_key(expected["housenumber"]) if expected["housenumber"] else None
    have = housenumber_key(got["housenumber"]) if got["housenumber"] else None
    # A suffix the address base does not hold ("19B" where only 19 exists) is
    # answered by the number, marked approximate: that answer is the right one.
    approx_ok = (got.get("approximate") and isinstance(want, tuple) and isinstance(have, tuple)
                 and want[0] == have[0] and want[1] != have[1])
    if want is not None and want != have and not approx_ok:
        bad.append("housenumber")
    if expected["street"] and loose(expected["street"]) != loose(got["street"]):
        bad.append("street")
    if expected["postcode"] and (expected["postcode"] or "").strip() != (got["postcode"] or "").strip():
        bad.append("postcode")
    if expected["city"]:
        e, g = loose(expected["city"]), loose(got["city"])
        if not (g == e or g.startswith(e + " ")):
            bad.append("city")
    return bad


def held_by_store(db, expected):
    """For each expected address, whether the store (a SpatiaLite file) holds
    one that matches it; None when db is not a file."""
    if not os.path.isfile(db):
        return None
    con = sqlite3.connect(pathlib.Path(db).resolve().as_uri() + "?mode=ro", uri=True)
    wanted = {loose(e["street"]) for e in expected}
    by_street = collections.defaultdict(list)
    for street, number, rep, postcode, city in con.execute(
            "SELECT street, number, rep, postcode, city FROM addresses"):
        ls = loose(street)
        if ls in wanted:
            by_street[ls].append({"housenumber": "%d%s" % (number, rep or ""), "street": street,
                                  "postcode": postcode, "city": city})
    con.close()
    return [bool(e["street"]) and any(not matches(e, a) for a in by_street[loose(e["street"])])
            for e in expected]


def accuracy(args):
    min_pass, show_misses, rest = 0.97, False, []
    it = iter(args)
    for a in it:
        if a == "--min-pass":
            min_pass = float(next(it, "x"))
        elif a == "--misses":
            show_misses = True
        else:
            rest.append(a)
    if len(rest) != 3:
        fail("usage: accuracy MAPD DB CASES.csv [--min-pass R] [--misses]")
    mapd, db, path = rest
    cases = read_cases(path)
    for c in cases:
        c["limit"] = int(c.get("limit") or 1)
    limit = max([c["limit"] for c in cases] + [1])
    answers = run_batch(mapd, db, [c["query"].strip() for c in cases], limit)
    per_file = collections.OrderedDict()
    why = collections.Counter()
    misses = []
    for c, lines in zip(cases, answers):
        exp = {k: c.get("expected_" + k, "") for k in FIELDS}
        got = [fields(o) for o in lines[:c["limit"]]]
        ok = any(not matches(exp, g) for g in got)
        f = c["source"].rsplit(":", 1)[0]
        per_file.setdefault(f, [0, 0])
        per_file[f][1] += 1
        if ok:
            per_file[f][0] += 1
            continue
        first = lines[0]
        if "error" in first or first.get("type") in (None, "none"):
            kind = "no result"
        else:
            bad = matches(exp, got[0])
            if bad == ["housenumber"] and first.get("type") == "street":
                kind = "street only, number not found"
            else:
                kind = "wrong " + "+".join(bad)
        why[kind] += 1
        misses.append((c, exp, lines[:max(c["limit"], 1)], kind))
    total = sum(v[1] for v in per_file.values())
    passed = sum(v[0] for v in per_file.values())
    absent = held_by_store(db, [m[1] for m in misses])
    print("%-48s %6s %6s %8s" % ("accuracy: file", "passed", "cases", "rate"))
    for f, (p, n) in per_file.items():
        print("%-48s %6d %6d %7.1f%%" % (f, p, n, 100.0 * p / n))
    rate = passed / total if total else 1.0
    print("%-48s %6d %6d %7.1f%%  (floor %.1f%%)" % ("overall", passed, total, 100 * rate, 100 * min_pass))
    if why:
        print("misses: " + ", ".join("%s %d" % kv for kv in why.most_common()))
    if absent is not None:
        n_absent = sum(1 for a in absent if not a)
        print("misses whose expected address the store does not hold (street, number, postcode "
              "and city as expected): %d; overall on the other cases: %.1f%%"
              % (n_absent, 100.0 * passed / max(1, total - n_absent)))
    if show_misses:
        for i, (c, exp, lines, kind) in enumerate(misses):
            if absent is not None and not absent[i]:
                kind += "; not in the store"
            print("MISS %s (%s): %r" % (c["source"], kind, c["query"]))
            print("     expected: %s" % " | ".join("%s=%s" % (k, v) for k, v in exp.items() if v))
            for o in lines:
                print("     got:      %s" % describe(o))
    return 0 if rate >= min_pass else 1


# ---------------------------------------------------------------- cross

def cross(args):
    show_all = "--misses" in args
    rest = [a for a in args if a != "--misses"]
    if len(rest) != 3:
        fail("usage: cross MAPD DB CASES [--misses]")
    mapd, db, path = rest
    cases = read_cases(path)
    if not cases or "query" not in cases[0]:
        fail("%s: no query column" % path)
    key = "kind" if "kind" in cases[0] else "source" if "source" in cases[0] else None
    if not key:
        fail("%s: no kind or source column" % path)
    answers = run_batch(mapd, db, [c["query"].strip() for c in cases], REGISTRATION_LIMIT)
    groups = collections.OrderedDict()
    classes = collections.OrderedDict()
    reasons = collections.Counter()
    hits = []
    for c, lines in zip(cases, answers):
        if key == "kind":     # "class:form"
            g, cl = c["kind"], c["kind"].split(":")[0]
        else:                 # "region/file.csv:line"
            f = c["source"].rsplit(":", 1)[0]
            g, cl = f.split("/")[0], os.path.basename(f)
        for d, k in ((groups, g), (classes, cl)):
            d.setdefault(k, [0, 0])
            d[k][1] += 1
        if verified(lines):
            groups[g][0] += 1
            classes[cl][0] += 1
            hits.append((g, c, lines[0]))
        else:
            reasons[lines[0].get("reason") or lines[0].get("error")] += 1
    name = os.path.basename(path)
    width = max(len(k) for k in list(groups) + list(classes) + ["cross " + name]) + 2
    row = "%-" + str(width) + "s %8s %8s"
    print(row % ("cross " + name, "verified", "queries"))
    for g, (v, n) in sorted(groups.items()):
        print(row % (g, v, n))
    if list(classes) != list(groups):
        print()
        for g, (v, n) in sorted(classes.items()):
            print(row % (g, v, n))
    total = sum(n for v, n in groups.values())
    print(row % ("all", len(hits), total) + "  (target 0)")
    if reasons:
        print("not verified, first line says: " + ", ".join("%s %d" % kv for kv in reasons.most_common(8)))
    shown = collections.Counter()
    for g, c, o in hits:
        shown[g] += 1
        if show_all or shown[g] <= 3:
            print("VERIFIED %s: %r -> %s" % (c.get("source") or g, c["query"], describe(o)))
    hidden = 0 if show_all else sum(max(0, v - 3) for v in shown.values())
    if hidden:
        print("... and %d more verified (--misses lists them all)" % hidden)
    return 1 if hits else 0


# ---------------------------------------------------------------- generate

class Store:
    """What the generator needs of a store's addresses (plain text columns
    of the addresses table, read with sqlite3)."""

    def __init__(self, path):
        if not os.path.exists(path):
            fail("%s: no such file" % path)
        uri = pathlib.Path(path).resolve().as_uri() + "?mode=ro"
        con = sqlite3.connect(uri, uri=True)
        self.rows = con.execute("SELECT street, number, rep, postcode, city FROM addresses "
                                "ORDER BY id").fetchall()
        con.close()
        if not self.rows:
            fail("%s: no addresses" % path)
        self.cities = {loose(r[4]) for r in self.rows}
        self.postcodes = {r[3] for r in self.rows}
        # The word most city names of the store begin with ("Paris" of
        # "Paris 11e Arrondissement"): what people type for the town.
        first = collections.Counter(r[4].split()[0] for r in self.rows if r[4].split())
        self.city_word = first.most_common(1)[0][0]
        # Addresses as people write them: a number with no suffix or with
        # bis/ter/quater (not the address base's internal ones, "12p1"), on
        # a street whose name does not begin with a number ("7S1 Place du
        # Carrousel").
        self.typable = [r for r in self.rows if typable(r)]
        self.by_street = collections.OrderedDict()
        for r in self.typable:
            self.by_street.setdefault(r[0], []).append(r)

    def holds_town(self, name):
        """A town name the store holds, or begins one of its city names with."""
        n = loose(name)
        return n == loose(self.city_word) or any(c == n or c.startswith(n + " ") for c in self.cities)


def typable(row):
    return (row[2] or "").strip().lower() in ("", "b", "t", "q", "bis", "ter", "quater") \
        and not row[0][:1].isdigit()


def typed_number(row, rng):
    number, rep = row[1], (row[2] or "").strip()
    if not rep:
        return str(number)
    word = {"b": "bis", "t": "ter", "q": "quater"}.get(rep.lower(), rep.lower())
    if rng.random() < 1 / 3:
        return "%d%s" % (number, word[0].upper())      # "12B"
    return "%d %s" % (number, word)                     # "12 bis"


def tail_pattern(n_words):
    """A regex of the last n_words words of a name, each a run of letters or
    digits, separated by anything else."""
    return r"[^\W_]+" + r"[\W_]+[^\W_]+" * (n_words - 1) + r"[\W_]*"


def replace_tail(street, n_words, word):
    """street with its last n_words words (loose sense) replaced by word;
    "Rue d'Italie" -> "Rue de Paris"."""
    spans = list(re.finditer(r"[^\W_]+", street))
    head = street[:spans[-n_words].start()]
    if re.search(r"\b[dD]['’]$", head) and loose(word)[:1] not in "aeiouyh":
        head = head[:-2] + head[-2] + "e "
    return head + word


def generate(args):
    if len(args) != 4:
        fail("usage: generate STORE_DB OTHER_STORE_DB communes.csv OUT.csv")
    store, other = Store(args[0]), Store(args[1])
    communes = [(c["city"], c["postcode"]) for c in read_cases(args[2])]
    rng = random.Random(SEED)
    out = []

    # 1. Real addresses of the other store, as its residents type them.
    rows = [r for r in other.typable if not store.holds_town(r[4]) and r[3] not in store.postcodes]
    forms = ["N street postcode city", "N street city", "N street (comma) postcode"]
    for i, r in enumerate(rng.sample(rows, min(1500, len(rows)))):
        n = typed_number(r, rng)
        city = r[4] if rng.random() < 0.5 else other.city_word
        q = [f"{n} {r[0]} {r[3]} {city}", f"{n} {r[0]} {city}", f"{n} {r[0]}, {r[3]}"][i % 3]
        out.append(("other_address:" + forms[i % 3], q))

    # 2. Real streets and numbers of the store, with a town and postcode it does not hold.
    towns = [(c, p) for c, p in communes if not store.holds_town(c) and p not in store.postcodes]
    forms = ["N street postcode town", "N street town", "N street postcode"]
    for i in range(1500):
        r = rng.choice(store.typable)
        c, p = rng.choice(towns)
        n = typed_number(r, rng)
        q = [f"{n} {r[0]} {p} {c}", f"{n} {r[0]} {c}", f"{n} {r[0]} {p}"][i % 3]
        out.append(("other_town:" + forms[i % 3], q))

    # 3. Streets of the store named after a town ("Rue de Montreuil"): that
    # town's residents write their own streets with its name and postcode
    # ("12 rue de Paris 93100 Montreuil"), or any street with it.
    postcodes = collections.OrderedDict()
    for c, p in towns:
        postcodes.setdefault(loose(c), (c, []))[1].append(p)
    streets = list(store.by_street)
    for s in streets:
        words = loose(s).split()
        for k in range(1, len(words) - 1):
            t = " ".join(words[-k:])
            # "Rue de Montreuil", "Rue David d'Angers"; not "Villa
            # Sainte-Croix" (Croix) nor "Porte de la Villette" (Villette).
            if t not in postcodes or words[-k - 1] not in ("de", "d") or \
                    not re.search(r"(^|[\s'’])" + tail_pattern(k) + "$", s):
                continue
            town, pcs = postcodes[t]
            own = replace_tail(s, k, store.city_word)
            for p in pcs + [None]:
                where = f"{p} {town}" if p else town
                form = "postcode town" if p else "town"
                r = rng.choice(store.by_street[s])
                out.append(("named_after_town:N <street with the store's town> " + form,
                            f"{typed_number(r, rng)} {own} {where}"))
                o = rng.choice(streets)
                while o == s and len(streets) > 1:
                    o = rng.choice(streets)
                r = rng.choice(store.by_street[o])
                out.append(("named_after_town:N <another street> " + form,
                            f"{typed_number(r, rng)} {o} {where}"))

    with open(args[3], "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kind", "query"])
        w.writerows(out)
    counts = collections.Counter(k.split(":")[0] for k, _ in out)
    print("generated %d queries against %s: %s" % (len(out), os.path.basename(args[0]),
                                                  ", ".join("%s %d" % kv for kv in counts.items())))
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("accuracy", "cross", "generate"):
        print(__doc__, file=sys.stderr)
        return 2
    return {"accuracy": accuracy, "cross": cross, "generate": generate}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
