import { CREDENTIAL_SHAPES, maskFileCredentials, maskPrivateKeys } from '../core/redact.js';

/**
 * Files that hold credentials by their nature. Their contents never go into an agent's context
 * (an LLM provider's request, a transcript), whatever an agent's include rules say: they are
 * listed in the structure, by path only. Examples of a configuration stay (`.env.example`), and
 * so do ordinary files whose names merely mention a secret (a `secret-scan.yml` workflow, a Helm
 * `templates/secret.yaml`, `id_rsa_parser.rs`).
 */
const ENV_FILE = /^\.env(?:\.[\w-]+)*$/i;
const ENV_EXAMPLE = /^\.env(?:\.[\w-]+)*\.(?:example|sample|template|dist|defaults)$/i;
const CODE = /\.(?:[cm]?[jt]sx?|py|rb|go|rs|java|kt|php|cs|d\.ts)$/i;
const KEY_FILE = /\.(?:pem|key|ppk|p12|pfx|jks|keystore|keytab|kdbx|tfvars|tfstate(?:\.backup)?)$/i;
const SSH_KEY = /^id_(?:rsa|dsa|ecdsa|ed25519)$/;
const DOT_CREDENTIALS = /^\.(?:npmrc|netrc|pgpass|git-credentials|htpasswd|pypirc|vault-token|s3cfg|boto|dockercfg|terraformrc)$/;
/** CCO's own key files, wherever a project holds a copy of a CCO home. */
const CCO_SECRETS = /^(?:access-token|jwt-secret|jwt-refresh-secret|sealing\.key)$/;
/** credentials.json, client_secret_123.json, secrets.yaml, db.credentials.toml: names that are the word. */
const CREDENTIAL_DOC = /^(?:[\w-]*[._-])?(?:credentials?|secrets?|client_secret[\w-]*)\.(?:json|ya?ml|toml|ini|properties|env)$/i;
/** Places where such names are templates or tooling, not credentials. */
const NOT_CREDENTIAL_PLACE = /(?:^|\/)(?:templates|\.github|charts|docs?)\//;
/** The credential files of tools' home folders, when a project holds one. */
const TOOL_CREDENTIALS = /(?:^|\/)(?:\.aws\/(?:credentials|config)|\.docker\/config\.json|\.kube\/config|\.terraform\.d\/credentials\.tfrc\.json|\.ssh\/(?!.*\.pub$)(?!known_hosts$)(?!config$)(?!authorized_keys$)[^/]+)$/;

export function isSecretFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (ENV_FILE.test(name)) return !ENV_EXAMPLE.test(name) && !CODE.test(name);
  if (KEY_FILE.test(name) || SSH_KEY.test(name) || DOT_CREDENTIALS.test(name) || CCO_SECRETS.test(name) || TOOL_CREDENTIALS.test(path)) return true;
  return CREDENTIAL_DOC.test(name) && !NOT_CREDENTIAL_PLACE.test(path);
}

/**
 * Keys and tokens by their shape, made for source text (the log redactor's patterns cut kebab
 * names such as `task-scheduler-service`): not preceded by a word character or a dash, and with a
 * digit in them.
 */
const TOKEN_SHAPES: RegExp[] = [
  /(?<![\w-])sk-(?:ant-|proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}/g, // Anthropic, OpenAI
  ...CREDENTIAL_SHAPES,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWTs
];
/** The password of a URL with credentials (`postgres://app:s3cret@db`): no slash before the `@`. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s'"`]+:)[^@\s/'"`]+(@)/gi;

/**
 * A file's text with credentials masked: private key blocks, the values of settings named as
 * secrets (`password: …` in a database.yml, `SECRET_KEY = "…"` in a settings.py, `"PASSWORD": "…"`:
 * `maskFileCredentials`), provider keys and tokens by their shape, URL passwords. For a secret
 * that sits in an ordinary file (a key pasted into a config).
 */
export function redactFileText(text: string): string {
  let out = maskFileCredentials(maskPrivateKeys(text));
  for (const re of TOKEN_SHAPES) out = out.replace(re, '[REDACTED]');
  return out.replace(URL_PASSWORD, '$1[REDACTED]$2');
}
