package io.ambit.cli.controlplane;

import io.ambit.cli.ca.DurationConverter;
import io.ambit.cli.process.UntilShutdown;
import io.ambit.controlplane.LocalControlPlane;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.xds.file.InvalidMeshFileException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ambit control-plane FILE}: an istiod for a laptop. It serves the mesh file (the format {@code ambit
 * run} reads) to ztunnels over Delta ADS exactly as istiod serves them, pushes edits, and issues their
 * certificates over istiod's CA service — so the whole cluster path ({@code ambit ztunnel --xds-address})
 * runs on one machine.
 */
@Command(
        name = "control-plane",
        mixinStandardHelpOptions = true,
        description = {
            "Serve a local mesh file over istiod's protocols: Delta ADS (workloads, services, L4 policies as",
            "istiod converts them) and IstioCertificateService (certificates from the embedded CA), over TLS.",
            "Edits to FILE are pushed to connected ztunnels. Point ztunnels at it with e.g.:",
            "  ambit ztunnel --xds-address https://127.0.0.1:15012 --root-cert .ambit/ca/root-cert.pem --node node-a"
        })
public final class ControlPlaneCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "The mesh file, e.g. examples/quickstart-mesh.yaml.")
    Path file;

    @Option(
            names = "--listen",
            defaultValue = "127.0.0.1:15012",
            paramLabel = "IP:PORT",
            description = "Where to listen. Default: ${DEFAULT-VALUE}.")
    String listen;

    @Option(
            names = "--ca-dir",
            defaultValue = ".ambit/ca",
            paramLabel = "DIR",
            description =
                    "The embedded CA's state directory (created when missing); clients trust its root-cert.pem. Default: ${DEFAULT-VALUE}.")
    Path caDir;

    @Option(
            names = "--max-cert-ttl",
            defaultValue = "24h",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Longest certificate lifetime issued. Default: ${DEFAULT-VALUE}.")
    Duration maxCertTtl;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        InetSocketAddress address;
        try {
            address = parse(listen);
        } catch (IllegalArgumentException e) {
            err.println("ambit control-plane: " + e.getMessage());
            return 2;
        }
        LocalControlPlane plane;
        try {
            plane = LocalControlPlane.start(
                    LocalControlPlane.Config.of(file, address, caDir).withMaxCertTtl(maxCertTtl));
        } catch (InvalidMeshFileException | CertificateSourceException e) {
            err.println("ambit control-plane: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("ambit control-plane: cannot start on " + listen + ": " + e);
            return 1;
        }
        out.println("ambit control-plane: serving " + file + " (" + plane.mesh() + ") on " + plane.url());
        out.println("  xDS: envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources");
        out.println("  CA:  istio.v1.auth.IstioCertificateService/CreateCertificate");
        out.println("  clients trust " + plane.rootCert() + "; e.g.");
        out.println(
                "  ambit ztunnel --xds-address " + plane.url() + " --root-cert " + plane.rootCert() + " --node <node>");
        out.flush();
        UntilShutdown.await(plane::close, null);
        return 0;
    }

    static InetSocketAddress parse(String text) {
        int colon = text.lastIndexOf(':');
        String host = colon < 0 ? "" : text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (colon <= 0 || port < 0 || port > 65535 || !host.matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException();
            }
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (Exception e) {
            throw new IllegalArgumentException(
                    "--listen \"" + text + "\" (expected: IP:PORT such as 127.0.0.1:15012 or [::1]:15012)");
        }
    }
}
