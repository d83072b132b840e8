package io.ambit.waypoint.local;

import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.xds.mesh.Workload;
import java.net.InetAddress;

/**
 * A waypoint a mesh file declares: the workload that runs it, the address it listens on and who it is.
 *
 * @param self its Gateway name and namespace, identity, and how services point at it
 * @param workload the waypoint workload (its pod)
 * @param ip where it listens (the workload's first IP): HBONE on 15008, metrics 15020, readiness 15021
 */
public record DeclaredWaypoint(WaypointIdentity self, Workload workload, InetAddress ip) {}
