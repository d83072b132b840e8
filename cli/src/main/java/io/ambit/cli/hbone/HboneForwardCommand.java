package io.ambit.cli.hbone;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tunnel.TcpTunnelListener;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ambit hbone forward}: a local TCP port whose connections travel to a target through HBONE. */
@Command(
        name = "forward",
        mixinStandardHelpOptions = true,
        description = {
            "Listen on a local TCP port and carry every connection through an HBONE tunnel to --target,",
            "via the HBONE server at --server, which must prove --server-identity. Tunnels share pooled",
            "connections (up to 100 streams each). Runs until interrupted."
        })
public final class HboneForwardCommand implements Callable<Integer> {
    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "CA directory (cacerts layout).")
    String ca;

    @Option(names = "--identity", required = true, paramLabel = "SPIFFE-ID", description = "This client's identity.")
    String identity;

    @Option(
            names = "--listen",
            defaultValue = "127.0.0.1:15080",
            paramLabel = "IP:PORT",
            description = "Local TCP port to accept on. Default: ${DEFAULT-VALUE}.")
    String listen;

    @Option(names = "--server", required = true, paramLabel = "IP:PORT", description = "The HBONE server (port 15008).")
    String server;

    @Option(
            names = "--server-identity",
            required = true,
            paramLabel = "SPIFFE-ID",
            description = "The identity the server must present (its URI SAN).")
    String serverIdentity;

    @Option(
            names = "--target",
            required = true,
            paramLabel = "IP:PORT",
            description = "Where the server should connect (the CONNECT :authority).")
    String target;

    @Option(
            names = "--compliance-policy",
            defaultValue = "default",
            paramLabel = "POLICY",
            description = "default (X25519MLKEM768, then X25519) or pqc (X25519MLKEM768 only).")
    String compliance;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A running forwarder, for the command and for tests. */
    record Running(Endpoint endpoint, ClientTls tls, HbonePool pool, TcpTunnelListener listener)
            implements AutoCloseable {
        @Override
        public void close() {
            listener.close();
            pool.close();
            tls.close();
            endpoint.close();
        }
    }

    Running start() throws Exception {
        var bind = Endpoint.address(listen, "--listen");
        var serverAddress = Endpoint.address(server, "--server");
        var targetAddress = Endpoint.address(target, "--target");
        SpiffeId expected;
        try {
            expected = SpiffeId.parse(serverIdentity);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--server-identity: " + e.getMessage());
        }
        var endpoint = Endpoint.open(Path.of(ca), identity, compliance);
        try {
            endpoint.certificates.certificate(endpoint.identity).get(30, TimeUnit.SECONDS);
            var tls = new ClientTls(endpoint.tls);
            var pool = new HbonePool(
                    PoolConfig.defaults(),
                    tls,
                    SourceCertificates.from(endpoint.certificates),
                    endpoint.transport,
                    endpoint.loops);
            var key = new PoolKey(endpoint.identity, Set.of(expected), null, serverAddress);
            var listener = TcpTunnelListener.start(
                    endpoint.transport, endpoint.loops, () -> pool, key, targetAddress, true, bind);
            return new Running(endpoint, tls, pool, listener);
        } catch (Exception e) {
            endpoint.close();
            throw e;
        }
    }

    @Override
    public Integer call() {
        return Endpoint.run(
                "ambit hbone forward",
                this::start,
                r -> "hbone: forwarding " + r.listener().address() + " -> " + target + " via " + server + " ("
                        + serverIdentity + ")",
                spec.commandLine().getOut(),
                spec.commandLine().getErr());
    }
}
