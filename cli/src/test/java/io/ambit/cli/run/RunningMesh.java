package io.ambit.cli.run;

import io.ambit.waypoint.local.LocalWaypoints;
import io.ambit.waypoint.local.WaypointDirectory;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.nio.file.Path;

/**
 * What {@code ./ambit run FILE} starts, for the tests that run a shipped example: the file's ztunnels and demo apps
 * on the default ports, and the waypoints it declares (their addresses left to them, as {@link RunCommand} does).
 */
record RunningMesh(LocalMesh mesh, LocalWaypoints waypoints) implements AutoCloseable {

    static RunningMesh start(Path file, Path caDir) throws Exception {
        var config = LocalMesh.Config.of(file, caDir)
                .withPorts(Node.Ports.builder().admin(0).dns(0).build())
                .withServedElsewhere(WaypointDirectory::isWaypoint);
        var mesh = LocalMesh.start(config);
        try {
            return new RunningMesh(
                    mesh,
                    LocalWaypoints.start(
                            mesh.source(),
                            mesh.certificates(),
                            mesh.transport(),
                            mesh.loops(),
                            AccessLog.slf4j(),
                            LocalWaypoints.Options.all()));
        } catch (Exception | Error e) {
            mesh.close();
            throw e;
        }
    }

    @Override
    public void close() {
        waypoints.close();
        mesh.close();
    }
}
