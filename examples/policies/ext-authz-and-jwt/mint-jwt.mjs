#!/usr/bin/env node
// Mints a JWT for the example, signed with a local RSA key (created on first use), and writes the JWKS
// a RequestAuthentication can point at. Node's own crypto, no packages.
//
//   node mint-jwt.mjs [--dir DIR] [--sub alice] [--role admin] [--aud api.shop.example] [--ttl 3600]
//                     [--iss https://auth.shop.example]
//
// Prints the token on stdout. DIR (default: this directory) receives key.pem (private, keep it) and
// jwks.json (public; serve it, or paste it as the rule's inline jwks).
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const dir = args.dir ?? dirname(fileURLToPath(import.meta.url));
const keyFile = join(dir, 'key.pem');
if (!existsSync(keyFile)) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}
const key = createPrivateKey(readFileSync(keyFile));
const jwk = { ...createPublicKey(key).export({ format: 'jwk' }), kid: 'example-1', alg: 'RS256', use: 'sig' };
writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }, null, 2) + '\n');

const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const header = { alg: 'RS256', typ: 'JWT', kid: 'example-1' };
const claims = {
  iss: args.iss ?? 'https://auth.shop.example',
  sub: args.sub ?? 'alice',
  aud: args.aud ?? 'api.shop.example',
  role: args.role ?? 'admin',
  iat: now,
  exp: now + Number(args.ttl ?? 3600),
};
const input = `${b64(header)}.${b64(claims)}`;
const signature = sign('sha256', Buffer.from(input), key).toString('base64url');
process.stdout.write(`${input}.${signature}\n`);
