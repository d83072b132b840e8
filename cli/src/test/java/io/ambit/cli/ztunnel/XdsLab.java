package io.ambit.cli.ztunnel;

import com.sun.net.httpserver.HttpServer;
import io.ambit.controlplane.LocalControlPlane;
import io.ambit.xds.file.ChangeTrigger;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The set-up shared by the tests that run {@code ambit ztunnel} processes against the local control plane
 * (ztunnels over xDS, the cluster waypoint): the plane, an app behind a node, the nodes.
 */
public final class XdsLab {
    private XdsLab() {}

    /** Makes the control plane read its mesh file again when the test says so. */
    public static final class Trigger implements ChangeTrigger {
        private volatile Runnable check;

        @Override
        public void start(Runnable check) {
            this.check = check;
        }

        public void fire() {
            check.run();
        }

        @Override
        public void close() {}
    }

    /** Writes {@code mesh} to {@code dir/mesh.yaml} and serves it (xDS and CA) on {@code ip}, port 0. */
    public static LocalControlPlane plane(Path dir, String mesh, String ip, Trigger trigger) throws Exception {
        Files.writeString(dir.resolve("mesh.yaml"), mesh);
        return LocalControlPlane.start(LocalControlPlane.Config.of(
                        dir.resolve("mesh.yaml"),
                        new InetSocketAddress(InetAddress.getByName(ip), 0),
                        dir.resolve("ca"))
                .withTrigger(trigger));
    }

    /** A real HTTP app on {@code ip:8080} answering {@code hello from web, you asked for PATH}. */
    public static HttpServer web(String ip) throws IOException {
        var web = HttpServer.create(new InetSocketAddress(InetAddress.getByName(ip), 8080), 16);
        web.createContext("/", ex -> {
            byte[] body =
                    ("hello from web, you asked for " + ex.getRequestURI() + "\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        web.start();
        return web;
    }

    /**
     * The ztunnel of {@code node}, its metrics and readiness on {@code ip}, with the mesh and certificates from
     * {@code plane} (as the DaemonSet's environment would give them), ztunnel's ports but a free admin port.
     */
    public static ZtunnelProcess ztunnel(LocalControlPlane plane, String node, String ip, AccessLog accessLog)
            throws Exception {
        var flags = new ZtunnelSettings.Flags(
                plane.url().toString(),
                null,
                plane.rootCert(),
                null,
                null,
                null,
                "Kubernetes",
                node,
                "ztunnel-" + node,
                "istio-system",
                ip,
                null,
                null,
                null,
                null,
                null,
                null,
                "1h",
                Node.Ports.builder().admin(0).dns(0).build());
        return ZtunnelProcess.start(
                ZtunnelSettings.resolve(flags, Map.of()),
                accessLog,
                io.ambit.cli.logging.LogbackLevels.current(),
                Duration.ofSeconds(1));
    }
}
