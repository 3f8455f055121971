#!/usr/bin/env python3
"""Repeat a landing zone N times, each copy shifted by whole seasons.

    scripts/scale-landing.py COPIES SOURCE OUT

Copy k (k = 0 .. COPIES-1) is the source landing zone with every date,
timestamp, season and game id moved 2*k years later (the shared zone holds
two seasons, 2024-25 and 2025-26, so the copies follow one another without
overlapping). Copy 0 is the source itself. The payloads keep their layout
and their values (points, lines, prices, players); only what names a day,
a season or an event changes, in file contents and paths alike:

  2024-10-22, 2024-10-22T23:35:00Z, 10/22/2024  dates and timestamps
  20241023_080500, 20241004/BOSDEN              file names, game codes
  2024-25, /2024-25/                            seasons
  "22024"                                       SEASON_ID
  "0022400062"                                  NBA game ids (season digits)
  bbde7751...-HOUOKC                            Odds API event ids (each hex
                                                digit + k, mod 16: distinct
                                                per copy)

The schedule's fixtures not yet played (gameStatus 1: the 2025-26 games
after the last payload date) are left out of every copy, copy 0 included.
A backfill of the source alone never visits those dates (it ends at its
last payload), but with a copy after them it would, and the work would no
longer be COPIES times the source's. Without them it is, and the answers
are checkable: every copy holds the same box
scores and lines, so phase 2 and 3 tables hold COPIES times the rows and
the same sums. Used by scripts/bench-scale.sh (the scale curve).
Standard library only.
"""
import json
import os
import re
import sys

# One regex, alternatives longest first, so a full date is never read as a
# season ("2024-10" of "2024-10-22").
PATTERN = re.compile(
    r"(?P<date>\b(?P<y1>20\d\d)-(?P<m1>\d\d)-(?P<d1>\d\d))"
    r"|(?P<us>\b(?P<m2>\d\d)/(?P<d2>\d\d)/(?P<y2>20\d\d)\b)"
    r"|(?P<compact>\b(?P<y3>20\d\d)(?P<md3>\d{4})(?=[_/]))"
    r"|(?P<season>\b(?P<y4>20\d\d)-(?P<s4>\d\d)\b)"
    r"|(?P<season_id>\"(?P<t5>[1-6])(?P<y5>20\d\d)\")"
    r"|(?P<game_id>\"00(?P<t6>[1-6])(?P<y6>\d\d)(?P<n6>\d{5})\")"
    r"|(?P<event>\b[0-9a-f]{32}\b)"
)


def shifter(k):
    years = 2 * k

    def hexshift(s):
        return "".join("%x" % ((int(c, 16) + k) % 16) for c in s)

    def sub(m):
        g = m.groupdict()
        if g["date"]:
            return "%d-%s-%s" % (int(g["y1"]) + years, g["m1"], g["d1"])
        if g["us"]:
            return "%s/%s/%d" % (g["m2"], g["d2"], int(g["y2"]) + years)
        if g["compact"]:
            return "%d%s" % (int(g["y3"]) + years, g["md3"])
        if g["season"]:
            return "%d-%02d" % (int(g["y4"]) + years, (int(g["s4"]) + years) % 100)
        if g["season_id"]:
            return '"%s%d"' % (g["t5"], int(g["y5"]) + years)
        if g["game_id"]:
            return '"00%s%02d%s"' % (g["t6"], (int(g["y6"]) + years) % 100, g["n6"])
        return hexshift(g["event"])

    return lambda text: PATTERN.sub(sub, text)


def played_only(text):
    """The schedule payload without its unplayed fixtures (gameStatus 1)."""
    payload = json.loads(text)
    schedule = payload["leagueSchedule"]
    days = []
    for day in schedule["gameDates"]:
        day["games"] = [g for g in day["games"] if g["gameStatus"] != 1]
        if day["games"]:
            days.append(day)
    schedule["gameDates"] = days
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    copies, source, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if copies < 1:
        sys.exit("COPIES must be at least 1")
    if os.path.exists(out) and os.listdir(out):
        sys.exit(f"{out} exists and is not empty: give a new directory")
    files = 0
    for k in range(copies):
        shift = shifter(k)
        for dirpath, _, names in os.walk(source):
            for name in names:
                if not name.endswith(".json"):
                    continue
                src = os.path.join(dirpath, name)
                rel = shift(os.path.relpath(src, source))
                dst = os.path.join(out, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(src, encoding="utf-8") as f:
                    text = f.read()
                if "scheduleleaguev2" in text[:200]:
                    text = played_only(text)
                with open(dst, "w", encoding="utf-8") as f:
                    f.write(shift(text))
                files += 1
    print(f"{copies} copies of {source}: {files} payloads in {out}")


if __name__ == "__main__":
    main()
