/*
 * The embedded store backend: one SQLite file in WAL mode.
 *
 * Tables (schema version 1, see `migrations[]`):
 *   entity(id, name, created_ms)            a user, VM or workload
 *   entity_attr(entity_id, key, value)      its labels and attributes
 *   series(id, entity_id, metric, labels, unit)
 *   chunk(id, n, t_first, t_last, data)    one series' samples over one
 *                                           UTC day, compressed (chunk.c);
 *                                           id = series_id << 24 | day + 2^23
 *
 * The chunk key is one integer rather than a (series, day) pair on purpose:
 * a rowid table is filled in key order by ingest (a file's series are
 * created together and their days ascend), and SQLite packs pages full on
 * such appends, while a WITHOUT ROWID table splits them half-empty. On the
 * Bitbrains trace that is 1.6 versus 1.1 bytes per sample on disk. Days
 * span +-2^23 (23,000 years either side of 1970); series ids 2^39.
 *   event(entity_id, ts, seq, kind, name)   app launches, commands
 *   doc(kind, entity, version, created_ms, body)
 *                                           versioned JSON: fitted models,
 *                                           profiles, plans (version 2)
 *
 * Writes are one IMMEDIATE transaction per batch, so a process killed at
 * any point leaves either the whole batch or none of it (SQLite's WAL
 * recovery does the rest). Chunks of a series that already has data for
 * that day are decoded, merged (the newer value wins at equal times) and
 * re-encoded; a batch identical to what is stored changes nothing, which is
 * what makes re-ingest idempotent.
 *
 * WAL with synchronous=NORMAL survives a killed process without losing a
 * committed transaction; only an operating-system crash or power loss can
 * roll back the last few commits (SQLite's documented trade-off).
 */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <sqlite3.h>

#include "chunk.h"
#include "store.h"

/* ---- schema migrations ------------------------------------------------
 * Ordered; each runs once, in its own transaction, and bumps
 * PRAGMA user_version to its number. To change the schema, append an
 * entry: never edit one that has shipped. */
static const struct migration {
	int version;
	const char *what;
	const char *sql;
} migrations[] = {
	{1, "entities, attributes, series, day chunks, events",
	 "CREATE TABLE entity("
	 " id INTEGER PRIMARY KEY,"
	 " name TEXT NOT NULL UNIQUE,"
	 " created_ms INTEGER NOT NULL);"
	 "CREATE TABLE entity_attr("
	 " entity_id INTEGER NOT NULL REFERENCES entity(id),"
	 " key TEXT NOT NULL,"
	 " value TEXT NOT NULL,"
	 " PRIMARY KEY(entity_id, key)) WITHOUT ROWID;"
	 "CREATE TABLE series("
	 " id INTEGER PRIMARY KEY,"
	 " entity_id INTEGER NOT NULL REFERENCES entity(id),"
	 " metric TEXT NOT NULL,"
	 " labels TEXT NOT NULL DEFAULT '',"
	 " unit TEXT NOT NULL DEFAULT '',"
	 " UNIQUE(entity_id, metric, labels));"
	 "CREATE TABLE chunk("
	 " id INTEGER PRIMARY KEY," /* series_id << 24 | (day + 2^23) */
	 " n INTEGER NOT NULL,"
	 " t_first INTEGER NOT NULL,"
	 " t_last INTEGER NOT NULL,"
	 " data BLOB NOT NULL);"
	 "CREATE TABLE event("
	 " entity_id INTEGER NOT NULL REFERENCES entity(id),"
	 " ts INTEGER NOT NULL,"
	 " seq INTEGER NOT NULL,"
	 " kind TEXT NOT NULL,"
	 " name TEXT NOT NULL,"
	 " PRIMARY KEY(entity_id, ts, seq, kind, name)) WITHOUT ROWID;"},
	{2, "versioned documents (models, profiles, plans)",
	 "CREATE TABLE doc("
	 " kind TEXT NOT NULL,"
	 " entity TEXT NOT NULL,"
	 " version INTEGER NOT NULL,"
	 " created_ms INTEGER NOT NULL,"
	 " body TEXT NOT NULL,"
	 " PRIMARY KEY(kind, entity, version));"},
};

int bsp_store_schema_latest(void)
{
	return migrations[BSP_ARRAY_LEN(migrations) - 1].version;
}

/* Prepared statements, compiled on first use and kept. */
enum stmt_id {
	Q_ENTITY_GET,
	Q_ENTITY_ADD,
	Q_ATTR_SET,
	Q_SERIES_GET,
	Q_SERIES_ADD,
	Q_CHUNK_GET,
	Q_CHUNK_ADD,
	Q_CHUNK_SET,
	Q_CHUNK_RANGE,
	Q_EVENT_ADD,
	Q_DATA_VERSION,
	Q_COUNT
};

static const char *const stmt_sql[Q_COUNT] = {
	[Q_ENTITY_GET] = "SELECT id FROM entity WHERE name = ?1",
	[Q_ENTITY_ADD] = "INSERT INTO entity(name, created_ms) VALUES(?1, ?2)",
	[Q_ATTR_SET] = "INSERT INTO entity_attr(entity_id, key, value) "
		       "VALUES(?1, ?2, ?3) ON CONFLICT(entity_id, key) "
		       "DO UPDATE SET value = excluded.value",
	[Q_SERIES_GET] = "SELECT id FROM series WHERE entity_id = ?1 AND "
			 "metric = ?2 AND labels = ?3",
	[Q_SERIES_ADD] = "INSERT INTO series(entity_id, metric, labels, unit) "
			 "VALUES(?1, ?2, ?3, ?4)",
	[Q_CHUNK_GET] = "SELECT data FROM chunk WHERE id = ?1",
	[Q_CHUNK_ADD] = "INSERT INTO chunk(id, n, t_first, t_last, data) "
			"VALUES(?1, ?3, ?4, ?5, ?6)",
	[Q_CHUNK_SET] = "UPDATE chunk SET n = ?3, t_first = ?4, t_last = ?5, "
			"data = ?6 WHERE id = ?1",
	[Q_CHUNK_RANGE] = "SELECT data FROM chunk WHERE id BETWEEN ?1 AND ?2 "
			  "ORDER BY id",
	[Q_EVENT_ADD] = "INSERT OR IGNORE INTO event(entity_id, ts, seq, kind, "
			"name) VALUES(?1, ?2, ?3, ?4, ?5)",
	[Q_DATA_VERSION] = "PRAGMA data_version",
};

struct sq {
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];
	int version;
	char *path;
};

#define DAY_BIAS STORE_DAY_LIMIT
#define SQL_KEY_LO "(s.id << 24)"
#define SQL_KEY_HI "((s.id << 24) | 16777215)"

/* The chunk key of (series, day); days outside +-2^23 are clamped by the
 * callers' range checks (store_day of any sane time is far inside). */
static int64_t chunk_key(int64_t sid, int64_t day)
{
	if (day < -DAY_BIAS)
		day = -DAY_BIAS;
	if (day >= DAY_BIAS)
		day = DAY_BIAS - 1;
	return (int64_t)((uint64_t)sid << 24) | (day + DAY_BIAS);
}

static struct sq *SQ(struct bsp_store *st)
{
	return st->impl;
}

/*
 * The handle at the start of an operation. A cached statement that was
 * stepped but not run to its end keeps a read transaction open: later
 * reads on this connection would see that old snapshot, and a write would
 * fail with "database is locked" once another connection has committed.
 * So every operation starts by resetting them all (a no-op for those
 * already reset).
 */
static struct sq *SQ_BEGIN(struct bsp_store *st)
{
	struct sq *q = st->impl;
	for (int i = 0; i < Q_COUNT; i++)
		if (q->stmt[i])
			sqlite3_reset(q->stmt[i]);
	return q;
}

static bsp_err db_error(struct sq *q, struct bsp_error *err, const char *what)
{
	return bsp_error_set(err, BSP_EDB, "%s: %s: %s", q->path, what,
			     sqlite3_errmsg(q->db));
}

static sqlite3_stmt *stmt(struct sq *q, enum stmt_id id)
{
	if (!q->stmt[id] &&
	    sqlite3_prepare_v3(q->db, stmt_sql[id], -1,
			       SQLITE_PREPARE_PERSISTENT, &q->stmt[id],
			       NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(q->stmt[id]);
	sqlite3_clear_bindings(q->stmt[id]);
	return q->stmt[id];
}

static bsp_err exec(struct sq *q, const char *sql, struct bsp_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		bsp_error_set(err, BSP_EDB, "%s: %s", q->path,
			      msg ? msg : sqlite3_errmsg(q->db));
		sqlite3_free(msg);
		return BSP_EDB;
	}
	return BSP_OK;
}

static int read_version(struct sq *q)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static bsp_err migrate(struct sq *q, int readonly, struct bsp_error *err)
{
	int latest = bsp_store_schema_latest();
	char sql[64];

	q->version = read_version(q);
	if (q->version < 0)
		return db_error(q, err, "reading the schema version");
	if (q->version > latest)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: written by a newer bespoke (schema "
				     "%d, this build knows up to %d)",
				     q->path, q->version, latest);
	if (q->version == latest)
		return BSP_OK;
	if (readonly)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: schema %d is older than %d; open it "
				     "once read-write to upgrade",
				     q->path, q->version, latest);
	for (size_t i = 0; i < BSP_ARRAY_LEN(migrations); i++) {
		const struct migration *m = &migrations[i];
		if (m->version <= q->version)
			continue;
		if (exec(q, "BEGIN IMMEDIATE", err) != BSP_OK)
			return BSP_EDB;
		/* Re-check under the write lock: another process may have
		 * migrated meanwhile. */
		int now = read_version(q);
		if (now >= m->version) {
			exec(q, "COMMIT", err);
			q->version = now;
			continue;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 m->version);
		if (exec(q, m->sql, err) != BSP_OK ||
		    exec(q, sql, err) != BSP_OK) {
			char saved[BSP_ERROR_MAX];
			snprintf(saved, sizeof(saved), "%s",
				 err ? err->msg : "");
			exec(q, "ROLLBACK", NULL);
			return bsp_error_set(err, BSP_EDB,
					     "migration %d (%s): %s",
					     m->version, m->what, saved);
		}
		if (exec(q, "COMMIT", err) != BSP_OK)
			return BSP_EDB;
		q->version = m->version;
	}
	return BSP_OK;
}

static void sq_close(struct bsp_store *st)
{
	struct sq *q = SQ(st);

	if (!q)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(q->stmt[i]);
	sqlite3_close(q->db);
	free(q->path);
	free(q);
	st->impl = NULL;
}

static bsp_err sq_open(struct bsp_store *st, const char *path, unsigned flags,
		       struct bsp_error *err)
{
	struct sq *q;
	int oflags, readonly = !!(flags & BSP_OPEN_READONLY);
	struct stat sb;
	bsp_err result;

	if (!(flags & BSP_OPEN_CREATE) && stat(path, &sb) != 0)
		return bsp_error_set(err, BSP_ENOTFOUND,
				     "%s: no such store (run `bespoke ingest` "
				     "or `bespoke demo` first)",
				     path);
	q = calloc(1, sizeof(*q));
	if (!q || !(q->path = strdup(path))) {
		free(q);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	st->impl = q;
	oflags = readonly ? SQLITE_OPEN_READONLY
			  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &q->db, oflags | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		result = bsp_error_set(err, BSP_EIO, "%s: cannot open: %s",
				       path,
				       q->db ? sqlite3_errmsg(q->db)
					     : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, 30000);
	/* A file that is not a database fails here, on first read. */
	if (!readonly &&
	    exec(q, "PRAGMA journal_mode = WAL", err) != BSP_OK) {
		result = bsp_error_set(err, BSP_EINVAL,
				       "%s: not a bespoke store (%s)", path,
				       sqlite3_errmsg(q->db));
		goto fail;
	}
	if (exec(q, "PRAGMA synchronous = NORMAL;"
		    "PRAGMA cache_size = -65536;"
		    "PRAGMA temp_store = MEMORY",
		 err) != BSP_OK) {
		result = BSP_EDB;
		goto fail;
	}
	result = migrate(q, readonly, err);
	if (result != BSP_OK)
		goto fail;
	return BSP_OK;
fail:
	sq_close(st);
	return result;
}

static int sq_schema_version(struct bsp_store *st)
{
	return SQ(st)->version;
}

/* SQLite's data_version: changes when another connection commits. */
static int64_t sq_change_counter(struct bsp_store *st)
{
	sqlite3_stmt *s = stmt(SQ_BEGIN(st), Q_DATA_VERSION);
	int64_t v = -1;

	if (s && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	if (s)
		sqlite3_reset(s);
	return v;
}

/* ---- writing ------------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Remembers the last entity looked up: batches are mostly one entity. */
struct entity_cache {
	char *name;
	int64_t id;
};

static bsp_err entity_id(struct sq *q, struct entity_cache *c,
			 const char *name, int64_t *id, struct bsp_error *err)
{
	sqlite3_stmt *s;
	int rc;

	if (c->name && !strcmp(c->name, name)) {
		*id = c->id;
		return BSP_OK;
	}
	if (!*name)
		return bsp_error_set(err, BSP_EINVAL, "empty entity name");
	if (!(s = stmt(q, Q_ENTITY_GET)))
		return db_error(q, err, "entity lookup");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
	} else if (rc == SQLITE_DONE) {
		if (!(s = stmt(q, Q_ENTITY_ADD)))
			return db_error(q, err, "entity insert");
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now_ms());
		if (sqlite3_step(s) != SQLITE_DONE)
			return db_error(q, err, "entity insert");
		*id = sqlite3_last_insert_rowid(q->db);
	} else {
		return db_error(q, err, "entity lookup");
	}
	free(c->name);
	c->name = strdup(name);
	c->id = *id;
	return BSP_OK;
}

static bsp_err series_id(struct sq *q, int64_t eid,
			 const struct bsp_batch_series_view *v, int64_t *id,
			 int *created, struct bsp_error *err)
{
	sqlite3_stmt *s = stmt(q, Q_SERIES_GET);
	int rc;

	*created = 0;
	if (!s)
		return db_error(q, err, "series lookup");
	if (!*v->metric)
		return bsp_error_set(err, BSP_EINVAL,
				     "entity '%s': empty metric name",
				     v->entity);
	sqlite3_bind_int64(s, 1, eid);
	sqlite3_bind_text(s, 2, v->metric, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, v->labels, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		return BSP_OK;
	}
	if (rc != SQLITE_DONE)
		return db_error(q, err, "series lookup");
	if (!(s = stmt(q, Q_SERIES_ADD)))
		return db_error(q, err, "series insert");
	sqlite3_bind_int64(s, 1, eid);
	sqlite3_bind_text(s, 2, v->metric, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, v->labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, v->unit, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(q, err, "series insert");
	*id = sqlite3_last_insert_rowid(q->db);
	*created = 1;
	return BSP_OK;
}

static bsp_err chunk_put(struct sq *q, enum stmt_id which, int64_t sid,
			 int64_t day, const bsp_time *ts, size_t n,
			 const uint8_t *data, size_t len,
			 struct bsp_error *err)
{
	sqlite3_stmt *s = stmt(q, which);

	if (!s)
		return db_error(q, err, "chunk write");
	sqlite3_bind_int64(s, 1, chunk_key(sid, day));
	sqlite3_bind_int64(s, 3, (sqlite3_int64)n);
	sqlite3_bind_int64(s, 4, ts[0]);
	sqlite3_bind_int64(s, 5, ts[n - 1]);
	sqlite3_bind_blob(s, 6, data, (int)len, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(q, err, "chunk write");
	return BSP_OK;
}

static int same_bits(double a, double b)
{
	return !memcmp(&a, &b, sizeof(a));
}

/*
 * Merges new samples (ts/v, n) into the stored chunk `old` of the same
 * series and day. Equal times take the new value.
 */
static bsp_err chunk_merge(struct sq *q, int64_t sid, int64_t day,
			   const uint8_t *old, size_t old_len,
			   const bsp_time *ts, const double *v, size_t n,
			   struct bsp_write_stats *stats,
			   struct bsp_error *err)
{
	size_t on = 0, got = 0, i = 0, j = 0, k = 0, changed = 0;
	bsp_time *ots = NULL, *mts = NULL;
	double *ov = NULL, *mv = NULL;
	uint8_t *enc = NULL;
	size_t enc_len;
	bsp_err result = BSP_ENOMEM;

	if (chunk_count(old, old_len, &on) != BSP_OK)
		goto corrupt;
	ots = malloc((on + 1) * sizeof(*ots));
	ov = malloc((on + 1) * sizeof(*ov));
	mts = malloc((on + n) * sizeof(*mts));
	mv = malloc((on + n) * sizeof(*mv));
	if (!ots || !ov || !mts || !mv)
		goto oom;
	if (chunk_decode(old, old_len, ots, ov, on, &got) != BSP_OK)
		goto corrupt;
	while (i < got || j < n) {
		if (j >= n || (i < got && ots[i] < ts[j])) {
			mts[k] = ots[i];
			mv[k++] = ov[i++];
		} else if (i >= got || ts[j] < ots[i]) {
			mts[k] = ts[j];
			mv[k++] = v[j++];
			stats->samples_new++;
			changed++;
		} else {
			if (same_bits(ov[i], v[j])) {
				stats->samples_same++;
			} else {
				stats->samples_replaced++;
				changed++;
			}
			mts[k] = ts[j];
			mv[k++] = v[j++];
			i++;
		}
	}
	result = BSP_OK;
	if (!changed)
		goto out;
	if (k > CHUNK_MAX_SAMPLES) {
		result = bsp_error_set(err, BSP_ELIMIT,
				       "series %lld: more than %u samples in "
				       "one day",
				       (long long)sid, CHUNK_MAX_SAMPLES);
		goto out;
	}
	if (chunk_encode(mts, mv, k, &enc, &enc_len) != BSP_OK)
		goto oom;
	result = chunk_put(q, Q_CHUNK_SET, sid, day, mts, k, enc, enc_len, err);
	goto out;
corrupt:
	result = bsp_error_set(err, BSP_ECORRUPT,
			       "%s: stored chunk of series %lld, day %lld "
			       "fails to decode",
			       q->path, (long long)sid, (long long)day);
	goto out;
oom:
	result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
out:
	free(ots);
	free(ov);
	free(mts);
	free(mv);
	free(enc);
	return result;
}

static bsp_err write_series(struct sq *q, struct bsp_batch *b, size_t i,
			    struct entity_cache *ec,
			    struct bsp_write_stats *stats,
			    struct bsp_error *err)
{
	struct bsp_batch_series_view v;
	const struct batch_chunk *ch;
	size_t nch;
	int64_t eid = 0, sid = 0;
	int created = 0;
	bsp_err result;

	bsp_batch_series_view(b, i, &v);
	batch_chunks(b, i, &ch, &nch);
	if ((result = entity_id(q, ec, v.entity, &eid, err)) != BSP_OK ||
	    (result = series_id(q, eid, &v, &sid, &created, err)) != BSP_OK)
		return result;
	for (size_t c = 0; c < nch; c++) {
		const bsp_time *ts = v.ts + ch[c].first;
		const double *val = v.values + ch[c].first;
		if (!created) {
			sqlite3_stmt *s = stmt(q, Q_CHUNK_GET);
			if (!s)
				return db_error(q, err, "chunk read");
			sqlite3_bind_int64(s, 1, chunk_key(sid, ch[c].day));
			int rc = sqlite3_step(s);
			if (rc == SQLITE_ROW) {
				result = chunk_merge(
					q, sid, ch[c].day,
					sqlite3_column_blob(s, 0),
					(size_t)sqlite3_column_bytes(s, 0), ts,
					val, ch[c].n, stats, err);
				sqlite3_reset(s);
				if (result != BSP_OK)
					return result;
				continue;
			}
			if (rc != SQLITE_DONE)
				return db_error(q, err, "chunk read");
		}
		result = chunk_put(q, Q_CHUNK_ADD, sid, ch[c].day, ts, ch[c].n,
				   ch[c].data, ch[c].len, err);
		if (result != BSP_OK)
			return result;
		stats->samples_new += ch[c].n;
	}
	return BSP_OK;
}

static bsp_err sq_write(struct bsp_store *st, struct bsp_batch *b,
			struct bsp_write_stats *stats, struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	struct entity_cache ec = {NULL, 0};
	bsp_err result;
	size_t i;

	if ((result = exec(q, "BEGIN IMMEDIATE", err)) != BSP_OK)
		return result;
	for (i = 0; i < bsp_batch_n_attrs(b); i++) {
		struct bsp_batch_attr_view a;
		int64_t eid;
		bsp_batch_attr_view(b, i, &a);
		if ((result = entity_id(q, &ec, a.entity, &eid, err)) != BSP_OK)
			goto fail;
		sqlite3_stmt *s = stmt(q, Q_ATTR_SET);
		if (!s)
			goto dberr;
		sqlite3_bind_int64(s, 1, eid);
		sqlite3_bind_text(s, 2, a.key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, a.value, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto dberr;
	}
	for (i = 0; i < bsp_batch_n_series(b); i++)
		if ((result = write_series(q, b, i, &ec, stats, err)) !=
		    BSP_OK)
			goto fail;
	for (i = 0; i < bsp_batch_n_events(b); i++) {
		struct bsp_batch_event_view e;
		int64_t eid;
		bsp_batch_event_view(b, i, &e);
		if ((result = entity_id(q, &ec, e.entity, &eid, err)) != BSP_OK)
			goto fail;
		sqlite3_stmt *s = stmt(q, Q_EVENT_ADD);
		if (!s)
			goto dberr;
		sqlite3_bind_int64(s, 1, eid);
		sqlite3_bind_int64(s, 2, e.ts);
		sqlite3_bind_int64(s, 3, e.seq);
		sqlite3_bind_text(s, 4, e.kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, e.name, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto dberr;
		if (sqlite3_changes(q->db))
			stats->events_new++;
		else
			stats->events_same++;
	}
	if ((result = exec(q, "COMMIT", err)) != BSP_OK)
		goto fail;
	free(ec.name);
	return BSP_OK;
dberr:
	result = db_error(q, err, "write");
fail:
	exec(q, "ROLLBACK", NULL);
	free(ec.name);
	return result;
}

/* ---- reading ------------------------------------------------------------ */

static char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return strdup(t ? (const char *)t : "");
}

static bsp_time col_time(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL
		       ? BSP_TIME_NONE
		       : sqlite3_column_int64(s, i);
}

static bsp_err entity_attrs(struct sq *q, struct bsp_entity *e,
			    struct bsp_error *err)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	bsp_err result = BSP_OK;

	if (sqlite3_prepare_v2(q->db,
			       "SELECT key, value FROM entity_attr WHERE "
			       "entity_id = ?1 ORDER BY key",
			       -1, &s, NULL) != SQLITE_OK)
		return db_error(q, err, "attribute read");
	sqlite3_bind_int64(s, 1, e->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		size_t c1 = cap;
		if (BSP_GROW(e->attr_keys, c1, e->n_attrs + 1) < 0 ||
		    BSP_GROW(e->attr_values, cap, e->n_attrs + 1) < 0) {
			result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			break;
		}
		e->attr_keys[e->n_attrs] = col_text(s, 0);
		e->attr_values[e->n_attrs] = col_text(s, 1);
		e->n_attrs++;
	}
	sqlite3_finalize(s);
	return result;
}

static bsp_err sq_entities(struct bsp_store *st, const char *name,
			   struct bsp_entity **out, size_t *n,
			   struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	sqlite3_stmt *s;
	struct bsp_entity *v = NULL;
	size_t cnt = 0, cap = 0;
	bsp_err result = BSP_OK;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(
		q->db,
		"SELECT e.id, e.name,"
		" (SELECT count(*) FROM series s WHERE s.entity_id = e.id),"
		" (SELECT count(*) FROM event v WHERE v.entity_id = e.id),"
		" sum(c.n), min(c.t_first), max(c.t_last)"
		" FROM entity e LEFT JOIN series s ON s.entity_id = e.id"
		" LEFT JOIN chunk c ON c.id BETWEEN " SQL_KEY_LO " AND "
		SQL_KEY_HI " WHERE ?1 IS NULL OR e.name = ?1"
		" GROUP BY e.id ORDER BY e.name",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(q, err, "entity list");
	if (name)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (BSP_GROW(v, cap, cnt + 1) < 0) {
			result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		struct bsp_entity *e = &v[cnt++];
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(s, 0);
		e->name = col_text(s, 1);
		e->n_series = sqlite3_column_int64(s, 2);
		e->n_events = sqlite3_column_int64(s, 3);
		e->n_samples = sqlite3_column_int64(s, 4);
		e->first = col_time(s, 5);
		e->last = col_time(s, 6);
	}
	if (rc != SQLITE_DONE) {
		result = db_error(q, err, "entity list");
		goto out;
	}
	for (size_t i = 0; i < cnt && result == BSP_OK; i++)
		result = entity_attrs(q, &v[i], err);
out:
	sqlite3_finalize(s);
	if (result != BSP_OK) {
		bsp_entities_free(v, cnt);
		return result;
	}
	*out = v;
	*n = cnt;
	return BSP_OK;
}

static bsp_err sq_series(struct bsp_store *st, const char *entity,
			 const char *metric, const char *labels,
			 struct bsp_series **out, size_t *n,
			 struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	sqlite3_stmt *s;
	struct bsp_series *v = NULL;
	size_t cnt = 0, cap = 0;
	bsp_err result = BSP_OK;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(
		q->db,
		"SELECT s.id, e.name, s.metric, s.labels, s.unit,"
		" coalesce(sum(c.n), 0), count(c.id),"
		" coalesce(sum(length(c.data)), 0), min(c.t_first),"
		" max(c.t_last)"
		" FROM series s JOIN entity e ON e.id = s.entity_id"
		" LEFT JOIN chunk c ON c.id BETWEEN " SQL_KEY_LO " AND "
		SQL_KEY_HI " WHERE (?1 IS NULL OR e.name = ?1)"
		" AND (?2 IS NULL OR s.metric = ?2)"
		" AND (?3 IS NULL OR s.labels = ?3)"
		" GROUP BY s.id ORDER BY e.name, s.metric, s.labels",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(q, err, "series list");
	if (entity)
		sqlite3_bind_text(s, 1, entity, -1, SQLITE_STATIC);
	if (metric)
		sqlite3_bind_text(s, 2, metric, -1, SQLITE_STATIC);
	if (labels)
		sqlite3_bind_text(s, 3, labels, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (BSP_GROW(v, cap, cnt + 1) < 0) {
			result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		struct bsp_series *x = &v[cnt++];
		x->id = sqlite3_column_int64(s, 0);
		x->entity = col_text(s, 1);
		x->metric = col_text(s, 2);
		x->labels = col_text(s, 3);
		x->unit = col_text(s, 4);
		x->n_samples = sqlite3_column_int64(s, 5);
		x->n_chunks = sqlite3_column_int64(s, 6);
		x->bytes = sqlite3_column_int64(s, 7);
		x->first = col_time(s, 8);
		x->last = col_time(s, 9);
	}
	if (rc != SQLITE_DONE)
		result = db_error(q, err, "series list");
out:
	sqlite3_finalize(s);
	if (result != BSP_OK) {
		bsp_series_free(v, cnt);
		return result;
	}
	*out = v;
	*n = cnt;
	return BSP_OK;
}

static bsp_err sq_chunks(struct bsp_store *st, int64_t sid, int64_t day_from,
			 int64_t day_to,
			 int (*fn)(void *ud, const uint8_t *data, size_t len),
			 void *ud, struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	sqlite3_stmt *s = stmt(q, Q_CHUNK_RANGE);
	int rc;

	if (!s)
		return db_error(q, err, "chunk read");
	sqlite3_bind_int64(s, 1, chunk_key(sid, day_from));
	sqlite3_bind_int64(s, 2, chunk_key(sid, day_to));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (fn(ud, sqlite3_column_blob(s, 0),
		       (size_t)sqlite3_column_bytes(s, 0))) {
			sqlite3_reset(s);
			return BSP_OK; /* the callback keeps its own error */
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_error(q, err, "chunk read");
	return BSP_OK;
}

static bsp_err sq_events(struct bsp_store *st, const char *entity,
			 bsp_time from, bsp_time until,
			 struct bsp_event **out, size_t *n,
			 struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	sqlite3_stmt *s;
	struct bsp_event *v = NULL;
	size_t cnt = 0, cap = 0;
	bsp_err result = BSP_OK;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(
		q->db,
		"SELECT v.ts, v.seq, v.kind, v.name FROM event v"
		" JOIN entity e ON e.id = v.entity_id"
		" WHERE e.name = ?1 AND v.ts >= ?2 AND v.ts < ?3"
		" ORDER BY v.ts, v.seq",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(q, err, "event read");
	sqlite3_bind_text(s, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, until);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (BSP_GROW(v, cap, cnt + 1) < 0) {
			result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		struct bsp_event *e = &v[cnt++];
		e->ts = sqlite3_column_int64(s, 0);
		e->seq = sqlite3_column_int64(s, 1);
		e->kind = col_text(s, 2);
		e->name = col_text(s, 3);
	}
	if (rc != SQLITE_DONE)
		result = db_error(q, err, "event read");
out:
	sqlite3_finalize(s);
	if (result != BSP_OK) {
		bsp_events_free(v, cnt);
		return result;
	}
	*out = v;
	*n = cnt;
	return BSP_OK;
}

static int64_t file_size(const char *path, const char *suffix)
{
	char p[4096];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static bsp_err sq_stats(struct bsp_store *st, struct bsp_store_stats *o,
			struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(
		q->db,
		"SELECT (SELECT count(*) FROM entity), (SELECT count(*) FROM "
		"series), (SELECT count(*) FROM event),"
		" coalesce(sum(n), 0), count(*), coalesce(sum(length(data)), 0)"
		" FROM chunk",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(q, err, "stats");
	if (sqlite3_step(s) == SQLITE_ROW) {
		o->entities = sqlite3_column_int64(s, 0);
		o->series = sqlite3_column_int64(s, 1);
		o->events = sqlite3_column_int64(s, 2);
		o->samples = sqlite3_column_int64(s, 3);
		o->chunks = sqlite3_column_int64(s, 4);
		o->chunk_bytes = sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	o->file_bytes = file_size(q->path, "") + file_size(q->path, "-wal");
	return BSP_OK;
}

static bsp_err sq_check(struct bsp_store *st, struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	sqlite3_stmt *s;
	bsp_time *ts = NULL;
	double *v = NULL;
	size_t cap = 0;
	bsp_err result = BSP_OK;
	int rc;

	if (sqlite3_prepare_v2(q->db, "PRAGMA integrity_check", -1, &s,
			       NULL) != SQLITE_OK)
		return db_error(q, err, "integrity check");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		if (t && strcmp(t, "ok")) {
			result = bsp_error_set(err, BSP_ECORRUPT, "%s: %s",
					       q->path, t);
			break;
		}
	}
	sqlite3_finalize(s);
	if (result != BSP_OK)
		return result;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT id >> 24, (id & 16777215) - 8388608, n, "
			       "t_first, t_last, data FROM chunk",
			       -1, &s, NULL) != SQLITE_OK)
		return db_error(q, err, "chunk scan");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t sid = sqlite3_column_int64(s, 0);
		int64_t day = sqlite3_column_int64(s, 1);
		size_t n = (size_t)sqlite3_column_int64(s, 2), cnt = 0, got = 0;
		const uint8_t *d = sqlite3_column_blob(s, 5);
		size_t len = (size_t)sqlite3_column_bytes(s, 5);
		if (chunk_count(d, len, &cnt) != BSP_OK || cnt != n)
			goto bad;
		if (cnt > cap) {
			free(ts);
			free(v);
			ts = malloc(cnt * sizeof(*ts));
			v = malloc(cnt * sizeof(*v));
			cap = cnt;
			if (!ts || !v) {
				result = bsp_error_set(err, BSP_ENOMEM,
						       "out of memory");
				break;
			}
		}
		if (chunk_decode(d, len, ts, v, cap, &got) != BSP_OK ||
		    got != n || ts[0] != sqlite3_column_int64(s, 3) ||
		    ts[n - 1] != sqlite3_column_int64(s, 4) ||
		    store_day(ts[0]) != day || store_day(ts[n - 1]) != day)
			goto bad;
		continue;
bad:
		result = bsp_error_set(err, BSP_ECORRUPT,
				       "%s: chunk of series %lld, day %lld "
				       "does not match its row",
				       q->path, (long long)sid, (long long)day);
		break;
	}
	if (result == BSP_OK && rc != SQLITE_DONE)
		result = db_error(q, err, "chunk scan");
	sqlite3_finalize(s);
	free(ts);
	free(v);
	return result;
}

/* ---- documents ---------------------------------------------------------- */

static bsp_err sq_doc_put(struct bsp_store *st, const char *kind,
			  const char *entity, const char *body,
			  int64_t *version, struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	sqlite3_stmt *s = NULL;
	bsp_err result;
	int64_t v = 0;

	if ((result = exec(q, "BEGIN IMMEDIATE", err)) != BSP_OK)
		return result;
	if (sqlite3_prepare_v2(q->db,
			       "INSERT INTO doc(kind, entity, version, "
			       "created_ms, body) SELECT ?1, ?2, "
			       "coalesce(max(version), 0) + 1, ?3, ?4 FROM doc "
			       "WHERE kind = ?1 AND entity = ?2 "
			       "RETURNING version",
			       -1, &s, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, entity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now_ms());
	sqlite3_bind_text(s, 4, body, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto dberr;
	v = sqlite3_column_int64(s, 0);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(s);
	if ((result = exec(q, "COMMIT", err)) != BSP_OK) {
		exec(q, "ROLLBACK", NULL);
		return result;
	}
	if (version)
		*version = v;
	return BSP_OK;
dberr:
	result = db_error(q, err, "document write");
	sqlite3_finalize(s);
	exec(q, "ROLLBACK", NULL);
	return result;
}

static bsp_err sq_doc_query(struct bsp_store *st, const char *kind,
			    const char *entity, int64_t version,
			    int with_body, size_t limit, struct bsp_doc **out,
			    size_t *n, struct bsp_error *err)
{
	struct sq *q = SQ_BEGIN(st);
	sqlite3_stmt *s;
	struct bsp_doc *v = NULL;
	size_t cnt = 0, cap = 0;
	bsp_err result = BSP_OK;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT kind, entity, version, created_ms, "
			       "CASE WHEN ?4 THEN body END FROM doc "
			       "WHERE kind = ?1 AND (?2 IS NULL OR entity = ?2) "
			       "AND (?3 = 0 OR version = ?3) "
			       "ORDER BY entity, version DESC LIMIT ?5",
			       -1, &s, NULL) != SQLITE_OK)
		return db_error(q, err, "document read");
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	if (entity)
		sqlite3_bind_text(s, 2, entity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, version);
	sqlite3_bind_int(s, 4, with_body);
	sqlite3_bind_int64(s, 5, limit ? (sqlite3_int64)limit : -1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (BSP_GROW(v, cap, cnt + 1) < 0) {
			result = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		struct bsp_doc *d = &v[cnt++];
		d->kind = col_text(s, 0);
		d->entity = col_text(s, 1);
		d->version = sqlite3_column_int64(s, 2);
		d->created = sqlite3_column_int64(s, 3);
		d->body = with_body ? col_text(s, 4) : NULL;
	}
	if (rc != SQLITE_DONE)
		result = db_error(q, err, "document read");
out:
	sqlite3_finalize(s);
	if (result != BSP_OK) {
		bsp_docs_free(v, cnt);
		return result;
	}
	*out = v;
	*n = cnt;
	return BSP_OK;
}

const struct store_ops store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.schema_version = sq_schema_version,
	.change_counter = sq_change_counter,
	.write = sq_write,
	.entities = sq_entities,
	.series = sq_series,
	.chunks = sq_chunks,
	.events = sq_events,
	.stats = sq_stats,
	.check = sq_check,
	.doc_put = sq_doc_put,
	.doc_query = sq_doc_query,
};
