package io.ambit.cli.run;

import io.ambit.cli.logging.LogbackLevels;
import io.ambit.cli.process.UntilShutdown;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.waypoint.local.LocalWaypoints;
import io.ambit.waypoint.local.WaypointDirectory;
import io.ambit.xds.file.InvalidMeshFileException;
import io.ambit.ztunnel.lifecycle.DrainDeadline;
import io.ambit.ztunnel.run.LocalMesh;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ambit run FILE}: a whole small mesh on this machine, in one JVM, until interrupted. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Run the mesh a local file describes: the embedded CA, one ztunnel per node, and a demo HTTP",
            "echo server for every workload that backs a service, all on 127.0.0.0/8. Each workload gets",
            "inbound HBONE on its ip:15008 and SOCKS5 on its ip:15080; each node serves metrics on :15020 and",
            "readiness on :15021 of its first workload IP, admin on 127.0.0.1:15000. Edits to FILE apply to new",
            "connections and close open ones the new policy denies. Waypoints the file declares (a workload",
            "labelled gateway.networking.k8s.io/gateway-name, or named by a service's waypoint:) run too, each",
            "request in Istio's order: CUSTOM ext_authz (mesh: extensionProviders) -> RequestAuthentication (JWT)",
            "-> DENY -> ALLOW -> local rate limit (the article's EnvoyFilter local_ratelimit, or LocalRateLimit).",
            "See examples/waypoint-security.yaml."
        })
public final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "The mesh file, e.g. examples/quickstart.yaml.")
    Path file;

    @Option(
            names = "--ca-dir",
            defaultValue = ".ambit/ca",
            paramLabel = "DIR",
            description = "The embedded CA's state directory (created when missing). Default: ${DEFAULT-VALUE}.")
    Path caDir;

    @Option(
            names = "--log-format",
            paramLabel = "text|json",
            description = {
                "Access-log lines as ztunnel's key=\"value\" text or one JSON object per line.",
                "Default: the LOG_FORMAT environment variable, else text."
            })
    String logFormat;

    @Option(
            names = "--drain-deadline",
            paramLabel = "DURATION",
            description = {
                "How long shutdown lets open connections drain (e.g. 5s, 1500ms). Default: as ztunnel,",
                "CONNECTION_TERMINATION_DEADLINE, else TERMINATION_GRACE_PERIOD_SECONDS - 5s, else 5s."
            })
    String drainDeadline;

    @Option(
            names = ComplianceOption.OPTION,
            paramLabel = "default|pqc",
            description = {
                "TLS key exchange of every HBONE listener and client, ztunnels and waypoints. pqc (the",
                "article's COMPLIANCE_POLICY: \"PQC\"): X25519MLKEM768 only, TLS 1.3 only; peers without ML-KEM",
                "cannot connect. Default: the COMPLIANCE_POLICY environment variable, else default",
                "(X25519MLKEM768, then X25519)."
            })
    String compliancePolicy;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * What the nodes start with, from the options, else the environment ({@code LOG_FORMAT},
     * {@code COMPLIANCE_POLICY}, the drain variables).
     *
     * @throws IllegalArgumentException naming a bad option or variable and what was expected
     */
    LocalMesh.Config config(Map<String, String> env) {
        String format = logFormat != null ? logFormat : env.getOrDefault("LOG_FORMAT", "text");
        return LocalMesh.Config.of(file, caDir)
                .withAccessLog(AccessLog.slf4j(AccessLog.Format.parse(format)))
                .withDrainDeadline(
                        drainDeadline != null
                                ? DrainDeadline.parse(drainDeadline, "--drain-deadline")
                                : DrainDeadline.fromEnvironment(env))
                .withLogLevels(LogbackLevels.current())
                // waypoints listen on their own ip:15008; the ztunnel must not
                .withServedElsewhere(WaypointDirectory::isWaypoint)
                .withTls(ComplianceOption.tls(compliancePolicy, env));
    }

    /** The waypoints of the file, with the nodes' TLS settings: one compliance policy for the whole mesh. */
    static LocalWaypoints.Options waypointOptions(LocalMesh.Config config) {
        return LocalWaypoints.Options.all().withTls(config.tls());
    }

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        LocalMesh.Config config;
        try {
            config = config(System.getenv());
        } catch (IllegalArgumentException e) {
            err.println("ambit run: " + e.getMessage());
            return 2;
        }
        LocalMesh mesh;
        try {
            mesh = LocalMesh.start(config);
        } catch (InvalidMeshFileException e) {
            err.println("ambit run: " + e.getMessage());
            return 2;
        } catch (CertificateSourceException e) {
            err.println("ambit run: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("ambit run: cannot start: " + e);
            return 1;
        }
        LocalWaypoints waypoints;
        try {
            waypoints = LocalWaypoints.start(
                    mesh.source(),
                    mesh.certificates(),
                    mesh.transport(),
                    mesh.loops(),
                    io.ambit.waypoint.telemetry.AccessLog.slf4j(),
                    waypointOptions(config));
        } catch (Exception e) {
            mesh.close();
            err.println("ambit run: cannot start the waypoints: " + e);
            return 1;
        }
        var drain = config.drainDeadline();
        mesh.closeAlongside(() -> waypoints.close(drain));
        out.println(mesh.banner());
        if (!ComplianceOption.describe(config.tls()).isEmpty()) {
            out.println(ComplianceOption.describe(config.tls()));
        }
        if (!waypoints.waypoints().isEmpty()) {
            out.print(waypoints.banner());
        }
        out.flush();
        UntilShutdown.await(mesh::close, mesh.closed()); // closed: admin POST /quitquitquit
        return 0;
    }
}
