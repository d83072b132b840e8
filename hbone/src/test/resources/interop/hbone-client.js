// An HBONE client on Node's http2 module, against an Ambit HBONE server.
// usage: node hbone-client.js <port> <key.pem> <cert.pem> <ca.pem> <expected server SPIFFE id> <authority> <streams> <bytes>
// Opens <streams> CONNECT streams on one connection; on each, after the 200, sends <bytes> random bytes,
// half-closes, and checks the echo. Prints one JSON line with the outcome; exit code 0 on success.
'use strict';
const http2 = require('http2');
const fs = require('fs');
const crypto = require('crypto');

const [port, keyFile, certFile, caFile, expected, authority, streamsArg, bytesArg] = process.argv.slice(2);
const streams = Number(streamsArg);
const size = Number(bytesArg);

function fail(err) {
  console.log(JSON.stringify({ ok: false, error: String(err && err.stack || err) }));
  process.exit(1);
}
setTimeout(() => fail('timed out'), 30000).unref();

const session = http2.connect(`https://127.0.0.1:${port}`, {
  key: fs.readFileSync(keyFile),
  cert: fs.readFileSync(certFile),
  ca: fs.readFileSync(caFile),
  minVersion: 'TLSv1.3',
  ALPNProtocols: ['h2'],
  // SPIFFE: the identity is a URI SAN; there is no host name to check.
  checkServerIdentity: (host, cert) => {
    const sans = (cert.subjectaltname || '').split(', ');
    return sans.includes('URI:' + expected) ? undefined : new Error('unexpected server identity ' + cert.subjectaltname);
  },
});
session.on('error', fail);

function tunnel(i) {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': 'CONNECT',
      ':authority': authority,
      'baggage': 'k8s.namespace.name=default,service.name=node-client',
      'forwarded': 'for="127.0.0.1:' + (40000 + i) + '"',
      'traceparent': '00-' + crypto.randomBytes(16).toString('hex') + '-' + crypto.randomBytes(8).toString('hex') + '-00',
    });
    const payload = crypto.randomBytes(size);
    const chunks = [];
    req.on('response', (headers) => {
      if (headers[':status'] !== 200) {
        reject(new Error('status ' + headers[':status']));
        req.close();
        return;
      }
      req.end(payload); // data, then END_STREAM (half-close)
    });
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const echoed = Buffer.concat(chunks);
      if (Buffer.compare(echoed, payload) === 0) resolve(echoed.length);
      else reject(new Error('echo mismatch on stream ' + i + ': ' + echoed.length + ' bytes'));
    });
    req.on('error', reject);
  });
}

session.on('connect', async () => {
  try {
    const counts = await Promise.all(Array.from({ length: streams }, (_, i) => tunnel(i)));
    const socket = session.socket;
    console.log(JSON.stringify({
      ok: true,
      streams: counts.length,
      bytes: counts.reduce((a, b) => a + b, 0),
      alpn: session.alpnProtocol,
      protocol: socket.getProtocol(),
      cipher: socket.getCipher().name,
      peer: socket.getPeerCertificate().subjectaltname,
    }));
    session.close();
  } catch (e) {
    fail(e);
  }
});
