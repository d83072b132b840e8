// Checks a ztunnel /config_dump (read from stdin) against the shape istioctl's ztunnel-config decodes it
// into (its Go structs: ZtunnelWorkload, ZtunnelService, ZtunnelPolicy with rules [][][]PolicyMatch,
// CertsDump with certChain []Cert). Go's decoder fails the whole command on one field of the wrong JSON
// type, so every field it declares is checked for its type; value forms istioctl parses are checked too
// (serial numbers base 10, RFC 3339 dates, base64 PEM). Prints {"ok": true, ...counts} or the problems.
'use strict';
const crypto = require('crypto');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const problems = [];
  const bad = (where, what) => problems.push(`${where}: ${what}`);
  let dump;
  try {
    dump = JSON.parse(input);
  } catch (e) {
    console.log(JSON.stringify({ ok: false, problems: ['not JSON: ' + e.message] }));
    process.exit(1);
  }
  const str = (o, k, where, optional) => {
    if (o[k] === undefined && optional) return;
    if (typeof o[k] !== 'string') bad(where, `${k} is ${JSON.stringify(o[k])} (expected a string)`);
  };
  const strArr = (o, k, where, optional) => {
    if (o[k] === undefined && optional) return;
    if (!Array.isArray(o[k]) || o[k].some((v) => typeof v !== 'string')) bad(where, `${k} is not a list of strings`);
  };
  const oneOf = (o, k, values, where) => {
    if (!values.includes(o[k])) bad(where, `${k} is ${JSON.stringify(o[k])} (expected one of ${values})`);
  };
  for (const top of ['workloads', 'services', 'policies', 'certificates']) {
    if (!Array.isArray(dump[top])) bad('dump', `${top} is not a list`);
  }
  (dump.workloads || []).forEach((w, i) => {
    const at = `workloads[${i}]`;
    for (const k of ['uid', 'protocol', 'name', 'namespace', 'serviceAccount', 'workloadName', 'workloadType',
      'canonicalName', 'canonicalRevision', 'clusterId', 'node', 'status', 'hostname']) str(w, k, at);
    str(w, 'trustDomain', at, true);
    str(w, 'network', at, true);
    strArr(w, 'workloadIps', at);
    (w.workloadIps || []).forEach((ip) => { if (ip.includes('/')) bad(at, `workloadIps holds ${ip} (expected a bare IP)`); });
    oneOf(w, 'protocol', ['HBONE', 'TCP'], at);
    oneOf(w, 'status', ['Healthy', 'Unhealthy'], at);
    if (w.locality !== undefined && (typeof w.locality !== 'object' || Array.isArray(w.locality))) bad(at, 'locality is not an object');
    strArr(w, 'authorizationPolicies', at, true);
  });
  (dump.services || []).forEach((s, i) => {
    const at = `services[${i}]`;
    for (const k of ['name', 'namespace', 'hostname']) str(s, k, at);
    strArr(s, 'vips', at);
    strArr(s, 'subjectAltNames', at, true);
    if (typeof s.ports !== 'object' || Object.values(s.ports).some((p) => !Number.isInteger(p))) bad(at, 'ports is not a map of integers');
  });
  const stringMatches = (m, k, at) => {
    if (m[k] === undefined) return;
    if (!Array.isArray(m[k])) { bad(at, `${k} is not a list`); return; }
    m[k].forEach((sm) => {
      const keys = Object.keys(sm);
      if (keys.length !== 1 || !['Exact', 'Prefix', 'Suffix', 'Presence'].includes(keys[0])) bad(at, `${k} holds ${JSON.stringify(sm)}`);
      else if (keys[0] !== 'Presence' && typeof sm[keys[0]] !== 'string') bad(at, `${k} holds ${JSON.stringify(sm)}`);
    });
  };
  const ports = (m, k, at) => {
    if (m[k] === undefined) return;
    if (!Array.isArray(m[k]) || m[k].some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) bad(at, `${k} is not a list of uint16`);
  };
  let matches = 0;
  (dump.policies || []).forEach((p, i) => {
    const at = `policies[${i}] ${p.namespace}/${p.name}`;
    for (const k of ['name', 'namespace']) str(p, k, at);
    oneOf(p, 'scope', ['Global', 'Namespace', 'WorkloadSelector'], at);
    oneOf(p, 'action', ['Allow', 'Deny'], at);
    if (!Array.isArray(p.rules)) { bad(at, `rules is ${JSON.stringify(p.rules)} (expected [][][]match)`); return; }
    p.rules.forEach((rule) => {
      if (!Array.isArray(rule)) { bad(at, 'a rule is not a list of clauses'); return; }
      rule.forEach((clause) => {
        if (!Array.isArray(clause)) { bad(at, 'a clause is not a list of matches'); return; }
        clause.forEach((m) => {
          matches++;
          if (typeof m !== 'object' || Array.isArray(m)) { bad(at, 'a match is not an object'); return; }
          for (const k of ['namespaces', 'notNamespaces', 'principals', 'notPrincipals']) stringMatches(m, k, at);
          for (const k of ['sourceIps', 'notSourceIps', 'destinationIps', 'notDestinationIps']) strArr(m, k, at, true);
          for (const k of ['destinationPorts', 'notDestinationPorts']) ports(m, k, at);
          for (const k of ['serviceAccounts', 'notServiceAccounts']) {
            (m[k] || []).forEach((sa) => { str(sa, 'namespace', at); str(sa, 'serviceAccount', at); });
          }
        });
      });
    });
  });
  const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
  let leaves = [];
  (dump.certificates || []).forEach((c, i) => {
    const at = `certificates[${i}]`;
    str(c, 'identity', at);
    str(c, 'state', at);
    if (!Array.isArray(c.certChain)) { bad(at, 'certChain is not a list'); return; }
    c.certChain.forEach((cert, j) => {
      const where = `${at}.certChain[${j}]`;
      if (!/^\d+$/.test(cert.serialNumber)) bad(where, `serialNumber ${cert.serialNumber} is not decimal`);
      if (!rfc3339.test(cert.validFrom)) bad(where, `validFrom ${cert.validFrom} is not RFC 3339`);
      if (!rfc3339.test(cert.expirationTime)) bad(where, `expirationTime ${cert.expirationTime} is not RFC 3339`);
      try {
        const x = new crypto.X509Certificate(Buffer.from(cert.pem, 'base64').toString('ascii'));
        if (BigInt('0x' + x.serialNumber) !== BigInt(cert.serialNumber)) bad(where, 'serialNumber is not the certificate\'s');
        if (j === 0) leaves.push({ identity: c.identity, san: x.subjectAltName || '' });
      } catch (e) {
        bad(where, 'pem is not a base64 PEM certificate: ' + e.message);
      }
    });
  });
  leaves.forEach((l) => { if (!l.san.includes('URI:' + l.identity)) bad(l.identity, `the first certChain entry is not its leaf (${l.san})`); });
  const counts = { workloads: (dump.workloads || []).length, policies: (dump.policies || []).length, matches, leaves: leaves.length };
  console.log(JSON.stringify(problems.length === 0 ? { ok: true, ...counts } : { ok: false, problems }));
  process.exit(problems.length === 0 ? 0 : 1);
});
