# bespoke persona: from a request's words and software, from a demo user's
# behaviour, against the persona_hint truth; catalog errors name
# file:line:column.
. "$TESTLIB"

expect_exit 0 $B persona --describe "deep learning with pytorch on GPUs"
head -1 out.txt | grep -q "ml-engineer" || fail "pytorch → ml-engineer"
expect_exit 0 $B persona --software steam,obs,discord
head -1 out.txt | grep -q "streamer" || fail "steam → streamer"
expect_exit 0 $B --json persona --describe "postgres database server" --data-size 500GB
[ "$(json_get out.txt 'd["persona"]')" = dba ] || fail "postgres → dba"
[ "$(json_get out.txt 'abs(sum(p["probability"] for p in d["personas"]) - 1) < 1e-6')" = True ] || fail "sums to 1"

expect_exit 0 $B --db p.db demo --users 9 --days 14
expect_exit 0 $B --db p.db --json persona user-002-batch
[ "$(json_get out.txt 'd["persona"]')" = data-engineer ] || fail "batch user"
[ "$(json_get out.txt 'd["evidence"]["usage"]')" = True ] || fail "usage evidence"
expect_exit 0 $B --db p.db persona --all
contains out.txt "top-1 accuracy against persona_hint"
expect_exit 0 $B --db p.db --json persona --all
[ "$(json_get out.txt 'd["correct"] >= 7')" = True ] || fail "behaviour finds most personas"

# A catalog of one's own, and a planted error.
cat >c.yaml <<'YAML'
version: 1
personas:
  - name: painter
    title: Painter
    description: paints pictures
    software: [gimp, krita]
    daily: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    weekly: [1, 1, 1, 1, 1, 0, 0]
    cores: 4
    memory_gb: 8
YAML
expect_exit 0 $B persona --catalog c.yaml --software krita
contains out.txt "painter"
sed 's/cores: 4/cores: four/' c.yaml >bad.yaml
expect_exit 1 $B persona --catalog bad.yaml --software krita
contains err.txt "bad.yaml:9:12:"
expect_exit 1 $B persona --catalog missing.yaml --describe x
contains err.txt "missing.yaml"
expect_exit 1 $B --db p.db persona nobody
expect_exit 1 $B persona
expect_exit 1 $B persona --describe x --data-size lots
exit 0
