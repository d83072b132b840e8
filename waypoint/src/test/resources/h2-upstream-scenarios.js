// An endpoint app (Node's HTTP/2 server) and a client (Node's HTTP/2 client, through the waypoint) in one
// process, so that a scenario can order what each side does: the server misbehaves the way real HTTP/2 servers
// may (GOAWAY with streams in flight, RST_STREAM, a low SETTINGS_MAX_CONCURRENT_STREAMS, a large response to a
// slow reader) and the client reports what it got. Prints one JSON line with the results, exits 0; any
// unexpected error exits non-zero.
// Usage: node h2-upstream-scenarios.js <scenario> <server-ip> <server-port> <waypoint client url>
const http2 = require('http2');
const crypto = require('crypto');

const [scenario, serverIp, serverPort, clientUrl] = process.argv.slice(2);
const maxStreams = scenario === 'max-streams' ? 2 : undefined;

// ---- the server

let sessions = 0;
const held = {}; // name -> {stream, session}
const seen = []; // paths, in order
let maxActive = 0;
const big = { written: 0, finished: false };
let goawaySent = false;

const server = http2.createServer(maxStreams ? { settings: { maxConcurrentStreams: maxStreams } } : {});
server.on('session', (s) => {
  s.ambitId = ++sessions;
  s.ambitActive = 0;
  s.on('error', () => {});
});
server.on('stream', (stream, headers) => {
  const session = stream.session;
  const path = headers[':path'];
  seen.push(path);
  session.ambitActive++;
  maxActive = Math.max(maxActive, session.ambitActive);
  stream.on('close', () => { session.ambitActive--; });
  stream.on('error', () => {});
  const answer = (status, body) => {
    stream.respond({ ':status': status, 'x-session': String(session.ambitId), 'content-type': 'text/plain' });
    stream.end(body);
  };
  if (path.startsWith('/hold/')) {
    held[path.substring(6)] = { stream, session };
  } else if (path.startsWith('/release/')) {
    const name = path.substring(9);
    const h = held[name];
    if (h) {
      h.stream.respond({ ':status': 200, 'x-session': String(h.session.ambitId) });
      h.stream.end('released ' + name);
    }
    answer(200, 'ok');
  } else if (path === '/goaway') {
    if (goawaySent) {
      answer(200, 'retried'); // the waypoint's retry of the refused stream, on another connection
    } else {
      // GOAWAY naming the held stream "a" as the last one processed: this stream (above it) is refused.
      goawaySent = true;
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, held.a.stream.id);
    }
  } else if (path === '/reset-before') {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  } else if (path === '/reset-after') {
    // destroy() resets at once; close() would end the stream cleanly first and reset only after that.
    stream.respond({ ':status': 200 });
    stream.write('partial ', () => stream.destroy(new Error('reset mid-body')));
  } else if (path.startsWith('/big/')) {
    streamBig(stream, parseInt(path.substring(5), 10));
  } else {
    answer(200, 'hello');
  }
});
server.on('error', (e) => fail('server ' + e.message));

function pattern(i) {
  return crypto.createHash('sha256').update('chunk ' + i).digest();
}

// n bytes in 64 KiB chunks (each chunk repeats a 32-byte pattern of its index), as fast as flow control allows.
// Ends with trailers: nghttp2 asks for them only once every byte is out. A plain end() lets Node's server reset
// the stream (RST_STREAM NO_ERROR) as soon as its JS side is done, dropping what flow control still holds back.
function streamBig(stream, n) {
  stream.respond({ ':status': 200, 'content-length': String(n) }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sent': String(n) }));
  let i = 0;
  const next = () => {
    while (big.written < n) {
      const size = Math.min(65536, n - big.written);
      const chunk = Buffer.alloc(size, pattern(i++));
      big.written += size;
      if (!stream.write(chunk)) {
        stream.once('drain', next);
        return;
      }
    }
    stream.end(() => { big.finished = true; });
  };
  next();
}

// ---- the client

function fail(why) {
  console.error(why);
  process.exit(3);
}

function until(condition, what, ms = 15000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error('not within ' + ms + ' ms: ' + what));
      else setTimeout(check, 10);
    };
    check();
  });
}

// One request; resolves {status, session, body, error} when it ends either way.
function request(client, path) {
  return new Promise((resolve) => {
    const req = client.request({ ':path': path });
    const out = { status: 0, session: null, body: '', error: null };
    req.on('response', (h) => { out.status = h[':status']; out.session = h['x-session'] || null; });
    req.setEncoding('utf8');
    req.on('data', (d) => { out.body += d; });
    req.on('error', (e) => { out.error = e.code || e.message; });
    req.on('close', () => { out.rstCode = req.rstCode; resolve(out); });
    req.end();
  });
}

async function goaway(client) {
  const a = request(client, '/hold/a');
  await until(() => held.a, 'the server holds /hold/a');
  const b = await request(client, '/goaway');
  const c = await request(client, '/release/a');
  const aDone = await a;
  // The test checks now, on the endpoint's node, that the retired connection's tunnel is gone, then says go on.
  console.log('checkpoint');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  return { a: aDone, b, c, sessions };
}

async function reset(client) {
  const before = await request(client, '/reset-before');
  const after = await request(client, '/reset-after');
  const hello = await request(client, '/hello');
  return { before, after, hello, sessions };
}

async function manyStreams(client) {
  const names = ['0', '1', '2', '3', '4', '5'];
  const all = names.map((n) => request(client, '/hold/' + n));
  await until(() => names.every((n) => held[n]), 'the server holds all six');
  const releases = await Promise.all(names.map((n) => request(client, '/release/' + n)));
  const results = await Promise.all(all);
  return { results, releases: releases.map((r) => r.status), sessions, maxActive };
}

// Reads /big/n, pausing after the first bytes until the server stops (stalled) or finishes, then reads the rest.
function slowRead(client, n) {
  return new Promise((resolve) => {
    big.written = 0;
    big.finished = false;
    const req = client.request({ ':path': '/big/' + n });
    let received = 0;
    let paused = false;
    let stalledAt = -1;
    let status = 0;
    const parts = [];
    req.on('response', (h) => { status = h[':status']; });
    req.on('data', (d) => {
      received += d.length;
      parts.push(d);
      if (!paused) {
        paused = true;
        req.pause();
        // Resume when the server has written nothing for 1 s (held back) or has finished.
        let last = -1;
        let stableSince = Date.now();
        const watch = setInterval(() => {
          if (big.written !== last) { last = big.written; stableSince = Date.now(); }
          if (big.finished || Date.now() - stableSince > 1000) {
            clearInterval(watch);
            stalledAt = big.written;
            req.resume();
          }
        }, 20);
      }
    });
    req.on('end', () => {
      const body = Buffer.concat(parts);
      let intact = body.length === n;
      for (let i = 0; intact && i * 65536 < n; i++) {
        const expected = Buffer.alloc(Math.min(65536, n - i * 65536), pattern(i));
        intact = body.subarray(i * 65536, i * 65536 + expected.length).equals(expected);
      }
      resolve({ status, n, received, stalledAt, finishedWhilePaused: stalledAt === n && big.finished, intact });
    });
    req.on('error', (e) => resolve({ status, n, received, stalledAt, error: e.code || e.message }));
    req.end();
  });
}

async function slowClient(client) {
  const large = await slowRead(client, 16 * 1024 * 1024);
  const small = await slowRead(client, 512 * 1024);
  return { large, small };
}

const scenarios = { goaway, reset, 'max-streams': manyStreams, 'slow-client': slowClient };

server.listen(parseInt(serverPort, 10), serverIp, async () => {
  const client = http2.connect(clientUrl);
  client.on('error', (e) => fail('client session ' + e.message));
  try {
    const result = await scenarios[scenario](client);
    console.log(JSON.stringify(result));
  } catch (e) {
    fail(e.stack || String(e));
  }
  client.close();
  server.close();
  process.exit(0);
});
setTimeout(() => fail('scenario did not finish in 60 s'), 60000).unref();
