package io.ambit.cli.process;

import io.ambit.hbone.transport.Transport;
import io.ambit.ztunnel.admin.HttpEndpoint;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A cluster process's metrics ({@code /metrics}, {@code /stats/prometheus}) and readiness
 * ({@code /healthz/ready}) endpoints, as Istio's proxies serve them on 15020 and 15021.
 */
public record StatusEndpoints(HttpEndpoint metrics, HttpEndpoint readiness) {
    /**
     * Opens both on {@code bind}; {@link Opened} closes them.
     *
     * @param scrape    the Prometheus text of every registry the process has, read per scrape
     * @param readiness the answer to a readiness probe, read per probe
     */
    public static StatusEndpoints open(
            Opened opened,
            Transport transport,
            EventLoopGroup loops,
            InetAddress bind,
            int metricsPort,
            int readinessPort,
            Supplier<String> scrape,
            Supplier<HttpEndpoint.Reply> readiness)
            throws InterruptedException {
        HttpEndpoint.Route prometheus = (method, query) ->
                new HttpEndpoint.Reply(200, "text/plain; version=0.0.4; charset=utf-8", scrape.get());
        var metrics = opened.add(HttpEndpoint.start(
                transport,
                loops,
                new InetSocketAddress(bind, metricsPort),
                Map.of("/metrics", prometheus, "/stats/prometheus", prometheus)));
        var ready = opened.add(HttpEndpoint.start(
                transport,
                loops,
                new InetSocketAddress(bind, readinessPort),
                Map.of("/healthz/ready", (method, query) -> readiness.get())));
        return new StatusEndpoints(metrics, ready);
    }
}
