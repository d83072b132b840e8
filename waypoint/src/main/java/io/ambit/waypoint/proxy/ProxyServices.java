package io.ambit.waypoint.proxy;

import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.pipeline.RequestPipeline;
import io.ambit.waypoint.route.EndpointPicker;
import io.ambit.waypoint.route.LoopUpstreams;
import io.ambit.waypoint.route.RouteConfig;
import io.ambit.waypoint.telemetry.RequestObserver;
import io.ambit.xds.mesh.MeshSource;
import io.netty.channel.EventLoop;
import java.time.Clock;
import java.util.function.Function;

/**
 * What every exchange of one waypoint shares: the mesh, the pipeline, the endpoint picker, the upstream
 * connections of each event loop, and where finished requests are reported.
 *
 * @param upstreams the upstream connections of an event loop (created on first use)
 * @param samplingPercent the share of new traces recorded (Istio's {@code sampling}, 0-100)
 */
public record ProxyServices(
        MeshSource mesh,
        WaypointIdentity self,
        RequestPipeline pipeline,
        EndpointPicker picker,
        Function<EventLoop, LoopUpstreams> upstreams,
        RequestObserver observer,
        double samplingPercent,
        RouteConfig route,
        Clock clock) {}
