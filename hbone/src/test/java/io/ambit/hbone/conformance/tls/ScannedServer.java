package io.ambit.hbone.conformance.tls;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.StreamEcho;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * An HBONE listener as ztunnel's inbound and the waypoint's ingress run it (both are {@link HboneServer} with
 * {@link ServerTls}), on port 15008 of a 127.62.20.x address, with a client certificate from the same test CA
 * written as PEM for the scanners (mutual TLS is required).
 */
final class ScannedServer implements AutoCloseable {
    final TestLoops loops;
    final ServerTls tls;
    final HboneServer server;
    final TestPki.PemFiles client;
    final String host;
    final int port;

    private ScannedServer(TestLoops loops, ServerTls tls, HboneServer server, TestPki.PemFiles client) {
        this.loops = loops;
        this.tls = tls;
        this.server = server;
        this.client = client;
        InetSocketAddress at = server.localAddress();
        this.host = at.getAddress().getHostAddress();
        this.port = at.getPort();
    }

    static ScannedServer start(String ip, TlsSettings settings, Path dir) throws Exception {
        TestPki pki = TestPki.create(Ids.TRUST_DOMAIN);
        WorkloadCertificate serverCert = pki.issue(Ids.SERVER);
        WorkloadCertificate clientCert = pki.issue(Ids.CLIENT);
        TestLoops loops = TestLoops.start();
        ServerTls tls = new ServerTls(() -> serverCert, settings);
        try {
            HboneServer server = Await.get(HboneServer.start(
                    HboneServerConfig.defaults(new InetSocketAddress(ip, 15008)),
                    tls,
                    new StreamEcho(),
                    loops.transport,
                    loops.group));
            return new ScannedServer(loops, tls, server, TestPki.writePem(clientCert, dir.resolve("client")));
        } catch (Exception | Error e) {
            tls.close();
            loops.close();
            throw e;
        }
    }

    String hostPort() {
        return host + ":" + port;
    }

    @Override
    public void close() {
        server.close();
        tls.close();
        loops.close();
    }
}
