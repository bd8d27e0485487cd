# Next applications and software recommendations on small histories:
# `apps` on a user, `apps --evaluate`, `recommend-software` and its
# --evaluate, and the refusals.
. "$TESTLIB"

mkdir hist
# alice: vi is always followed by make; bob and carol share tools.
for i in $(seq 1 60); do printf 'ls\nvi\nmake\n'; done >hist/alice
for i in $(seq 1 60); do printf 'ls\ncd\ngrep\nvi\nmake\n'; done >hist/bob
for i in $(seq 1 60); do printf 'ls\ncd\ngrep\nvi\n'; done >hist/carol
expect_exit 0 $B --db h.db ingest hist/alice hist/bob hist/carol

expect_exit 0 $B --db h.db apps alice
contains out.txt "next application:"
expect_exit 0 $B --db h.db --json apps bob --top 3
python3 - <<'PY' || fail "apps JSON"
import json
d = json.load(open("out.txt"))
assert d["entity"] == "bob" and d["events"] == 300, d
assert d["context"] == ["grep", "vi", "make"], d["context"]
n = d["next"]
assert len(n) == 3 and n[0]["app"] == "ls" and n[0]["p"] > 0.5, n
assert d["coming_hour"]["basis"] == "next_commands"
assert {a["app"] for a in d["coming_day"]["apps"]} <= {"ls", "cd", "grep", "vi", "make"}
PY

# Evaluation: the first 100 commands train, the rest are predicted.
expect_exit 0 $B apps --evaluate hist --train-first 100
contains out.txt "hit@1"
contains out.txt "markov1"
contains out.txt "most_frequent"
expect_exit 0 $B --json apps --evaluate hist/alice hist/bob --train-first 100
[ "$(json_get out.txt 'd["rows"][0]["hit1"]')" = "1.0" ] || fail "alice and bob are fully predictable"
[ "$(json_get out.txt 'd["users"]')" = 2 ] || fail "two users"

# Recommendations: carol lacks make, which bob (like her) and alice use.
expect_exit 0 $B --db h.db --json recommend-software carol
python3 - <<'PY' || fail "recommend JSON"
import json
d = json.load(open("out.txt"))
r = d["recommendations"]
assert r[0]["app"] == "make", r
assert {b["app"] for b in r[0]["because"]} & {"vi", "ls"}, r[0]
assert r[0]["similar_users"][0]["user"] == "bob", r[0]
PY
expect_exit 0 $B --db h.db recommend-software carol
contains out.txt "make"
expect_exit 0 $B --db h.db recommend-software --evaluate --min-apps 3 --holdout 0.3 --seed 7
contains out.txt "item_cosine"
contains out.txt "popularity"
expect_exit 0 $B --db h.db --json recommend-software --evaluate --min-apps 4
[ "$(json_get out.txt 'd["users"]')" = 2 ] || fail "bob and carol qualify"

# Refusals.
expect_exit 1 $B --db h.db apps nobody
contains err.txt "nobody"
expect_exit 1 $B --db h.db recommend-software nobody
contains err.txt "nobody"
expect_exit 1 $B --db h.db recommend-software --evaluate --holdout 1.5
contains err.txt "--holdout"
expect_exit 1 $B --db h.db recommend-software --evaluate --holdout abc
contains err.txt "--holdout"
expect_exit 1 $B apps --evaluate hist/nothere --train-first 10
contains err.txt "hist/nothere"
expect_exit 1 $B apps --evaluate hist --train-first 100000
contains err.txt "train on"
expect_exit 1 $B --db h.db apps --order 7 alice
contains err.txt "--order"
