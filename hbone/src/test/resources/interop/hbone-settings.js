// What an Ambit HBONE endpoint advertises in HTTP/2, as Node's http2 module reads it off the wire: the
// peer's SETTINGS frame and the connection-level window it grants (65,535 plus its WINDOW_UPDATEs on
// stream 0). Used both ways:
//   node hbone-settings.js client <host> <port> <key.pem> <cert.pem> <ca.pem>  dials an Ambit server
//   node hbone-settings.js server <host> <key.pem> <cert.pem> <ca.pem>         is dialled by an Ambit
//                                                                client; prints {"port": N} first
// Prints one JSON line {"settings": {...}, "connectionWindow": N}; exit code 0 on success.
'use strict';
const http2 = require('http2');
const fs = require('fs');

const [mode, ...args] = process.argv.slice(2);

function fail(err) {
  console.log(JSON.stringify({ ok: false, error: String(err && err.stack || err) }));
  process.exit(1);
}
setTimeout(() => fail('timed out'), 30000).unref();

// The WINDOW_UPDATEs on stream 0 may come frames after the SETTINGS: a PING sent now is acknowledged only
// after everything the peer wrote before the acknowledgement, so its answer means the window is complete.
function report(session) {
  session.ping((err) => {
    if (err) {
      fail(err);
    }
    console.log(JSON.stringify({ settings: session.remoteSettings, connectionWindow: session.state.remoteWindowSize }));
    process.exit(0);
  });
}

function tls(keyFile, certFile, caFile) {
  return {
    key: fs.readFileSync(keyFile),
    cert: fs.readFileSync(certFile),
    ca: fs.readFileSync(caFile),
    minVersion: 'TLSv1.3',
    ALPNProtocols: ['h2'],
  };
}

if (mode === 'client') {
  const [host, port, keyFile, certFile, caFile] = args;
  const session = http2.connect(`https://${host}:${port}`, {
    ...tls(keyFile, certFile, caFile),
    checkServerIdentity: () => undefined, // SPIFFE URI SAN, no host name: the chain check is enough here
  });
  session.on('error', fail);
  session.on('remoteSettings', () => report(session));
} else if (mode === 'server') {
  const [host, keyFile, certFile, caFile] = args;
  const server = http2.createSecureServer({ ...tls(keyFile, certFile, caFile), requestCert: true, rejectUnauthorized: true });
  server.on('session', (session) => {
    session.on('error', fail);
    session.on('remoteSettings', () => report(session));
  });
  server.on('stream', (stream) => stream.respond({ ':status': 200 }));
  server.listen(0, host, () => console.log(JSON.stringify({ port: server.address().port })));
} else {
  fail('usage: hbone-settings.js client|server ...');
}
