/**
 * Secret redaction for anything that leaves the process as text: logs, errors, diagnostics.
 * Keys are matched by name (anything that looks like a key, token, secret or password) and
 * values by shape (provider keys, bearer tokens, JWTs). Text a person wrote (a requirement) goes
 * through `redactProse`: only what looks like a pasted credential, a spec's words left as written.
 */
const SECRET_KEY = /(api[-_]?key|token|secret|password|authorization|x-api-key|cookie|credential)/i;
/** Names that end in "key" (`CCO_MCP_KEY`, `accessKey`, `key`) hold one too, but for the keys of lookups. */
const KEY_NAME = /(?:^|[-_])key$/i;
const CAMEL_KEY_NAME = /[a-z]Key$/;
const LOOKUP_KEY = /(cache|sort|primary|foreign|partition|route|map|idempotency)[-_]?key$/i;
/**
 * Names that contain a secret word but hold no secret, judged by whole words of the name
 * (`CCO_ADMIN_PASSWORD` is not a "min" setting, `ACCOUNT_TOKEN` not a "count"):
 * - where a secret lives, as the last word (`tokenFile`, `api_key_env`, `password_path`);
 * - token counts (`max_tokens`, `input_tokens`: the plural);
 * - limits, counts and lifetimes (`token_ttl_seconds`, `token_expires_at`), unless the name also
 *   says password, secret, credential or cookie (`maxSecret` is a secret).
 * Shown, so diagnostics stay useful.
 */
const LOCATION_WORDS = new Set(['file', 'path', 'dir', 'env']);
const AMOUNT_WORDS = new Set(['tokens', 'ttl', 'seconds', 'ms', 'count', 'max', 'min', 'limit', 'budget', 'at', 'expires']);
const STRONG_WORDS = /(password|passwd|secret|credential|cookie)/;
function nameWords(k: string): string[] {
  return k
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}
function notSecretName(k: string): boolean {
  const words = nameWords(k);
  if (LOCATION_WORDS.has(words.at(-1) ?? '')) return true;
  if (words.some((w) => STRONG_WORDS.test(w))) return false;
  return words.some((w) => AMOUNT_WORDS.has(w));
}
/** A key or setting name that holds a secret (`api_key`, `CCO_MCP_KEY`, `client_secret`), not one of a lookup key or an amount. */
function isSecretName(k: string): boolean {
  return (SECRET_KEY.test(k) && !notSecretName(k)) || ((KEY_NAME.test(k) || CAMEL_KEY_NAME.test(k)) && !LOOKUP_KEY.test(k));
}

/**
 * Query and fragment parameters that hold a credential, by their whole name (lower case, `[]`
 * dropped): keys and tokens, OAuth's tokens (`#access_token=`), signed URLs (`sig`,
 * `X-Amz-Signature`). Whole names, not words: `pass_rate` or `signature_version` hold none.
 * Not `session`: CCO's own API filters by a session id with it (`/api/hooks/events?session=…`).
 */
const SECRET_PARAMS = new Set([
  'api_key', 'apikey', 'api-key', 'x-api-key', 'key', 'access_key', 'secret_key', 'subscription-key',
  'token', 'access_token', 'refresh_token', 'id_token', 'auth_token', 'session_token', 'private_token', 'jwt',
  'secret', 'client_secret', 'password', 'passwd', 'pwd',
  'sig', 'signature', 'x-amz-signature', 'x-amz-credential', 'x-amz-security-token', 'x-goog-signature', 'x-goog-credential',
]);
/**
 * Names that hold a credential in a URL that was called (OAuth's `code`, `auth=`, `pass=`) but
 * are ordinary words in a spec (`/auth/callback?code=abc123`, `?auth=basic`): masked in logs and
 * diagnostics, never in prose.
 */
const AMBIGUOUS_PARAMS = new Set(['code', 'auth', 'pass']);
function paramName(rawName: string): string {
  let name = rawName;
  try {
    name = decodeURIComponent(rawName);
  } catch {
    // a malformed escape: judge the name as written
  }
  return name.replace(/\[\]$/, '');
}
/**
 * The last word of a name that holds a credential (`oauth_signature`, `api_sig`, `db_pass`,
 * `basic_auth`, `jwt_assertion`): judged by the last word only, so that `pass_rate` and
 * `signature_version` stay. Two-word endings for the ones whose last word alone says nothing.
 */
const SECRET_LAST_WORDS = new Set(['auth', 'sig', 'signature', 'pwd', 'pass', 'passwd', 'password', 'passphrase', 'jwt', 'token', 'secret', 'credential', 'credentials', 'assertion']);
const SECRET_LAST_PAIRS = new Set(['auth_code', 'authorization_code', 'pass_phrase', 'api_key', 'access_key', 'secret_key', 'private_key']);
function endsLikeSecret(name: string): boolean {
  const words = nameWords(name);
  return SECRET_LAST_WORDS.has(words.at(-1) ?? '') || SECRET_LAST_PAIRS.has(words.slice(-2).join('_'));
}
/** Logs and diagnostics: a secret's name, a setting's secret name (`github_token`, `apiKey`), a name ending like one, or an ambiguous one. */
function isLoggedSecretParam(rawName: string): boolean {
  const name = paramName(rawName);
  const lower = name.toLowerCase();
  return SECRET_PARAMS.has(lower) || AMBIGUOUS_PARAMS.has(lower) || isSecretName(name) || endsLikeSecret(name);
}
/**
 * Prose (a requirement): only a secret's own name holding a value shaped like a credential (12 or
 * more characters of a token's alphabet, letters and digits both), so that examples stay
 * (`?token=abcdef`, `?api_key=YOUR_API_KEY`) and a pasted key does not.
 */
const CREDENTIAL_LIKE = /^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9._~+/%=-]{12,}$/;
function isPastedSecretParam(rawName: string, value: string): boolean {
  return isLoggedSecretParam(rawName) && CREDENTIAL_LIKE.test(value);
}
/** Prose: a header set in a `*_HEADERS` value holds a secret when its name says so (`Authorization`, `x-api-key`) or its value looks like one. */
function isPastedSecretHeader(name: string, value: string): boolean {
  const n = name.replace(/:$/, '').trim();
  return isLoggedSecretParam(n) || /authorization|cookie|api[-_]?key|token|secret|password/i.test(n) || CREDENTIAL_LIKE.test(value.trim());
}
/**
 * `name=value` after `?`, `&` or `#` (a URL's query or fragment, also a bare path's: `/x?token=…`).
 * The value ends at the next parameter, a space or a quote; punctuation that ends a sentence
 * (`…?token=abc).`) is kept outside the mask.
 */
const QUERY_PARAM = /([?&#])([A-Za-z0-9_.~%[\]-]+)=([^&#\s"'<>`]*)/g;
/** Text with the values of the query parameters `isSecret` names masked, their names and the other parameters kept. */
function maskQuerySecrets(text: string, isSecret: (name: string, value: string) => boolean): string {
  if (!/[?&#][^=\s]+=/.test(text)) return text;
  return text.replace(QUERY_PARAM, (m, sep: string, name: string, raw: string) => {
    const value = withoutTrailingPunctuation(raw);
    if (value === '' || value.includes(REDACTED) || !isSecret(name, value)) return m;
    return `${sep}${name}=${REDACTED}${raw.slice(value.length)}`;
  });
}
/** The value without the punctuation that ends its sentence (a loop, not a regex: no backtracking on long runs). */
function withoutTrailingPunctuation(value: string): string {
  let end = value.length;
  while (end > 0 && '.,;:)!'.includes(value[end - 1] as string)) end--;
  return value.slice(0, end);
}

/** A header line, `Name: value` (ANTHROPIC_CUSTOM_HEADERS holds such lines, newline separated). */
const HEADER_LINE = /^(\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*:)(\s*)(.*)$/;
/** `name=value,name2=value2` (OTEL_EXPORTER_OTLP_HEADERS and the like). */
const HEADER_PAIRS = /^\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+=[^,]*(?:,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+=[^,]*)*$/;
/**
 * Headers set in one value with each header's value masked and its name kept
 * (`x-corp-auth: [REDACTED]`): headers carry a gateway's credentials whatever their names.
 * Lines are split at newlines, real or `\n`-escaped. `strict`: a line that is neither a header
 * nor a `k=v` list stays (text, where `TOKEN_HEADER = 'x-token'` is code); else it is masked.
 */
function maskHeaderValues(value: string, strict: boolean, only?: (name: string, value: string) => boolean): string {
  return value
    .split(/(\r?\n|\\n)/)
    .map((line, i) => {
      if (i % 2 === 1 || line.trim() === '') return line; // a separator, or an empty line
      const [, name, space, headerValue] = HEADER_LINE.exec(line) ?? [];
      if (name !== undefined) {
        if (!headerValue || headerValue.startsWith(REDACTED) || (only && !only(name, headerValue))) return line;
        return `${name}${space ?? ''}${REDACTED}`;
      }
      if (HEADER_PAIRS.test(line)) return line.replace(/([^,=]*)=([^,]*)/g, (m, k: string, v: string) => (v === '' || (only && !only(k, v)) ? m : `${k}=${REDACTED}`));
      return strict ? line : REDACTED;
    })
    .join('');
}
/** Names of variables that hold headers: `ANTHROPIC_CUSTOM_HEADERS`, `OTEL_EXPORTER_OTLP_HEADERS`, `X_AUTH_HEADER`. */
const HEADERS_NAME = /_HEADERS?$/i;
/** `NAME_HEADERS=value` in text (a shell command, a `.env`): the value quoted (also `\"…\"`), or bare to the end of the line. */
const HEADERS_ASSIGNMENT = /\b([A-Z][A-Z0-9_]*_HEADERS?)(\s*[=:]\s*)(\\"(?:(?!\\")[\s\S])*\\"|"[^"]*"|'[^']*'|[^\n]*)/g;
function maskHeaderAssignments(text: string, only?: (name: string, value: string) => boolean): string {
  if (!/_HEADERS?\b/i.test(text)) return text;
  return text.replace(HEADERS_ASSIGNMENT, (_m, name: string, sep: string, value: string) => {
    const quote = /^(\\"|"|')/.exec(value)?.[1] ?? '';
    const inner = quote ? value.slice(quote.length, value.length - quote.length) : value;
    return `${name}${sep}${quote}${maskHeaderValues(inner, true, only)}${quote}`;
  });
}

const SECRET_VALUE_PATTERNS: RegExp[] = [
  /sk-ant-[A-Za-z0-9_-]{8,}/g, // Anthropic keys
  /sk-[A-Za-z0-9_-]{16,}/g, // OpenAI-style keys
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWTs
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  // the password of any URL with credentials (databases, rediss://, an HTTP proxy, a base_url)
  /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+(@)/gi,
];

/**
 * Other services' keys and tokens by their shape (GitHub, GitLab, Slack, AWS, Google, Stripe,
 * Hugging Face): what an agent's shell commands and file reads carry. Shared with the sidecar's
 * masking of file contents.
 */
export const CREDENTIAL_SHAPES: RegExp[] = [
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key ids
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g, // GitLab
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys (Gemini)
  /\b(?:sk|rk)_live_[A-Za-z0-9]{16,}\b/g, // Stripe
  /\bhf_[A-Za-z0-9]{30,}\b/g, // Hugging Face
  /\bnpm_[A-Za-z0-9]{36}\b/g, // npm
];

/** A private key block: its markers with base64 lines (and PEM headers) between them, real or `\n`-escaped. */
const PRIVATE_KEY_BLOCK = /(-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)((?:\r?\n|\\n)(?:[A-Za-z0-9+/=:,. -]*(?:\r?\n|\\n))+?)(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)/g;

/** Text with each private key block's body masked (its markers kept, so a reader sees what it was). */
export function maskPrivateKeys(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text;
  return text.replace(PRIVATE_KEY_BLOCK, (_m, begin: string, body: string, end: string) => {
    const nl = body.startsWith('\\n') ? '\\n' : '\n';
    return `${begin}${nl}${REDACTED}${nl}${end}`;
  });
}

/** Words that name a secret in a lower- or camel-case setting (`db_password`, `apiKey`, `client_secret`). */
const SETTING_WORD = '[A-Za-z0-9_.-]*(?:password|passwd|secret|api_?key|access_?token|refresh_?token|auth_?token|private_?key)[A-Za-z0-9_.-]*';
/**
 * Credentials in the files tools read and print (a `cat` of a config, a Read of `.npmrc`):
 * - `"password": "…"` and the like in JSON text (a file's text is a string, not parsed);
 * - `password: …` / `db_password = …` settings at the start of a line (YAML, INI, TOML);
 * - `.npmrc`'s `_authToken=` / `_auth=` / `_password=`;
 * - `.netrc`'s `password …` (after `login …`, or on a line of its own);
 * - `.pgpass` lines (`host:port:database:user:password`).
 * Values that are references (`${X}`, `$X`, `{{ x }}`, `<x>`) stay, as do names of places (`password_file`).
 */
const FILE_CREDENTIALS: [RegExp, (m: string, ...g: string[]) => string][] = [
  [new RegExp(`("${SETTING_WORD}"\\s*:\\s*)"((?:[^"\\\\\\n]|\\\\.)*)"`, 'gi'), (m, pre, v) => (v === "" || isReference(v) || notSecretName(String(pre).replace(/[":\s]/g, '')) ? m : `${pre}"${REDACTED}"`)],
  [new RegExp(`^([ \\t-]*)(${SETTING_WORD})([ \\t]*[:=][ \\t]*)(["']?)([^\\s"'#]+)\\4(?=[ \\t]*(?:#.*)?$)`, 'gim'), (m, indent, name, sep, q, v) => (isReference(v) || notSecretName(name) || v.includes(REDACTED) ? m : `${indent}${name}${sep}${q}${REDACTED}${q}`)],
  [/(\b_(?:authToken|auth|password)\s*=\s*)([^\s"'`]+)/g, (m, pre, v) => (isReference(v) || v.includes(REDACTED) ? m : `${pre}${REDACTED}`)],
  [/(\blogin\s+\S+\s+password\s+|^[ \t]*password[ \t]+)([^\s]+)(?=[ \t]*(?:\n|$|\s+machine\b|\s+account\b))/gm, (m, pre, v) => (isReference(v) || v.includes(REDACTED) ? m : `${pre}${REDACTED}`)],
  [/^([^:\s]+:(?:\d+|\*):[^:\s]+:[^:\s]+:)(\S+)$/gm, (m, pre, v) => (isReference(v) || v.includes(REDACTED) ? m : `${pre}${REDACTED}`)],
];
function isReference(v: string): boolean {
  // (a call in source text, `password = get_password()`, holds no secret either)
  return /^(?:\$|\{\{|<|%\(|\[REDACTED\])/.test(v) || PLACEHOLDER.test(v) || /^[A-Za-z_][\w.]*\(.*\)[;,]?$/.test(v);
}
/** Values that describe a setting rather than hold it (a type, a flag, a doc's placeholder). */
const PLACEHOLDER = /^(?:string|number|boolean|bool|int|integer|str|text|any|null|none|nil|undefined|true|false|required|optional|yes|no|secret|password|changeme|xxx+|\*+|\.\.\.)[;,]?$/i;
/**
 * `NAME=value` / `NAME: value` where the upper-case name says key, token, secret or password
 * (`export GITHUB_TOKEN=…`, a `.env` printed by `cat`, `AWS_SECRET_ACCESS_KEY: …`): the value,
 * whatever its shape. Names of amounts (`MAX_TOKENS=100`) and shell references (`$X`) stay.
 * The value is quoted (also with escaped quotes, `\"…\"`), or bare up to a space, a quote, a
 * shell operator or a backslash. Meant for text: JSON goes through `redactJsonText`, which
 * applies it to each string, so that a value's quotes are never taken for the JSON's own.
 */
const ENV_ASSIGNMENT = /\b([A-Z][A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)[A-Z0-9_]*)(\s*[=:]\s*)(\\"(?:(?!\\")[^\n])*\\"|"[^"\n]*"|'[^'\n]*'|[^\s"'`;&|\\]+)/g;

export const REDACTED = '[REDACTED]';

/**
 * The credentials of config files in text a tool read or printed (`FILE_CREDENTIALS`), then
 * everything `redactString` masks. Only for such text (hook payloads): in prose (a requirement,
 * a log line) `password: string` is a sentence, not a setting.
 */
export function redactToolText(s: string): string {
  // key blocks first: a base64 line ending in `secret=` is no setting
  return redactString(maskFileCredentials(maskPrivateKeys(s)));
}

/** The values of the settings `FILE_CREDENTIALS` names in a config file's text (references and calls stay). */
export function maskFileCredentials(s: string): string {
  let out = s;
  for (const [re, fn] of FILE_CREDENTIALS) out = out.replace(re, fn as (m: string, ...g: unknown[]) => string);
  return out;
}

/**
 * Secrets in text that leaves the process (logs, errors, diagnostics): by value shape, by
 * `NAME=value` assignments, and by name in URL queries and `*_HEADERS` values. Names mask more
 * than a secret there (`?code=`, each header of `X_HEADERS: …`), which is right for a log and
 * wrong for what a person wrote: that goes through `redactProse`.
 */
export function redactString(s: string): string {
  const out = maskSecretValues(s);
  return maskEnvAssignments(maskHeaderAssignments(maskQuerySecrets(out, isLoggedSecretParam)));
}

/**
 * Secrets pasted into text a person wrote (a pipeline requirement, which is stored, shown and
 * sent to the LLM): the same value shapes and `NAME=value` assignments as `redactString`, and a
 * URL's `?api_key=…`-like parameter only when its value looks like a credential. The rest of
 * the text is left as written: `/auth/callback?code=abc123`, `?pass_rate=0.9`, a header
 * named in a spec (`ACCESS_CONTROL_ALLOW_HEADERS: Content-Type: …`).
 */
export function redactProse(s: string): string {
  return maskEnvAssignments(maskHeaderAssignments(maskQuerySecrets(maskSecretValues(s), isPastedSecretParam), isPastedSecretHeader));
}

/** Private keys, provider keys, bearer tokens, JWTs, URL passwords and other services' tokens: by shape. */
function maskSecretValues(s: string): string {
  let out = maskPrivateKeys(s);
  for (const re of SECRET_VALUE_PATTERNS) {
    out = out.replace(re, (_m, pre?: string, post?: string) =>
      typeof pre === 'string' && pre.length > 0 && !/^\d+$/.test(pre)
        ? `${pre}${REDACTED}${typeof post === 'string' ? post : ''}`
        : REDACTED,
    );
  }
  for (const re of CREDENTIAL_SHAPES) out = out.replace(re, REDACTED);
  return out;
}

function maskEnvAssignments(text: string): string {
  return text.replace(ENV_ASSIGNMENT, (m, name: string, sep: string, value: string) => {
    const bare = value.replace(/^\\?["']|\\?["']$/g, '');
    if (bare === '' || bare.startsWith('$') || bare.includes(REDACTED) || notSecretName(name)) return m;
    return `${name}${sep}${REDACTED}`;
  });
}

/**
 * Serialised JSON (a log line, an error body) with its secrets masked: parsed, masked as values
 * (`redact`), serialised again; text that is not JSON is masked as text. Ends as it ended (a log
 * line's newline).
 */
export function redactJsonText(text: string): string {
  const end = text.endsWith('\n') ? '\n' : '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return redactString(text);
  }
  if (value === null || typeof value !== 'object') return redactString(text);
  const masked = JSON.stringify(redact(value));
  // nothing to mask: the text as it was (a provider's error body stays byte for byte)
  return masked === JSON.stringify(value) ? text : masked + end;
}

/**
 * Deep copy with secret-named keys replaced and secret-shaped strings masked. `fileText`: its
 * strings are what tools read and printed (hook payloads), masked with `redactToolText`.
 */
export function redact<T>(value: T, depth = 0, opts: { fileText?: boolean } = {}): T {
  if (depth > 20) return value;
  if (typeof value === 'string') return (opts.fileText ? redactToolText(value) : redactString(value)) as T;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, opts)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (HEADERS_NAME.test(k) && typeof v === 'string') {
        // an environment's headers (ANTHROPIC_CUSTOM_HEADERS): each header's value, names kept
        out[k] = maskHeaderValues(redactString(v), false);
      } else if (isSecretName(k) && (typeof v === 'string' || typeof v === 'number')) {
        out[k] = v === '' ? '' : REDACTED;
      } else {
        out[k] = redact(v, depth + 1, opts);
      }
    }
    return out as T;
  }
  return value;
}

/**
 * A URL's password shown as `***`, the one in its user part and one given as a query parameter
 * (`postgres://host/db?password=...`, libpq's `sslpassword`, a `host=db password=...` string) alike: the store's location in
 * /health and messages (the CLI compares it).
 */
export function maskedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@]*@/, '//$1:***@').replace(/((?:^|[?&;\s])(?:ssl)?(?:password|passwd|pwd|pass|secret|token|api_?key)=)[^&#\s]*/gi, '$1***');
}
