// The parser of the Analytics Engine stand-in's SQL (see analytics-sql.mjs for the dialect and
// analytics.mjs for the subset): text to a statement tree, refusing with the position, what it
// found and what it expected.

/** A query the API refuses: `message` is the text it answers with. */
export class SqlError extends Error {}

/** A documented query the stand-in does not evaluate: refused too, saying so. */
export class NotImplemented extends SqlError {
  constructor(what) {
    super(`the Analytics Engine stand-in does not implement ${what} (tests/support/analytics-sql*.mjs)`);
  }
}

const KEYWORDS = new Set(
  'SELECT FROM WHERE GROUP BY HAVING ORDER LIMIT OFFSET FORMAT AS AND OR NOT IN BETWEEN LIKE ILIKE ASC DESC INTERVAL TRUE FALSE ALL DISTINCT JOIN UNION WITH'.split(
    ' ',
  ),
);
/** Interval units and their length in seconds (null: calendar units). */
export const UNITS = { SECOND: 1, MINUTE: 60, HOUR: 3600, DAY: 86400, MONTH: null, YEAR: null };
const FORMATS = ['JSON', 'JSONEachRow'];

// ---- tokens ------------------------------------------------------------------------------

function tokenize(sql) {
  const tokens = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (sql.startsWith('--', i)) {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = sql.slice(i).match(/^[A-Za-z_][A-Za-z0-9_]*/)[0];
      const upper = m.toUpperCase();
      tokens.push(KEYWORDS.has(upper) ? { k: 'kw', v: upper, at: i, raw: m } : { k: 'id', v: m, at: i });
      i += m.length;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = sql.slice(i).match(/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/)[0];
      tokens.push({ k: 'num', v: Number(m), int: /^\d+$/.test(m), at: i });
      i += m.length;
    } else if (c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new SqlError(`Syntax error: unterminated string literal at position ${i}`);
        if (sql[j] === '\\' && j + 1 < sql.length) {
          s += sql[j + 1];
          j += 2;
        } else if (sql[j] === "'" && sql[j + 1] === "'") {
          s += "'";
          j += 2;
        } else if (sql[j] === "'") {
          break;
        } else {
          s += sql[j++];
        }
      }
      tokens.push({ k: 'str', v: s, at: i });
      i = j + 1;
    } else {
      const op = ['<=', '>=', '<>', '!=', '==', '||'].find((o) => sql.startsWith(o, i)) ?? c;
      if (!['(', ')', ',', '*', '+', '-', '/', '%', '=', '==', '<', '>', '<=', '>=', '<>', '!=', ';'].includes(op)) {
        throw new SqlError(`Syntax error at position ${i}: unexpected ${JSON.stringify(op)}`);
      }
      tokens.push({ k: 'op', v: op, at: i });
      i += op.length;
    }
  }
  tokens.push({ k: 'eof', v: 'end of query', at: sql.length });
  return tokens;
}

// ---- parser ------------------------------------------------------------------------------

/** Parses one statement into `{ select, table, where, groupBy, having, orderBy, limit, offset, format }`. */
export function parse(sql) {
  const tokens = tokenize(sql);
  let p = 0;
  const peek = () => tokens[p];
  const show = (t) => (t.k === 'eof' ? 'end of query' : t.k === 'str' ? `'${t.v}'` : String(t.raw ?? t.v));
  const fail = (expected) => {
    throw new SqlError(`Syntax error at position ${peek().at}: expected ${expected}, found ${show(peek())}`);
  };
  const isKw = (v) => peek().k === 'kw' && peek().v === v;
  const isOp = (v) => peek().k === 'op' && peek().v === v;
  const acceptKw = (v) => (isKw(v) ? tokens[p++] : null);
  const acceptOp = (v) => (isOp(v) ? tokens[p++] : null);
  const expectKw = (v) => acceptKw(v) ?? fail(v);
  const expectOp = (v) => acceptOp(v) ?? fail(`'${v}'`);
  const ident = (what) => (peek().k === 'id' ? tokens[p++].v : fail(what));
  const list = (item) => {
    const items = [item()];
    while (acceptOp(',')) items.push(item());
    return items;
  };
  const count = (what) => (peek().k === 'num' && peek().int ? tokens[p++].v : fail(what));

  if (acceptKw('WITH')) throw new NotImplemented('WITH');
  if (peek().k === 'id' && /^(show|describe)$/i.test(peek().v)) throw new NotImplemented(`${peek().v.toUpperCase()} statements`);
  expectKw('SELECT');
  if (isKw('DISTINCT')) throw new NotImplemented('SELECT DISTINCT');
  const select = list(() => {
    const start = peek().at;
    if (acceptOp('*')) return { expr: { t: 'star' }, name: '*' };
    const expr = parseExpr();
    const text = sql.slice(start, peek().at).trim().replace(/\s+/g, ' ');
    if (acceptKw('AS')) return { expr, name: ident('an alias after AS'), alias: true };
    return { expr, name: text };
  });
  expectKw('FROM');
  if (isOp('(')) throw new NotImplemented('subqueries in FROM');
  const table = ident('a dataset name after FROM');
  if (isKw('JOIN') || isKw('UNION') || isOp(',')) fail('WHERE, GROUP BY, ORDER BY, LIMIT or FORMAT (queries read one table)');
  const where = acceptKw('WHERE') ? parseExpr() : null;
  let groupBy = [];
  if (acceptKw('GROUP')) {
    expectKw('BY');
    groupBy = list(parseExpr);
  }
  const having = acceptKw('HAVING') ? parseExpr() : null;
  let orderBy = [];
  if (acceptKw('ORDER')) {
    expectKw('BY');
    orderBy = list(() => {
      const expr = parseExpr();
      const desc = Boolean(acceptKw('DESC'));
      if (!desc) acceptKw('ASC');
      return { expr, desc };
    });
  }
  let limit = null;
  let offset = 0;
  if (acceptKw('LIMIT')) {
    if (!acceptKw('ALL')) {
      limit = count('a row count or ALL after LIMIT');
      if (acceptOp(',')) {
        offset = limit;
        limit = count('a row count after LIMIT n,');
      }
    }
  }
  if (acceptKw('OFFSET')) offset = count('a row count after OFFSET');
  let format = 'JSON';
  if (acceptKw('FORMAT')) {
    const name = peek().k === 'id' ? tokens[p++].v : fail('a format after FORMAT');
    format = FORMATS.find((f) => f.toLowerCase() === name.toLowerCase());
    if (!format) {
      if (/^TabSeparated$/i.test(name)) throw new NotImplemented('FORMAT TabSeparated');
      throw new SqlError(`Unknown format ${name}: expected JSON, JSONEachRow or TabSeparated`);
    }
  }
  acceptOp(';');
  if (peek().k !== 'eof') fail('end of query');
  return { select, table, where, groupBy, having, orderBy, limit, offset, format };

  function parseExpr() {
    return parseOr();
  }
  function parseOr() {
    let l = parseAnd();
    while (acceptKw('OR')) l = { t: 'bin', op: 'or', l, r: parseAnd() };
    return l;
  }
  function parseAnd() {
    let l = parseNot();
    while (acceptKw('AND')) l = { t: 'bin', op: 'and', l, r: parseNot() };
    return l;
  }
  function parseNot() {
    if (acceptKw('NOT')) return { t: 'not', e: parseNot() };
    return parseComparison();
  }
  function parseComparison() {
    const l = parseAdditive();
    const op = ['=', '==', '!=', '<>', '<', '>', '<=', '>='].find(isOp);
    if (op) {
      p++;
      const norm = { '==': '=', '<>': '!=' }[op] ?? op;
      return { t: 'bin', op: norm, l, r: parseAdditive() };
    }
    const not = Boolean(acceptKw('NOT'));
    if (acceptKw('IN')) {
      expectOp('(');
      const items = list(parseAdditive);
      expectOp(')');
      return { t: 'in', e: l, items, not };
    }
    if (acceptKw('BETWEEN')) {
      const lo = parseAdditive();
      expectKw('AND');
      return { t: 'between', e: l, lo, hi: parseAdditive(), not };
    }
    const like = acceptKw('LIKE') ?? acceptKw('ILIKE');
    if (like) return { t: 'like', e: l, pattern: parseAdditive(), not, ci: like.v === 'ILIKE' };
    if (not) fail('IN, BETWEEN, LIKE or ILIKE after NOT');
    return l;
  }
  function parseAdditive() {
    let l = parseMultiplicative();
    for (;;) {
      const op = ['+', '-'].find(isOp);
      if (!op) return l;
      p++;
      l = { t: 'bin', op, l, r: parseMultiplicative() };
    }
  }
  function parseMultiplicative() {
    let l = parseUnary();
    for (;;) {
      const op = ['*', '/', '%'].find(isOp);
      if (!op) return l;
      p++;
      l = { t: 'bin', op, l, r: parseUnary() };
    }
  }
  function parseUnary() {
    if (acceptOp('-')) {
      const e = parseUnary();
      return e.t === 'lit' && typeof e.v === 'number'
        ? { ...e, v: -e.v, type: e.type === 'Float64' ? 'Float64' : 'Int64' }
        : { t: 'neg', e };
    }
    return parsePrimary();
  }
  function parsePrimary() {
    const tok = peek();
    if (tok.k === 'num') {
      p++;
      return { t: 'lit', v: tok.v, type: tok.int ? 'UInt8' : 'Float64' };
    }
    if (tok.k === 'str') {
      p++;
      return { t: 'lit', v: tok.v, type: 'String' };
    }
    if (acceptKw('TRUE')) return { t: 'lit', v: true, type: 'Bool' };
    if (acceptKw('FALSE')) return { t: 'lit', v: false, type: 'Bool' };
    if (acceptKw('INTERVAL')) {
      const n = peek().k === 'str' && /^\d+$/.test(peek().v) ? Number(tokens[p++].v) : count("a count after INTERVAL ('1' or 1)");
      const unit = peek().k === 'id' ? tokens[p++].v.toUpperCase() : fail('an interval unit');
      if (!(unit in UNITS)) throw new SqlError(`Unknown interval unit ${unit}: expected YEAR, MONTH, DAY, HOUR, MINUTE or SECOND`);
      return { t: 'interval', n, unit };
    }
    if (acceptOp('(')) {
      const e = parseExpr();
      expectOp(')');
      return e;
    }
    if (tok.k === 'id') {
      p++;
      if (!acceptOp('(')) return { t: 'id', name: tok.v };
      const name = tok.v.toLowerCase();
      let params = null;
      let distinct = false;
      const args = () => {
        if (acceptOp(')')) return [];
        distinct = Boolean(acceptKw('DISTINCT'));
        const items = list(parseExpr);
        expectOp(')');
        return items;
      };
      let a = args();
      if (acceptOp('(')) {
        params = a;
        a = args();
      }
      return { t: 'call', name, params, args: a, distinct };
    }
    return fail('an expression');
  }
}
