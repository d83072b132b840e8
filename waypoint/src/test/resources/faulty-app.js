// An endpoint app that fails the ways real apps and their connections fail, for the waypoint's upstream side:
// HTTP/1.1 and HTTP/2 (prior knowledge, gRPC too) on one port, told apart by the connection's first bytes.
// It prints one JSON line per event (connections, FINs, resets, GOAWAYs received, requests seen), so a test can
// see what reached the app and how each connection ended. Runs until stdin closes or the test kills it.
// Usage: node faulty-app.js <port> <ip> [<ip>...]
//
// Paths (any prefix of a query is ignored):
//   /ok                  200 "hello"
//   /cut                 200 with content-length 100000, 1000 bytes, then the stream is reset (HTTP/2:
//                        RST_STREAM INTERNAL_ERROR) or the connection reset (HTTP/1.1: TCP RST)
//   /cut-conn            200 with content-length 100000, 1000 bytes, then the connection ends under it (HTTP/2:
//                        a FIN after those bytes; HTTP/1.1: a TCP RST)
//   /cut-chunked         as /cut without a content-length (HTTP/1.1: chunked)
//   /cut.Cut/Stream      gRPC: one message, then RST_STREAM INTERNAL_ERROR
//   /refuse/<key>/<n>    the first n requests with <key> get RST_STREAM REFUSED_STREAM before anything is read;
//                        later ones are answered 200 "served <key> attempt <k> body <body>"
//   /refuse-late/<key>   reads 128 KiB of the body, then RST_STREAM REFUSED_STREAM (every time)
//   /goaway/<key>        the first request with <key>: GOAWAY whose last stream is below this one (so this
//                        stream was not processed); later ones are answered like /refuse
const net = require('net');
const http = require('http');
const http2 = require('http2');

const [portArg, ...ips] = process.argv.slice(2);
const port = parseInt(portArg, 10);
const log = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const attempts = {}; // key -> requests seen
let connections = 0;

function served(key, body) {
  return 'served ' + key + ' attempt ' + attempts[key] + ' body ' + body;
}

function readBody(stream, done) {
  const parts = [];
  stream.on('data', (d) => parts.push(d));
  stream.on('end', () => done(Buffer.concat(parts).toString('utf8')));
}

// ---- HTTP/2

const h2 = http2.createServer();
// The id of the waypoint-side connection of a session (known once the tap wrote the first bytes to it).
// Remembered on the session: once it is destroyed, its socket can no longer be asked.
function idOf(s) {
  if (s.ambitId === undefined && !s.destroyed) {
    s.ambitId = innerIds[s.socket.remotePort];
  }
  return s.ambitId;
}
h2.on('session', (s) => {
  s.on('goaway', (code, last) => log({ ev: 'goaway', id: idOf(s), code, last }));
  s.on('error', (e) => log({ ev: 'session-error', id: idOf(s), code: e.code || e.message }));
});
h2.on('stream', (stream, headers) => {
  const id = idOf(stream.session);
  const path = headers[':path'];
  stream.on('error', () => {});
  const seen = (extra) => log(Object.assign({ ev: 'request', id, proto: 'h2', method: headers[':method'], path }, extra));
  const parts = path.split('/');
  if (path.startsWith('/refuse/') || path.startsWith('/goaway/')) {
    const key = parts[2];
    attempts[key] = (attempts[key] || 0) + 1;
    const refuseFirst = path.startsWith('/goaway/') ? 1 : parseInt(parts[3], 10);
    if (attempts[key] <= refuseFirst) {
      seen({ refused: true, stream: stream.id });
      if (path.startsWith('/goaway/')) {
        stream.session.goaway(http2.constants.NGHTTP2_NO_ERROR, Math.max(0, stream.id - 2));
      } else {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      }
      return;
    }
    readBody(stream, (body) => {
      seen({ body, stream: stream.id });
      stream.respond({ ':status': 200, 'x-conn': String(id) });
      stream.end(served(key, body));
    });
  } else if (path.startsWith('/refuse-late/')) {
    let got = 0;
    let refused = false;
    stream.on('data', (d) => {
      got += d.length;
      if (!refused && got >= 128 * 1024) {
        refused = true;
        seen({ refused: true, bytes: got });
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      }
    });
  } else if (path === '/cut' || path === '/cut-conn' || path === '/cut-chunked') {
    seen({});
    const head = { ':status': 200, 'x-conn': String(id) };
    if (path !== '/cut-chunked') {
      head['content-length'] = '100000';
    }
    stream.respond(head);
    stream.write(Buffer.alloc(1000, 'a'), () => {
      if (path === '/cut-conn') {
        // The connection ends under the stream: the tap passes on what was written, then the end.
        cutConnections[id] = true;
        serverSides[stream.session.socket.remotePort].end();
      } else {
        stream.destroy(new Error('cut mid-body')); // RST_STREAM INTERNAL_ERROR
      }
    });
  } else if (path === '/cut.Cut/Stream') {
    seen({});
    const message = Buffer.from('first');
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.write(frame, () => stream.destroy(new Error('cut mid-stream')));
  } else {
    readBody(stream, (body) => {
      seen({ body });
      stream.respond({ ':status': 200, 'x-conn': String(id) });
      stream.end('hello');
    });
  }
});

// ---- HTTP/1.1

const h1 = http.createServer((req, res) => {
  const id = req.socket.ambitId;
  log({ ev: 'request', id, proto: 'h1', method: req.method, path: req.url });
  if (req.url === '/cut' || req.url === '/cut-conn' || req.url === '/cut-chunked') {
    const head = { 'x-conn': String(id) };
    if (req.url !== '/cut-chunked') {
      head['content-length'] = '100000';
    }
    res.writeHead(200, head);
    res.write(Buffer.alloc(1000, 'a'), () => sockets[id].resetAndDestroy());
    return;
  }
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'x-conn': String(id) });
    res.end('hello');
  });
});
h1.keepAliveTimeout = 120000; // the waypoint closes idle connections, not the app

// ---- the port: each connection to the server that speaks its protocol

const sockets = {};
function accept(socket) {
  const id = ++connections;
  socket.ambitId = id;
  sockets[id] = socket;
  log({ ev: 'connection', id });
  socket.on('end', () => log({ ev: 'fin', id }));
  socket.on('error', (e) => log({ ev: 'error', id, code: e.code || e.message }));
  socket.on('close', (hadError) => {
    delete sockets[id];
    log({ ev: 'close', id, hadError });
  });
  socket.once('data', (chunk) => {
    if (chunk.toString('latin1', 0, 3) === 'PRI') {
      tap(socket, chunk, id);
      return;
    }
    socket.pause();
    socket.unshift(chunk);
    h1.emit('connection', socket);
    socket.resume();
  });
}

// HTTP/2 connections reach the HTTP/2 server through a tap: a second, inner connection carries the bytes both
// ways. Why: Node's HTTP/2 session stops reading its socket once a client's GOAWAY left it without streams, and
// closes its side at once, so it would report neither how the client then ends the connection (FIN or reset)
// nor give the client the time to end it. The tap reads the waypoint's side to its end and keeps that side open
// until the waypoint ends it, as a server that waits for its client to close does.
const innerIds = {}; // inner connection's local port -> the waypoint-side connection's id
const serverSides = {}; // inner connection's local port -> the HTTP/2 server's socket of it
const cutConnections = {}; // ids of waypoint-side connections the app cut (/cut-conn)
let innerServer;
function tap(socket, first, id) {
  socket.pause(); // until the inner connection is there (pipe resumes it)
  const inner = net.connect(innerServer.address().port, innerServer.address().address, () => {
    innerIds[inner.localPort] = id;
    inner.write(first);
    socket.pipe(inner, { end: false });
    inner.pipe(socket, { end: false });
  });
  inner.on('error', () => {});
  socket.on('close', () => inner.destroy());
  // Our side ends only after the waypoint ended its own (then at once, or when the server is done too), or
  // when the app cut the connection on purpose (/cut-conn).
  socket.on('end', () => {
    inner.end();
    if (inner.readableEnded) {
      socket.end();
    }
  });
  inner.on('end', () => {
    if (socket.readableEnded || cutConnections[id]) {
      socket.end();
    }
  });
}

let listening = 0;
innerServer = net.createServer((socket) => {
  serverSides[socket.remotePort] = socket;
  socket.on('close', () => delete serverSides[socket.remotePort]);
  h2.emit('connection', socket);
});
innerServer.listen(0, ips[0], () => {
  for (const ip of ips) {
    // Half-open allowed: the tap (HTTP/2) decides when our side ends, not Node on the waypoint's FIN (a write of
    // the HTTP/2 server's last frames after that automatic end would fail with EPIPE).
    const server = net.createServer({ allowHalfOpen: true }, accept);
    server.on('error', (e) => {
      console.error('listen ' + ip + ':' + port + ': ' + e.message);
      process.exit(2);
    });
    server.listen(port, ip, () => {
      if (++listening === ips.length) {
        log({ ev: 'listening' });
      }
    });
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
