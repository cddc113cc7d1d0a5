import { redactString } from '../core/redact.js';

/**
 * Files that hold credentials by their nature. Their contents never go into an agent's context
 * (an LLM provider's request, a transcript), whatever an agent's include rules say: they are
 * listed in the structure, by path only. Examples of a configuration stay (`.env.example`).
 */
const SECRET_NAME = new RegExp(
  [
    String.raw`^\.env(?:\..+)?$`, // .env, .env.local, .env.production
    String.raw`\.(?:pem|key|p12|pfx|jks|keystore|keytab|kdbx|tfvars|tfstate(?:\.backup)?)$`,
    String.raw`^id_(?:rsa|dsa|ecdsa|ed25519)(?!.*\.pub$)`, // SSH private keys (not the .pub)
    String.raw`^\.(?:npmrc|netrc|pgpass|git-credentials|htpasswd|pypirc)$`,
    // credential documents by name: credentials.json, client_secret.json, secrets.yaml
    String.raw`(?:credential|secret)[^/]*\.(?:json|ya?ml|toml|ini|conf|cfg|properties|txt|xml)$`,
  ].join('|'),
  'i',
);
const EXAMPLE = /^\.env\.(?:example|sample|template|dist|defaults)$/i;
/** Files inside a folder of credentials (`~/.aws/credentials`, `.docker/config.json`, `.ssh/...`). */
const SECRET_DIR = /(?:^|\/)(?:\.aws|\.ssh|\.gnupg|\.docker)\//;

export function isSecretFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (EXAMPLE.test(name)) return false;
  return SECRET_NAME.test(name) || SECRET_DIR.test(path);
}

const PRIVATE_KEY_BLOCK = /(-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)/g;
const TOKEN_SHAPES: RegExp[] = [
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key ids
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g, // GitLab
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys
  /\b(?:sk|rk)_live_[A-Za-z0-9]{16,}\b/g, // Stripe
];

/**
 * A file's text with credentials masked: private key blocks, and provider keys and tokens by
 * their shape (besides what `redactString` masks for logs: Anthropic/OpenAI keys, JWTs, bearer
 * tokens, URL passwords). For a secret that sits in an ordinary file (a key pasted into a config).
 */
export function redactFileText(text: string): string {
  let out = text.replace(PRIVATE_KEY_BLOCK, '$1\n[REDACTED]\n$2');
  for (const re of TOKEN_SHAPES) out = out.replace(re, '[REDACTED]');
  return redactString(out);
}
