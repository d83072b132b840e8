package io.ambit.cli.hbone;

import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tunnel.TargetDialer;
import io.ambit.policy.match.CidrSet;
import io.ambit.policy.match.IpAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ambit hbone serve}: an HBONE server that tunnels each accepted CONNECT to its authority. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Accept HBONE tunnels (mTLS 1.3, HTTP/2 CONNECT) and relay each to the ip:port it names.",
            "Clients must present a certificate of the same trust domain; targets outside --allow-target",
            "(default: loopback only) are refused with 401. Runs until interrupted; drains with GOAWAY."
        })
public final class HboneServeCommand implements Callable<Integer> {
    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "CA directory (cacerts layout).")
    Path ca;

    @Option(names = "--identity", required = true, paramLabel = "SPIFFE-ID", description = "This server's identity.")
    String identity;

    @Option(
            names = "--listen",
            defaultValue = "127.0.0.1:15008",
            paramLabel = "IP:PORT",
            description = "Where to accept HBONE. Default: ${DEFAULT-VALUE}.")
    String listen;

    @Option(
            names = "--allow-target",
            paramLabel = "CIDR",
            description = "Targets this server may dial (repeatable). Default: loopback addresses only.")
    List<String> allowTargets;

    @Option(
            names = "--compliance-policy",
            defaultValue = "default",
            paramLabel = "POLICY",
            description = "default (X25519MLKEM768, then X25519) or pqc (X25519MLKEM768 only).")
    String compliance;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A running server, for the command and for tests. */
    record Running(Endpoint endpoint, ServerTls tls, HboneServer server) implements AutoCloseable {
        @Override
        public void close() {
            server.drain(Duration.ofSeconds(5))
                    .orTimeout(6, TimeUnit.SECONDS)
                    .exceptionally(e -> null)
                    .join();
            server.close();
            tls.close();
            endpoint.close();
        }
    }

    Running start() throws Exception {
        InetSocketAddress bind = Endpoint.address(listen, "--listen");
        CidrSet allowed;
        try {
            allowed = allowTargets == null ? null : CidrSet.parse(allowTargets);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--allow-target: " + e.getMessage());
        }
        var endpoint = Endpoint.open(ca, identity, compliance);
        try {
            var tls = ServerTls.forIdentity(endpoint.certificates, endpoint.identity, endpoint.tls, null);
            var dialer = allowed == null
                    ? new TargetDialer(endpoint.transport)
                    : new TargetDialer(endpoint.transport, a -> allowed.contains(IpAddress.of(a.getAddress())));
            // Wait for the first certificate so the first client is not refused.
            endpoint.certificates.certificate(endpoint.identity).get(30, TimeUnit.SECONDS);
            var server = HboneServer.start(
                            HboneServerConfig.defaults(bind), tls, dialer, endpoint.transport, endpoint.loops)
                    .get(30, TimeUnit.SECONDS);
            return new Running(endpoint, tls, server);
        } catch (Exception e) {
            endpoint.close();
            throw e;
        }
    }

    @Override
    public Integer call() {
        return Endpoint.run(
                "ambit hbone serve",
                this::start,
                r -> "hbone: serving " + r.endpoint().identity + " on "
                        + r.server().localAddress() + " (transport " + r.endpoint().transport + ")",
                spec.commandLine().getOut(),
                spec.commandLine().getErr());
    }
}
