package io.ambit.hbone.testsupport;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.metrics.HboneMetrics;
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

/**
 * An HBONE server and a pool pointed at it. By default with certificates from one test CA; {@link #builder}
 * swaps in other TLS objects (a CRL, a certificate manager) and metrics.
 */
public final class HboneFixture implements AutoCloseable {
    public final TestPki pki;
    public final WorkloadCertificate serverCert;
    public final WorkloadCertificate clientCert;
    public final ServerTls serverTls;
    public final ClientTls clientTls;
    public final HboneServer server;
    public final HbonePool pool;

    private HboneFixture(Builder b, HboneServer server, HbonePool pool) {
        this.pki = b.pki;
        this.serverCert = b.serverCert;
        this.clientCert = b.clientCert;
        this.serverTls = b.serverTls;
        this.clientTls = b.clientTls;
        this.server = server;
        this.pool = pool;
    }

    public static HboneFixture start(TestLoops loops, ConnectHandler handler) throws Exception {
        return builder(loops, handler).start();
    }

    public static HboneServerConfig defaultServerConfig() {
        return HboneServerConfig.defaults(new InetSocketAddress("127.0.0.1", 0));
    }

    public static HboneFixture start(
            TestLoops loops, HboneServerConfig serverConfig, ConnectHandler handler, PoolConfig poolConfig)
            throws Exception {
        return builder(loops, handler)
                .serverConfig(serverConfig)
                .poolConfig(poolConfig)
                .start();
    }

    /** A fixture to configure: by default {@link Ids#SERVER} and {@link Ids#CLIENT} from one test CA. */
    public static Builder builder(TestLoops loops, ConnectHandler handler) {
        return new Builder(loops, handler);
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

    /** What the fixture is made of; each part has a default. */
    public static final class Builder {
        private final TestLoops loops;
        private final ConnectHandler handler;
        private final TestPki pki = TestPki.create(Ids.TRUST_DOMAIN);
        private final WorkloadCertificate serverCert = pki.issue(Ids.SERVER);
        private final WorkloadCertificate clientCert = pki.issue(Ids.CLIENT);
        private HboneServerConfig serverConfig = defaultServerConfig();
        private PoolConfig poolConfig = PoolConfig.defaults();
        private ServerTls serverTls;
        private ClientTls clientTls;
        private SourceCertificates sourceCertificates = SourceCertificates.of(() -> clientCert);
        private HboneMetrics metrics = HboneMetrics.none();

        private Builder(TestLoops loops, ConnectHandler handler) {
            this.loops = loops;
            this.handler = handler;
        }

        public Builder serverConfig(HboneServerConfig config) {
            this.serverConfig = config;
            return this;
        }

        public Builder poolConfig(PoolConfig config) {
            this.poolConfig = config;
            return this;
        }

        /** The server's TLS (closed with the fixture); default: the test CA's {@link Ids#SERVER}, no CRL. */
        public Builder serverTls(ServerTls tls) {
            this.serverTls = tls;
            return this;
        }

        /** The pool's TLS (closed with the fixture); default: no CRL. */
        public Builder clientTls(ClientTls tls) {
            this.clientTls = tls;
            return this;
        }

        /** What the pool presents; default: the test CA's {@link Ids#CLIENT}. */
        public Builder sourceCertificates(SourceCertificates certificates) {
            this.sourceCertificates = certificates;
            return this;
        }

        public Builder metrics(HboneMetrics metrics) {
            this.metrics = metrics;
            return this;
        }

        public HboneFixture start() throws Exception {
            if (serverTls == null) {
                serverTls = new ServerTls(() -> serverCert, TlsSettings.defaults());
            }
            if (clientTls == null) {
                clientTls = new ClientTls(TlsSettings.defaults());
            }
            HboneServer server = Await.get(
                    HboneServer.start(serverConfig, serverTls, handler, loops.transport, loops.group, metrics));
            HbonePool pool =
                    new HbonePool(poolConfig, clientTls, sourceCertificates, loops.transport, loops.group, metrics);
            return new HboneFixture(this, server, pool);
        }
    }
}
