// The type checker of the Analytics Engine stand-in's SQL: aliases substituted, every column,
// function and argument type checked as ClickHouse checks them, aggregation rules enforced. What
// Cloudflare's SQL reference documents but the stand-in does not evaluate is refused as such.

import { NotImplemented, SqlError, UNITS } from './analytics-sql-parse.mjs';

/** The columns of every dataset's table, in `SELECT *` order, with their types. */
export const COLUMNS = new Map([
  ['dataset', 'String'],
  ['timestamp', 'DateTime'],
  ['_sample_interval', 'UInt32'],
  ['index1', 'String'],
  ...Array.from({ length: 20 }, (_, i) => [`blob${i + 1}`, 'String']),
  ...Array.from({ length: 20 }, (_, i) => [`double${i + 1}`, 'Float64']),
]);

/** Functions in Cloudflare's SQL reference that the stand-in does not evaluate. */
const DOCUMENTED = new Set(
  (
    'argMax argMin first_value last_value topK topKWeighted formatDateTime today toYear toMonth toDayOfWeek toDayOfMonth ' +
    'toMinute toSecond toStartOfYear toStartOfMonth toStartOfWeek toStartOfTenMinutes toYYYYMM bitAnd bitOr bitXor ' +
    'bitShiftLeft bitShiftRight bitCount base64Encode base64Decode abs ceil floor round exp intDiv log pow sqrt ' +
    'length lower upper substring position extract concat startsWith endsWith replaceAll splitByChar toString ' +
    'toUInt8 toUInt32 toUInt64 toInt32 toInt64 toFloat64 toIPv4 toDate'
  )
    .toLowerCase()
    .split(' '),
);

// ---- types -------------------------------------------------------------------------------

const INTS = ['UInt8', 'UInt16', 'UInt32', 'UInt64', 'Int16', 'Int64'];
const isInt = (t) => INTS.includes(t);
const isNumeric = (t) => isInt(t) || t === 'Float64' || t === 'Bool';
const isTime = (t) => t === 'DateTime' || t === 'Date';
const wide = (t) => ['UInt32', 'UInt64', 'Int64'].includes(t);
/** The smallest numeric type both fit in, as ClickHouse picks it for if(). */
function supertype(a, b) {
  if (a === 'Float64' || b === 'Float64') return 'Float64';
  const order = ['Bool', 'UInt8', 'UInt16', 'UInt32', 'UInt64'];
  if (order.includes(a) && order.includes(b)) return order[Math.max(order.indexOf(a), order.indexOf(b), 1)];
  return wide(a) || wide(b) ? 'Int64' : 'Int16';
}
const SCALARS = new Set([
  'now',
  'todatetime',
  'tostartofinterval',
  'tostartofday',
  'tostartofhour',
  'tostartofminute',
  'tostartoffiveminutes',
  'tostartoffifteenminutes',
  'tounixtimestamp',
  'tohour',
  'if',
]);
export const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'quantileexactweighted', 'quantileweighted']);
const SIGNATURE = (name, types) => `Illegal types of arguments (${types.join(', ')}) of function ${name}`;

/** 'YYYY-MM-DD[( |T)hh:mm:ss]' in UTC as seconds, or null: what ClickHouse's basic parser reads. */
export function parseDateTime(s) {
  const m = s.match(/^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?$/);
  if (!m) return null;
  const [y, mo, d, h = 0, mi = 0, se = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x)));
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return null;
  return ms / 1000;
}

const pad = (n) => String(n).padStart(2, '0');
/** A DateTime as ClickHouse writes it. */
export function formatDateTime(seconds) {
  const d = new Date(seconds * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `seconds` plus `n` calendar months, the day clamped to the month's end as ClickHouse does. */
function addMonths(seconds, n) {
  const d = new Date(seconds * 1000);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), last));
  return target.getTime() / 1000;
}

export function shift(seconds, { n, unit }, sign) {
  if (unit === 'MONTH') return addMonths(seconds, sign * n);
  if (unit === 'YEAR') return addMonths(seconds, sign * 12 * n);
  return seconds + sign * n * UNITS[unit];
}

/**
 * Compiles a parsed statement against a table: aliases substituted, every identifier, function
 * and type checked, aggregation rules enforced. Returns `{ items, where, groupBy, having,
 * orderBy, aggregate }` whose expressions carry their `type`.
 */
export function compile(q) {
  const aliases = new Map(q.select.filter((s) => s.alias).map((s) => [s.name, s.expr]));
  const expand = (node, seen = new Set()) => {
    if (node.t === 'id' && aliases.has(node.name) && !seen.has(node.name)) {
      return expand(aliases.get(node.name), new Set([...seen, node.name]));
    }
    const out = { ...node };
    for (const key of ['l', 'r', 'e', 'lo', 'hi', 'pattern']) if (node[key]) out[key] = expand(node[key], seen);
    for (const key of ['args', 'params', 'items']) if (node[key]) out[key] = node[key].map((n) => expand(n, seen));
    return out;
  };
  const star = q.select.some((s) => s.expr.t === 'star');
  const items = q.select.flatMap((s) =>
    s.expr.t === 'star' ? [...COLUMNS.keys()].map((name) => ({ name, expr: { t: 'id', name } })) : [{ name: s.name, expr: expand(s.expr) }],
  );
  const where = q.where && expand(q.where);
  const groupBy = q.groupBy.map((e) => expand(e));
  const having = q.having && expand(q.having);
  const orderBy = q.orderBy.map((o) => ({ ...o, expr: expand(o.expr) }));

  for (const e of [...groupBy, ...orderBy.map((o) => o.expr)]) {
    if (e.t === 'lit') throw new NotImplemented('positional arguments in GROUP BY or ORDER BY (name the column or alias)');
  }
  for (const it of items) typeOf(it.expr, { aggregates: true });
  if (where) {
    typeOf(where, { aggregates: false, clause: 'WHERE' });
    expectCondition(where, 'WHERE');
  }
  for (const g of groupBy) typeOf(g, { aggregates: false, clause: 'GROUP BY' });
  if (having) {
    typeOf(having, { aggregates: true });
    expectCondition(having, 'HAVING');
  }
  for (const o of orderBy) typeOf(o.expr, { aggregates: true });

  const hasAggregate = (n) => (n.t === 'call' && AGGREGATES.has(n.name) ? true : children(n).some(hasAggregate));
  const aggregate =
    groupBy.length > 0 || items.some((i) => hasAggregate(i.expr)) || Boolean(having) || orderBy.some((o) => hasAggregate(o.expr));
  if (aggregate) {
    if (star) throw new SqlError('SELECT * cannot be used with GROUP BY or aggregate functions');
    const keys = new Set(groupBy.map(key));
    const grouped = (n, inside) => {
      if (keys.has(key(n))) return;
      if (n.t === 'call' && AGGREGATES.has(n.name)) return;
      if (n.t === 'id') throw new SqlError(`Column ${n.name} is not under aggregate function and not in GROUP BY (${inside})`);
      for (const c of children(n)) grouped(c, inside);
    };
    for (const it of items) grouped(it.expr, it.name);
    if (having) grouped(having, 'HAVING');
    for (const o of orderBy) grouped(o.expr, 'ORDER BY');
  }
  return { table: q.table, items, where, groupBy, having, orderBy, aggregate, limit: q.limit, offset: q.offset, format: q.format };
}

function expectCondition(node, clause) {
  if (!isNumeric(node.type)) throw new SqlError(`Illegal type ${node.type} of column for filter in ${clause}: expected a condition`);
}

const children = (n) => [n.l, n.r, n.e, n.lo, n.hi, n.pattern, ...(n.args ?? []), ...(n.items ?? [])].filter(Boolean);
/** A structural key for an expression: GROUP BY matches expressions by it. */
const key = (n) => JSON.stringify(n, (k, v) => (k === 'type' ? undefined : v));

/** Sets and returns `node.type`, refusing what ClickHouse refuses. */
function typeOf(node, ctx) {
  node.type = infer(node, ctx);
  return node.type;
}

function infer(node, ctx) {
  switch (node.t) {
    case 'lit':
      return node.type;
    case 'interval':
      return `Interval${node.unit}`;
    case 'id': {
      const type = COLUMNS.get(node.name);
      if (!type)
        throw new SqlError(
          `Unknown identifier: ${node.name}: there is no such column or alias (columns: dataset, timestamp, _sample_interval, index1, blob1…blob20, double1…double20)`,
        );
      return type;
    }
    case 'neg': {
      const t = typeOf(node.e, ctx);
      if (!isNumeric(t)) throw new SqlError(SIGNATURE('negate', [t]));
      return t === 'Float64' ? 'Float64' : 'Int64';
    }
    case 'not': {
      const t = typeOf(node.e, ctx);
      if (!isNumeric(t)) throw new SqlError(SIGNATURE('not', [t]));
      return 'UInt8';
    }
    case 'bin':
      return inferBinary(node, ctx);
    case 'in': {
      typeOf(node.e, ctx);
      for (const item of node.items) {
        if (item.t !== 'lit') throw new NotImplemented('IN with anything but a list of literals');
        comparable(node.e, item, node.not ? 'notIn' : 'in');
      }
      return 'UInt8';
    }
    case 'between': {
      typeOf(node.e, ctx);
      typeOf(node.lo, ctx);
      typeOf(node.hi, ctx);
      comparable(node.e, node.lo, 'greaterOrEquals');
      comparable(node.e, node.hi, 'lessOrEquals');
      return 'UInt8';
    }
    case 'like': {
      const a = typeOf(node.e, ctx);
      const b = typeOf(node.pattern, ctx);
      if (a !== 'String' || b !== 'String') throw new SqlError(SIGNATURE(node.ci ? 'ilike' : 'like', [a, b]));
      return 'UInt8';
    }
    case 'call':
      return inferCall(node, ctx);
    default:
      throw new SqlError(`Syntax error: ${node.t} is not allowed here`);
  }
}

const COMPARISONS = { '=': 'equals', '!=': 'notEquals', '<': 'less', '>': 'greater', '<=': 'lessOrEquals', '>=': 'greaterOrEquals' };
const FUNCTION_NAMES = { plus: '+', minus: '-', multiply: '*', divide: '/', modulo: '%' };
const OP_NAMES = Object.fromEntries(Object.entries(FUNCTION_NAMES).map(([k, v]) => [v, k]));

function inferBinary(node, ctx) {
  const a = typeOf(node.l, ctx);
  const b = typeOf(node.r, ctx);
  if (node.op === 'and' || node.op === 'or') {
    if (!isNumeric(a) || !isNumeric(b)) throw new SqlError(SIGNATURE(node.op, [a, b]));
    return 'UInt8';
  }
  if (['=', '!=', '<', '>', '<=', '>='].includes(node.op)) {
    comparable(node.l, node.r, COMPARISONS[node.op]);
    return 'UInt8';
  }
  const name = OP_NAMES[node.op];
  if (isTime(a) && b.startsWith('Interval') && (node.op === '+' || node.op === '-')) return a === 'Date' ? 'DateTime' : a;
  if (a.startsWith('Interval') && isTime(b) && node.op === '+') return b;
  if (!isNumeric(a) || !isNumeric(b)) throw new SqlError(SIGNATURE(name, [a, b]));
  if (node.op === '/' || a === 'Float64' || b === 'Float64') return 'Float64';
  if (node.op === '-' || a.startsWith('Int') || b.startsWith('Int')) return wide(a) || wide(b) ? 'Int64' : 'Int16';
  return wide(a) || wide(b) ? 'UInt64' : 'UInt16';
}

/** Refuses comparing types ClickHouse cannot compare; a string literal beside a DateTime becomes a DateTime. */
function comparable(l, r, fn) {
  const fix = (time, other) => {
    if (isTime(time.type) && other.t === 'lit' && other.type === 'String') {
      const seconds = parseDateTime(other.v);
      if (seconds === null) throw new SqlError(`Cannot parse string '${other.v}' as DateTime: expected 'YYYY-MM-DD hh:mm:ss'`);
      other.v = seconds;
      other.type = 'DateTime';
    }
  };
  fix(l, r);
  fix(r, l);
  const [a, b] = [l.type, r.type];
  const ok =
    (isNumeric(a) && isNumeric(b)) ||
    (a === 'String' && b === 'String') ||
    (isTime(a) && isTime(b)) ||
    (isTime(a) && isInt(b)) ||
    (isInt(a) && isTime(b));
  if (!ok) throw new SqlError(SIGNATURE(fn, [a, b]));
}

function arity(node, n, m = n) {
  if (node.args.length < n || node.args.length > m) {
    throw new SqlError(
      `Number of arguments for function ${node.name} doesn't match: passed ${node.args.length}, should be ${n === m ? n : `${n} to ${m}`}`,
    );
  }
  if (node.params && !['quantileexactweighted'].includes(node.name)) throw new SqlError(`Function ${node.name} takes no parameters`);
  if (node.distinct && !['count', 'sum', 'avg'].includes(node.name)) throw new SqlError(`DISTINCT is not allowed in ${node.name}`);
}

function timezone(node, index) {
  const tz = node.args[index];
  if (!tz) return;
  if (tz.t !== 'lit' || tz.type !== 'String')
    throw new SqlError(`Argument ${index + 1} of function ${node.name} must be a timezone string`);
  if (!['UTC', 'Etc/UTC'].includes(tz.v)) throw new NotImplemented(`time zones other than UTC (${tz.v})`);
}

function inferCall(node, ctx) {
  const aggregate = AGGREGATES.has(node.name);
  if (aggregate) {
    if (!ctx.aggregates) throw new SqlError(`Aggregate function ${node.name}() is found in ${ctx.clause} in query`);
    if (ctx.insideAggregate) throw new SqlError(`Aggregate function ${node.name}() is found inside another aggregate function in query`);
  }
  if (!aggregate && !SCALARS.has(node.name)) {
    if (DOCUMENTED.has(node.name)) throw new NotImplemented(`the function ${node.name}`);
    throw new SqlError(`Unknown function ${node.name}: it is not in the Workers Analytics Engine SQL reference`);
  }
  const inner = aggregate ? { ...ctx, insideAggregate: true } : ctx;
  const types = node.args.map((a) => typeOf(a, inner));
  switch (node.name) {
    case 'now':
      arity(node, 0);
      return 'DateTime';
    case 'todatetime': {
      arity(node, 1, 2);
      timezone(node, 1);
      const [arg] = node.args;
      if (arg.t === 'lit' && arg.type === 'String' && parseDateTime(arg.v) === null && !/^\d+$/.test(arg.v)) {
        throw new SqlError(`Cannot parse string '${arg.v}' as DateTime: expected 'YYYY-MM-DD hh:mm:ss'`);
      }
      if (!['String', 'DateTime', 'Date'].includes(types[0]) && !isInt(types[0]) && types[0] !== 'Float64')
        throw new SqlError(SIGNATURE('toDateTime', types));
      return 'DateTime';
    }
    case 'tostartofinterval': {
      arity(node, 2, 3);
      timezone(node, 2);
      const [t, interval] = node.args;
      if (!isTime(t.type) || interval.t !== 'interval') throw new SqlError(SIGNATURE('toStartOfInterval', types));
      if ((interval.unit === 'MONTH' || interval.unit === 'YEAR') && interval.n !== 1)
        throw new NotImplemented(`toStartOfInterval by ${interval.n} ${interval.unit}s`);
      if (interval.n < 1) throw new SqlError('Value for second argument of function toStartOfInterval must be positive');
      return UNITS[interval.unit] === null || interval.unit === 'DAY' ? 'Date' : 'DateTime';
    }
    case 'tostartofday':
    case 'tostartofhour':
    case 'tostartofminute':
    case 'tostartoffiveminutes':
    case 'tostartoffifteenminutes':
      arity(node, 1);
      if (!isTime(types[0])) throw new SqlError(SIGNATURE(node.name, types));
      return 'DateTime';
    case 'tounixtimestamp':
      arity(node, 1);
      if (!isTime(types[0])) throw new SqlError(SIGNATURE('toUnixTimestamp', types));
      return 'UInt32';
    case 'tohour':
      arity(node, 1);
      if (!isTime(types[0])) throw new SqlError(SIGNATURE('toHour', types));
      return 'UInt8';
    case 'if': {
      arity(node, 3);
      const [c, a, b] = types;
      if (!isNumeric(c)) throw new SqlError(`Illegal type ${c} of first argument (condition) of function if. Must be UInt8.`);
      if (a === b) return a;
      if (isNumeric(a) && isNumeric(b)) return supertype(a, b);
      throw new SqlError(
        `There is no supertype for types ${a}, ${b} because some of them are String/DateTime and some of them are not (function if)`,
      );
    }
    case 'count':
      if (node.args.length > 1) arity(node, 0, 1);
      if (node.params) throw new SqlError('Function count takes no parameters');
      return 'UInt64';
    case 'sum':
    case 'avg':
      arity(node, 1);
      if (!isNumeric(types[0])) throw new SqlError(`Illegal type ${types[0]} of argument for aggregate function ${node.name}`);
      if (node.name === 'avg' || types[0] === 'Float64') return 'Float64';
      return types[0].startsWith('Int') ? 'Int64' : 'UInt64';
    case 'min':
    case 'max':
      arity(node, 1);
      return types[0];
    case 'quantileexactweighted':
    case 'quantileweighted': {
      let level;
      if (node.name === 'quantileexactweighted') {
        if (node.params?.length !== 1)
          throw new SqlError('Function quantileExactWeighted takes one parameter, the level: quantileExactWeighted(0.5)(column, weight)');
        arity(node, 2);
        level = node.params[0];
      } else {
        if (node.params) throw new SqlError('Function quantileWeighted takes three arguments: quantileWeighted(level, column, weight)');
        arity(node, 3);
        level = node.args[0];
      }
      if (level.t !== 'lit' || typeof level.v !== 'number' || level.v < 0 || level.v > 1)
        throw new SqlError('The quantile level must be a number literal from 0 to 1');
      node.level = level.v;
      const [value, weight] = node.args.slice(-2);
      if (!isNumeric(value.type) && !isTime(value.type))
        throw new SqlError(`Illegal type ${value.type} of argument for aggregate function ${node.name}`);
      if (!isInt(weight.type))
        throw new SqlError(
          `Illegal type ${weight.type} of argument for aggregate function ${node.name}: the weight must be an integer (_sample_interval)`,
        );
      return value.type === 'Bool' ? 'UInt8' : value.type;
    }
  }
}
