// An HBONE server on Node's http2 module, for an Ambit HBONE client: requires a client certificate from
// the CA, answers CONNECT with 200 and echoes the stream (half-close included), anything else with 400.
// usage: node hbone-server.js <key.pem> <cert.pem> <ca.pem>
// Prints {"port": N} once listening; prints {"sessions": N, "streams": M} and exits when stdin closes.
'use strict';
const http2 = require('http2');
const fs = require('fs');

const [keyFile, certFile, caFile] = process.argv.slice(2);
let sessions = 0;
let streams = 0;
const server = http2.createSecureServer({
  key: fs.readFileSync(keyFile),
  cert: fs.readFileSync(certFile),
  ca: fs.readFileSync(caFile),
  requestCert: true,
  rejectUnauthorized: true,
  minVersion: 'TLSv1.3',
  ALPNProtocols: ['h2'],
});
server.on('session', () => { sessions++; });
server.on('stream', (stream, headers) => {
  streams++;
  if (headers[':method'] !== 'CONNECT') {
    stream.respond({ ':status': 400 }, { endStream: true });
    return;
  }
  const peer = stream.session.socket.getPeerCertificate().subjectaltname || '';
  stream.respond({ ':status': 200, 'x-peer': peer, 'x-authority': headers[':authority'], 'x-baggage': headers['baggage'] || '' });
  stream.pipe(stream); // echo; our END_STREAM ends the pipe, which ends our side
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.stdin.on('end', () => {
  console.log(JSON.stringify({ sessions, streams }));
  process.exit(0);
});
process.stdin.resume();
