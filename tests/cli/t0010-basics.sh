# The program's surface: help, version, unknown commands and options, exit
# codes, and a missing store.
. "$TESTLIB"

expect_exit 0 $B --help
contains out.txt "ingest"
contains out.txt "export"
expect_exit 0 $B --version
contains out.txt "bespoke"
for cmd in ingest entities series export stats check demo; do
	expect_exit 0 $B $cmd --help
	contains out.txt "usage: bespoke $cmd"
done
expect_exit 1 $B frobnicate
contains err.txt "not a command"
expect_exit 1 $B
expect_exit 1 $B --bogus
# A store that does not exist is a user error naming it, and is not created.
expect_exit 1 $B --db nothere.db entities
contains err.txt "nothere.db"
[ ! -e nothere.db ] || fail "a read created the store"
# $BESPOKE_DB is honoured.
BESPOKE_DB=env.db expect_exit 1 $B stats
contains err.txt "env.db"
expect_exit 1 $B ingest
contains err.txt "at least one"
expect_exit 1 $B ingest --on-error=maybe x
contains err.txt "on-error"
expect_exit 1 $B ingest --format nope x
contains err.txt "unknown format"
