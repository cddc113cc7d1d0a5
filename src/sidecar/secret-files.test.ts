import { describe, expect, it } from 'vitest';
import { isSecretFile, redactFileText } from './secret-files.js';

describe('credential files and masked text', () => {
  it('tells credential files from ordinary files that mention a secret', () => {
    for (const p of ['.env', '.env.local', 'app/.env.production', 'deploy.pem', 'certs/server.key', '.ssh/id_ed25519', 'id_rsa', 'config/secrets.yaml', 'config/gcp-credentials.json', 'client_secret_123.json', '.npmrc', '.aws/credentials', '.docker/config.json', 'prod.tfvars', 'deploy.ppk', '.kube/config', 'home/.kube/config', '.vault-token', '.s3cfg', '.boto', '.terraform.d/credentials.tfrc.json']) {
      expect(isSecretFile(p), p).toBe(true);
    }
    for (const p of ['.env.example', '.env.local.example', '.env.production.sample', 'src/.env.ts', 'src/.env.d.ts', '.docker/php/Dockerfile', '.docker/nginx/default.conf', 'id_rsa_test.go', 'src/id_ed25519_parser.rs', '.github/workflows/secret-scan.yml', 'charts/app/templates/secret.yaml', '.secretlintrc.json', 'docs/credentials-guide.txt', 'secret_santa.json', '.ssh/id_ed25519.pub', '.ssh/known_hosts', 'src/secrets.ts']) {
      expect(isSecretFile(p), p).toBe(false);
    }
  });

  it('masks keys, tokens and URL passwords, and leaves ordinary source as it is', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretkeymaterial\nabc+/=\n-----END RSA PRIVATE KEY-----';
    expect(redactFileText(`KEY = """${pem}"""`)).toBe('KEY = """-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----"""');
    expect(redactFileText('{"private_key": "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----"}')).toBe('{"private_key": "[REDACTED]"}');
    // settings named as secrets, in the config files and settings modules agents read
    expect(redactFileText('production:\n  adapter: postgresql\n  password: hunter2hunter2\n  username: app')).toBe('production:\n  adapter: postgresql\n  password: [REDACTED]\n  username: app');
    expect(redactFileText('SECRET_KEY = "django-insecure-abc123"\nDATABASES = {"default": {"PASSWORD": "pw-in-dict"}}')).toBe('SECRET_KEY = "[REDACTED]"\nDATABASES = {"default": {"PASSWORD": "[REDACTED]"}}');
    // a call, a reference, an empty value: code, not a secret
    for (const code of ['password = get_password()', 'password = os.environ.get("DB_PASSWORD")', 'api_key: ${API_KEY}', 'secret = ""']) expect(redactFileText(code), code).toBe(code);
    expect(redactFileText('ANTHROPIC_API_KEY=sk-ant-api03-abcDEF123456ghiJKL7890xyz')).toBe('ANTHROPIC_API_KEY=[REDACTED]');
    expect(redactFileText('url = "postgres://app:s3cret@db:5432/x"')).toBe('url = "postgres://app:[REDACTED]@db:5432/x"');
    const source = [
      "import { run } from './task-scheduler-service';",
      '.mask-image-gradient-overlay { color: red }',
      'pip install flask-sqlalchemy-migrate-tool',
      "const me = 'http://localhost:8080/api/users/@me';",
      "const BEGIN = '-----BEGIN PRIVATE KEY-----'; parse(text); const END = '-----END PRIVATE KEY-----';",
      'headers: { authorization: `Bearer ${token}` }',
    ].join('\n');
    expect(redactFileText(source)).toBe(source);
  });
});
