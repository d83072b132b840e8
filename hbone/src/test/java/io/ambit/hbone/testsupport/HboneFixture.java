package io.ambit.hbone.testsupport;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsSettings;
import java.net.InetSocketAddress;
import java.util.Set;

/** An HBONE server and a pool pointed at it, with certificates from one test CA. */
public final class HboneFixture implements AutoCloseable {
    public final TestPki pki;
    public final WorkloadCertificate serverCert;
    public final WorkloadCertificate clientCert;
    public final ServerTls serverTls;
    public final ClientTls clientTls;
    public final HboneServer server;
    public final HbonePool pool;

    private HboneFixture(
            TestPki pki,
            WorkloadCertificate serverCert,
            WorkloadCertificate clientCert,
            ServerTls serverTls,
            ClientTls clientTls,
            HboneServer server,
            HbonePool pool) {
        this.pki = pki;
        this.serverCert = serverCert;
        this.clientCert = clientCert;
        this.serverTls = serverTls;
        this.clientTls = clientTls;
        this.server = server;
        this.pool = pool;
    }

    public static HboneFixture start(TestLoops loops, ConnectHandler handler) throws Exception {
        return start(loops, defaultServerConfig(), handler, PoolConfig.defaults());
    }

    public static HboneServerConfig defaultServerConfig() {
        return HboneServerConfig.defaults(new InetSocketAddress("127.0.0.1", 0));
    }

    public static HboneFixture start(
            TestLoops loops, HboneServerConfig serverConfig, ConnectHandler handler, PoolConfig poolConfig)
            throws Exception {
        TestPki pki = TestPki.create(Ids.TRUST_DOMAIN);
        WorkloadCertificate serverCert = pki.issue(Ids.SERVER);
        WorkloadCertificate clientCert = pki.issue(Ids.CLIENT);
        ServerTls serverTls = new ServerTls(() -> serverCert, TlsSettings.defaults());
        ClientTls clientTls = new ClientTls(TlsSettings.defaults());
        HboneServer server =
                Await.get(HboneServer.start(serverConfig, serverTls, handler, loops.transport, loops.group));
        HbonePool pool = new HbonePool(
                poolConfig, clientTls, SourceCertificates.of(() -> clientCert), loops.transport, loops.group);
        return new HboneFixture(pki, serverCert, clientCert, serverTls, clientTls, server, pool);
    }

    /** The pool key for our client to this server. */
    public PoolKey key() {
        return new PoolKey(Ids.CLIENT, Set.of(Ids.SERVER), null, server.localAddress());
    }

    @Override
    public void close() {
        pool.close();
        server.close();
        serverTls.close();
        clientTls.close();
    }
}
