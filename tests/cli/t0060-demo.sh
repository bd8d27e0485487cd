# The demo: a fleet is generated, stored, and shown; a second run adds
# nothing (it is deterministic and ingest is idempotent).
. "$TESTLIB"

expect_exit 0 $B --db d.db demo --users 6 --days 7
contains out.txt "store:"
contains out.txt "6 entities"
contains out.txt "persona = archetype for"
contains out.txt "== 5. allocate"
contains out.txt "fleet: \$"
expect_exit 0 $B --db d.db --json stats
samples=$(json_get out.txt 'd["samples"]')
[ "$samples" -gt 6000 ] || fail "too few demo samples: $samples"
expect_exit 0 $B --db d.db demo --users 6 --days 7
contains out.txt "stored 0 new samples"
expect_exit 0 $B --db d.db check
expect_exit 1 $B --db d.db demo --users 0
contains err.txt "--users"
