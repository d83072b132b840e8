// Sends one request on Node's http2 client and prints the status: a plain GET (not CONNECT) or a CONNECT
// with the given authority. usage: node hbone-status.js <port> <key> <cert> <ca> <GET|CONNECT> <authority>
'use strict';
const http2 = require('http2');
const fs = require('fs');

const [port, keyFile, certFile, caFile, method, authority] = process.argv.slice(2);
setTimeout(() => { console.log(JSON.stringify({ error: 'timed out' })); process.exit(1); }, 30000).unref();
const session = http2.connect(`https://127.0.0.1:${port}`, {
  key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile), ca: fs.readFileSync(caFile),
  ALPNProtocols: ['h2'], checkServerIdentity: () => undefined,
});
session.on('error', (e) => { console.log(JSON.stringify({ error: String(e) })); process.exit(1); });
const headers = method === 'CONNECT' ? { ':method': 'CONNECT', ':authority': authority } : { ':method': 'GET', ':path': '/' };
const req = session.request(headers);
req.on('response', (h) => { console.log(JSON.stringify({ status: h[':status'] })); session.close(); });
req.on('error', () => {});
req.end();
