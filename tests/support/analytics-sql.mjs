// The SQL dialect of the Workers Analytics Engine SQL API, as far as the stand-in in
// analytics.mjs answers it: the documented subset the control plane needs (listed at the top of
// analytics.mjs), parsed by analytics-sql-parse.mjs, checked by analytics-sql-types.mjs and
// evaluated here. What it cannot answer it refuses, naming what it met and what it expected: a
// stand-in that accepts anything proves nothing.
//
// Values: String → JS string; integers and Float64 → number; DateTime and Date → seconds since
// the epoch (UTC); Bool → boolean. Types follow ClickHouse, on which the API is built: `count()`
// and `sum()` of integers are UInt64, written as strings in JSON as ClickHouse writes 64-bit
// integers; a DateTime is written 'YYYY-MM-DD hh:mm:ss', a Date 'YYYY-MM-DD'.

import { parse, SqlError, UNITS } from './analytics-sql-parse.mjs';
import { AGGREGATES, compile, formatDateTime, parseDateTime, shift } from './analytics-sql-types.mjs';

export { NotImplemented, SqlError } from './analytics-sql-parse.mjs';
export { COLUMNS } from './analytics-sql-types.mjs';

// ---- evaluation --------------------------------------------------------------------------

function evaluate(node, env) {
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'interval':
      return { n: node.n, unit: node.unit };
    case 'id':
      return env.row[node.name];
    case 'neg':
      return -evaluate(node.e, env);
    case 'not':
      return !truthy(evaluate(node.e, env));
    case 'in': {
      const v = evaluate(node.e, env);
      return node.items.some((i) => evaluate(i, env) === v) !== node.not;
    }
    case 'between': {
      const v = evaluate(node.e, env);
      return (v >= evaluate(node.lo, env) && v <= evaluate(node.hi, env)) !== node.not;
    }
    case 'like': {
      const pattern = evaluate(node.pattern, env)
        .split('')
        .map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return new RegExp(`^${pattern}$`, node.ci ? 'is' : 's').test(evaluate(node.e, env)) !== node.not;
    }
    case 'bin':
      return binary(node, env);
    case 'call':
      return call(node, env);
  }
}

const truthy = (v) => v !== 0 && v !== false;

function binary(node, env) {
  if (node.op === 'and') return truthy(evaluate(node.l, env)) && truthy(evaluate(node.r, env));
  if (node.op === 'or') return truthy(evaluate(node.l, env)) || truthy(evaluate(node.r, env));
  const num = (v) => (typeof v === 'boolean' ? Number(v) : v);
  const a = num(evaluate(node.l, env));
  const b = num(evaluate(node.r, env));
  switch (node.op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
    case '+':
      if (typeof b === 'object') return shift(a, b, 1);
      if (typeof a === 'object') return shift(b, a, 1);
      return a + b;
    case '-':
      if (typeof b === 'object') return shift(a, b, -1);
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
  }
}

function call(node, env) {
  if (AGGREGATES.has(node.name)) return aggregate(node, env);
  const args = node.args.map((a) => evaluate(a, env));
  const [x] = args;
  switch (node.name) {
    case 'now':
      return env.now;
    case 'todatetime':
      if (typeof x === 'string') return /^\d+$/.test(x) ? Number(x) : parseDateTime(x);
      return Math.trunc(Number(x));
    case 'tostartofinterval': {
      const { n, unit } = args[1];
      const d = new Date(x * 1000);
      if (unit === 'YEAR') return Date.UTC(d.getUTCFullYear(), 0, 1) / 1000;
      if (unit === 'MONTH') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
      const step = n * UNITS[unit];
      return Math.floor(x / step) * step;
    }
    case 'tostartofday':
      return Math.floor(x / 86400) * 86400;
    case 'tostartofhour':
      return Math.floor(x / 3600) * 3600;
    case 'tostartofminute':
      return Math.floor(x / 60) * 60;
    case 'tostartoffiveminutes':
      return Math.floor(x / 300) * 300;
    case 'tostartoffifteenminutes':
      return Math.floor(x / 900) * 900;
    case 'tounixtimestamp':
      return x;
    case 'tohour':
      return new Date(x * 1000).getUTCHours();
    case 'if':
      return truthy(x) ? args[1] : args[2];
  }
}

/** An aggregate over `env.rows` (the group's rows). */
function aggregate(node, env) {
  const rows = env.rows;
  const values = (arg) => rows.map((row) => evaluate(arg, { ...env, row }));
  const distinct = (vs) => (node.distinct ? [...new Set(vs)] : vs);
  switch (node.name) {
    case 'count':
      return node.args.length === 0 ? rows.length : distinct(values(node.args[0])).length;
    case 'sum':
      return distinct(values(node.args[0])).reduce((s, v) => s + Number(v), 0);
    case 'avg': {
      const vs = distinct(values(node.args[0]));
      return vs.length ? vs.reduce((s, v) => s + Number(v), 0) / vs.length : Number.NaN;
    }
    case 'min':
    case 'max': {
      const vs = values(node.args[0]);
      if (!vs.length) return node.type === 'String' ? '' : 0;
      return vs.reduce((m, v) => ((node.name === 'min' ? v < m : v > m) ? v : m));
    }
    default: {
      // quantileExactWeighted as ClickHouse computes it: equal values' weights summed, sorted by
      // value, the first value whose running weight reaches ceil(total weight × level).
      const [value, weight] = node.args.slice(-2);
      const weights = new Map();
      for (const row of rows) {
        const v = evaluate(value, { ...env, row });
        weights.set(v, (weights.get(v) ?? 0) + Number(evaluate(weight, { ...env, row })));
      }
      const sorted = [...weights].sort((a, b) => a[0] - b[0]);
      if (!sorted.length) return Number.NaN;
      const total = sorted.reduce((s, [, w]) => s + w, 0);
      const threshold = Math.ceil(total * node.level);
      let accumulated = 0;
      for (const [v, w] of sorted) {
        accumulated += w;
        if (accumulated >= threshold) return v;
      }
      return sorted.at(-1)[0];
    }
  }
}

// ---- execution ---------------------------------------------------------------------------

/** A value as ClickHouse writes it in JSON. */
function output(value, type) {
  if (type === 'DateTime') return formatDateTime(value);
  if (type === 'Date') return formatDateTime(value).slice(0, 10);
  if (type === 'UInt64' || type === 'Int64') return String(value);
  if (type === 'Bool') return Boolean(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

function compare(a, b) {
  if (a === b) return 0;
  if (typeof a === 'number' && Number.isNaN(a)) return 1;
  if (typeof b === 'number' && Number.isNaN(b)) return -1;
  return a < b ? -1 : 1;
}

/**
 * Runs `sql` over `tables` (dataset name → rows with every column) at `now` (seconds) and
 * returns `{ body, contentType }` as the API answers; throws SqlError when it refuses the query.
 */
export function run(sql, tables, now) {
  const plan = compile(parse(sql));
  const rows = tables.get(plan.table);
  if (!rows) throw new SqlError(`Table ${plan.table} doesn't exist: no data point has been written to a dataset of that name`);
  const env = { now, rows: [] };
  const matching = plan.where ? rows.filter((row) => truthy(evaluate(plan.where, { ...env, row }))) : rows;

  let results;
  if (plan.aggregate) {
    const groups = new Map();
    if (plan.groupBy.length === 0) groups.set('', { keys: [], rows: matching });
    for (const row of plan.groupBy.length ? matching : []) {
      const keys = plan.groupBy.map((g) => evaluate(g, { ...env, row }));
      const k = JSON.stringify(keys);
      if (!groups.has(k)) groups.set(k, { keys, rows: [] });
      groups.get(k).rows.push(row);
    }
    results = [...groups.values()].map((g) => ({ env: { ...env, rows: g.rows, row: g.rows[0] ?? {} } }));
    if (plan.having) results = results.filter((r) => truthy(evaluate(plan.having, r.env)));
  } else {
    results = matching.map((row) => ({ env: { ...env, row } }));
  }
  for (const r of results) r.sort = plan.orderBy.map((o) => evaluate(o.expr, r.env));
  results.sort((x, y) => {
    for (let i = 0; i < plan.orderBy.length; i++) {
      const c = compare(x.sort[i], y.sort[i]);
      if (c) return plan.orderBy[i].desc ? -c : c;
    }
    return 0;
  });
  const before = results.length;
  results = results.slice(plan.offset, plan.limit === null ? undefined : plan.offset + plan.limit);
  const data = results.map((r) => Object.fromEntries(plan.items.map((it) => [it.name, output(evaluate(it.expr, r.env), it.expr.type)])));

  if (plan.format === 'JSONEachRow') {
    return { contentType: 'application/x-ndjson; charset=UTF-8', body: data.map((d) => `${JSON.stringify(d)}\n`).join('') };
  }
  const body = { meta: plan.items.map((it) => ({ name: it.name, type: it.expr.type })), data, rows: data.length };
  if (plan.limit !== null) body.rows_before_limit_at_least = before;
  return { contentType: 'application/json; charset=UTF-8', body: `${JSON.stringify(body)}\n` };
}
