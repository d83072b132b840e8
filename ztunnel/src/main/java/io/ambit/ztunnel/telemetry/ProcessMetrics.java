package io.ambit.ztunnel.telemetry;

import com.sun.management.UnixOperatingSystemMXBean;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.management.ManagementFactory;

/**
 * ztunnel's process gauges under its names (ztunnel-reference §7.1): {@code process_open_fds} and
 * {@code process_max_fds}, so an alert on file-descriptor exhaustion (istio/ztunnel#1631: an FD-starved
 * ztunnel only turns not-ready) works unchanged. The limit is the soft RLIMIT_NOFILE, which HotSpot on
 * Linux already raises to the hard limit at start ({@code -XX:+MaxFDLimit}, on by default), as ztunnel
 * does for itself. Nothing is registered where the JVM cannot count descriptors.
 */
final class ProcessMetrics {
    private ProcessMetrics() {}

    static void bindTo(MeterRegistry registry) {
        if (!(ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean os)) {
            return;
        }
        Gauge.builder("process_open_fds", os, UnixOperatingSystemMXBean::getOpenFileDescriptorCount)
                .description("Number of open file descriptors")
                .register(registry);
        Gauge.builder("process_max_fds", os, UnixOperatingSystemMXBean::getMaxFileDescriptorCount)
                .description("Maximum number of open file descriptors")
                .register(registry);
    }
}
