import { describe, expect, it } from 'vitest';
import { REDACTED, maskedUrl, redact, redactJsonText, redactProse, redactString, redactToolText } from './redact.js';

describe('redact', () => {
  it('masks provider keys, bearer tokens and JWTs inside text', () => {
    const s = redactString(
      'key sk-ant-api03-abcdefghijklmnop and Bearer abcdefghijklmnopqrstuv and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMTIz',
    );
    expect(s).not.toContain('abcdefghijklmnop');
    expect(s).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(s).toContain('Bearer [REDACTED]');
  });

  it('masks the password of a database URL but keeps the host', () => {
    const s = redactString('postgres://app:hunter2secret@db.internal:5432/x');
    expect(s).toBe(`postgres://app:${REDACTED}@db.internal:5432/x`);
  });

  it('masks the password of any URL with credentials: rediss, an HTTP proxy, a provider base URL', () => {
    for (const [url, masked] of [
      ['rediss://default:RedisPw77@cache.example:6380', `rediss://default:${REDACTED}@cache.example:6380`],
      ['http://alice:ProxyPw9@proxy.corp:3128', `http://alice:${REDACTED}@proxy.corp:3128`],
      ['HTTPS_PROXY=https://u:p@proxy:8080', `HTTPS_PROXY=https://u:${REDACTED}@proxy:8080`],
      ['https://svc:Pa55w0rdXYZ@llm.example/v1', `https://svc:${REDACTED}@llm.example/v1`],
      ['redis://:onlypw@127.0.0.1:6379', `redis://:${REDACTED}@127.0.0.1:6379`],
    ]) expect(redactString(url as string)).toBe(masked);
    // a URL without credentials, and a port, stay as they are
    expect(redactString('http://127.0.0.1:8000/v1 and https://api.anthropic.com')).toBe('http://127.0.0.1:8000/v1 and https://api.anthropic.com');
  });

  it('masks values of names ending in "key" (CCO_MCP_KEY, accessKey), not of lookup keys', () => {
    expect(redact({ CCO_MCP_KEY: 'plain-looking-value', accessKey: 'v', key: 'k', signing_key: 's' })).toEqual({ CCO_MCP_KEY: REDACTED, accessKey: REDACTED, key: REDACTED, signing_key: REDACTED });
    const shown = { cacheKey: 'abc123', cache_key: 'def', routeKey: 'r', monkey: 'banana', keys: 2 };
    expect(redact(shown)).toEqual(shown);
  });

  it('replaces secret-named keys deeply and leaves the rest', () => {
    const out = redact({ a: 1, nested: { apiKey: 'xyz', headers: { authorization: 'Basic q' } }, list: [{ token: 't' }] });
    expect(out).toEqual({ a: 1, nested: { apiKey: REDACTED, headers: { authorization: REDACTED } }, list: [{ token: REDACTED }] });
  });

  it('shows settings named after secrets that hold none (counts, lifetimes, where a secret lives)', () => {
    const shown = { token_ttl_seconds: 14400, max_tokens: 8192, input_tokens: 12, cache_read_input_tokens: 3, tokenFile: '/home/u/.cco/token', api_key_env: 'ANTHROPIC_API_KEY', token_expires_at: 5 };
    expect(redact(shown)).toEqual(shown);
    const hidden = { accessToken: 'abc', api_key: 'k', password: 'p', client_secret: 's', refresh_token: 'r', 'x-api-key': 'x', cookie: 'c' };
    expect(Object.values(redact(hidden))).toEqual(Object.keys(hidden).map(() => REDACTED));
  });

  it('judges a name by whole words: "admin" is not "min", "account" not "count"', () => {
    const hidden = { CCO_ADMIN_PASSWORD: 'adminPW777xx', ADMIN_TOKEN: 'a', SERVICE_ACCOUNT_TOKEN: 'b', adminPassword: 'c', admin_secret: 'd', maxSecret: 'e', MINIO_SECRET_KEY: 'f' };
    expect(Object.values(redact(hidden))).toEqual(Object.keys(hidden).map(() => REDACTED));
    const shown = { CCO_ADMIN_PASSWORD_FILE: '/run/secrets/admin', token_count: 3, tokenLimit: 10, secret_file: '/x', max_tokens_per_minute: 9 };
    expect(redact(shown)).toEqual(shown);
  });

  it("masks other services' tokens by shape and NAME=value assignments in free text (hook payloads: shell commands, cat .env)", () => {
    const gemini = `AIzaSy${'D'.repeat(33)}`;
    const cmd = `export GEMINI_API_KEY=${gemini} && export GITHUB_TOKEN=github_pat_11ABCDEFG0123456789abcdefghij HF_TOKEN=hf_${'a1'.repeat(17)} git push`;
    const out = redactString(cmd);
    expect(out).not.toContain(gemini);
    expect(out).not.toContain('github_pat_11');
    expect(out).not.toContain('hf_a1');
    expect(out).toContain('git push');
    const env = 'GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nAWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\nDB_PASSWORD: hunter2\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE';
    const masked = redactString(env);
    for (const secret of ['ghp_abc', 'wJalrXUtnFEMI', 'hunter2', 'AKIAIOSFODNN7EXAMPLE']) expect(masked).not.toContain(secret);
    expect(masked).toContain('GITHUB_TOKEN=[REDACTED]');
    // amounts, references to other variables and where a key lives stay readable
    const shown = 'MAX_TOKENS=4096 TOKEN_TTL_SECONDS=60 API_KEY_ENV=ANTHROPIC_API_KEY export OPENAI_API_KEY=$OPENAI_KEY_PROD';
    expect(redactString(shown)).toBe(shown);
  });

  it('masks assignments inside serialised JSON per value, keeping the JSON whole (log lines, error bodies)', () => {
    const line = `${JSON.stringify({ level: 'error', command: 'DEPLOY_TOKEN="s3cr3tvalue" ./deploy.sh', out: 'GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nDB_PASSWORD=hunter2\nPORT=3000', other: 'MY_TOKEN=', next: 'x' })}\n`;
    const masked = redactJsonText(line);
    expect(masked.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(masked) as Record<string, string>;
    expect(parsed.command).toBe('DEPLOY_TOKEN=[REDACTED] ./deploy.sh');
    expect(parsed.out).toBe('GITHUB_TOKEN=[REDACTED]\nDB_PASSWORD=[REDACTED]\nPORT=3000');
    expect(parsed).toMatchObject({ other: 'MY_TOKEN=', next: 'x' });
    // plain text still works, escaped quotes too
    expect(redactString('run DEPLOY_TOKEN=\\"abc123\\" now')).toBe('run DEPLOY_TOKEN=[REDACTED] now');
    expect(redactJsonText('not json API_KEY=abc')).toBe('not json API_KEY=[REDACTED]');
  });

  it('masks the credentials of files a tool reads (hook payloads): private keys, .npmrc, .netrc, .pgpass, JSON and YAML settings', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHv0bXlzZWNyZXRrZXltYXRlcmlhbDEyMzQ1Njc4OTA=\n-----END PRIVATE KEY-----\n';
    const openssh = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDsecretsecretsecretsecretsecretsecretsecretsecret==\n-----END OPENSSH PRIVATE KEY-----';
    const npmrc = `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_${'A1b2'.repeat(9)}\n//npm.corp.example/:_password=c2VjcmV0cGFzcw==`;
    const netrc = 'machine api.example.com login alice password s3cretNetrc\nmachine other.example\n  login bob\n  password 0therS3cret\n';
    const pgpass = 'db.example.com:5432:app:appuser:pgPa55word\n*:*:*:postgres:localPa55\n';
    const json = '{\n  "database": { "host": "db", "password": "jsonPa55", "password_file": "/run/secrets/db" },\n  "apiKey": "abcDEF123456", "max_tokens": 10\n}';
    const yaml = 'db:\n  host: localhost\n  password: yamlPa55\n  client_secret = iniSecret99\nsecret_path: /etc/app/secret\npassword: ${DB_PASSWORD}\n';
    for (const text of [pem, openssh, npmrc, netrc, pgpass, json, yaml]) {
      const out = redactToolText(text);
      for (const secret of ['MC4CAQAw', 'b3BlbnNzaC1r', 'npm_A1b2', 'c2VjcmV0cGFzcw', 's3cretNetrc', '0therS3cret', 'pgPa55word', 'localPa55', 'jsonPa55', 'abcDEF123456', 'yamlPa55', 'iniSecret99']) {
        expect(out, text).not.toContain(secret);
      }
    }
    // what a reader needs to see what it was stays: markers, hosts, users, where secrets live, references
    expect(redactToolText(pem)).toBe('-----BEGIN PRIVATE KEY-----\n[REDACTED]\n-----END PRIVATE KEY-----\n');
    expect(redactToolText(netrc)).toContain('login alice password [REDACTED]');
    expect(redactToolText(pgpass)).toContain('db.example.com:5432:app:appuser:[REDACTED]');
    expect(redactToolText(json)).toContain('"password_file": "/run/secrets/db"');
    expect(redactToolText(json)).toContain('"max_tokens": 10');
    expect(redactToolText(yaml)).toContain('secret_path: /etc/app/secret');
    expect(redactToolText(yaml)).toContain('password: ${DB_PASSWORD}');
    // a payload object (PostToolUse of a Read) is masked the same way through redact()
    const payload = redact({ tool_name: 'Read', tool_response: { file: { content: `${pem}\n${yaml}` } } }, 0, { fileText: true });
    expect(JSON.stringify(payload)).not.toContain('MC4CAQAw');
    expect(JSON.stringify(payload)).not.toContain('yamlPa55');
    // a private key is masked in any text; settings only in what tools read: in prose they are sentences
    expect(redactString(pem)).not.toContain('MC4CAQAw');
    const requirement = 'Build a sign-up form:\n- password: string input, at least 12 characters\ninterface User { apiKey: string; }\n{"api_key": "required"}\npassword: hunter2\n';
    expect(redactString(requirement)).toBe(requirement);
    expect(redactToolText('- password: string input, at least 12 characters\napiKey: string;\n"api_key": "required"')).toBe('- password: string input, at least 12 characters\napiKey: string;\n"api_key": "required"');
    // ordinary prose and code stay as they are
    const prose = 'The password is checked by validate(); set the token TTL to 60 seconds.\nconst secret = process.env.SECRET;\n12:30:45';
    expect(redactToolText(prose)).toBe(prose);
  });

  it("masks the values of secret-named query parameters in URLs, keeping the names and the other parameters", () => {
    for (const [url, masked] of [
      ['http://127.0.0.1:47311/?api_key=QSECRET9', `http://127.0.0.1:47311/?api_key=${REDACTED}`],
      ['http://corpuser:pw@127.0.0.1:47311/?token=QUERYSECRET', `http://corpuser:${REDACTED}@127.0.0.1:47311/?token=${REDACTED}`],
      ['https://llm.example/v1?key=K1&model=haiku&access_token=T2', `https://llm.example/v1?key=${REDACTED}&model=haiku&access_token=${REDACTED}`],
      ['https://b.blob.example/f?sv=2024&sig=S1%2Bx&X-Amz-Signature=S2&X-Amz-Credential=C3&X-Amz-Date=20250101', `https://b.blob.example/f?sv=2024&sig=${REDACTED}&X-Amz-Signature=${REDACTED}&X-Amz-Credential=${REDACTED}&X-Amz-Date=20250101`],
      ['https://x.example/cb?code=OAUTHCODE&state=abc#access_token=FRAG1', `https://x.example/cb?code=${REDACTED}&state=abc#access_token=${REDACTED}`],
      ['GET /api/x?apikey=A1&secret=S1&password=P1&auth=U1&limit=5 failed', `GET /api/x?apikey=${REDACTED}&secret=${REDACTED}&password=${REDACTED}&auth=${REDACTED}&limit=5 failed`],
      ['see (https://x.example/?token=abc123).', `see (https://x.example/?token=${REDACTED}).`],
    ]) expect(redactString(url as string)).toBe(masked);
    // names that hold no secret, and empty values, stay
    const plain = 'https://x.example/?max_tokens=100&token_ttl_seconds=60&sort_key=name&country_code=FR&token=&q=a';
    expect(redactString(plain)).toBe(plain);
    // through redact(): a base_url in a routing config, an env value
    expect(redact({ providers: [{ base_url: 'http://127.0.0.1:1/?token=QUERYSECRET' }] })).toEqual({ providers: [{ base_url: `http://127.0.0.1:1/?token=${REDACTED}` }] });
    expect(JSON.stringify(redact({ CCO_ANTHROPIC_BASE_URL: 'http://127.0.0.1:47311/?api_key=QSECRET9' }))).not.toContain('QSECRET9');
  });

  it('masks each header of a *_HEADERS / *_HEADER variable, keeping the header names', () => {
    expect(redact({ ANTHROPIC_CUSTOM_HEADERS: 'x-corp-auth: CORPHEADERSECRET' })).toEqual({ ANTHROPIC_CUSTOM_HEADERS: `x-corp-auth: ${REDACTED}` });
    expect(redact({ ANTHROPIC_CUSTOM_HEADERS: 'x-corp-auth: S1\nX-Tenant:S2\r\n\nAuthorization: Bearer abcdefghijkl' })).toEqual({
      ANTHROPIC_CUSTOM_HEADERS: `x-corp-auth: ${REDACTED}\nX-Tenant:${REDACTED}\r\n\nAuthorization: ${REDACTED}`,
    });
    expect(redact({ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=S1,x-team=S2' })).toEqual({ OTEL_EXPORTER_OTLP_HEADERS: `api-key=${REDACTED},x-team=${REDACTED}` });
    expect(redact({ CCO_AUTH_HEADER: 'x-gw: S1', OTHER_HEADERS: 'not a header line S3', EMPTY_HEADERS: '' })).toEqual({ CCO_AUTH_HEADER: `x-gw: ${REDACTED}`, OTHER_HEADERS: REDACTED, EMPTY_HEADERS: '' });
    // in text (a shell command, a .env): the same, quoted or bare; code that names a header stays
    expect(redactString(`ANTHROPIC_CUSTOM_HEADERS="x-corp-auth: S1" claude`)).toBe(`ANTHROPIC_CUSTOM_HEADERS="x-corp-auth: ${REDACTED}" claude`);
    expect(redactString('ANTHROPIC_CUSTOM_HEADERS=x-corp-auth: S1\nNEXT=1')).toBe(`ANTHROPIC_CUSTOM_HEADERS=x-corp-auth: ${REDACTED}\nNEXT=1`);
    const code = "export const TOKEN_HEADER = 'x-cco-token';\nconst HOP_HEADERS = new Set(['connection']);";
    expect(redactString(code)).toBe(code);
  });

  it('judges query parameters by whole name in logs: pass_rate, signature_version hold no secret', () => {
    const plain = 'GET /api/items?page=2&pass_rate=0.9&signature_version=4&country_code=FR&max_tokens=100 took 3 ms';
    expect(redactString(plain)).toBe(plain);
    // the secret names in the same URL are still masked
    expect(redactString('GET /x?pass_rate=0.9&signature=S1&pwd=P1&jwt=J1')).toBe(`GET /x?pass_rate=0.9&signature=${REDACTED}&pwd=${REDACTED}&jwt=${REDACTED}`);
  });

  it('leaves a requirement as written (redactProse): URLs, parameters and headers of a spec are its words', () => {
    for (const requirement of [
      'Build an OAuth flow: the provider redirects to /auth/callback?code=abc123&state=xyz, exchange the code for a token',
      'Add pagination: GET /api/items?page=2&pass_rate=0.9&signature_version=4&auth=basic&country_code=FR&max_tokens=100',
      'Set ACCESS_CONTROL_ALLOW_HEADERS: Content-Type: application/json\nand ANTHROPIC_CUSTOM_HEADERS: x-tenant: acme',
      'curl "http://127.0.0.1:3000/ws?token=abcdef" or ?api_key=YOUR_API_KEY; see https://example.com/#section=intro&pwd=1',
      'Build a sign-up form:\n- password: string input, at least 12 characters\n{"api_key": "required"}\nMAX_TOKENS=4096',
    ]) expect(redactProse(requirement)).toBe(requirement);
  });

  it('masks a credential pasted into a requirement (redactProse): by shape, NAME=value, a secret query name with a key-like value', () => {
    const pasted = [
      'Call https://api.example/v1?api_key=8f3a9c2e7b1d4f6a9e0c&region=eu',
      'then https://x.example/cb#access_token=ya29a0AfB_byC1x2y3z4&state=xyz',
      'and https://b.s3.example/f?X-Amz-Signature=9c2e7b1d4f6a9e0c8f3a&X-Amz-Date=20250101&sig=Xk7d9%2Bq2LmN4vP0aZ%3D',
      'with GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789, key sk-ant-api03-abcdefghijklmnop and Bearer abcdefghijklmnopqrstuv',
    ].join('\n');
    const out = redactProse(pasted);
    for (const secret of ['8f3a9c2e7b1d', 'ya29a0AfB', '9c2e7b1d4f6a', 'Xk7d9', 'ghp_abc', 'sk-ant-api03', 'abcdefghijklmnopqrstuv']) expect(out).not.toContain(secret);
    expect(out).toContain(`?api_key=${REDACTED}&region=eu`);
    expect(out).toContain(`#access_token=${REDACTED}&state=xyz`);
    expect(out).toContain(`?X-Amz-Signature=${REDACTED}&X-Amz-Date=20250101&sig=${REDACTED}`);
    expect(out).toContain(`GITHUB_TOKEN=${REDACTED}`);
  });
});

describe('names that end like a secret, and pasted credentials in prose', () => {
  it('logs mask a parameter whose last word holds a credential (oauth_signature, api_sig, db_pass, basic_auth ...)', () => {
    const names = ['oauth_signature', 'api_sig', 'apiSig', 'x-api-sig', 'request_signature', 'hmac_sig', 'auth_code', 'db_pass', 'login_pass', 'user_pwd', 'pass_phrase', 'basic_auth', 'x-auth', 'jwt_assertion'];
    for (const n of names) expect(redactString(`https://api.example.com/x?${n}=Zq9xK2mP7vL4&page=2`), n).toBe(`https://api.example.com/x?${n}=[REDACTED]&page=2`);
    // words that only start like one stay
    for (const n of ['pass_rate', 'signature_version', 'country_code', 'max_tokens']) expect(redactString(`/x?${n}=7`), n).toBe(`/x?${n}=7`);
  });

  it('prose masks a credential-shaped value under any secret-like name, and header credentials, keeping the examples', () => {
    for (const n of ['authToken', 'accessToken', 'apiToken', 'client_token', 'auth', 'code', 'db_pass']) {
      expect(redactProse(`call https://api.example.com/v1?${n}=Zq9xK2mP7vL4wR8t now`), n).toBe(`call https://api.example.com/v1?${n}=[REDACTED] now`);
    }
    expect(redactProse('ANTHROPIC_CUSTOM_HEADERS="Authorization: Basic dXNlcjpwYXNzd29yZA=="')).toBe('ANTHROPIC_CUSTOM_HEADERS="Authorization: [REDACTED]"');
    expect(redactProse('OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=hc1abc2def3ghi4jk,x-dataset=prod')).toBe('OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=[REDACTED],x-dataset=prod');
    // what a spec says stays as written
    for (const t of ['/auth/callback?code=abc123&state=xyz', '?auth=basic', '?token=abcdef', 'ACCESS_CONTROL_ALLOW_HEADERS: Content-Type: application/json']) expect(redactProse(t), t).toBe(t);
  });
});

describe('maskedUrl (the store location /health and messages show)', () => {
  it('masks the password of the user part and of the query (?password=, libpq sslpassword), nothing else', () => {
    expect(maskedUrl('postgres://cco:s3cret@db:5432/cco')).toBe('postgres://cco:***@db:5432/cco');
    // was: shown whole in /health and in "Cannot open the PostgreSQL database ..."
    expect(maskedUrl('postgres://cco@db:5432/cco?password=hunter2&sslmode=require')).toBe('postgres://cco@db:5432/cco?password=***&sslmode=require');
    expect(maskedUrl('postgres://db/cco?sslmode=verify-full&sslpassword=k3y&application_name=x')).toBe('postgres://db/cco?sslmode=verify-full&sslpassword=***&application_name=x');
    expect(maskedUrl('postgres://db/cco?sslmode=require')).toBe('postgres://db/cco?sslmode=require');
  });
});

