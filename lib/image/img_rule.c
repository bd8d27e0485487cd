/*
 * The rule language: conditions over a Behaviour Profile.
 *
 * A hand-written lexer and a recursive-descent parser produce a typed
 * AST; types are checked while parsing, so that a rule which compares a
 * string with `<` or joins numbers with `&&` is refused when the catalog
 * is loaded, with the line and column, not when an image is built.
 * Grammar, loosest binding first (C's precedence, with comparisons not
 * chaining):
 *
 *   or      := and ("||" and)*
 *   and     := cmp ("&&" cmp)*
 *   cmp     := sum [("=="|"!="|"<"|"<="|">"|">=") sum]
 *   sum     := product (("+"|"-") product)*
 *   product := unary (("*"|"/") unary)*
 *   unary   := ("!"|"-") unary | primary
 *   primary := NUMBER | STRING | "true" | "false" | "(" or ")" | ref
 *   ref     := ("cpu"|"mem"|"disk"|"net") "." FIELD
 *            | "metric" "[" STRING "]" "." FIELD
 *            | "workload" ["." ("class"|"p_interactive")]
 *            | "persona" "[" STRING "]"
 *            | "apps" "[" STRING "]" "." ("p_next"|"p_hour"|"p_day")
 *            | "plan" "." ("cpu"|"memory"|"disk_mbps"|"iops"|"network")
 *            | ("max"|"min") "(" sum ("," sum)* ")"
 *
 * The AST is shared with the evaluator (img_rule_eval.c) through
 * image_int.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "image_int.h"

/* Rules are short; these bounds keep a hostile catalog from exhausting
 * the stack or memory. */
#define RULE_MAX_TEXT 4096
#define RULE_MAX_DEPTH 64

enum tok {
	T_EOF,
	T_NUM,
	T_STR,
	T_IDENT,
	T_LPAREN,
	T_RPAREN,
	T_LBRACK,
	T_RBRACK,
	T_DOT,
	T_NOT,
	T_AND,
	T_OR,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_COMMA,
};

static const char *const tok_names[] = {
	"end of rule", "a number", "a string", "a name", "'('", "')'", "'['",
	"']'", "'.'", "'!'", "'&&'", "'||'", "'=='", "'!='", "'<'", "'<='",
	"'>'", "'>='", "'+'", "'-'", "'*'", "'/'", "','",
};

struct lexer {
	const char *s;
	size_t pos, len;
	unsigned line, col;         /* of the next character */
	const char *where;
	/* The current token. */
	enum tok tok;
	size_t tstart, tlen;
	unsigned tline, tcol;
	double num;
	char *str; /* T_STR (unescaped) and T_IDENT, malloc'd */
	struct bsp_error *err;
	int failed;
	int depth;
};

static void lex_fail(struct lexer *lx, unsigned line, unsigned col,
		     const char *fmt, ...) BSP_PRINTF(4, 5);

static void lex_fail(struct lexer *lx, unsigned line, unsigned col,
		     const char *fmt, ...)
{
	char msg[BSP_ERROR_MAX];
	va_list ap;

	if (lx->failed)
		return;
	lx->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bsp_error_set(lx->err, BSP_EINVAL, "%s%s%u:%u: %s",
		      lx->where ? lx->where : "", lx->where ? ":" : "", line,
		      col, msg);
}

static int lx_peekc(const struct lexer *lx, size_t k)
{
	return lx->pos + k < lx->len ? (unsigned char)lx->s[lx->pos + k] : -1;
}

static void lx_adv(struct lexer *lx)
{
	if (lx->pos >= lx->len)
		return;
	if (lx->s[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

/* What the current token looks like, for "found ..." in messages. */
static void tok_show(const struct lexer *lx, char *buf, size_t size)
{
	if (lx->tok == T_EOF) {
		snprintf(buf, size, "end of rule");
		return;
	}
	snprintf(buf, size, "'%.*s'", (int)(lx->tlen > 40 ? 40 : lx->tlen),
		 lx->s + lx->tstart);
}

static void lex_string(struct lexer *lx)
{
	int quote = lx_peekc(lx, 0);
	struct img_buf b = {0};

	lx_adv(lx);
	for (;;) {
		int c = lx_peekc(lx, 0);
		if (c < 0 || c == '\n') {
			lex_fail(lx, lx->tline, lx->tcol,
				 "unterminated string: expected %c", quote);
			break;
		}
		if (c == quote) {
			lx_adv(lx);
			break;
		}
		if (c == '\\') {
			int e = lx_peekc(lx, 1);
			if (e != '\\' && e != '"' && e != '\'') {
				lex_fail(lx, lx->line, lx->col,
					 "unknown escape: expected \\\\, \\\" "
					 "or \\'");
				break;
			}
			lx_adv(lx);
			c = e;
		}
		char ch = (char)c;
		if (img_buf_add(&b, &ch, 1)) {
			lex_fail(lx, lx->line, lx->col, "out of memory");
			break;
		}
		lx_adv(lx);
	}
	if (img_buf_add(&b, "", 1) || lx->failed) {
		img_buf_release(&b);
		return;
	}
	lx->str = (char *)b.p;
}

static void lex_next(struct lexer *lx)
{
	free(lx->str);
	lx->str = NULL;
	if (lx->failed) {
		lx->tok = T_EOF;
		return;
	}
	while (lx_peekc(lx, 0) >= 0 && isspace(lx_peekc(lx, 0)))
		lx_adv(lx);
	lx->tstart = lx->pos;
	lx->tline = lx->line;
	lx->tcol = lx->col;
	int c = lx_peekc(lx, 0), d = lx_peekc(lx, 1);
	if (c < 0) {
		lx->tok = T_EOF;
	} else if (isdigit(c) || (c == '.' && d >= 0 && isdigit(d))) {
		char *end;
		errno = 0;
		lx->num = strtod(lx->s + lx->pos, &end);
		size_t n = (size_t)(end - (lx->s + lx->pos));
		if (errno || !isfinite(lx->num))
			lex_fail(lx, lx->tline, lx->tcol, "number out of range");
		for (size_t i = 0; i < n; i++)
			lx_adv(lx);
		if (isalpha(lx_peekc(lx, 0)) || lx_peekc(lx, 0) == '_')
			lex_fail(lx, lx->line, lx->col,
				 "expected an operator after a number");
		lx->tok = T_NUM;
	} else if (isalpha(c) || c == '_') {
		while (lx_peekc(lx, 0) >= 0 &&
		       (isalnum(lx_peekc(lx, 0)) || lx_peekc(lx, 0) == '_'))
			lx_adv(lx);
		lx->tok = T_IDENT;
		lx->str = strndup(lx->s + lx->tstart, lx->pos - lx->tstart);
		if (!lx->str)
			lex_fail(lx, lx->tline, lx->tcol, "out of memory");
	} else if (c == '"' || c == '\'') {
		lex_string(lx);
		lx->tok = T_STR;
	} else {
		/* Two-character operators first. */
		static const struct {
			char a, b;
			enum tok t;
		} ops[] = {
			{'&', '&', T_AND}, {'|', '|', T_OR}, {'=', '=', T_EQ},
			{'!', '=', T_NE},  {'<', '=', T_LE}, {'>', '=', T_GE},
			{'(', 0, T_LPAREN}, {')', 0, T_RPAREN},
			{'[', 0, T_LBRACK}, {']', 0, T_RBRACK},
			{'.', 0, T_DOT},    {'!', 0, T_NOT},
			{'<', 0, T_LT},     {'>', 0, T_GT},
			{'+', 0, T_PLUS},   {'-', 0, T_MINUS},
			{'*', 0, T_STAR},   {'/', 0, T_SLASH},
			{',', 0, T_COMMA},
		};
		size_t i;
		for (i = 0; i < BSP_ARRAY_LEN(ops); i++)
			if (ops[i].a == c && (!ops[i].b || ops[i].b == d))
				break;
		if (i == BSP_ARRAY_LEN(ops)) {
			if (c == '=' || c == '&' || c == '|')
				lex_fail(lx, lx->tline, lx->tcol,
					 "expected '%c%c', found '%c'", c, c,
					 c);
			else
				lex_fail(lx, lx->tline, lx->tcol,
					 "unexpected character '%c'",
					 isprint(c) ? c : '?');
			lx->tok = T_EOF;
			return;
		}
		lx_adv(lx);
		if (ops[i].b)
			lx_adv(lx);
		lx->tok = ops[i].t;
	}
	lx->tlen = lx->pos - lx->tstart;
}

static void expect_fail(struct lexer *lx, const char *what)
{
	char found[64];
	tok_show(lx, found, sizeof(found));
	lex_fail(lx, lx->tline, lx->tcol, "expected %s, found %s", what, found);
}

static int expect(struct lexer *lx, enum tok t)
{
	if (lx->tok != t) {
		expect_fail(lx, tok_names[t]);
		return -1;
	}
	lex_next(lx);
	return 0;
}

static void node_free(struct rnode *n)
{
	if (!n)
		return;
	node_free(n->a);
	node_free(n->b);
	free(n->str);
	free(n->field);
	free(n);
}

static struct rnode *node_new(struct lexer *lx, enum op op,
			      enum bsp_rule_type type)
{
	struct rnode *n = calloc(1, sizeof(*n));
	if (!n)
		lex_fail(lx, lx->tline, lx->tcol, "out of memory");
	else {
		n->op = op;
		n->type = type;
	}
	return n;
}

static const char *type_name(enum bsp_rule_type t)
{
	return t == BSP_RULE_BOOL ? "a condition"
	       : t == BSP_RULE_NUM ? "a number"
				   : "a string";
}

static struct rnode *parse_or(struct lexer *lx);

/* `[ "name" ]`, returning the name. */
static char *parse_subscript(struct lexer *lx, const char *what)
{
	char *s;
	if (expect(lx, T_LBRACK))
		return NULL;
	if (lx->tok != T_STR) {
		char e[80];
		snprintf(e, sizeof(e), "a quoted %s name", what);
		expect_fail(lx, e);
		return NULL;
	}
	s = lx->str;
	lx->str = NULL;
	lex_next(lx);
	if (expect(lx, T_RBRACK)) {
		free(s);
		return NULL;
	}
	return s;
}

/* `.FIELD` where FIELD is one of `allowed` (NULL-terminated) or, when
 * quantiles is set, pN. */
static char *parse_field(struct lexer *lx, const char *const *allowed,
			 int quantiles, const char *expected)
{
	if (expect(lx, T_DOT))
		return NULL;
	if (lx->tok == T_IDENT) {
		const char *f = lx->str;
		int ok = 0;
		for (size_t i = 0; allowed[i]; i++)
			ok |= !strcmp(f, allowed[i]);
		if (quantiles && f[0] == 'p' && f[1]) {
			char *end;
			long q = strtol(f + 1, &end, 10);
			ok |= !*end && q >= 1 && q <= 99 && isdigit(f[1]);
		}
		if (ok) {
			char *r = lx->str;
			lx->str = NULL;
			lex_next(lx);
			return r;
		}
	}
	expect_fail(lx, expected);
	return NULL;
}

static struct rnode *parse_sum(struct lexer *lx);

/* max(a, b, ...) / min(...): a chain of R_MAX / R_MIN nodes. */
static struct rnode *parse_call(struct lexer *lx)
{
	enum op op = lx->str[1] == 'a' ? R_MAX : R_MIN;
	struct rnode *acc = NULL;

	lex_next(lx);
	if (expect(lx, T_LPAREN))
		return NULL;
	if (++lx->depth > RULE_MAX_DEPTH) {
		lex_fail(lx, lx->tline, lx->tcol, "rule nested too deeply");
		return NULL;
	}
	for (;;) {
		unsigned line = lx->tline, col = lx->tcol;
		struct rnode *arg = parse_sum(lx);
		if (!arg)
			break;
		if (arg->type != BSP_RULE_NUM) {
			lex_fail(lx, line, col, "%s() needs numbers, found %s",
				 op == R_MAX ? "max" : "min", type_name(arg->type));
			node_free(arg);
			break;
		}
		if (!acc) {
			acc = arg;
		} else {
			struct rnode *n = node_new(lx, op, BSP_RULE_NUM);
			if (!n) {
				node_free(arg);
				break;
			}
			n->a = acc;
			n->b = arg;
			acc = n;
		}
		if (lx->tok == T_COMMA) {
			lex_next(lx);
			continue;
		}
		if (lx->tok != T_RPAREN)
			expect_fail(lx, "',' or ')'");
		else
			lex_next(lx);
		break;
	}
	lx->depth--;
	if (lx->failed) {
		node_free(acc);
		return NULL;
	}
	return acc;
}

static const char *const metric_fields[] = {"mean", "peak", "peak_hour", NULL};
static const char *const metric_expect =
	"a metric field (p50, p90, p95, p99, any pN, mean, peak, peak_hour)";

static struct rnode *parse_ref(struct lexer *lx)
{
	static const char *const aliases[] = {"cpu", "mem", "disk", "net"};
	const char *id = lx->str;
	struct rnode *n = NULL;

	for (size_t i = 0; i < BSP_ARRAY_LEN(aliases); i++) {
		if (strcmp(id, aliases[i]))
			continue;
		n = node_new(lx, R_METRIC, BSP_RULE_NUM);
		if (!n)
			return NULL;
		n->str = strdup(id);
		lex_next(lx);
		n->field = parse_field(lx, metric_fields, 1, metric_expect);
		goto check;
	}
	if (!strcmp(id, "metric")) {
		n = node_new(lx, R_METRIC, BSP_RULE_NUM);
		if (!n)
			return NULL;
		n->by_name = 1;
		lex_next(lx);
		n->str = parse_subscript(lx, "metric");
		if (n->str)
			n->field = parse_field(lx, metric_fields, 1,
					       metric_expect);
		goto check;
	}
	if (!strcmp(id, "workload")) {
		lex_next(lx);
		if (lx->tok != T_DOT)
			return node_new(lx, R_WORKLOAD, BSP_RULE_STR);
		static const char *const wf[] = {"class", "p_interactive", NULL};
		char *f = parse_field(lx, wf, 0, "'class' or 'p_interactive'");
		if (!f)
			return NULL;
		n = strcmp(f, "class") ? node_new(lx, R_P_INTER, BSP_RULE_NUM)
				       : node_new(lx, R_WORKLOAD, BSP_RULE_STR);
		free(f);
		return n;
	}
	if (!strcmp(id, "max") || !strcmp(id, "min"))
		return parse_call(lx);
	if (!strcmp(id, "plan")) {
		static const char *const pf[] = {"cpu", "memory", "disk_mbps",
						  "iops", "network", NULL};
		n = node_new(lx, R_PLAN, BSP_RULE_NUM);
		if (!n)
			return NULL;
		n->str = strdup("plan");
		lex_next(lx);
		n->field = parse_field(lx, pf, 0,
				       "a resource (cpu, memory, disk_mbps, "
				       "iops, network)");
		goto check;
	}
	if (!strcmp(id, "persona")) {
		n = node_new(lx, R_PERSONA, BSP_RULE_NUM);
		if (!n)
			return NULL;
		lex_next(lx);
		n->str = parse_subscript(lx, "persona");
		n->field = strdup("p");
		goto check;
	}
	if (!strcmp(id, "apps")) {
		static const char *const af[] = {"p_next", "p_hour", "p_day",
						  NULL};
		n = node_new(lx, R_APP, BSP_RULE_NUM);
		if (!n)
			return NULL;
		lex_next(lx);
		n->str = parse_subscript(lx, "application");
		if (n->str)
			n->field = parse_field(lx, af, 0,
					       "'p_next', 'p_hour' or 'p_day'");
		goto check;
	}
	lex_fail(lx, lx->tline, lx->tcol,
		 "unknown name '%s': expected cpu, mem, disk, net, metric, "
		 "workload, persona, apps, plan, max, min, true or false",
		 id);
	return NULL;
check:
	if (!n->str || !n->field) {
		node_free(n);
		if (!lx->failed)
			lex_fail(lx, lx->tline, lx->tcol, "out of memory");
		return NULL;
	}
	return n;
}

static struct rnode *parse_primary(struct lexer *lx)
{
	struct rnode *n;

	switch (lx->tok) {
	case T_NUM:
		n = node_new(lx, R_NUM, BSP_RULE_NUM);
		if (n)
			n->num = lx->num;
		lex_next(lx);
		return n;
	case T_STR:
		n = node_new(lx, R_STR, BSP_RULE_STR);
		if (n) {
			n->str = lx->str;
			lx->str = NULL;
		}
		lex_next(lx);
		return n;
	case T_LPAREN:
		lex_next(lx);
		n = parse_or(lx);
		if (n && expect(lx, T_RPAREN)) {
			node_free(n);
			return NULL;
		}
		return n;
	case T_IDENT:
		if (!strcmp(lx->str, "true") || !strcmp(lx->str, "false")) {
			n = node_new(lx, R_BOOL, BSP_RULE_BOOL);
			if (n)
				n->num = lx->str[0] == 't';
			lex_next(lx);
			return n;
		}
		return parse_ref(lx);
	default:
		expect_fail(lx, "a value (a number, a string, a profile field "
				"or '(')");
		return NULL;
	}
}

static struct rnode *parse_unary(struct lexer *lx)
{
	if (lx->tok != T_NOT && lx->tok != T_MINUS)
		return parse_primary(lx);
	if (++lx->depth > RULE_MAX_DEPTH) {
		lex_fail(lx, lx->tline, lx->tcol, "rule nested too deeply");
		return NULL;
	}
	int is_not = lx->tok == T_NOT;
	unsigned line = lx->tline, col = lx->tcol;
	lex_next(lx);
	struct rnode *a = parse_unary(lx);
	lx->depth--;
	if (!a)
		return NULL;
	enum bsp_rule_type want = is_not ? BSP_RULE_BOOL : BSP_RULE_NUM;
	if (a->type != want) {
		lex_fail(lx, line, col, "'%s' needs %s, found %s",
			 is_not ? "!" : "-", type_name(want),
			 type_name(a->type));
		node_free(a);
		return NULL;
	}
	struct rnode *n = node_new(lx, is_not ? R_NOT : R_NEG, want);
	if (!n) {
		node_free(a);
		return NULL;
	}
	n->a = a;
	return n;
}

/* One level of binary operators: `next` for the operands, `toks`/`ops`
 * the operators of this level, `operand` and `result` the types. */
struct level {
	const enum tok *toks;
	const enum op *ops;
	size_t n;
	int chain; /* may repeat: a + b + c; comparisons do not */
};

static struct rnode *parse_binary(struct lexer *lx, const struct level *lv,
				  struct rnode *(*next)(struct lexer *));

static struct rnode *parse_product(struct lexer *lx)
{
	static const enum tok t[] = {T_STAR, T_SLASH};
	static const enum op o[] = {R_MUL, R_DIV};
	static const struct level lv = {t, o, 2, 1};
	return parse_binary(lx, &lv, parse_unary);
}

static struct rnode *parse_sum(struct lexer *lx)
{
	static const enum tok t[] = {T_PLUS, T_MINUS};
	static const enum op o[] = {R_ADD, R_SUB};
	static const struct level lv = {t, o, 2, 1};
	return parse_binary(lx, &lv, parse_product);
}

static struct rnode *parse_cmp(struct lexer *lx)
{
	static const enum tok t[] = {T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE};
	static const enum op o[] = {R_EQ, R_NE, R_LT, R_LE, R_GT, R_GE};
	static const struct level lv = {t, o, 6, 0};
	return parse_binary(lx, &lv, parse_sum);
}

static struct rnode *parse_and(struct lexer *lx)
{
	static const enum tok t[] = {T_AND};
	static const enum op o[] = {R_AND};
	static const struct level lv = {t, o, 1, 1};
	return parse_binary(lx, &lv, parse_cmp);
}

static struct rnode *parse_or(struct lexer *lx)
{
	static const enum tok t[] = {T_OR};
	static const enum op o[] = {R_OR};
	static const struct level lv = {t, o, 1, 1};
	struct rnode *n;

	if (++lx->depth > RULE_MAX_DEPTH) {
		lex_fail(lx, lx->tline, lx->tcol, "rule nested too deeply");
		return NULL;
	}
	n = parse_binary(lx, &lv, parse_and);
	lx->depth--;
	return n;
}

/* The type an operator needs of its operands and gives back. */
static int op_types(enum op op, enum bsp_rule_type a, enum bsp_rule_type b,
		    enum bsp_rule_type *res, const char **need)
{
	switch (op) {
	case R_AND:
	case R_OR:
		*res = BSP_RULE_BOOL;
		*need = "conditions";
		return a == BSP_RULE_BOOL && b == BSP_RULE_BOOL;
	case R_EQ:
	case R_NE:
		*res = BSP_RULE_BOOL;
		*need = "two values of the same type";
		return a == b;
	case R_LT:
	case R_LE:
	case R_GT:
	case R_GE:
		*res = BSP_RULE_BOOL;
		*need = "numbers";
		return a == BSP_RULE_NUM && b == BSP_RULE_NUM;
	default:
		*res = BSP_RULE_NUM;
		*need = "numbers";
		return a == BSP_RULE_NUM && b == BSP_RULE_NUM;
	}
}

static struct rnode *parse_binary(struct lexer *lx, const struct level *lv,
				  struct rnode *(*next)(struct lexer *))
{
	struct rnode *left = next(lx);
	int rounds = 0;

	while (left && !lx->failed) {
		size_t i;
		for (i = 0; i < lv->n; i++)
			if (lx->tok == lv->toks[i])
				break;
		if (i == lv->n)
			break;
		if (!lv->chain && rounds) {
			lex_fail(lx, lx->tline, lx->tcol,
				 "comparisons do not chain: expected '&&' "
				 "or '||' before %s",
				 tok_names[lx->tok]);
			break;
		}
		unsigned line = lx->tline, col = lx->tcol;
		enum tok t = lx->tok;
		lex_next(lx);
		struct rnode *right = next(lx);
		if (!right)
			break;
		enum bsp_rule_type res;
		const char *need;
		if (!op_types(lv->ops[i], left->type, right->type, &res,
			      &need)) {
			lex_fail(lx, line, col, "%s needs %s, found %s and %s",
				 tok_names[t], need, type_name(left->type),
				 type_name(right->type));
			node_free(right);
			break;
		}
		struct rnode *n = node_new(lx, lv->ops[i], res);
		if (!n) {
			node_free(right);
			break;
		}
		n->a = left;
		n->b = right;
		left = n;
		rounds++;
	}
	if (lx->failed) {
		node_free(left);
		return NULL;
	}
	return left;
}

bsp_err bsp_rule_parse(const char *text, const char *where, unsigned line,
		       unsigned col, struct bsp_rule **out,
		       struct bsp_error *err)
{
	struct lexer lx = {0};
	struct bsp_rule *r;

	*out = NULL;
	lx.s = text;
	lx.len = strlen(text);
	lx.line = line ? line : 1;
	lx.col = col ? col : 1;
	lx.where = where;
	lx.err = err;
	if (lx.len > RULE_MAX_TEXT)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s%s%u:%u: rule longer than %d bytes",
				     where ? where : "", where ? ":" : "",
				     lx.line, lx.col, RULE_MAX_TEXT);
	lex_next(&lx);
	if (lx.tok == T_EOF && !lx.failed) {
		expect_fail(&lx, "a condition");
		return BSP_EINVAL;
	}
	struct rnode *root = parse_or(&lx);
	if (root && lx.tok != T_EOF)
		expect_fail(&lx, "an operator or end of rule");
	free(lx.str);
	if (lx.failed || !root) {
		node_free(root);
		return err ? err->code : BSP_EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->text = strdup(text))) {
		free(r);
		node_free(root);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	r->root = root;
	*out = r;
	return BSP_OK;
}

void bsp_rule_free(struct bsp_rule *r)
{
	if (!r)
		return;
	node_free(r->root);
	free(r->text);
	free(r);
}

enum bsp_rule_type bsp_rule_type(const struct bsp_rule *r)
{
	return r->root->type;
}

const char *bsp_rule_text(const struct bsp_rule *r)
{
	return r->text;
}
