/**
 * Baetyl mapping expressions (access_template.yml `mappings[].expression`, e.g. `x2*0.1`,
 * `x4/(x1+x2)`): variables `x<id>` naming points by their `id`, numbers, `+ - * /`, unary
 * minus and parentheses. Baetyl evaluates them with a Go expression library; we parse them with
 * our own recursive-descent parser (never `eval`) into a small AST that is evaluated and, for
 * writes, solved for the first variable (Baetyl's `SolveExpression` accepts linear `a*x+b` only).
 */

/** Parsed expression. */
export type Expr =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'var'; readonly id: string }
  | { readonly kind: 'neg'; readonly arg: Expr }
  | { readonly kind: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly left: Expr; readonly right: Expr };

/** Result of `parseExpression`; `position` is the 0-based offset of the problem (the message says column = position + 1). */
export type ParseResult = { ok: true; expr: Expr } | { ok: false; error: string; position: number };

/** Deep enough for any real mapping, shallow enough that a hostile string cannot overflow the stack. */
const MAX_DEPTH = 64;

class ParseError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isIdChar = (c: string | undefined): boolean => c !== undefined && /[0-9A-Za-z_]/.test(c);

/**
 * Grammar (usual precedence, left-associative):
 * ```
 * expr   := term (('+' | '-') term)*
 * term   := unary (('*' | '/') unary)*
 * unary  := ('-' | '+') unary | primary
 * primary:= number | 'x' id | '(' expr ')'
 * number := digits ['.' digits] [('e'|'E') ['+'|'-'] digits]   (also '.5' and '5.')
 * id     := [0-9A-Za-z_]+
 * ```
 */
class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly src: string) {}

  parse(): Expr {
    const e = this.expr();
    this.skipSpace();
    if (this.pos < this.src.length) {
      throw this.fail(`expected an operator (+ - * /) or the end of the expression`);
    }
    return e;
  }

  private fail(expected: string, at = this.pos): ParseError {
    const got = at < this.src.length ? `'${this.src[at]}'` : 'the end';
    return new ParseError(`${expected} at column ${at + 1}, got ${got}`, at);
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  private peek(): string | undefined {
    this.skipSpace();
    return this.src[this.pos];
  }

  private expr(): Expr {
    if (++this.depth > MAX_DEPTH) throw new ParseError(`expression nested deeper than ${MAX_DEPTH} levels at column ${this.pos + 1}`, this.pos);
    let left = this.term();
    for (let c = this.peek(); c === '+' || c === '-'; c = this.peek()) {
      this.pos++;
      left = { kind: 'bin', op: c, left, right: this.term() };
    }
    this.depth--;
    return left;
  }

  private term(): Expr {
    let left = this.unary();
    for (let c = this.peek(); c === '*' || c === '/'; c = this.peek()) {
      this.pos++;
      left = { kind: 'bin', op: c, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    const c = this.peek();
    if (c === '-' || c === '+') {
      if (++this.depth > MAX_DEPTH) throw new ParseError(`expression nested deeper than ${MAX_DEPTH} levels at column ${this.pos + 1}`, this.pos);
      this.pos++;
      const arg = this.unary();
      this.depth--;
      return c === '-' ? { kind: 'neg', arg } : arg;
    }
    return this.primary();
  }

  private primary(): Expr {
    const c = this.peek();
    const start = this.pos;
    if (c === '(') {
      this.pos++;
      const e = this.expr();
      if (this.peek() !== ')') throw this.fail(`expected ')' (to close the '(' of column ${start + 1})`);
      this.pos++;
      return e;
    }
    if (c === 'x') {
      this.pos++;
      while (isIdChar(this.src[this.pos])) this.pos++;
      if (this.pos === start + 1) throw this.fail(`expected a point id after 'x' (x<id>, e.g. x1)`);
      return { kind: 'var', id: this.src.slice(start + 1, this.pos) };
    }
    if (isDigit(c) || (c === '.' && isDigit(this.src[this.pos + 1]))) return this.number();
    if (c !== undefined && /[A-Za-z_]/.test(c)) {
      let end = this.pos;
      while (isIdChar(this.src[end])) end++;
      throw new ParseError(
        `unknown name '${this.src.slice(this.pos, end)}' at column ${this.pos + 1}: variables are written x<id>, e.g. x1`,
        this.pos,
      );
    }
    throw this.fail(`expected a number, a variable x<id> or '('`);
  }

  private number(): Expr {
    const start = this.pos;
    const s = this.src;
    while (isDigit(s[this.pos])) this.pos++;
    if (s[this.pos] === '.') {
      this.pos++;
      while (isDigit(s[this.pos])) this.pos++;
    }
    if (s[this.pos] === 'e' || s[this.pos] === 'E') {
      this.pos++;
      if (s[this.pos] === '+' || s[this.pos] === '-') this.pos++;
      if (!isDigit(s[this.pos])) throw this.fail(`expected the digits of an exponent`);
      while (isDigit(s[this.pos])) this.pos++;
    }
    const value = Number(s.slice(start, this.pos));
    if (!Number.isFinite(value)) throw new ParseError(`number '${s.slice(start, this.pos)}' at column ${start + 1} is too large`, start);
    return { kind: 'num', value };
  }
}

/** Parses an expression; errors say what was expected at which column (1-based in the message). */
export function parseExpression(src: string): ParseResult {
  try {
    return { ok: true, expr: new Parser(src).parse() };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.message, position: e.position };
    throw e;
  }
}

/** The point ids (without the `x`) an expression reads, unique, in order of first appearance. */
export function variableIds(expr: Expr): string[] {
  const out: string[] = [];
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'num':
        return;
      case 'var':
        if (!out.includes(e.id)) out.push(e.id);
        return;
      case 'neg':
        return walk(e.arg);
      case 'bin':
        walk(e.left);
        walk(e.right);
    }
  };
  walk(expr);
  return out;
}

/**
 * Evaluates with IEEE double arithmetic. `undefined` when a variable has no value; division by
 * zero yields a non-finite number, which the caller treats as a bad value.
 */
export function evaluate(expr: Expr, lookup: (id: string) => number | undefined): number | undefined {
  switch (expr.kind) {
    case 'num':
      return expr.value;
    case 'var':
      return lookup(expr.id);
    case 'neg': {
      const v = evaluate(expr.arg, lookup);
      return v === undefined ? undefined : -v;
    }
    case 'bin': {
      const l = evaluate(expr.left, lookup);
      if (l === undefined) return undefined;
      const r = evaluate(expr.right, lookup);
      if (r === undefined) return undefined;
      switch (expr.op) {
        case '+':
          return l + r;
        case '-':
          return l - r;
        case '*':
          return l * r;
        case '/':
          return l / r;
      }
    }
  }
}

/** Writes an expression back as text (fully parenthesised only where precedence needs it). */
export function formatExpression(expr: Expr): string {
  const prec = (e: Expr): number => (e.kind === 'bin' ? (e.op === '+' || e.op === '-' ? 1 : 2) : 3);
  switch (expr.kind) {
    case 'num':
      return String(expr.value);
    case 'var':
      return `x${expr.id}`;
    case 'neg':
      return prec(expr.arg) < 3 ? `-(${formatExpression(expr.arg)})` : `-${formatExpression(expr.arg)}`;
    case 'bin': {
      const p = prec(expr);
      const l = formatExpression(expr.left);
      const r = formatExpression(expr.right);
      // The right operand of - and / needs parentheses at equal precedence: a-(b-c) != a-b-c.
      const lp = prec(expr.left) < p ? `(${l})` : l;
      const rp = prec(expr.right) < p || (prec(expr.right) === p && (expr.op === '-' || expr.op === '/')) ? `(${r})` : r;
      return `${lp}${expr.op}${rp}`;
    }
  }
}

/** `a*x + b` for the one variable being solved for (`a = 0` for a constant). */
interface Linear {
  readonly a: number;
  readonly b: number;
}

class NotLinear extends Error {}

function linearize(e: Expr, id: string): Linear {
  switch (e.kind) {
    case 'num':
      return { a: 0, b: e.value };
    case 'var':
      return { a: 1, b: 0 };
    case 'neg': {
      const v = linearize(e.arg, id);
      return { a: -v.a, b: -v.b };
    }
    case 'bin': {
      const l = linearize(e.left, id);
      const r = linearize(e.right, id);
      switch (e.op) {
        case '+':
          return { a: l.a + r.a, b: l.b + r.b };
        case '-':
          return { a: l.a - r.a, b: l.b - r.b };
        case '*':
          if (l.a !== 0 && r.a !== 0) throw new NotLinear(`x${id} is multiplied by x${id} (not linear)`);
          return l.a !== 0 ? { a: l.a * r.b, b: l.b * r.b } : { a: r.a * l.b, b: r.b * l.b };
        case '/':
          if (r.a !== 0) throw new NotLinear(`x${id} appears in a denominator (not linear)`);
          if (r.b === 0) throw new NotLinear(`the expression divides by zero`);
          return { a: l.a / r.b, b: l.b / r.b };
      }
    }
  }
}

/**
 * Solves `expr = target` for its first variable, as Baetyl does for writes (置数). The expression
 * must be linear in exactly one distinct variable (`a*x + b`, e.g. `(x1-32)/1.8`, `10*x1/4+3`,
 * `-x1`). The result is rounded to 15 significant digits so that binary rounding noise does not
 * turn an exact answer into 67.99999999999999.
 */
export function solveLinear(expr: Expr, target: number): { ok: true; id: string; value: number } | { ok: false; error: string } {
  const ids = variableIds(expr);
  const id = ids[0];
  if (id === undefined) return { ok: false, error: 'the expression has no variable to solve for' };
  if (ids.length > 1) {
    return { ok: false, error: `the expression uses ${ids.length} variables (${ids.map((i) => `x${i}`).join(', ')}); only one can be solved for` };
  }
  if (!Number.isFinite(target)) return { ok: false, error: `cannot solve for ${target}` };
  let lin: Linear;
  try {
    lin = linearize(expr, id);
  } catch (e) {
    if (e instanceof NotLinear) return { ok: false, error: e.message };
    throw e;
  }
  if (!Number.isFinite(lin.a) || !Number.isFinite(lin.b)) {
    return { ok: false, error: `the expression's constants overflow (x${id} coefficient ${lin.a}, offset ${lin.b})` };
  }
  if (lin.a === 0) return { ok: false, error: `the coefficient of x${id} is zero: the value does not depend on x${id}` };
  const x = (target - lin.b) / lin.a;
  if (!Number.isFinite(x)) return { ok: false, error: `solving for x${id} gives ${x}` };
  const value = Number(x.toPrecision(15));
  return { ok: true, id, value: value === 0 ? 0 : value };
}
