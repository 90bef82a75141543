/**
 * Where a JSON text breaks its grammar (RFC 8259), as a line and column an operator can go to. Node 20's
 * JSON.parse names a position for some mistakes only; for the most common ones in a hand-edited rules file (a
 * trailing comma, a bare word) it quotes a few characters around it, which in a file of thousands of rules says
 * nothing about where. Only called after JSON.parse failed, so it checks the grammar, not the values.
 */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERAL = /true|false|null/y;
/** Nesting followed before giving up on a position (a rules file is a few levels deep). */
const MAX_DEPTH = 256;

/** Offset of the first character that breaks the grammar, or undefined when none was found. */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  let tooDeep = false;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const token = (re: RegExp): boolean => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  const value = (depth: number): boolean => {
    if (depth > MAX_DEPTH) {
      tooDeep = true;
      return false;
    }
    ws();
    const open = text[i];
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return ++i > 0;
      for (;;) {
        if (open === '{') {
          ws();
          if (!token(STRING)) return false;
          ws();
          if (text[i] !== ':') return false;
          i++;
        }
        if (!value(depth + 1)) return false;
        ws();
        if (text[i] === close) return ++i > 0;
        if (text[i] !== ',') return false;
        i++;
      }
    }
    return token(STRING) || token(NUMBER) || token(LITERAL);
  };
  if (!value(0)) return tooDeep ? undefined : i;
  ws();
  return i < text.length ? i : undefined;
}

/** `line L column C` (both from 1) of an offset. */
export function lineColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
    line++;
    start = nl + 1;
  }
  return `line ${line} column ${offset - start + 1}`;
}
